"""Confirmed torch defects, each listed once: what, where, which versions, and the upstream link.

A generated example inside a defect's region is still run (unless the defect crashes the
process) and a disagreement there is recorded, not failed. tests/test_known_defects.py runs
each reproducer (tests/defects/<name>.py) as a strict xfail on the affected torch versions and
CPUs, so a torch that fixes the defect shows up as an unexpected pass.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from . import knobs
from .repro import COMPILED
from .strategies import Conv2dConfig

DEFECTS_DIR = Path(__file__).parent / "defects"
INDUCTOR_REPLICATE_FIRST_SEEN = "2.7.0"  # not on 2.5.1 or 2.6.0; seen on 2.7.0, 2.8.0, 2.9.1, 2.13.0


@cache
def cpu_flags() -> frozenset[str]:
    """The CPU's feature flags (Linux /proc/cpuinfo); empty where that cannot be read."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return frozenset()
    lines = [line for line in text.splitlines() if line.startswith("flags")]
    return frozenset(lines[0].split(":", 1)[1].split()) if lines else frozenset()


@dataclass(frozen=True)
class Geometry:
    """Per axis (height, width): input size, pads before/after, kernel, stride, dilation, output size."""

    size: tuple[int, int]
    pads: tuple[tuple[int, int], tuple[int, int]]
    kernel: tuple[int, int]
    stride: tuple[int, int]
    dilation: tuple[int, int]

    @property
    def out(self) -> tuple[int, ...]:
        return tuple(
            (n + sum(p) - d * (k - 1) - 1) // s + 1 for n, p, k, s, d in zip(self.size, self.pads, self.kernel, self.stride, self.dilation)
        )

    def only_padding(self, axis: int) -> bool:
        """Every output position along the axis reads padding alone, no input pixel."""
        n, (before, _), k, s, d = self.size[axis], self.pads[axis], self.kernel[axis], self.stride[axis], self.dilation[axis]
        return all(not (before <= o * s + j * d < before + n) for o in range(self.out[axis]) for j in range(k))


def geometry(config: Conv2dConfig) -> Geometry:
    """The zero-padded convolution torch hands its kernel (non-zero modes are padded beforehand)."""
    pads, size = config.pads, (config.height, config.width)
    if config.padding_mode != "zeros":
        size, pads = (size[0] + sum(pads[0]), size[1] + sum(pads[1])), ((0, 0), (0, 0))
    return Geometry(size, pads, config.kernel_pair, config.stride_pair, config.dilation_pair)


# A defect in a kernel shows through every call that reaches the kernel, compiled ones included.
EVERY_CALL = ("nn.Conv2d", "F.conv2d", "nn.Conv2d backward", COMPILED, f"{COMPILED} backward")


@dataclass(frozen=True)
class KnownDefect:
    name: str  # also the reproducer's file name under tests/defects/
    summary: str
    link: str
    first_seen: str  # the oldest torch version on which it was confirmed
    fixed_in: str | None  # the first torch version without it, once known
    crashes: bool
    on_this_cpu: Callable[[], bool]
    applies: Callable[[Conv2dConfig, str, str, tuple], bool]  # (config, dtype, backend, float64 operands: x, w, b, ...)
    apis: tuple[str, ...] = EVERY_CALL  # the calls it affects: "<api>", or "<api> backward" for its gradients

    def affects_this_torch(self) -> bool:
        version = torch.torch_version.TorchVersion(torch.__version__.split("+")[0])
        return version >= self.first_seen and (self.fixed_in is None or version < self.fixed_in) and self.on_this_cpu()

    @property
    def reproducer(self) -> Path:
        return DEFECTS_DIR / f"{self.name}.py"


