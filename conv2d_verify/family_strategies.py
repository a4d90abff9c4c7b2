"""Hypothesis strategies for the family's configurations (Conv1d, Conv3d, ConvTranspose1d/2d/3d),
valid by construction, and their regions.

As for conv2d (strategies.py), a boundary focus and a channel focus are drawn first and the
configuration is built to land in their regions; values come from the same shrinkable recipes.
Sizes shrink with the number of axes: a 3-d example costs its extra axis in every tensor.
"""

from __future__ import annotations

import dataclasses
import functools

from hypothesis import strategies as st

from .config import smallest_side
from .family_config import ConvConfig
from .ops import OPS
from .records import count_event
from .strategies import PADDING_MODES, WIDE_GROUPS, WIDE_PER_GROUP, conv2d_cases, shared_regions

CONV_FOCI = (
    "anywhere",
    "an output side of 1",
    "stride larger than kernel",
    "padding past half the kernel",
    "a single input line",
)
TRANSPOSED_FOCI = (
    "anywhere",
    "stride larger than kernel",  # output positions no tap reaches: the bias alone
    "output_padding",  # past the last tap, and output_padding >= stride where dilation allows it
    "padding crops the output",
    "a single input line",
    "output_size given",
)
CHANNEL_FOCI = ("any", "any", "wide channels", "wide depthwise")
# (largest kernel, largest extra input size) per number of spatial axes
SIZES = {1: (5, 10), 2: (4, 5), 3: (3, 3)}


def tuples(values, dims: int, as_int: bool):
    """A tuple of `dims` draws, written as an int when all equal and as_int says so."""
    drawn = tuple(values)
    return drawn[0] if as_int and len(set(drawn)) == 1 else drawn


