"""Confirmed torch defects, each listed once: what, in which kernel, which versions, the link.

Each entry is keyed on what torch actually ran, never on the CPU's flag list: a oneDNN
kernel as oneDNN's verbose log names it (tests/onednn.py), an ATen backend as torch's
backend selection reports it, or torch's own code (padding, inductor) where no kernel is
involved. So one entry is right on AMX, AVX-512, AVX2-only and aarch64 machines alike: on a
machine where the kernel never runs, the entry never applies.

A generated example in a defect's region is still run and a disagreement there is recorded, not
failed. A crasher runs in a child process (tests/isolated.py), so the kernel it crashes in is
seen. tests/test_known_defects.py runs each reproducer (tests/defects/<name>.py): a strict xfail
where it reaches the kernel on an affected version, a skip where it cannot reach it, and an
unexpected pass where torch fixed it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from . import probes, settings
from .backends import UNNAMED_BACKEND
from .config import Conv2dConfig
from .onednn import Kernel
from .ops import OPS
from .repro import COMPILED


@dataclass(frozen=True)
class Ran:
    """What torch ran for one call: the ATen backend it selected, the oneDNN kernels it ran."""

    backend: str
    kernels: tuple[Kernel, ...] = ()


# --- where a defect lives -------------------------------------------------------------------------


PRODUCING = {  # an output -> the oneDNN passes that compute it
    None: {"forward"},
    "input": {"backward_data", "backward"},
    "weight": {"backward_weights", "backward"},
    "bias": {"backward_weights", "backward"},
}


@dataclass(frozen=True)
class OneDNNKernel:
    """oneDNN implementations whose name matches `pattern` (and, where given, only while oneDNN's
    ISA line matches `isa`: x64:gemm:jit names no ISA of its own)."""

    pattern: str
    isa: str = ""
    passes: tuple[str, ...] = ("forward",)

    def possible(self, backend: str) -> bool:
        return backend in ("Mkldnn", UNNAMED_BACKEND)  # torch names no transposed oneDNN backend

    def ran(self, ran: Ran) -> bool:
        return self.matches([k.implementation for k in ran.kernels if k.pass_ in self.passes], probes.onednn_isa())

    def matches(self, implementations, isa: str) -> bool:
        return any(re.search(self.pattern, name) for name in implementations) and re.search(self.isa, isa) is not None

    def unreachable_reason(self) -> str | None:
        return None if probes.has_onednn() else "this torch has no oneDNN"

    def covers(self, gradient: str | None) -> bool:
        """Whether the kernel's pass computes this output (None: the forward output)."""
        return bool(set(self.passes) & PRODUCING[gradient])

    def __str__(self) -> str:
        return f"oneDNN kernels /{self.pattern}/" + (f" on an ISA with /{self.isa}/" if self.isa else "")


@dataclass(frozen=True)
class AtenBackend:
    """One of torch's own convolution backends, as torch._C._select_conv_backend names it."""

    names: tuple[str, ...]
    available: Callable[[], str | None] = lambda: None  # why it cannot run here, or None

    def possible(self, backend: str) -> bool:
        return backend in self.names

    def ran(self, ran: Ran) -> bool:
        return ran.backend in self.names

    def unreachable_reason(self) -> str | None:
        return self.available()

    def covers(self, gradient: str | None) -> bool:
        return True

    def __str__(self) -> str:
        return "/".join(self.names)


@dataclass(frozen=True)
class OneDNNGemm:
    """One of torch's own backends while it multiplies through oneDNN's GEMM (torch hands
    bfloat16 GEMMs to oneDNN while torch.backends.mkldnn is enabled; oneDNN logs no primitive for
    them), where oneDNN's ISA line matches `isa`."""

    names: tuple[str, ...]
    isa: str

    def possible(self, backend: str) -> bool:
        return backend in self.names

    def ran(self, ran: Ran) -> bool:
        return (
            ran.backend in self.names
            and bool(torch.backends.mkldnn.enabled)
            and re.search(self.isa, probes.onednn_isa()) is not None
        )

    def unreachable_reason(self) -> str | None:
        return None if probes.has_onednn() else "this torch has no oneDNN"

    def covers(self, gradient: str | None) -> bool:
        return True

    def __str__(self) -> str:
        return f"{'/'.join(self.names)} through oneDNN's GEMM on an ISA with /{self.isa}/"


@dataclass(frozen=True)
class TorchCode:
    """torch's own code around the kernels (padding, the compiler): any call of the listed APIs."""

    what: str
    available: Callable[[], str | None] = lambda: None

    def possible(self, backend: str) -> bool:
        return True

    def ran(self, ran: Ran) -> bool:
        return True

    def unreachable_reason(self) -> str | None:
        return self.available()

    def covers(self, gradient: str | None) -> bool:
        return True

    def __str__(self) -> str:
        return self.what


# --- what a defect does -------------------------------------------------------------------------

WRONG, CRASHES = "wrong values", "crashes the process"


@dataclass(frozen=True)
class Raises:
    pattern: str  # a regex that torch's message must contain

    def __str__(self) -> str:
        return f"raises /{self.pattern}/"


def calls_of(*op_names: str) -> tuple[str, ...]:
    """Every call of these ops: module, functional and compiled, forward and backward."""
    apis = [
        api for name in op_names for api in (OPS[name].module_api, OPS[name].functional_api, OPS[name].compiled_api)
    ]
    return (*apis, *(f"{api} backward" for api in apis))


