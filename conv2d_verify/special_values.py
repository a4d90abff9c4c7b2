"""Strategies for special values on top of a drawn case: NaN and infinities at a few chosen
positions, signed zeros, subnormals, and data that overflows the dtype.

Each strategy draws a Conv2dCase from tests.strategies and then a small, shrinkable recipe;
the functions below turn the recipe into float64 arrays for a given dtype.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from hypothesis import strategies as st

import reference

from . import tolerance
from .config import Conv2dConfig
from .records import count_event
from .strategies import Conv2dCase, conv2d_cases, conv2d_configs
from .values import case_arrays

NONFINITE = (math.inf, -math.inf, math.nan)
SMALLEST_NORMAL = {"float64": 2.0**-1022, "float32": 2.0**-126, "float16": 2.0**-14, "bfloat16": 2.0**-126}


# --- where a weight tap reads zero padding -------------------------------------------------


def taps(config: Conv2dConfig, reads_padding: bool) -> list[tuple[int, int]]:
    """The kernel taps that read zero padding at some output position, or those that never do."""
    every, _ = config.taps_reading_pixels()
    return [(int(i), int(j)) for i, j in zip(*np.nonzero(~every if reads_padding else every))]


def has_padding_taps(config: Conv2dConfig) -> bool:
    return bool(taps(config, reads_padding=True))


# --- NaN and infinities --------------------------------------------------------------------


@dataclass(frozen=True)
class Placement:
    tensor: str  # "input", "weight" or "bias"
    index: tuple[int, ...]
    value: float


@dataclass(frozen=True)
class NonfiniteCase:
    case: Conv2dCase
    placements: tuple[Placement, ...]

    def arrays(self, dtype: str):
        """The case's finite data for the dtype, with the non-finite values written in."""
        x, w, b = (None if a is None else a.copy() for a in case_arrays(self.case, dtype))
        by_name = {"input": x, "weight": w, "bias": b}
        for p in self.placements:
            by_name[p.tensor][p.index] = p.value
        return x, w, b


@st.composite
def index_into(draw, shape) -> tuple[int, ...]:
    return tuple(draw(st.integers(0, size - 1)) for size in shape)


@st.composite
def nonfinite_cases(
    draw, weight_taps_read_padding: bool = False, tensors=("input", "weight", "bias"), max_count: int = 3
):
    """A case with 1..max_count NaN/inf values. Weight values go only on taps that read zero
    padding somewhere (weight_taps_read_padding; then only configurations that have such taps
    are drawn) or only on taps that never do."""
    configs = conv2d_configs().filter(has_padding_taps) if weight_taps_read_padding else None
    case = draw(conv2d_cases(configs=configs))
    config = case.config
    allowed_taps = taps(config, weight_taps_read_padding)
    present = [t for t in tensors if (t != "bias" or config.bias) and (t != "weight" or allowed_taps)]
    if not present:
        count_event("no tap of the wanted kind: no non-finite value placed")
        return NonfiniteCase(case, ())
    placements = []
    for _ in range(draw(st.integers(1, max_count))):
        tensor = draw(st.sampled_from(present))
        if tensor == "input":
            index = draw(index_into(config.input_shape))
        elif tensor == "bias":
            index = (draw(st.integers(0, config.out_channels - 1)),)
        else:
            out_channel, in_channel = draw(index_into(config.weight_shape[:2]))
            index = (out_channel, in_channel, *draw(st.sampled_from(allowed_taps)))
        value = draw(st.sampled_from(NONFINITE))
        placements.append(Placement(tensor, index, value))
        count_event(f"{value} in {tensor}")
    if weight_taps_read_padding:
        _, some = config.taps_reading_pixels()
        never = any(not some[p.index[2:]] for p in placements)
        count_event(
            "a non-finite tap reads padding only"
            if never
            else "non-finite taps read padding at some outputs, pixels at others"
        )
    return NonfiniteCase(case, tuple(placements))


# --- signed zeros --------------------------------------------------------------------------


@dataclass(frozen=True)
class SignedZeroCase:
    case: Conv2dCase
    zeroed: tuple[str, ...]  # tensors whose values are replaced by +-0.0 (at every position or some)
    fraction: float  # of the positions zeroed; 1.0 for all
    seed: int

    def arrays(self, dtype: str):
        x, w, b = case_arrays(self.case, dtype)
        rng = np.random.default_rng(self.seed)
        out = []
        for name, array in zip(("input", "weight", "bias"), (x, w, b)):
            if array is not None and name in self.zeroed:
                signed_zeros = np.where(rng.random(array.shape) < 0.5, -0.0, 0.0)
                array = np.where(rng.random(array.shape) < self.fraction, signed_zeros, array)
            out.append(array)
        return tuple(out)


