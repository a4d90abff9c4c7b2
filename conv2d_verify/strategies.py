"""Hypothesis strategies: valid Conv2d configurations by construction, and shrinkable values.

Configurations are drawn in dependency order (groups, channels as multiples of groups,
kernel and dilation, padding, the stride padding allows, then input sizes the padding mode
allows), so nothing is filtered. Values come from a recipe (family, seed, power-of-two
scale) that shrinks towards the blog's case: all ones.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from hypothesis import strategies as st

import reference

from .config import Conv2dConfig, smallest_side
from .records import count_event

PADDING_MODES = reference.PADDING_MODES
VALUE_FAMILIES = ("ones", "small_int", "small_nonneg_int", "same_sign", "normal", "with_zeros", "mixed_magnitude")
INTEGER_FAMILIES = ("ones", "small_int", "small_nonneg_int")


def _int_or_pair(pair: tuple[int, int], as_int: bool):
    return pair[0] if as_int and pair[0] == pair[1] else pair


def pairs(low: int, high: int):
    """A pair of ints, written as an int when equal and the draw says so."""
    side = st.integers(low, high)
    return st.tuples(side, side, st.booleans()).map(lambda drawn: _int_or_pair(drawn[:2], drawn[2]))


def conv2d_configs(
    max_groups=4,
    max_per_group=4,
    max_kernel=5,
    max_dilation=3,
    max_stride=4,
    max_pad=3,
    max_extra=8,
    batches=st.none() | st.integers(1, 3),
    group_counts=None,
    channels_per_group=None,
):
    """Valid configurations; batches draws the batch size (None: unbatched input).
    group_counts and channels_per_group, when given, replace the ranges up to max_groups and
    max_per_group (to steer channel counts towards the ones a kernel is specialised for).

    The component strategies are built once here, not per example: building them inside the
    draw cost more than the convolutions (measured, README "Throughput")."""
    group_counts = st.integers(1, max_groups) if group_counts is None else group_counts
    per_group = st.integers(1, max_per_group) if channels_per_group is None else channels_per_group
    pad_sizes = st.integers(0, max_pad)
    kernels, dilations, strides = pairs(1, max_kernel), pairs(1, max_dilation), pairs(1, max_stride)
    modes, padding_kinds = st.sampled_from(PADDING_MODES), st.sampled_from(("int", "valid", "same", "pair"))
    extra_sizes, biases = st.integers(0, max_extra), st.booleans()

    @st.composite
    def configs(draw):
        groups = draw(group_counts)
        in_per_group, out_per_group = draw(per_group), draw(per_group)
        kernel_size, dilation = draw(kernels), draw(dilations)
        padding_mode = draw(modes)
        padding_kind = draw(padding_kinds)
        if padding_kind in ("valid", "same"):
            padding = padding_kind
        elif padding_kind == "int":
            padding = draw(pad_sizes)
        else:
            padding = (draw(pad_sizes), draw(pad_sizes))
        stride = 1 if padding == "same" else draw(strides)
        (kh, kw), (dh, dw) = (
            reference.spec.as_pair(kernel_size, "kernel_size"),
            reference.spec.as_pair(dilation, "dilation"),
        )
        pads = reference.resolve_padding(padding, (kh, kw), (dh, dw), reference.spec.as_pair(stride, "stride"))
        config = Conv2dConfig(
            in_channels=groups * in_per_group,
            out_channels=groups * out_per_group,
            kernel_size=kernel_size,
            stride=stride,
            padding=padding,
            dilation=dilation,
            groups=groups,
            bias=draw(biases),
            padding_mode=padding_mode,
            batch=draw(batches),
            height=smallest_side(kh, dh, *pads[0], padding_mode) + draw(extra_sizes),
            width=smallest_side(kw, dw, *pads[1], padding_mode) + draw(extra_sizes),
        )
        record_regions(config)
        return config

    return configs()


def record_regions(config: Conv2dConfig) -> None:
    """count_event() the corners of the space this example reaches, for --hypothesis-show-statistics."""
    (kh, kw), stride, dilation = config.kernel_pair, config.stride_pair, config.dilation_pair
    per_group = config.in_channels // config.groups
    count_event(f"padding={config.padding if isinstance(config.padding, str) else type(config.padding).__name__}")
    count_event(f"padding_mode={config.padding_mode}")
    count_event("groups=" + ("1" if config.groups == 1 else "depthwise" if per_group == 1 else "grouped"))
    count_event("unbatched" if config.batch is None else "batched")
    if max(stride) > 1:
        count_event("strided")
    if max(dilation) > 1:
        count_event("dilated")
    if stride[0] > kh or stride[1] > kw:
        count_event("stride larger than kernel")
    if any(e == p for e, p in zip(config.extent, config.padded_size)):
        count_event("kernel spans the padded input")
    if 1 in config.geometry.out:
        count_event("an output side of 1")
    if kh != kw or config.height != config.width:
        count_event("non-square")


@dataclass(frozen=True)
class ValueRecipe:
    """How to fill one tensor: a family of values, a seed, and a power-of-two scale."""

    family: str
    seed: int
    scale_exponent: int

    def make(self, shape, exponent_step: int = 1) -> np.ndarray:
        rng = np.random.default_rng(self.seed)
        values = family_values(self.family, shape, rng)
        return np.ldexp(values, self.scale_exponent * exponent_step)

    @property
    def integer_valued(self) -> bool:
        return self.family in INTEGER_FAMILIES and self.scale_exponent >= 0


def family_values(family: str, shape, rng: np.random.Generator) -> np.ndarray:
    if family == "ones":
        return np.ones(shape)
    if family == "small_int":
        return rng.integers(-4, 5, size=shape).astype(np.float64)
    if family == "small_nonneg_int":
        return rng.integers(0, 5, size=shape).astype(np.float64)
    if family == "same_sign":
        return np.abs(rng.standard_normal(shape))
    if family == "normal":
        return rng.standard_normal(shape)
    if family == "with_zeros":
        return rng.standard_normal(shape) * (rng.random(shape) < 0.5)
    if family == "mixed_magnitude":
        return np.ldexp(rng.standard_normal(shape), rng.integers(-8, 9, size=shape))
    raise ValueError(f"unknown value family {family!r}")


def value_recipes(families=VALUE_FAMILIES, exponents=st.integers(-8, 8)):
    return st.builds(
        ValueRecipe, family=st.sampled_from(families), seed=st.integers(0, 2**32 - 1), scale_exponent=exponents
    )


@dataclass(frozen=True)
class Conv2dCase:
    config: Conv2dConfig
    input: ValueRecipe
    weight: ValueRecipe
    bias: ValueRecipe


def conv2d_cases(configs=None, families=VALUE_FAMILIES):
    """A configuration and a value recipe for each of input, weight and bias. Half the time
    all three are small integers, the data of the exact (bit-for-bit) regime."""
    configs = conv2d_configs() if configs is None else configs
    integer_families = tuple(f for f in families if f in INTEGER_FAMILIES)
    any_recipe = value_recipes(families)
    integer_recipe = value_recipes(integer_families, st.integers(0, 2)) if integer_families else None
    integer_data = st.booleans() if integer_families else st.just(False)

    @st.composite
    def cases(draw):
        config = draw(configs)
        recipe = integer_recipe if draw(integer_data) else any_recipe
        recipes = [draw(recipe) for _ in range(3)]
        for name, drawn in zip(("input", "weight", "bias"), recipes):
            count_event(f"{name} values={drawn.family}")
        return Conv2dCase(config, *recipes)

    return cases()
