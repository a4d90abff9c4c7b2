"""The fixed bench set: the cases both benchmarks time, and the calls they time on each side."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Case:
    name: str
    n: int
    c: int
    o: int
    h: int
    w: int
    k: int
    stride: int = 1
    padding: int = 1
    dilation: int = 1
    groups: int = 1
    mode: str = "zeros"

    def kwargs(self) -> dict:
        return dict(
            stride=self.stride, padding=self.padding, dilation=self.dilation, groups=self.groups, padding_mode=self.mode
        )

    def out_hw(self) -> tuple[int, int]:
        extent = self.dilation * (self.k - 1) + 1
        return tuple((size + 2 * self.padding - extent) // self.stride + 1 for size in (self.h, self.w))

    def gemm(self) -> tuple[int, int, int, int]:
        """(groups, M, K, columns) of the im2col GEMM: weight (M, K) times columns (K, N*Ho*Wo) per group."""
        ho, wo = self.out_hw()
        return self.groups, self.o // self.groups, self.c // self.groups * self.k * self.k, self.n * ho * wo

    def flops(self) -> int:
        groups, m, k, columns = self.gemm()
        return 2 * groups * m * k * columns

    def im2col_bytes(self) -> int:
        groups, _, k, columns = self.gemm()
        return groups * k * columns * 8

    def arrays(self, seed: int = 0) -> dict:
        rng = np.random.default_rng(seed)
        return {
            "x": rng.standard_normal((self.n, self.c, self.h, self.w)),
            "w": rng.standard_normal((self.o, self.c // self.groups, self.k, self.k)),
            "b": rng.standard_normal(self.o),
            "g": rng.standard_normal((self.n, self.o, *self.out_hw())),
        }

    def describe(self) -> str:
        return (
            f"N={self.n} C={self.c}->{self.o} {self.h}x{self.w} k{self.k} stride {self.stride} padding {self.padding}"
            f" dilation {self.dilation} groups {self.groups} padding_mode {self.mode}"
        )


MEDIUM = dict(n=4, c=16, o=32, h=32, w=32, k=3)
CASES = [
    Case("small", n=2, c=3, o=4, h=5, w=5, k=3),
    Case("medium", **MEDIUM),
    Case("large", n=8, c=64, o=64, h=56, w=56, k=3),
    Case("depthwise", n=4, c=32, o=32, h=32, w=32, k=3, groups=32),
    Case("strided+dilated", n=4, c=16, o=16, h=64, w=64, k=5, stride=2, padding=2, dilation=2),
    Case("pointwise", n=8, c=256, o=64, h=28, w=28, k=1, padding=0),
    Case("medium reflect", **MEDIUM, mode="reflect"),
    Case("medium replicate", **MEDIUM, mode="replicate"),
    Case("medium circular", **MEDIUM, mode="circular"),
]


def torch_calls(case: Case, arrays: dict):
    """(forward without autograd, backward) as nn.Conv2d runs them: F.pad first in the non-zero
    modes; the backward is torch.autograd.grad of one kept graph for input, weight and bias."""
    import torch  # noqa: PLC0415 - the parent process that lists the cases never loads torch
    import torch.nn.functional as F  # noqa: PLC0415

    tx, tw, tb = (torch.from_numpy(arrays[k]).requires_grad_() for k in "xwb")
    tg = torch.from_numpy(arrays["g"])

    def graph():
        x, padding = tx, case.padding
        if case.mode != "zeros":
            x, padding = F.pad(x, (case.padding,) * 4, mode=case.mode), 0
        return F.conv2d(x, tw, tb, case.stride, padding, case.dilation, case.groups)

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
    return (
        lambda: reference.conv2d(a["x"], a["w"], a["b"], **kwargs),
        lambda: reference.conv2d_backward(a["g"], a["x"], a["w"], a["b"], **kwargs),
    )
