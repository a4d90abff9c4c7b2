"""How far torch may be from the float64 reference, per output element, and why.

Two regimes:
- exact: integer data whose magnitude bound |x| conv |w| + |b| stays within 2**precision,
  so every partial sum in any order is an exactly representable integer; allowance 0.
- bounded: a worst-case rounding-error bound, never a guessed constant.

Each output is a sum of K = (C/groups) * kh * kw products plus the bias. Whatever the order
or blocking of that sum, with or without FMA, its rounding error in an accumulator of unit
roundoff u is at most gamma(K+1, u) * (|x| conv |w| + |b|), gamma(n, u) = n*u / (1 - n*u)
(Higham, Accuracy and Stability of Numerical Algorithms, 2nd ed., section 3.1). Converting the
accumulated result into a narrower output dtype (float16, bfloat16: torch accumulates them in
float32) adds at most one unit roundoff of the output dtype per rounding; torch rounds at most
twice (the GEMM result, then the bias add). The reference itself computes in float64 and may be
off by gamma(K+1, 2**-53) of the bound, which is added too. FLOOR covers results in the output
dtype's subnormal range, where relative bounds do not hold.

Why not one measured constant per dtype: Hypothesis' target() steers towards the largest error,
and found torch 2.13's float32 oneDNN kernel 8.45 eps * bound off at K = 75 (its sum grows with
K, as the bound says), past any constant calibrated on random data. A bound that can be outrun by
search is a flaky test; this one cannot, and still rejects a 1e-4 relative error in float32 for
K up to about 1,600 (tests/test_meta_comparison.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .execution import cudnn_tf32

PRECISION_BITS = {"float64": 53, "float32": 24, "float16": 11, "bfloat16": 8}
EPS = {name: 2.0 ** (1 - bits) for name, bits in PRECISION_BITS.items()}  # spacing at 1.0
UNIT_ROUNDOFF = {name: eps / 2 for name, eps in EPS.items()}
FLOOR = {"float64": 2.0**-1074, "float32": 2.0**-149, "float16": 2.0**-24, "bfloat16": 2.0**-133}  # smallest subnormal
LARGEST = {
    "float64": float(np.finfo(np.float64).max),
    "float32": float(np.finfo(np.float32).max),
    "float16": 65504.0,
    "bfloat16": 3.3895313892515355e38,
}


# TF32 keeps 10 of float32's 23 stored mantissa bits. "Only the first 10 bits of the input
# mantissa are read" (torch's numerical accuracy notes): a truncation, so each operand may lose
# up to one TF32 spacing, 2**-10 of its value, not half of it.
TF32_OPERAND_ROUNDOFF = 2.0**-10

# precision -> (accumulator dtype, roundings into the output dtype after accumulating, relative
# rounding of each operand before it is multiplied). A precision is a dtype, or a dtype and the
# mode or device that changes how it is computed (precision_in_force picks the row).
# The one table of how each dtype is computed; a device or mode joins it here, never in a test.
ROUNDING = {
    "float64": ("float64", 0, 0.0),
    "float32": ("float32", 0, 0.0),
    "float16": ("float32", 2, 0.0),
    "bfloat16": ("float32", 2, 0.0),
    # cuDNN with TF32: operands truncated to TF32, products summed in float32. The H200
    # measurement (torch 2.11, cuDNN 9.19): worst 0.87 * 2**-11 of the bound, inside this.
    "float32 (TF32)": ("float32", 0, TF32_OPERAND_ROUNDOFF),
    # cuDNN half types: float32 accumulation, but how often partial results are rounded into the
    # output dtype (split reductions, bias epilogue) is not documented. Measured on an H200:
    # 1.8 eps(float16) and 1.6 eps(bfloat16) of the bound, i.e. 3.6 and 3.2 unit roundoffs, more
    # than the CPU's two roundings allow; four is the least that covers them. Provisional until a
    # GPU run of this suite measures it (README, "On a GPU").
    "float16 (cuda)": ("float32", 4, 0.0),
    "bfloat16 (cuda)": ("float32", 4, 0.0),
}
REFERENCE_ACCUMULATOR = "float64"


def output_dtype(precision: str) -> str:
    return precision.split(" ", 1)[0]


def precision_in_force(dtype: str, device_type: str) -> str:
    """The ROUNDING row for a convolution of this dtype on this device with torch's flags as
    they are now: read from torch, never assumed."""
    if device_type != "cuda":
        return dtype
    if dtype == "float32":
        return "float32 (TF32)" if cudnn_tf32() else "float32"
    return f"{dtype} (cuda)" if f"{dtype} (cuda)" in ROUNDING else dtype


# Backends that convolve through a transform (NNPACK: Winograd and FFT tiles), not a sum of
# products: neither the summation bound nor the exact-integer regime holds for them, and no
# simple worst case is known. A transform multiplies every weight tap with a whole tile, taps
# over padding included, so their scale is transform_bound (max |x| over the image times
# sum |w| of the filter, plus |b|), and their allowance a multiple of eps times it. NNPACK
# float32 on torch 2.13: worst 46.1 eps over 3,800 examples under target() search (README,
# "Measured"); 128 leaves 2.8x for shapes not yet seen.
TRANSFORM_BACKEND_EPS = {"NnpackSpatial": 128.0}


def transform_bound(x: np.ndarray, w: np.ndarray, b: np.ndarray | None, groups: int, out_shape) -> np.ndarray:
    """max |x| over each image's group channels * sum |w| over each filter + |b|, per output plane."""
    images = (x if x.ndim == 4 else x[None]).reshape(-1, groups, x.shape[-3] // groups, x.shape[-2] * x.shape[-1])
    largest = np.abs(images).max(axis=(2, 3), initial=0.0)  # (N, groups)
    filter_sums = np.abs(w).reshape(w.shape[0], -1).sum(axis=1)  # (O,)
    per_plane = largest.repeat(w.shape[0] // groups, axis=1) * filter_sums + (0.0 if b is None else np.abs(b))
    planes = per_plane if x.ndim == 4 else per_plane[0]
    return np.broadcast_to(planes[..., None, None], out_shape)


def gamma(n: int, u: float) -> float:
    if n * u >= 1:
        raise ValueError(f"no rounding bound for {n} terms at unit roundoff {u}")
    return n * u / (1 - n * u)


def relative_allowance(precision: str, reduction_length: int, backend: str = "", outer_terms: int = 0) -> float:
    """The allowance as a fraction of the magnitude bound.

    reduction_length products (plus a bias) are summed in the accumulator, each product of
    operands that may first be rounded (TF32); outer_terms partial results may then be added in
    the output dtype itself (gradients: col2im over kernel taps and the padding fold for
    grad_input, the per-image sum for grad_weight and grad_bias).
    """
    accumulator, output_roundings, operand_roundoff = ROUNDING[precision]
    dtype = output_dtype(precision)
    terms = reduction_length + 1  # the products and the bias
    torch_error = (1 + operand_roundoff) ** 2 * (1 + gamma(terms, UNIT_ROUNDOFF[accumulator])) * (
        1 + gamma(outer_terms, UNIT_ROUNDOFF[dtype])
    ) * (1 + UNIT_ROUNDOFF[dtype]) ** output_roundings - 1
    torch_error = max(torch_error, TRANSFORM_BACKEND_EPS.get(backend, 0.0) * EPS[dtype])
    return torch_error + gamma(terms * max(outer_terms, 1), UNIT_ROUNDOFF[REFERENCE_ACCUMULATOR])


# Integers up to this magnitude survive TF32's operand truncation (11 significant bits).
TF32_EXACT_INTEGER = 2.0**11


@dataclass(frozen=True)
class Allowance:
    """How far torch may be from the reference, element by element, and why."""

    regime: str  # "exact": bit for bit; "bounded": a rounding-error bound
    allowed: np.ndarray
    description: str


def allowance_for(
    bound: np.ndarray, precision: str, operands, reduction_length: int, backend: str = "", outer_terms: int = 0
) -> Allowance:
    """The one entry to this table: the regime the operands allow, the allowance per element, its formula."""
    exact = exact_regime(operands, bound, precision, backend)
    allowed = allowance(bound, precision, exact, reduction_length, backend, outer_terms)
    if exact:
        return Allowance("exact", allowed, "exact (integer data, every partial sum representable): 0")
    return Allowance("bounded", allowed, describe(precision, reduction_length, backend, outer_terms))


def exact_regime(operands, bound: np.ndarray, precision: str, backend: str = "") -> bool:
    """True when every operand and partial sum is an integer the arithmetic holds exactly, in any order."""
    if backend in TRANSFORM_BACKEND_EPS:
        return False
    present = [a for a in operands if a is not None]
    if not all(np.array_equal(a, np.round(a)) for a in present):
        return False
    if ROUNDING[precision][2] and any(float(np.max(np.abs(a), initial=0.0)) > TF32_EXACT_INTEGER for a in present):
        return False
    return float(np.max(bound, initial=0.0)) <= 2.0 ** PRECISION_BITS[output_dtype(precision)]


def allowance(
    bound: np.ndarray, precision: str, exact: bool, reduction_length: int, backend: str = "", outer_terms: int = 0
) -> np.ndarray:
    if exact:
        return np.zeros_like(bound)
    accumulator, dtype = ROUNDING[precision][0], output_dtype(precision)
    floor = (1 + outer_terms) * FLOOR[dtype] + (reduction_length + 1) * FLOOR[accumulator]
    return relative_allowance(precision, reduction_length, backend, outer_terms) * bound + floor


def with_overflow(expected: np.ndarray, allowed: np.ndarray, dtype: str) -> tuple[np.ndarray, np.ndarray]:
    """The expectation after torch rounds into the dtype: beyond its range lies +-inf.

    A float64 result whose whole allowance band lies past the rounding threshold (the largest
    value plus half its spacing) must come out as the infinity of its sign; one whose band
    straddles the threshold may come out either way.
    """
    spacing_at_largest = LARGEST[dtype] * EPS[dtype] / (2 - EPS[dtype])
    threshold = np.inf if dtype == "float64" else LARGEST[dtype] + spacing_at_largest / 2
    magnitude = np.abs(expected)
    beyond = np.isfinite(expected) & (magnitude - allowed >= threshold)
    straddles = np.isfinite(expected) & ~beyond & (magnitude + allowed >= threshold)
    return np.where(beyond, np.copysign(np.inf, expected), expected), np.where(
        straddles, np.inf, np.where(beyond, 0.0, allowed)
    )


def describe(precision: str, reduction_length: int, backend: str = "", outer_terms: int = 0) -> str:
    accumulator, roundings, operand_roundoff = ROUNDING[precision]
    dtype = output_dtype(precision)
    how = (
        f"{backend} transform, on max|x| * sum|w| + |b|"
        if backend in TRANSFORM_BACKEND_EPS
        else f"{accumulator} accumulation, {roundings} output rounding(s)"
    )
    operands = f", operands truncated by up to {operand_roundoff:g}" if operand_roundoff else ""
    outer = f", then {outer_terms} partial sums in {dtype}" if outer_terms else ""
    return (
        f"{relative_allowance(precision, reduction_length, backend, outer_terms) / EPS[dtype]:.3g} eps({dtype})"
        " * magnitude bound"
        f" [{precision}: K={reduction_length}{outer}, {how}{operands}] + floor"
    )