def forward_calls(*op_names: str) -> tuple[str, ...]:
    return tuple(api for api in calls_of(*op_names) if not api.endswith(" backward"))


def backward_calls(*op_names: str) -> tuple[str, ...]:
    return tuple(api for api in calls_of(*op_names) if api.endswith(" backward"))


# A kernel's defect shows through every call that reaches the kernel, compiled ones included:
# conv1d runs conv2d's kernels on a height of 1, conv3d their 3-d builds (same oneDNN
# implementations, one more axis). The transposed ops run oneDNN's deconvolution (its gradients on
# the convolution kernels, named "conv:any+<kernel>") and torch's SlowTranspose kernels: an entry
# covers them (EVERY_OP) where its kernel pattern names what they run, judged on the adjoint's
# geometry (family_config.ConvConfig.geometry).
EVERY_CALL = calls_of("conv2d", "conv1d", "conv3d")
EVERY_OP = calls_of(*OPS)


def release(version: str):
    return probes.TorchVersion(version.split("+")[0])


@dataclass(frozen=True)
class KnownDefect:
    name: str  # also the reproducer's file name under tests/defects/
    summary: str
    link: str
    affected: tuple[tuple[str, str | None], ...]  # torch versions [from, to): to is the first release without it
    where: tuple  # the kernels or code it lives in (any of them)
    effect: object  # WRONG, CRASHES or Raises(pattern)
    applies: Callable[[Conv2dConfig, str, tuple], bool]  # (config, dtype, float64 operands: x, w, b, ...)
    apis: tuple[str, ...] = EVERY_CALL  # the calls it affects: "<api>", or "<api> backward" for its gradients

    def in_this_torch(self) -> bool:
        version = release(probes.torch_version())
        return any(version >= since and (until is None or version < until) for since, until in self.affected)

    def could_reach(self, api: str, config: Conv2dConfig, dtype: str, operands: tuple, backend: str) -> bool:
        """Before the call: the example is in the region, and what torch selected can lead to the defect."""
        return (
            api in self.apis and any(w.possible(backend) for w in self.where) and self.applies(config, dtype, operands)
        )

    def reached(self, ran: Ran, gradient: str | None = None) -> bool:
        """Whether what ran includes what the defect lives in, for this output (None: forward)."""
        return any(w.covers(gradient) and w.ran(ran) for w in self.where)

    def unreachable_reason(self) -> str | None:
        """Why this machine and torch cannot run what the defect lives in, or None."""
        reasons = [w.unreachable_reason() for w in self.where]
        return None if any(r is None for r in reasons) else "; ".join(reasons)


def half(dtype: str) -> bool:
    return dtype in ("float16", "bfloat16")


def nonfinite(array) -> bool:
    return array is not None and not np.isfinite(array).all()


# oneDNN 3.3 to 3.4 (torch 2.2 to 2.4) name the brgemm forward kernel brgconv, later ones brg_conv_fwd
BRGEMM_FORWARD = r"^(brg_conv_fwd|brgconv):"
# the same kernels as a transposed op's backward_data runs them, behind oneDNN's deconvolution
BRGEMM_FORWARD_OR_DECONV_DATA = r"^(conv:any\+)?(brg_conv_fwd|brgconv):"
# oneDNN's kernels that skip taps over their own zero padding: all but x64:gemm:jit (im2col writes
# the zeros out); seen on jit, jit_dw, jit_bf16, brg_conv_fwd (the AMX one for some shapes), brdgmm_dw, ref.
SKIP_PADDING_TAPS = r"^(?!x64:gemm:jit$)"
# bfloat16 kernels that pad the reduction over input channels with zeros (bf16 dot products take
# pairs of channels): the pad pairs with a real input value.
BF16_CHANNEL_PAIRS = r"^(jit_bf16|brg_conv_fwd|brgconv|brgconv_1x1|jit):"

