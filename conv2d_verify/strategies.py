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


# The corners of the space where kernels break, each given a fair share of the differential
# tests' draws: a boundary focus and a channel focus are drawn independently (so that wide
# channels meet every boundary), then the configuration is built to land in their regions (by
# construction; the regions actually reached are counted as events).
BOUNDARY_FOCI = (
    "anywhere",
    "an output side of 1",
    "stride larger than kernel",
    "kernel spans the padded input",
    "padding past half the kernel",
    "a single input row or column",
)
# oneDNN's blocked, AMX and depthwise kernels take channels in blocks of 16 (17: a partial block)
CHANNEL_FOCI = ("any", "any", "wide channels", "wide depthwise")
WIDE_PER_GROUP = (16, 17, 32)
WIDE_GROUPS = (16, 32)
WIDE_MAX_EXTRA = 2  # wide examples get small images and kernels up to 3, dilations up to 2: their
# kernels run 16 to 1000 times longer (float16 on oneDNN's reference kernel the longest)


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
    foci=False,
):
    """Valid configurations; batches draws the batch size (None: unbatched input).
    group_counts and channels_per_group, when given, replace the ranges up to max_groups and
    max_per_group (to steer channel counts towards the ones a kernel is specialised for).
    foci: draw a boundary and a channel focus (BOUNDARY_FOCI, CHANNEL_FOCI) for each example.

    The component strategies are built once here, not per example: building them inside the
    draw cost more than the convolutions (measured, README "Throughput")."""
    group_counts = st.integers(1, max_groups) if group_counts is None else group_counts
    per_group = st.integers(1, max_per_group) if channels_per_group is None else channels_per_group
    pad_sizes = st.integers(0, max_pad)
    kernels, dilations, strides = pairs(1, max_kernel), pairs(1, max_dilation), pairs(1, max_stride)
    modes, padding_kinds = st.sampled_from(PADDING_MODES), st.sampled_from(("int", "valid", "same", "pair"))
    extra_sizes, small_extras, biases = st.integers(0, max_extra), st.integers(0, WIDE_MAX_EXTRA), st.booleans()
    boundary_draw = st.sampled_from(BOUNDARY_FOCI if foci else ("anywhere",))
    channel_draw = st.sampled_from(CHANNEL_FOCI if foci else ("any",))
    wide_per_group, wide_groups, axes = st.sampled_from(WIDE_PER_GROUP), st.sampled_from(WIDE_GROUPS), st.integers(0, 1)
    wide_kernels, wide_dilations = pairs(1, min(3, max_kernel)), pairs(1, min(2, max_dilation))
    one_or_two = st.sampled_from((1, 1, 2))  # wide channels' groups, wide depthwise's multiplier

    @st.composite
    def configs(draw):
        focus, channels = draw(boundary_draw), draw(channel_draw)
        if foci:
            count_event(f"focus: {focus}, {channels}")
        axis = draw(axes) if focus != "anywhere" else 0  # the axis a boundary focus applies to
        if channels == "wide channels":
            groups = draw(one_or_two)
            in_per_group, out_per_group = draw(wide_per_group), draw(wide_per_group)
        elif channels == "wide depthwise":
            groups, in_per_group, out_per_group = draw(wide_groups), 1, draw(one_or_two)
        else:
            groups = draw(group_counts)
            in_per_group, out_per_group = draw(per_group), draw(per_group)
        wide = channels != "any"
        kernel_size, dilation = draw(wide_kernels if wide else kernels), draw(wide_dilations if wide else dilations)
        (kh, kw), (dh, dw) = (
            reference.spec.as_pair(kernel_size, "kernel_size"),
            reference.spec.as_pair(dilation, "dilation"),
        )
        extent = (dh * (kh - 1) + 1, dw * (kw - 1) + 1)
        padding_mode = draw(modes)
        padding_kind = draw(padding_kinds)
        if focus == "a single input row or column":
            padding_mode = "zeros"  # the other modes need more input than padding
        if focus == "stride larger than kernel" and padding_kind == "same":
            padding_kind = "valid"  # 'same' needs stride 1
        if padding_kind in ("valid", "same") and focus not in (
            "padding past half the kernel",
            "a single input row or column",
        ):
            padding = padding_kind
        elif padding_kind == "int" and focus == "anywhere":
            padding = draw(pad_sizes) % (min(extent) if wide else max_pad + 1)
        else:
            # oneDNN's specialised kernels take padding below the kernel's extent (gemm the rest)
            padding = [draw(pad_sizes) % (e if wide else max_pad + 1) for e in extent]
            if focus == "padding past half the kernel":
                top = max(extent[axis] // 2 + 1, extent[axis] - 1) if wide else extent[axis]
                padding[axis] = draw(st.integers(extent[axis] // 2 + 1, top))
            elif focus == "a single input row or column":
                padding[axis] = draw(st.integers(extent[axis] // 2, extent[axis] // 2 + 1))
            padding = tuple(padding)
        stride = 1 if padding == "same" else draw(strides)
        if focus == "stride larger than kernel":
            stride = list(reference.spec.as_pair(stride, "stride"))
            stride[axis] = (kh, kw)[axis] + draw(st.integers(1, 2))
            stride = tuple(stride)
        stride_pair = reference.spec.as_pair(stride, "stride")
        pads = reference.resolve_padding(padding, (kh, kw), (dh, dw), stride_pair)
        sides = [smallest_side(k, d, *p, padding_mode) for k, d, p in zip((kh, kw), (dh, dw), pads)]
        extras = [draw(small_extras if wide else extra_sizes) for _ in range(2)]
        if focus in ("an output side of 1", "kernel spans the padded input", "a single input row or column"):
            extras[axis] = 0
            if focus == "an output side of 1":  # the output stays 1 until the padded input outgrows extent + stride - 1
                room = extent[axis] + stride_pair[axis] - 1 - sum(pads[axis]) - sides[axis]
                extras[axis] = draw(st.integers(0, max(room, 0)))
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
            height=sides[0] + extras[0],
            width=sides[1] + extras[1],
        )
        record_regions(config)
        return config

    return configs()


def regions(config: Conv2dConfig) -> list[str]:
    """The corners of the space this configuration reaches (the foci's regions among them)."""
    if config.op != "conv2d":
        from .family_strategies import family_regions  # noqa: PLC0415 - it builds on this module

        return family_regions(config)
    (kh, kw), stride, dilation = config.kernel_pair, config.stride_pair, config.dilation_pair
    per_group = config.in_channels // config.groups
    reached = shared_regions(config)
    checks = {
        "strided": max(stride) > 1,
        "dilated": max(dilation) > 1,
        "stride larger than kernel": stride[0] > kh or stride[1] > kw,
        "kernel spans the padded input": any(e == p for e, p in zip(config.extent, config.padded_size)),
        "an output side of 1": 1 in config.geometry.out,
        "padding past half the kernel": any(max(p) > e // 2 for p, e in zip(config.pads, config.extent)),
        "a single input row or column": 1 in (config.height, config.width),
        "wide channels": per_group >= WIDE_PER_GROUP[0] or config.out_channels // config.groups >= WIDE_PER_GROUP[0],
        "wide depthwise": per_group == 1 and config.groups >= WIDE_GROUPS[0],
        "non-square": kh != kw or config.height != config.width,
    }
    return reached + [name for name, holds in checks.items() if holds]


def shared_regions(config) -> list[str]:
    """The regions every op's configuration names the same way: padding kind and mode, groups, batching."""
    per_group = config.in_channels // config.groups
    padding = config.padding if isinstance(config.padding, str) else type(config.padding).__name__
    return [
        f"padding={padding}",
        f"padding_mode={config.padding_mode}",
        "groups=" + ("1" if config.groups == 1 else "depthwise" if per_group == 1 else "grouped"),
        "unbatched" if config.batch is None else "batched",
    ]


def record_regions(config: Conv2dConfig) -> None:
    """count_event() each region this example reaches, for the coverage table and
    --hypothesis-show-statistics."""
    for region in regions(config):
        count_event(region)


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


def differential_cases(**config_options):
    """Cases for the differential tests: every boundary and channel focus given a fair share."""
    return conv2d_cases(configs=conv2d_configs(foci=True, **config_options))
