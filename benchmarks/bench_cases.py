"""The fixed bench set: the cases both benchmarks time, and the calls they time on each side."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

OPS = ("conv2d", "conv3d", "conv_transpose2d")


@dataclass(frozen=True)
class Case:
    """One bench case. `size` is the input's spatial size, (H, W) for the 2d ops and (D, H, W)
    for conv3d; the kernel is k along every axis, and so are stride, padding and dilation.
    `mode` (padding_mode) is for the plain convolutions, `output_padding` for the transposed."""

    name: str
    n: int
    c: int
    o: int
    size: tuple[int, ...]
    k: int
    stride: int = 1
    padding: int = 1
    dilation: int = 1
    groups: int = 1
    mode: str = "zeros"
    output_padding: int = 0
    op: str = "conv2d"

    def __post_init__(self):
        if self.op not in OPS:
            raise ValueError(f"op must be one of {OPS}, got {self.op!r}")
        if len(self.size) != self.dims:
            raise ValueError(f"{self.name}: {self.op} needs {self.dims} spatial sizes, got {self.size}")
        if self.transposed and self.mode != "zeros":
            raise ValueError(f"{self.name}: a transposed conv has no padding_mode")
        if not self.transposed and self.output_padding:
            raise ValueError(f"{self.name}: output_padding is for the transposed convs")

    @property
    def dims(self) -> int:
        return int(self.op[-2])

    @property
    def transposed(self) -> bool:
        return self.op.startswith("conv_transpose")

    def kwargs(self) -> dict:
        """The keyword arguments of reference.<op> and reference.<op>_backward after the arrays."""
        common = dict(stride=self.stride, padding=self.padding, dilation=self.dilation, groups=self.groups)
        if self.transposed:
            return {**common, "output_padding": self.output_padding}
        return {**common, "padding_mode": self.mode}

    def out_size(self) -> tuple[int, ...]:
        extent = self.dilation * (self.k - 1) + 1
        if self.transposed:
            return tuple((s - 1) * self.stride - 2 * self.padding + extent + self.output_padding for s in self.size)
        return tuple((s + 2 * self.padding - extent) // self.stride + 1 for s in self.size)

    def gemm(self) -> tuple[int, int, int, int]:
        """(groups, M, K, columns) of the op's GEMM, per group (M, K) @ (K, columns). A conv's is
        im2col's: weight (O/groups, C/groups*k^d) times the columns (.., N*prod(out)). A transposed
        conv's is col2im's (the conv's input gradient): the weight read as (O/groups*k^d, C/groups)
        times the input (C/groups, N*prod(in)), whose columns then add onto the output."""
        taps = self.k**self.dims
        if self.transposed:
            return self.groups, self.o // self.groups * taps, self.c // self.groups, self.n * math.prod(self.size)
        return self.groups, self.o // self.groups, self.c // self.groups * taps, self.n * math.prod(self.out_size())

    def flops(self) -> int:
        groups, m, k, columns = self.gemm()
        return 2 * groups * m * k * columns

    def im2col_bytes(self) -> int:
        """The float64 column matrix: im2col's (K, columns) for a conv, col2im's (M, columns) for a
        transposed conv, per group."""
        groups, m, k, columns = self.gemm()
        return groups * (m if self.transposed else k) * columns * 8

    def weight_shape(self) -> tuple[int, ...]:
        kernel = (self.k,) * self.dims
        if self.transposed:
            return (self.c, self.o // self.groups, *kernel)
        return (self.o, self.c // self.groups, *kernel)

    def arrays(self, seed: int = 0) -> dict:
        rng = np.random.default_rng(seed)
        return {
            "x": rng.standard_normal((self.n, self.c, *self.size)),
            "w": rng.standard_normal(self.weight_shape()),
            "b": rng.standard_normal(self.o),
            "g": rng.standard_normal((self.n, self.o, *self.out_size())),
        }

    def describe(self) -> str:
        size = "x".join(map(str, self.size))
        last = f"output_padding {self.output_padding}" if self.transposed else f"padding_mode {self.mode}"
        return (
            f"{self.op} N={self.n} C={self.c}->{self.o} {size} k{self.k} stride {self.stride} padding {self.padding}"
            f" dilation {self.dilation} groups {self.groups} {last}"
            f" (output {'x'.join(map(str, self.out_size()))})"
        )


MEDIUM = dict(n=4, c=16, o=32, size=(32, 32), k=3)
CASES = [
    Case("small", n=2, c=3, o=4, size=(5, 5), k=3),
    Case("medium", **MEDIUM),
    Case("large", n=8, c=64, o=64, size=(56, 56), k=3),
    Case("depthwise", n=4, c=32, o=32, size=(32, 32), k=3, groups=32),
    Case("strided+dilated", n=4, c=16, o=16, size=(64, 64), k=5, stride=2, padding=2, dilation=2),
    Case("pointwise", n=8, c=256, o=64, size=(28, 28), k=1, padding=0),
    Case("medium reflect", **MEDIUM, mode="reflect"),
    Case("medium replicate", **MEDIUM, mode="replicate"),
    Case("medium circular", **MEDIUM, mode="circular"),
    # video clips: 8 frames of 16x16
    Case("conv3d video", n=2, c=8, o=16, size=(8, 16, 16), k=3, op="conv3d"),
    # a volume, downsampled by 2 per axis
    Case("conv3d medical", n=1, c=4, o=8, size=(24, 24, 24), k=3, stride=2, op="conv3d"),
    # the GAN generator's / U-Net decoder's upsampling: k4 stride 2 padding 1 doubles 16x16 to 32x32
    Case("transpose2d decoder", n=4, c=32, o=16, size=(16, 16), k=4, stride=2, op="conv_transpose2d"),
    # k3 stride 2 padding 1 output_padding 1 doubles 5x5 to 10x10
    Case("transpose2d small", n=2, c=3, o=4, size=(5, 5), k=3, stride=2, output_padding=1, op="conv_transpose2d"),
]


def torch_calls(case: Case, arrays: dict):
    """(forward without autograd, backward) as nn.Conv{2,3}d or F.conv_transpose2d run them: F.pad
    first in the non-zero modes; the backward is torch.autograd.grad of one kept graph for input,
    weight and bias."""
    import torch  # noqa: PLC0415 - the parent process that lists the cases never loads torch
    import torch.nn.functional as F  # noqa: PLC0415

    tx, tw, tb = (torch.from_numpy(arrays[k]).requires_grad_() for k in "xwb")
    tg = torch.from_numpy(arrays["g"])
    op = getattr(F, case.op)

    def graph():
        if case.transposed:
            return op(tx, tw, tb, case.stride, case.padding, case.output_padding, case.groups, case.dilation)
        x, padding = tx, case.padding
        if case.mode != "zeros":
            x, padding = F.pad(x, (case.padding,) * (2 * case.dims), mode=case.mode), 0
        return op(x, tw, tb, case.stride, padding, case.dilation, case.groups)

    kept = graph()

    def forward():
        with torch.no_grad():
            return graph()

    def backward():
        return torch.autograd.grad(kept, (tx, tw, tb), tg, retain_graph=True)

    return forward, backward


def reference_calls(reference, case: Case, arrays: dict):
    """(forward, backward) of the reference package given, on the same arrays."""
    kwargs, a = case.kwargs(), arrays
    forward, backward = getattr(reference, case.op), getattr(reference, f"{case.op}_backward")
    return (
        lambda: forward(a["x"], a["w"], a["b"], **kwargs),
        lambda: backward(a["g"], a["x"], a["w"], a["b"], **kwargs),
    )


def magnitudes(bounds, case: Case, arrays: dict) -> tuple:
    """|x| op |w| + |b| per output element, then the three gradients' (the agreement's scales)."""
    kwargs, a = case.kwargs(), arrays
    return (
        getattr(bounds, f"{case.op}_magnitude")(a["x"], a["w"], a["b"], **kwargs),
        *getattr(bounds, f"{case.op}_backward_magnitude")(a["g"], a["x"], a["w"], a["b"], **kwargs),
    )
