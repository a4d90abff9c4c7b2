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

import numpy as np

PRECISION_BITS = {"float64": 53, "float32": 24, "float16": 11, "bfloat16": 8}
EPS = {name: 2.0 ** (1 - bits) for name, bits in PRECISION_BITS.items()}  # spacing at 1.0
UNIT_ROUNDOFF = {name: eps / 2 for name, eps in EPS.items()}
FLOOR = {"float64": 2.0**-1074, "float32": 2.0**-149, "float16": 2.0**-24, "bfloat16": 2.0**-133}  # smallest subnormal
LARGEST = {"float64": float(np.finfo(np.float64).max), "float32": float(np.finfo(np.float32).max), "float16": 65504.0, "bfloat16": 3.3895313892515355e38}


# dtype -> (accumulator dtype, roundings into the output dtype after accumulating).
# The one table of how each dtype is computed; device or TF32 rows join it, never a test.
ROUNDING = {
    "float64": ("float64", 0),
    "float32": ("float32", 0),
    "float16": ("float32", 2),
    "bfloat16": ("float32", 2),
}
REFERENCE_ACCUMULATOR = "float64"


def gamma(n: int, u: float) -> float:
    if n * u >= 1:
        raise ValueError(f"no rounding bound for {n} terms at unit roundoff {u}")
    return n * u / (1 - n * u)


def relative_allowance(dtype: str, reduction_length: int) -> float:
    """The allowance as a fraction of the magnitude bound."""
    accumulator, output_roundings = ROUNDING[dtype]
    terms = reduction_length + 1  # the products and the bias
    torch_error = (1 + gamma(terms, UNIT_ROUNDOFF[accumulator])) * (1 + UNIT_ROUNDOFF[dtype]) ** output_roundings - 1
    return torch_error + gamma(terms, UNIT_ROUNDOFF[REFERENCE_ACCUMULATOR])


def exact_regime(operands, bound: np.ndarray, dtype: str) -> bool:
    """True when every partial sum is an integer the dtype holds exactly, in any order."""
    integer_valued = all(np.array_equal(a, np.round(a)) for a in operands if a is not None)
    return integer_valued and float(np.max(bound, initial=0.0)) <= 2.0 ** PRECISION_BITS[dtype]


def allowance(bound: np.ndarray, dtype: str, exact: bool, reduction_length: int) -> np.ndarray:
    if exact:
        return np.zeros_like(bound)
    accumulator = ROUNDING[dtype][0]
    floor = FLOOR[dtype] + (reduction_length + 1) * FLOOR[accumulator]
    return relative_allowance(dtype, reduction_length) * bound + floor


def describe(dtype: str, reduction_length: int) -> str:
    accumulator, roundings = ROUNDING[dtype]
    return (
        f"{relative_allowance(dtype, reduction_length) / EPS[dtype]:.3g} eps({dtype}) * (|x| conv |w| + |b|)"
        f" [K={reduction_length}, {accumulator} accumulation, {roundings} output rounding(s)] + floor"
    )