@st.composite
def signed_zero_cases(draw):
    case = draw(conv2d_cases())
    zeroed = draw(st.sampled_from((("input",), ("weight",), ("input", "weight"), ("input", "weight", "bias"))))
    fraction = draw(st.sampled_from((1.0, 0.5)))
    count_event(f"signed zeros in {'+'.join(zeroed)}, {'all' if fraction == 1 else 'some'} positions")
    return SignedZeroCase(case, zeroed, fraction, draw(st.integers(0, 2**32 - 1)))


# --- subnormals ----------------------------------------------------------------------------


@dataclass(frozen=True)
class SubnormalCase:
    case: Conv2dCase
    tiny: str  # "input", "weight": that operand is subnormal; "product": both normal, products not
    seed: int

    def arrays(self, dtype: str):
        """Subnormal operands of the dtype (below its smallest normal), or normal operands whose
        products are; the other operand has magnitudes up to 1. Bias, if any, is subnormal."""
        config, rng, smallest_normal = self.case.config, np.random.default_rng(self.seed), SMALLEST_NORMAL[dtype]
        precision = tolerance.PRECISION_BITS[dtype]
        x = unit_scaled(self.case.input.make(config.input_shape))
        w = unit_scaled(self.case.weight.make(config.weight_shape))
        b = subnormals(rng, (config.out_channels,), smallest_normal, precision) if config.bias else None
        if self.tiny == "input":
            x = subnormals(rng, x.shape, smallest_normal, precision)
        elif self.tiny == "weight":
            w = subnormals(rng, w.shape, smallest_normal, precision)
        else:  # split 2**emin between the operands: products land at or below the smallest normal
            half = math.frexp(smallest_normal)[1] // 2
            x, w = np.ldexp(x, half), np.ldexp(w, math.frexp(smallest_normal)[1] - 1 - half)
        return x, w, b


def unit_scaled(values: np.ndarray) -> np.ndarray:
    """values scaled by a power of two so that the largest magnitude lies in [0.5, 1)."""
    largest = float(np.abs(values).max(initial=0.0))
    return values if largest == 0 else np.ldexp(values, -math.frexp(largest)[1])


def subnormals(rng: np.random.Generator, shape, smallest_normal: float, precision: int) -> np.ndarray:
    """Random signs and magnitudes spread over the dtype's whole subnormal range."""
    exponents = rng.integers(-(precision - 1), 0, size=shape)
    return np.ldexp(rng.uniform(0.5, 1.0, shape) * rng.choice((-1.0, 1.0), shape), exponents) * smallest_normal


@st.composite
def subnormal_cases(draw):
    case = draw(conv2d_cases())
    tiny = draw(st.sampled_from(("input", "weight", "product")))
    count_event(f"subnormal: {tiny}")
    return SubnormalCase(case, tiny, draw(st.integers(0, 2**32 - 1)))


# --- overflow ------------------------------------------------------------------------------


@dataclass(frozen=True)
class OverflowCase:
    """Same-sign data per output channel (no cancellation, so every partial sum grows towards the
    result and an accumulator cannot overflow where the result does not), scaled so that the
    largest result is about 2**headroom times the dtype's largest finite value."""

    case: Conv2dCase
    headroom: int
    seed: int

    def arrays(self, dtype: str):
        config, largest = self.case.config, tolerance.LARGEST[dtype]
        signs = np.random.default_rng(self.seed).choice((-1.0, 1.0), config.out_channels)
        x = np.abs(self.case.input.make(config.input_shape))
        w = np.abs(self.case.weight.make(config.weight_shape)) * signs[:, None, None, None]
        b = np.abs(self.case.bias.make((config.out_channels,))) * signs if config.bias else None
        products = float(reference.conv2d_magnitude(x, w, None, **config.conv_kwargs()).max())
        if products == 0:
            return x, w, b
        # exponents chosen before scaling, so that float64 itself never overflows on the way
        x_scale = power_of_two_below(largest / 2, x)
        w_scale = self.headroom + math.frexp(largest)[1] - math.frexp(products)[1] - x_scale
        w_scale = min(w_scale, power_of_two_below(largest / 2, w))  # every weight stays finite
        x, w = np.ldexp(x, x_scale), np.ldexp(w, w_scale)
        if b is not None:
            b = np.ldexp(b, min(x_scale + w_scale, power_of_two_below(largest / 2, b)))
        return x, w, b


def power_of_two_below(ceiling: float, values: np.ndarray) -> int:
    """The exponent e that scales the largest magnitude to within [ceiling/2, ceiling]."""
    largest = float(np.abs(values).max(initial=0.0))
    if largest == 0:
        return 0
    exponent = math.frexp(ceiling)[1] - math.frexp(largest)[1]
    return exponent if np.ldexp(largest, exponent) <= ceiling else exponent - 1


@st.composite
def overflow_cases(draw):
    case = draw(conv2d_cases())
    headroom = draw(st.sampled_from((1, 3, 0, -2)))  # mostly past the range; shrinks towards just past it
    return OverflowCase(case, headroom, draw(st.integers(0, 2**32 - 1)))