@functools.cache
def family_configs(op_name: str):
    """Valid configurations of the op, a boundary and a channel focus drawn for each."""
    op = OPS[op_name]
    dims, (max_kernel, max_extra) = op.dims, SIZES[op.dims]
    foci = st.sampled_from(TRANSPOSED_FOCI if op.transposed else CONV_FOCI)
    channel_foci, wide_per_group, wide_groups = (
        st.sampled_from(CHANNEL_FOCI),
        st.sampled_from(WIDE_PER_GROUP),
        st.sampled_from(WIDE_GROUPS),
    )
    small, one_or_two, axes, flags = (
        st.integers(1, 3),
        st.sampled_from((1, 1, 2)),
        st.integers(0, dims - 1),
        st.booleans(),
    )
    kernels, dilations, strides = st.integers(1, max_kernel), st.integers(1, 3), st.integers(1, 3)
    extras, modes = st.integers(0, max_extra), st.sampled_from(PADDING_MODES)
    padding_kinds = st.sampled_from(("int", "tuple", "same", "valid"))
    batches = st.none() | st.integers(1, 3)

    @st.composite
    def configs(draw):
        focus, channels = draw(foci), draw(channel_foci)
        count_event(f"focus: {focus}, {channels}")
        axis = draw(axes)
        wide = channels != "any"
        if channels == "wide channels":
            groups, in_per_group, out_per_group = draw(one_or_two), draw(wide_per_group), draw(wide_per_group)
        elif channels == "wide depthwise":
            groups, in_per_group, out_per_group = draw(wide_groups), 1, draw(one_or_two)
        else:
            groups, in_per_group, out_per_group = draw(small), draw(small), draw(small)
        kernel = [min(draw(kernels), 3) if wide else draw(kernels) for _ in range(dims)]
        dilation = [min(draw(dilations), 2) if wide else draw(dilations) for _ in range(dims)]
        extent = [d * (k - 1) + 1 for k, d in zip(kernel, dilation)]
        as_int = draw(flags)
        common = dict(
            op=op.name,
            in_channels=groups * in_per_group,
            out_channels=groups * out_per_group,
            groups=groups,
            bias=draw(flags),
            batch=draw(batches),
        )
        if op.transposed:
            return transposed(draw, focus, axis, kernel, dilation, extent, as_int, common, wide)
        return convolution(draw, focus, axis, kernel, dilation, extent, as_int, common, wide)

    def convolution(draw, focus, axis, kernel, dilation, extent, as_int, common, wide):
        mode, kind = draw(modes), draw(padding_kinds)
        if focus == "a single input line":
            mode = "zeros"  # the other modes need more input than padding
        if focus in ("padding past half the kernel", "a single input line") or (
            focus == "stride larger than kernel" and kind == "same"
        ):
            kind = "tuple"
        pads = [draw(st.integers(0, e - 1)) if wide else draw(st.integers(0, 3)) for e in extent]
        if focus == "padding past half the kernel":
            pads[axis] = draw(st.integers(extent[axis] // 2 + 1, max(extent[axis] // 2 + 1, extent[axis])))
        elif focus == "a single input line":
            pads[axis] = draw(st.integers(extent[axis] // 2, extent[axis] // 2 + 1))
        padding = kind if kind in ("same", "valid") else pads[0] if kind == "int" else tuple(pads)
        stride = [1] * dims if padding == "same" else [draw(strides) for _ in range(dims)]
        if focus == "stride larger than kernel":
            stride[axis] = kernel[axis] + draw(st.integers(1, 2))
        config = ConvConfig(
            **common,
            kernel_size=tuples(kernel, dims, as_int),
            stride=tuples(stride, dims, as_int),
            padding=padding,
            dilation=tuples(dilation, dims, as_int),
            padding_mode=mode,
            size=(0,) * dims,
        )
        sides = [smallest_side(k, d, *p, mode) for k, d, p in zip(kernel, dilation, config.pads)]
        extra = [draw(st.integers(0, 2)) if wide else draw(extras) for _ in range(dims)]
        if focus in ("an output side of 1", "a single input line"):
            extra[axis] = 0
            if focus == "an output side of 1":
                room = extent[axis] + stride[axis] - 1 - sum(config.pads[axis]) - sides[axis]
                extra[axis] = draw(st.integers(0, max(room, 0)))
        config = dataclasses.replace(config, size=tuple(s + e for s, e in zip(sides, extra)))
        return recorded(config)

    def transposed(draw, focus, axis, kernel, dilation, extent, as_int, common, wide):
        stride = [draw(strides) for _ in range(dims)]
        if focus == "stride larger than kernel":
            stride[axis] = extent[axis] + draw(st.integers(1, 2))
        size = [draw(st.integers(1, 3)) if wide else draw(st.integers(1, max_extra)) for _ in range(dims)]
        if focus == "a single input line":
            size[axis] = 1
        output_padding = [0] * dims
        if focus in ("output_padding", "output_size given") or draw(flags):
            # torch's rule: smaller than the stride or than the dilation
            output_padding = [draw(st.integers(0, max(s, d) - 1)) for s, d in zip(stride, dilation)]
        if focus == "output_padding" and max(stride[axis], dilation[axis]) > 1:
            output_padding[axis] = max(stride[axis], dilation[axis]) - 1
        via_output_size = focus == "output_size given"
        if via_output_size:  # output_size reaches only output_padding below the stride (torch's module rule)
            output_padding = [min(op, s - 1) for op, s in zip(output_padding, stride)]
        # the output stays at least 1 wide: (n - 1) * s - 2p + extent + output_padding >= 1
        room = [((n - 1) * s + e + op - 1) // 2 for n, s, e, op in zip(size, stride, extent, output_padding)]
        padding = [draw(st.integers(0, min(r, 3))) for r in room]
        if focus == "padding crops the output":
            padding[axis] = room[axis]
        config = ConvConfig(
            **common,
            kernel_size=tuples(kernel, dims, as_int),
            stride=tuples(stride, dims, as_int),
            padding=tuples(padding, dims, as_int),
            dilation=tuples(dilation, dims, as_int),
            padding_mode="zeros",
            size=tuple(size),
            output_padding=tuples(output_padding, dims, as_int),
            via_output_size=via_output_size,
        )
        return recorded(config)

    return configs()


def recorded(config: ConvConfig) -> ConvConfig:
    for region in family_regions(config):
        count_event(region)
    return config


def family_regions(config: ConvConfig) -> list[str]:
    """The corners of the space this configuration reaches, as strategies.regions for conv2d."""
    per_group = config.in_channels // config.groups
    outs = config.out_channels // config.groups
    reached = shared_regions(config)
    checks = {
        "strided": max(config.strides) > 1,
        "dilated": max(config.dilations) > 1,
        "stride larger than kernel": any(s > k for s, k in zip(config.strides, config.kernel)),
        "an output side of 1": 1 in config.out_size,
        "a single input line": 1 in config.size,
        "wide channels": per_group >= WIDE_PER_GROUP[0] or outs >= WIDE_PER_GROUP[0],
        "wide depthwise": per_group == 1 and config.groups >= WIDE_GROUPS[0],
    }
    if config.transposed:
        checks["output_padding > 0"] = max(config.output_paddings) > 0
        checks["output_padding >= stride"] = any(op >= s for op, s in zip(config.output_paddings, config.strides))
        checks["output_size given"] = config.via_output_size
        checks["padding crops the output"] = max(max(p) for p in config.pads) > 0
        checks["positions no tap reaches"] = config.has_gaps()
    else:
        checks["padding past half the kernel"] = any(max(p) > e // 2 for p, e in zip(config.pads, config.extent))
    return reached + [name for name, holds in checks.items() if holds]


@functools.cache
def family_cases(op_name: str):
    """A configuration and value recipes, half the time small integers (the exact regime), as
    strategies.conv2d_cases draws them."""
    return conv2d_cases(configs=family_configs(op_name))