KNOWN_DEFECTS = (
    KnownDefect(
        name="onednn_bf16_amx_out_w_1_strided",
        summary="bfloat16 conv on oneDNN's AMX kernel (brg_conv_fwd:avx10_1_512_amx) reads the wrong input rows"
        " when the output width is 1 and stride_w > 1: wrong values, NaN or stale memory",
        link="https://github.com/pytorch/pytorch/issues/169688 (same kernel, strided bf16 convs wrong; this shape not yet filed)",
        first_seen="2.2.0",  # not on 2.0.1, 2.1.0, 2.1.2
        fixed_in=None,
        crashes=False,
        on_this_cpu=lambda: "amx_bf16" in cpu_flags(),
        applies=lambda config, dtype, backend, operands: dtype == "bfloat16" and backend == "Mkldnn"
        and geometry(config).out[1] == 1 and geometry(config).stride[1] > 1,
    ),
    KnownDefect(
        name="onednn_brgconv_all_padding_crash",
        summary="float16/bfloat16 conv on oneDNN's brgemm kernel segfaults when every output row or column"
        " is computed from zero padding alone (oneDNN v3.3 to v3.12, bundled with torch 2.2 to 2.13)",
        link="https://github.com/uxlfoundation/oneDNN/issues/5942 (fixed by oneDNN PR 5944, after v3.12)",
        first_seen="2.2.0",  # not on 2.0.1, 2.1.0, 2.1.2
        fixed_in=None,
        crashes=True,
        on_this_cpu=lambda: bool({"amx_bf16", "avx512_fp16"} & cpu_flags()),
        applies=lambda config, dtype, backend, operands: dtype in ("float16", "bfloat16") and backend == "Mkldnn"
        and (geometry(config).only_padding(0) or geometry(config).only_padding(1)),
    ),
    KnownDefect(
        name="onednn_skips_zero_padding_taps",
        summary="oneDNN's float32/float16/bfloat16 kernels (not the AMX ones) skip zero-padding taps, so a NaN or"
        " inf weight tap that meets only padding gives a finite result; Slow2d, and F.pad then padding=0,"
        " give NaN (inf * 0), so the answer depends on the kernel torch picks",
        link="https://github.com/pytorch/pytorch/issues/157237 (related: backend-dependent NaN propagation; this case not yet filed)",
        first_seen="2.0.1",  # the oldest release checked
        fixed_in=None,
        crashes=False,
        on_this_cpu=lambda: "avx512f" in cpu_flags(),
        applies=lambda config, dtype, backend, operands: backend == "Mkldnn" and config.padding_mode == "zeros"
        and max(max(config.pads)) > 0 and not np.isfinite(operands[1]).all(),
    ),
    KnownDefect(
        name="onednn_bf16_nonfinite_input_spreads_nan",
        summary="bfloat16 conv on oneDNN turns outputs whose windows never read an inf input pixel into NaN:"
        " its kernels pair the pixel with zero weights that pad the reduction (inf * 0)",
        link="not yet filed upstream; reproducer tests/defects/onednn_bf16_nonfinite_input_spreads_nan.py",
        first_seen="2.0.1",  # the oldest release checked
        fixed_in=None,
        crashes=False,
        on_this_cpu=lambda: "avx512_bf16" in cpu_flags(),
        applies=lambda config, dtype, backend, operands: dtype == "bfloat16" and backend == "Mkldnn"
        and not np.isfinite(operands[0]).all(),
    ),
    KnownDefect(
        name="onednn_bf16_subnormals_flushed",
        summary="bfloat16 conv on oneDNN treats subnormal operands and products as zero, as the x86 AVX512_BF16"
        " instructions do by design (Intel SDM, VDPBF16PS); Slow2d and the float64 result keep them",
        link="https://github.com/llvm/llvm-project/pull/90425 (x86 bf16 instructions flush denormals)",
        first_seen="2.0.1",  # the oldest release checked
        fixed_in=None,
        crashes=False,
        on_this_cpu=lambda: "avx512_bf16" in cpu_flags(),
        applies=lambda config, dtype, backend, operands: dtype == "bfloat16" and backend == "Mkldnn"
        and reaches_bfloat16_subnormals(operands),
    ),
    KnownDefect(
        name="slow2d_bf16_accumulates_in_bfloat16",
        summary="bfloat16 conv (forward and grad_input) on torch's own Slow2d/SlowDilated2d kernels sums in bfloat16,"
        " not float32: the error grows with the reduction length (258 ones sum to 256)",
        link="https://github.com/pytorch/pytorch/issues/83863 (cpublas' reference bf16 gemm summed in bf16; fixed by PR 96074)",
        first_seen="2.0.1",  # the oldest release checked
        fixed_in="2.1.0",
        crashes=False,
        on_this_cpu=lambda: True,
        applies=lambda config, dtype, backend, operands: dtype == "bfloat16" and backend in ("Slow2d", "SlowDilated2d"),
    ),
    KnownDefect(
        name="nnpack_padding_not_below_kernel",
        summary="float32 conv routed to NNPACK (batch >= 16, oneDNN not taken) with padding >= kernel size raises"
        " RuntimeError 'NNPACK SpatialConvolution_updateOutput failed': NNPACK does not support such padding",
        link="https://github.com/pytorch/pytorch/issues/90142 (fixed by PR 92238, which keeps such calls off NNPACK)",
        first_seen="2.0.1",  # the oldest release checked
        fixed_in="2.1.0",
        crashes=True,  # raises rather than returning a result: not run
        on_this_cpu=lambda: torch._nnpack_available(),
        applies=lambda config, dtype, backend, operands: backend == "NnpackSpatial"
        and any(geometry(config).pads[axis][0] >= geometry(config).kernel[axis] for axis in (0, 1)),
    ),
    KnownDefect(
        name="inductor_replicate_pad_backward_strides",
        summary="torch.compile (inductor, CPU) of a Conv2d with padding_mode='replicate' raises in backward,"
        " every dtype: the compiled graph asserts a channels_last gradient from replication_pad2d_backward,"
        " which returns a contiguous one ('expected size 4==4, stride 1==4 at dim=1')",
        link="not yet filed upstream; related: https://github.com/pytorch/pytorch/issues/179442 (compiled F.pad"
        " layout differs from eager) and its fix https://github.com/pytorch/pytorch/pull/179837",
        first_seen=INDUCTOR_REPLICATE_FIRST_SEEN,
        fixed_in=None,
        crashes=True,  # raises rather than returning a result: not run
        on_this_cpu=lambda: True,
        applies=lambda config, dtype, backend, operands: config.padding_mode == "replicate",
        apis=(f"{COMPILED} backward",),
    ),
)


def reaches_bfloat16_subnormals(operands) -> bool:
    """Some operand, or some product of an input and a weight, is below bfloat16's smallest normal."""
    smallest_normal = 2.0**-126
    magnitudes = [np.abs(a[np.isfinite(a) & (a != 0)]) for a in operands if a is not None]
    if any(m.size and m.min() < smallest_normal for m in magnitudes):
        return True
    x, w = magnitudes[0], magnitudes[1]
    return bool(x.size and w.size and x.min() * w.min() < smallest_normal)


def affecting(config: Conv2dConfig, dtype: str, backend: str, operands: tuple, api: str = "nn.Conv2d") -> KnownDefect | None:
    """The known defect this example falls under on this torch and CPU, if any.
    operands: the float64 values torch holds (input, weight, bias or None, then any others);
    api: the call, with " backward" for its gradients. Every defect listed so far was found on
    the CPU: none is applied on another device."""
    if knobs.current.device_type != "cpu":
        return None
    for defect in KNOWN_DEFECTS:
        if api in defect.apis and defect.affects_this_torch() and defect.applies(config, dtype, backend, operands):
            return defect
    return None