KNOWN_DEFECTS = (
    KnownDefect(
        name="onednn_brgconv_bf16_out_w_1_strided",
        summary="bfloat16 conv on oneDNN's brgemm forward kernels (brg_conv_fwd, with AMX or AVX512-BF16) reads the"
        " wrong input columns when the output width is 1 and stride_w > 1: wrong values, NaN or stale memory",
        link="https://github.com/pytorch/pytorch/issues/169688"
        " (same kernel, strided bf16 convs wrong; this shape not yet filed)",
        affected=(("2.2.0", None),),  # not on 2.0.1, 2.1.0, 2.1.2
        where=(OneDNNKernel(BRGEMM_FORWARD),),
        effect=WRONG,
        applies=lambda config, dtype, operands: (
            dtype == "bfloat16" and config.geometry.out[-1] == 1 and config.geometry.stride[-1] > 1
        ),
    ),
    KnownDefect(
        name="onednn_amx_bf16_deconv_backward_data_unwritten_rows",
        summary="bfloat16 conv_transpose2d/3d backward on oneDNN's AMX kernel (conv:any+brg_conv_fwd:*amx, the"
        " deconvolution's backward_data pass) with an input one pixel wide and stride_w > 1: grad_input is right in"
        " the first row of each depth plane only, later rows hold wrong values or stale memory (never written); the"
        " brgemm forward kernel's out_w == 1 strided defect, reached through the deconvolution",
        link="not yet filed upstream; reproducer tests/defects/onednn_amx_bf16_deconv_backward_data_unwritten_rows.py"
        " (deterministic under glibc's MALLOC_PERTURB_); related: https://github.com/pytorch/pytorch/issues/169688",
        # seen on 2.5.1, 2.9.1, 2.13.0, 2.14.1, 2.15.0; right on 2.0.1 and 2.1.2 (their deconvolution runs
        # brgconv:*amx for backward_data); 2.2 to 2.4 not checked
        affected=(("2.5.0", None),),
        where=(OneDNNKernel(r"^conv:any\+(brg_conv_fwd|brgconv):.*amx", passes=("backward_data",)),),
        effect=WRONG,
        applies=lambda config, dtype, operands: dtype == "bfloat16" and one_pixel_wide_strided(config),
        # conv_transpose1d's grad_input convolution has a single output row, never seen wrong
        apis=backward_calls("conv_transpose2d", "conv_transpose3d"),
    ),
    KnownDefect(
        name="onednn_amx_bf16_brgconv_depth_1_unwritten",
        summary="bfloat16 conv3d on oneDNN's AMX brgemm forward kernel (brg_conv_fwd:*amx) with an input one plane"
        " deep and padding in depth computes the whole output from a weight buffer it never wrote (stale memory"
        " times the input) when the input channels per group are below 16, the kernel is wider than 1 with width"
        " dilation 1, and the channel count is odd or channels * kernel width > 32; conv_transpose3d's grad_input"
        " too (conv:any+brg_conv_fwd:*amx, on its out_channels); conv2d with a height of 1 is right",
        link="not yet filed upstream; reproducer tests/defects/onednn_amx_bf16_brgconv_depth_1_unwritten.py"
        " (deterministic under glibc's MALLOC_PERTURB_)",
        # seen on 2.5.1, 2.9.1, 2.13.0, 2.14.1, 2.15.0; right on 2.0.1 and 2.1.2 (brgconv:*amx runs the same
        # cases); 2.2 to 2.4 not checked
        affected=(("2.5.0", None),),
        where=(OneDNNKernel(BRGEMM_FORWARD_OR_DECONV_DATA + ".*amx", passes=("forward", "backward_data")),),
        effect=WRONG,
        applies=lambda config, dtype, operands: dtype == "bfloat16" and depth_1_padded_stale_weights(config),
        # a transposed op's grad_input is this kernel's convolution of grad_output; its forward
        # (brg_deconv:*amx+brg_conv_fwd:*amx) was right throughout
        apis=(*calls_of("conv3d"), *backward_calls("conv_transpose3d")),
    ),
    KnownDefect(
        name="onednn_brgconv_all_padding_crash",
        summary="float16/bfloat16 conv on oneDNN's brgemm forward kernel without AMX segfaults when every output row"
        " or column is computed from zero padding alone (oneDNN v3.3 to v3.12, bundled with torch 2.2 to 2.14)",
        link="https://github.com/uxlfoundation/oneDNN/issues/5942"
        " (fixed by oneDNN PR 5944, in oneDNN v3.13 / torch 2.15.0)",
        # not on 2.0.1, 2.1.0, 2.1.2; the float16 brg_conv_fwd:avx10_1_512 case runs right on 2.15.0
        affected=(("2.2.0", "2.15.0"),),
        where=(OneDNNKernel(BRGEMM_FORWARD_OR_DECONV_DATA + "(?!.*amx)", passes=("forward", "backward_data")),),
        effect=CRASHES,
        applies=lambda config, dtype, operands: half(dtype) and an_output_line_reads_padding_only(config),
        apis=EVERY_OP,  # a transposed op's grad_input is this kernel's convolution of grad_output
    ),
    KnownDefect(
        name="onednn_amx_brgconv_all_padding_crash",
        summary="bfloat16 conv on oneDNN's AMX brgemm forward kernel (brg_conv_fwd:*amx) segfaults when every output"
        " row or column is computed from zero padding alone; the oneDNN v3.13 fix for the non-AMX kernel does not"
        " cover it (torch 2.15.0 still crashes); the transposed ops reach it through their grad_input and, when no"
        " input pixel reaches any output row or column, through their forward (brg_deconv:*amx+brg_conv_fwd:*amx,"
        " conv:any+brg_conv_bwd:*amx+brg_conv_fwd:*amx)",
        link="not yet filed upstream; related: https://github.com/uxlfoundation/oneDNN/issues/5942"
        " (the non-AMX kernel)",
        affected=(("2.2.0", None),),  # not on 2.0.1, 2.1.0, 2.1.2; crashes on 2.15.0 (oneDNN v3.13.3)
        # the transposed ops' forward: seen on 2.5.1, 2.9.1, 2.13.0, 2.14.1, 2.15.0; not on 2.0.1, 2.1.2
        where=(
            OneDNNKernel(BRGEMM_FORWARD_OR_DECONV_DATA + ".*amx", passes=("forward", "backward_data")),
            OneDNNKernel(r"^(brg_deconv|conv:any\+brg_conv_bwd):[^+]*amx\+(brg_conv_fwd|brgconv):.*amx"),
        ),
        effect=CRASHES,
        applies=lambda config, dtype, operands: (
            half(dtype) and (an_output_line_reads_padding_only(config) or an_output_line_reached_by_no_input(config))
        ),
        apis=EVERY_OP,  # a transposed op's grad_input is this kernel's convolution of grad_output
    ),
    KnownDefect(
        name="onednn_skips_zero_padding_taps",
        summary="oneDNN's float32/float16/bfloat16 kernels (every one seen but x64:gemm:jit; the AMX ones for some"
        " shapes) skip zero-padding taps, so a NaN or inf weight tap that meets only padding gives a finite result;"
        " Slow2d, and F.pad then padding=0, give NaN (inf * 0)",
        link="https://github.com/pytorch/pytorch/issues/157237"
        " (related: backend-dependent NaN propagation; this case not yet filed)",
        affected=(("2.0.1", None),),  # the oldest release checked
        where=(OneDNNKernel(SKIP_PADDING_TAPS),),
        effect=WRONG,
        applies=lambda config, dtype, operands: (
            config.padding_mode == "zeros" and max(max(config.pads)) > 0 and nonfinite(operands[1])
        ),
    ),
    KnownDefect(
        name="onednn_bf16_nonfinite_input_spreads_nan",
        summary="bfloat16 conv on oneDNN's jit_bf16, brg_conv_fwd, brgconv_1x1 and AMX jit kernels turns outputs whose"
        " windows never read an inf input pixel into NaN: with an odd channel count the kernels pad the channel"
        " pairs with zero weights that meet the pixel (inf * 0)",
        link="not yet filed upstream; reproducer tests/defects/onednn_bf16_nonfinite_input_spreads_nan.py",
        affected=(("2.0.1", None),),  # the oldest release checked
        where=(OneDNNKernel(BF16_CHANNEL_PAIRS),),
        effect=WRONG,
        applies=lambda config, dtype, operands: dtype == "bfloat16" and nonfinite(operands[0]),
    ),
    KnownDefect(
        name="onednn_bf16_gemm_nonfinite_weight_nan",
        summary="bfloat16 conv on oneDNN's x64:gemm:jit kernel gives NaN where inf is right when a weight is inf and"
        " every input finite: with an odd channel count per group the GEMM pads the channel pairs with zero inputs"
        " that meet the weight (inf * 0); seen on oneDNN ISAs without AMX",
        link="not yet filed upstream; reproducer tests/defects/onednn_bf16_gemm_nonfinite_weight_nan.py",
        affected=(("2.2.0", None),),  # seen on 2.2.2, 2.3.1, 2.6.0 and 2.13.0 (oneDNN capped at AVX512_CORE_BF16)
        # with AMX the same kernel name is right; the transposed ops run it as "conv:any+x64:gemm:jit"
        where=(OneDNNKernel(r"^(conv:any\+)?x64:gemm:jit$", isa=r"^(?!.*AMX)"),),
        effect=WRONG,
        applies=lambda config, dtype, operands: dtype == "bfloat16" and nonfinite(operands[1]),
        apis=EVERY_OP,
    ),
    KnownDefect(
        name="onednn_amx_bf16_deconv_nonfinite_weight_nan",
        summary="bfloat16 conv_transpose1d/2d/3d on oneDNN's AMX deconvolution kernels (jit_deconvolution:*amx;"
        " brg_deconv:*amx with brg_conv_fwd or brgconv_strided; conv:any+brgconv_strided:*amx) gives NaN at outputs"
        " a nonfinite weight never reaches: the kernels multiply the weight by zeros there (stride gaps, beyond the"
        " input's edges), inf * 0; any channel count; a nonfinite input is right",
        link="not yet filed upstream; reproducer tests/defects/onednn_amx_bf16_deconv_nonfinite_weight_nan.py",
        affected=(("2.0.1", None),),  # seen on 2.0.1, 2.1.2, 2.5.1, 2.9.1, 2.13.0, 2.14.1, 2.15.0
        # torch 2.1.2's oneDNN names its stride-1 AMX deconvolution brgconv:avx512_core_amx; some grouped strided
        # shapes run conv:any+brgconv_strided:*amx (seen on 2.5.1 to 2.15.0)
        where=(OneDNNKernel(r"^(jit_deconvolution|brg_deconv|brgconv|conv:any\+brgconv_strided):.*amx"),),
        effect=WRONG,
        applies=lambda config, dtype, operands: dtype == "bfloat16" and nonfinite(operands[1]),
        apis=forward_calls("conv_transpose1d", "conv_transpose2d", "conv_transpose3d"),
    ),
    KnownDefect(
        name="onednn_brgconv_strided_deconv_nonfinite_weight_nan",
        summary="float32/float16/bfloat16 conv_transpose1d/2d/3d on oneDNN's strided deconvolution kernel without"
        " AMX (conv:any+brgconv_strided, on torch 2.15 brg_deconv:*+brgconv_strided: avx512_core or avx2 for float32,"
        " avx10_1_512 for float16, avx512_core_bf16 for bfloat16) gives NaN at an output"
        " column a nonfinite weight never reaches when stride_w > 1: the kernel multiplies the weight tap by a zero"
        " where it would read beyond the input's left or right edge (inf * 0); the stride gaps are right",
        link="not yet filed upstream; reproducer tests/defects/onednn_brgconv_strided_deconv_nonfinite_weight_nan.py",
        # seen on 2.5.1, 2.9.1, 2.13.0, 2.14.1, 2.15.0; 2.0.1 and 2.1.2 run other kernels on the reproducer's cases
        # (right); 2.2 to 2.4 not checked
        affected=(("2.5.0", None),),
        # torch 2.15's oneDNN (v3.13) runs these shapes as brg_deconv:*+brgconv_strided, wrong alike; torch 2.5 to
        # 2.14 run that name for other shapes, where it was right with nonfinite weights
        where=(OneDNNKernel(r"^(conv:any|brg_deconv:[^+]*)\+brgconv_strided:(?!.*amx)"),),
        effect=WRONG,
        applies=lambda config, dtype, operands: (
            dtype in ("float32", "float16", "bfloat16") and nonfinite_weight_beyond_width_edges(config, operands[1])
        ),
        apis=forward_calls("conv_transpose1d", "conv_transpose2d", "conv_transpose3d"),
    ),
    KnownDefect(
        name="onednn_bf16_brgconv_strided_deconv_nonfinite_input_nan",
        summary="bfloat16 conv_transpose1d/2d/3d on oneDNN's strided deconvolution kernels without AMX"
        " (conv:any+brgconv_strided:avx512_core_bf16, brg_deconv:avx512_core_bf16+brgconv_strided) gives NaN at"
        " outputs a nonfinite input pixel never reaches (its own channel's or another group's) when the input"
        " channels per group are odd: the channel pairs are padded with a zero weight that meets the pixel (inf * 0)",
        link="not yet filed upstream; reproducer"
        " tests/defects/onednn_bf16_brgconv_strided_deconv_nonfinite_input_nan.py",
        # seen on 2.5.1, 2.9.1, 2.13.0, 2.14.1, 2.15.0; 2.0.1 and 2.1.2 run other kernels on the reproducer's cases
        # (right); 2.2 to 2.4 not checked
        affected=(("2.5.0", None),),
        where=(OneDNNKernel(r"^(conv:any|brg_deconv:[^+]*)\+brgconv_strided:(?!.*amx)"),),
        effect=WRONG,
        applies=lambda config, dtype, operands: (
            dtype == "bfloat16" and nonfinite(operands[0]) and (config.in_channels // config.groups) % 2 == 1
        ),
        apis=forward_calls("conv_transpose1d", "conv_transpose2d", "conv_transpose3d"),
    ),
    KnownDefect(
        name="onednn_f16_brg_deconv_column_nonfinite_weight_nan",
        summary="float16 conv_transpose2d/3d on oneDNN's stride-1 deconvolution kernel without AMX"
        " (brg_deconv:avx10_1_512+brg_conv_fwd) over a single column (input and kernel 1 wide, and for 3d 1 deep)"
        " gives NaN at an output row a nonfinite weight never reaches: the flipped-weight convolution multiplies the"
        " tap by its zero padding there (inf * 0), which it skips for wider inputs",
        link="not yet filed upstream; reproducer tests/defects/onednn_f16_brg_deconv_column_nonfinite_weight_nan.py",
        # seen on 2.5.1, 2.9.1, 2.13.0, 2.14.1, 2.15.0; 2.0.1 and 2.1.2 run other kernels on the reproducer's cases
        # (right); 2.2 to 2.4 not checked
        affected=(("2.5.0", None),),
        where=(OneDNNKernel(r"^brg_deconv:(?!.*amx)[^+]*\+brg_conv_fwd:"),),
        effect=WRONG,
        applies=lambda config, dtype, operands: dtype == "float16" and nonfinite(operands[1]) and single_column(config),
        apis=forward_calls("conv_transpose2d", "conv_transpose3d"),
    ),
    KnownDefect(
        name="onednn_bf16_subnormals_flushed",
        summary="bfloat16 conv on oneDNN's kernels that use the AVX512_BF16 or AMX instructions treats subnormal"
        " operands and products as zero, as those instructions do by design (Intel SDM, VDPBF16PS); Slow2d, oneDNN's"
        " emulated bf16 (avx512_core) kernels and the float64 result keep them",
        link="https://github.com/llvm/llvm-project/pull/90425 (x86 bf16 instructions flush denormals)",
        affected=(("2.0.1", None),),  # the oldest release checked
        # x64:gemm:jit names no ISA: it flushes where oneDNN's ISA has the bf16 instructions ("... bfloat16
        # support", AVX10.1 (which includes AVX512_BF16), AMX), and keeps subnormals where it emulates them
        # (the transposed ops' "conv:any+" kernels too, and ref:any, which flushes at the same ISAs)
        where=(
            OneDNNKernel(r"avx512_core_bf16|amx"),
            OneDNNKernel(r"^(conv:any\+)?(x64:gemm:jit|ref:any)$", isa=r"bfloat16|AVX ?10|AMX"),
            OneDNNGemm(("SlowTranspose2d", "SlowTranspose3d"), isa=r"bfloat16|AVX ?10|AMX"),
        ),
        effect=WRONG,
        applies=lambda config, dtype, operands: dtype == "bfloat16" and reaches_bfloat16_subnormals(operands),
        apis=EVERY_OP,  # the same instructions in oneDNN's deconvolution kernels (jit_deconvolution:*amx, ...)
    ),
    KnownDefect(
        name="onednn_amx_bf16_backward_weights_stale_taps",
        summary="bfloat16 conv backward on oneDNN's AMX weight-gradient kernels (brgconv_bwd_w:*amx; jit:*amx on"
        " torch 2.5) leaves"
        " grad_weight at a tap that reads only zero padding unwritten: it holds stale memory (heap pointers,"
        " NaN, earlier numbers) instead of 0, so the wrong values come and go with the allocation history",
        link="not yet filed upstream; reproducer tests/defects/onednn_amx_bf16_backward_weights_stale_taps.py"
        " (deterministic under glibc's MALLOC_PERTURB_)",
        affected=(("2.0.1", None),),  # seen on 2.0.1, 2.1.2, 2.5.1, 2.9.1, 2.13.0, 2.14.1, 2.15.0
        where=(OneDNNKernel(r"amx", passes=("backward_weights",)),),
        effect=WRONG,
        applies=lambda config, dtype, operands: dtype == "bfloat16" and reads_padding_only(config),
        apis=EVERY_OP,  # conv:any+brgconv_bwd_w:*amx for the transposed ops, on their adjoint's taps
    ),
    KnownDefect(
        name="onednn_jit_bf16_backward_weights_stale_padding_columns",
        summary="bfloat16 conv backward on oneDNN's jit_bf16 weight-gradient kernel (jit_bf16:avx512_core_bf16 and"
        " the emulated jit_bf16:avx512_core: 16 or more input channels on AVX-512 CPUs without AMX) leaves"
        " grad_weight at a tap column that reads only zero padding unwritten when stride_w > 1: it holds stale"
        " memory instead of 0",
        link="not yet filed upstream; reproducer"
        " tests/defects/onednn_jit_bf16_backward_weights_stale_padding_columns.py, upstream-ready report"
        " reports/upstream/onednn_jit_bf16_backward_weights_stale_padding_columns.md",
        affected=(("2.0.1", None),),  # seen on 2.0.1, 2.1.2, 2.5.1, 2.9.1, 2.13.0, 2.14.1, 2.15.0
        # the transposed ops run it as conv:any+jit_bf16 for their grad_weight, on their adjoint's taps
        where=(OneDNNKernel(r"^(conv:any\+)?jit_bf16:", passes=("backward_weights",)),),
        effect=WRONG,
        applies=lambda config, dtype, operands: dtype == "bfloat16" and strided_padding_columns(config),
        apis=EVERY_OP,
    ),
    KnownDefect(
        name="onednn_jit_bf16_backward_weights_3d_kernel_exceeds_input",
        summary="bfloat16 conv3d backward on oneDNN's jit_bf16 weight-gradient kernel (jit_bf16:avx512_core_bf16 and"
        " the emulated jit_bf16:avx512_core: 16 or more channels on AVX-512 CPUs without AMX) with a kernel deeper"
        " than the input and two or more output planes, or taller than the input (with two or more output planes,"
        " or more top-padding rows per stride than output rows): its 3-d depth loop and the height loop inside it"
        " lose track of the taps, so grad_weight comes out wrong (0 or stale memory at taps that read the input),"
        " or the call hangs, or writes outside the weight buffer (glibc aborts: 'free(): invalid pointer', 'double"
        " free or corruption'); conv1d and conv2d are right; conv_transpose3d's grad_weight too (conv:any+jit_bf16)",
        link="not yet filed upstream; reproducer"
        " tests/defects/onednn_jit_bf16_backward_weights_3d_kernel_exceeds_input.py (its cases wrong every run under"
        " glibc's MALLOC_PERTURB_)",
        # seen on 2.1.2, 2.5.1, 2.9.1, 2.13.0, 2.14.1, 2.15.0; 2.0.1 (oneDNN 2.7) gets the taller-kernel case wrong
        # and the reproducer's deeper-kernel cases right
        affected=(("2.0.1", None),),
        # "forward" too, though the defect is in backward_weights: a crash is matched on the call's forward passes
        # (crash_from); the apis are the backward calls alone, where jit_bf16 runs the forward as well
        where=(OneDNNKernel(r"^(conv:any\+)?jit_bf16:", passes=("forward", "backward_weights")),),
        effect=CRASHES,  # a hang or an abort can strike anywhere in the region: it runs in a child process
        applies=lambda config, dtype, operands: dtype == "bfloat16" and kernel_exceeds_3d_input(config),
        apis=backward_calls(*OPS),
    ),
    KnownDefect(
        name="onednn_jit_bf16_backward_weights_3d_strided_depth_padding",
        summary="bfloat16 conv3d backward on oneDNN 2.7's jit_bf16 weight-gradient kernel (torch 2.0;"
        " jit_bf16:avx512_core_bf16 and the emulated jit_bf16:avx512_core: 16 or more channels on AVX-512 CPUs"
        " without AMX) with a depth stride above 1, depth padding and two or more output planes: grad_weight holds"
        " stale memory at some taps; conv_transpose3d's grad_weight too (its deconvolution's backward_weights)",
        link="not yet filed upstream (oneDNN 3.1 and later are right);"
        " reproducer tests/defects/onednn_jit_bf16_backward_weights_3d_strided_depth_padding.py",
        affected=(("2.0.1", "2.1.0"),),  # seen on 2.0.1; right on 2.1.2, 2.5.1, 2.9.1, 2.13.0, 2.14.1, 2.15.0
        # torch 2.0 names the deconvolution's kernels without the "conv:any+" prefix
        where=(OneDNNKernel(r"^(conv:any\+)?jit_bf16:", passes=("backward_weights",)),),
        effect=WRONG,
        applies=lambda config, dtype, operands: dtype == "bfloat16" and strided_padded_depth(config),
        apis=EVERY_OP,
    ),
    KnownDefect(
        name="slow2d_bf16_accumulates_in_bfloat16",
        summary="bfloat16 conv (forward and grad_input) on torch's own Slow2d/SlowDilated2d kernels sums in bfloat16,"
        " not float32: the error grows with the reduction length (258 ones sum to 256)",
        link="https://github.com/pytorch/pytorch/issues/83863"
        " (cpublas' reference bf16 gemm summed in bf16; fixed by PR 96074)",
        affected=(("2.0.1", "2.1.0"),),  # the oldest release checked
        where=(AtenBackend(("Slow2d", "SlowDilated2d")),),
        effect=WRONG,
        applies=lambda config, dtype, operands: dtype == "bfloat16",
    ),
    KnownDefect(
        name="nnpack_padding_not_below_kernel",
        summary="float32 conv routed to NNPACK (batch >= 16, oneDNN not taken) with padding >= kernel size raises"
        " RuntimeError 'NNPACK SpatialConvolution_updateOutput failed': NNPACK does not support such padding",
        link="https://github.com/pytorch/pytorch/issues/90142 (fixed by PR 92238, which keeps such calls off NNPACK)",
        affected=(("2.0.1", "2.1.0"),),  # the oldest release checked
        where=(AtenBackend(("NnpackSpatial",), probes.nnpack_unavailable),),
        effect=Raises(r"NNPACK SpatialConvolution_updateOutput failed"),
        applies=lambda config, dtype, operands: any(
            config.geometry.pads[axis][0] >= config.geometry.kernel[axis] for axis in range(len(config.geometry.kernel))
        ),
    ),
    KnownDefect(
        name="circular_padding_unbatched_raises",
        summary="nn.Conv2d with padding_mode='circular' raises on an unbatched (C, H, W) input, which the"
        " documentation accepts: F.pad's circular mode counted the batch dimension as a spatial one",
        link="https://github.com/pytorch/pytorch/issues/104860 (fixed by PR 106148)",
        affected=(("2.0.1", "2.1.0"),),  # the oldest release checked
        where=(TorchCode("torch.nn.functional.pad, circular mode"),),
        effect=Raises(r"Invalid padding size, expected 2 but got 4"),
        applies=lambda config, dtype, operands: config.padding_mode == "circular" and config.batch is None,
    ),
    KnownDefect(
        name="inductor_replicate_pad_backward_strides",
        summary="torch.compile (inductor, CPU) of a Conv2d with padding_mode='replicate' raises in backward,"
        " every dtype: the compiled graph asserts a channels_last gradient from replication_pad2d_backward,"
        " which returns a contiguous one ('expected size 4==4, stride 1==4 at dim=1')",
        link="not yet filed upstream; related: https://github.com/pytorch/pytorch/issues/179442 (compiled F.pad"
        " layout differs from eager) and its fix https://github.com/pytorch/pytorch/pull/179837",
        # seen on 2.1.2 (given setuptools, which its inductor imports); not on 2.2.2, 2.5.1 or 2.6.0;
        # seen again on 2.7.0, 2.8.0, 2.9.1, 2.13.0, 2.14.1, 2.15.0
        affected=(("2.1.2", "2.2.0"), ("2.7.0", None)),
        where=(TorchCode("inductor's compiled backward", probes.compile_unavailable),),
        effect=Raises(r"expected size \d+==\d+, stride \d+==\d+ at dim=\d+"),
        applies=lambda config, dtype, operands: config.padding_mode == "replicate",
        apis=(f"{COMPILED} backward",),
    ),
)


def an_output_line_reads_padding_only(config: Conv2dConfig) -> bool:
    """A whole output row or column (or plane) is computed from zero padding alone."""
    return any(config.geometry.only_padding(axis) for axis in range(len(config.geometry.out)))


def an_output_line_reached_by_no_input(config) -> bool:
    """A transposed op along one of whose axes no output position is reached by any input pixel (the
    whole output is the bias alone): the convolution its forward runs (flipped weights over the
    padded input) reads padding alone in every output row or column along that axis."""
    return config.transposed and any(not counts.any() for counts in config.taps_per_position())


def one_pixel_wide_strided(config) -> bool:
    """A transposed convolution's input is one pixel wide and stride_w > 1, so the convolution that
    computes its grad_input (from grad_output) has an output one pixel wide and stride_w > 1."""
    return config.size[-1] == 1 and config.strides[-1] > 1


def depth_1_padded_stale_weights(config) -> bool:
    """The convolution the brgemm kernel runs (a transposed op's adjoint, which computes its
    grad_input) reads an input one plane deep with padding in depth (as the kernel sees it: torch
    pads an asymmetric 'same' beforehand), with fewer than 16 input channels per group (a transposed
    op's out_channels), a kernel wider than 1 at width dilation 1, and an odd channel count or
    channels * kernel width > 32."""
    g = config.geometry
    if len(g.size) != 3:
        return False
    (before, after), width = g.pads[0], g.kernel[-1]
    channels = (config.out_channels if config.transposed else config.in_channels) // config.groups
    return (
        g.size[0] + after - before == 1
        and before > 0
        and channels < 16
        and width > 1
        and g.dilation[-1] == 1
        and (channels % 2 == 1 or channels * width > 32)
    )


def width_taps_beyond_edges(config) -> np.ndarray:
    """Per width tap of a transposed op: whether some output column would take it from an input
    column beyond the input's edges (an input index, not a stride gap, outside the input)."""
    n, s, d, (p, _), k, out = (
        config.size[-1],
        config.strides[-1],
        config.dilations[-1],
        config.pads[-1],
        config.kernel[-1],
        config.out_size[-1],
    )
    source = np.arange(out)[:, None] + p - np.arange(k)[None, :] * d
    return ((source % s == 0) & ((source // s < 0) | (source // s >= n))).any(axis=0)


def nonfinite_weight_beyond_width_edges(config, weight) -> bool:
    """A transposed op with stride_w > 1 whose nonfinite weight sits at a width tap that some output
    column would take from beyond the input's edges."""
    if weight is None or not config.transposed or config.strides[-1] == 1:
        return False
    nonfinite_taps = ~np.isfinite(weight).reshape(-1, weight.shape[-1]).all(axis=0)
    return bool((nonfinite_taps & width_taps_beyond_edges(config)).any())


def single_column(config) -> bool:
    """A transposed conv2d/3d whose input and kernel are 1 wide (and for 3d 1 deep): one column."""
    if not config.transposed or len(config.size) < 2:
        return False
    other = [axis for axis in range(len(config.size)) if axis != len(config.size) - 2]
    return all(config.size[axis] == 1 and config.kernel[axis] == 1 for axis in other)


def reads_padding_only(config: Conv2dConfig) -> bool:
    """Some weight tap reads zero padding at every output position (its gradient is exactly 0)."""
    return config.padding_mode == "zeros" and not config.taps_reading_pixels()[1].all()


def strided_padding_columns(config: Conv2dConfig) -> bool:
    """stride_w > 1, and some weight tap column reads zero padding at every output position."""
    if config.padding_mode != "zeros" or config.geometry.stride[-1] == 1:
        return False
    some = config.taps_reading_pixels()[1]
    return not some.reshape(-1, some.shape[-1]).any(axis=0).all()


def kernel_exceeds_3d_input(config) -> bool:
    """A 3-d convolution as the kernel runs it (a transposed op's adjoint; torch pads an asymmetric
    'same' beforehand) whose kernel is deeper than the input (dilated extent) with two or more output
    planes, or taller than the input with two or more output planes or with more rows of top padding
    per stride than output rows (oneDNN's loop over the top-padding rows then runs past the output)."""
    g = config.geometry
    if len(g.size) != 3:
        return False
    size = [n + after - before for n, (before, after) in zip(g.size, g.pads)]
    extent = [d * (k - 1) + 1 for k, d in zip(g.kernel, g.dilation)]
    top_rows = -(-g.pads[1][0] // g.stride[1])
    deeper = extent[0] > size[0] and g.out[0] >= 2
    taller = extent[1] > size[1] and (g.out[0] >= 2 or top_rows > g.out[1])
    return deeper or taller


def strided_padded_depth(config) -> bool:
    """A 3-d convolution as the kernel runs it (a transposed op's adjoint) with a depth stride above 1,
    depth padding and two or more output planes."""
    g = config.geometry
    return len(g.size) == 3 and g.stride[0] > 1 and g.pads[0][0] > 0 and g.out[0] >= 2


def reaches_bfloat16_subnormals(operands) -> bool:
    """Some operand, or some product of an input and a weight, is below bfloat16's smallest normal."""
    smallest_normal = 2.0**-126
    magnitudes = [np.abs(a[np.isfinite(a) & (a != 0)]) for a in operands if a is not None]
    if any(m.size and m.min() < smallest_normal for m in magnitudes):
        return True
    x, w = magnitudes[0], magnitudes[1]
    return bool(x.size and w.size and x.min() * w.min() < smallest_normal)


def suspects(api: str, config: Conv2dConfig, dtype: str, operands: tuple, backend: str) -> tuple[KnownDefect, ...]:
    """The defects this call could run into, judged before it runs (region, API, selected backend).
    Every defect listed so far lives in torch's CPU code: none is applied on another device, nor
    to a --target conv2d."""
    if settings.current().device_type != "cpu" or not settings.current().judges_torch:
        return ()
    return tuple(d for d in KNOWN_DEFECTS if d.could_reach(api, config, dtype, operands, backend))


def raising_suspects(api: str, config: Conv2dConfig, dtype: str) -> tuple[KnownDefect, ...]:
    """The defects that raise on this configuration, judged without the operands' values."""
    if settings.current().device_type != "cpu" or not settings.current().judges_torch:
        return ()
    return tuple(
        d
        for d in KNOWN_DEFECTS
        if isinstance(d.effect, Raises) and api in d.apis and d.applies(config, dtype, (None, None, None))
    )


def wrong_values_from(candidates, ran: Ran, gradient: str | None = None) -> KnownDefect | None:
    """The listed defect that explains wrong values in this output of the call (the forward
    output, or a gradient: "input", "weight", "bias"), by what it ran."""
    return next((d for d in candidates if d.effect == WRONG and d.in_this_torch() and d.reached(ran, gradient)), None)


def crash_from(candidates, ran: Ran) -> KnownDefect | None:
    return next((d for d in candidates if d.effect == CRASHES and d.in_this_torch() and d.reached(ran)), None)


def raised_by(error: BaseException, candidates, ran: Ran) -> KnownDefect | None:
    """The listed defect whose error this is: its message, on a version and kernel it affects."""
    return next(
        (
            d
            for d in candidates
            if isinstance(d.effect, Raises)
            and d.in_this_torch()
            and d.reached(ran)
            and re.search(d.effect.pattern, str(error))
        ),
        None,
    )
