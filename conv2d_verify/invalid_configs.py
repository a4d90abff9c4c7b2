"""Near-valid invalid Conv2d calls: a valid configuration with exactly one thing broken.

`invalid_calls()` draws a kind, a valid configuration from strategies.conv2d_configs()
(steered, for some kinds, to another valid configuration that the break needs, say reflect
padding of at least 1), then one change. `call_torch` and `call_reference` run the same call,
with the same numbers, through nn.Conv2d and reference.conv2d.
"""

from __future__ import annotations

import dataclasses
import warnings
from dataclasses import dataclass

import numpy as np
import torch
from hypothesis import strategies as st

import reference

from . import settings
from .capabilities import torch_release
from .config import Conv2dConfig, smallest_side
from .records import count_event
from .strategies import conv2d_configs

CONV_ARGS = ("stride", "padding", "dilation", "groups", "padding_mode")


@dataclass(frozen=True)
class InvalidCall:
    """nn.Conv2d(**layer kwargs)(input) with one thing broken; the repr is the whole call.

    changes: (name, new value) pairs over the valid configuration, where a name is a layer
    argument or one of input_shape, weight_shape, bias_shape, input_dtype, weight_dtype,
    bias_dtype. names: the words the reference's error must contain when it rejects the call.
    """

    kind: str
    changes: tuple
    names: tuple
    seed: int
    valid: Conv2dConfig

    def changed(self, name: str, default):
        return dict(self.changes).get(name, default)

    def layer_kwargs(self) -> dict:
        return {name: self.changed(name, value) for name, value in self.valid.layer_kwargs().items()}

    def conv_kwargs(self) -> dict:
        layer = self.layer_kwargs()
        return {name: layer[name] for name in CONV_ARGS}

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """Small integers (exact in any float dtype) in each operand's shape and dtype."""
        rng = np.random.default_rng(self.seed)
        valid = self.valid
        shapes = {
            "input": self.changed("input_shape", valid.input_shape),
            "weight": self.changed("weight_shape", valid.weight_shape),
            "bias": self.changed("bias_shape", (valid.out_channels,) if valid.bias else None),
        }
        return tuple(
            None if shape is None else rng.integers(-3, 4, size=shape).astype(self.changed(f"{name}_dtype", "float64"))
            for name, shape in shapes.items()
        )


def as_tensor(array: np.ndarray) -> torch.Tensor:
    """The array on the run's device, in its own dtype (invalid calls may mix dtypes on purpose)."""
    return torch.from_numpy(array).to(settings.current().device)


def call_torch(call: InvalidCall) -> np.ndarray:
    """Build the layer (torch rejects some arguments here), give it the weight and bias, run it."""
    x, w, b = call.arrays()
    kwargs = call.layer_kwargs()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zero-element init, even kernels with 'same'
        layer = torch.nn.Conv2d(**{**kwargs, "bias": b is not None})
        layer.weight = torch.nn.Parameter(as_tensor(w))
        if b is not None:
            layer.bias = torch.nn.Parameter(as_tensor(b))
        with torch.no_grad():
            return layer(as_tensor(x)).cpu().numpy()


def call_reference(call: InvalidCall) -> np.ndarray:
    return reference.conv2d(*call.arrays(), **call.conv_kwargs())


# Steering: another valid configuration, closer to what a kind needs to break.


def fitted(config: Conv2dConfig) -> Conv2dConfig:
    """Height and width raised to the least sizes the kernel, padding and mode allow."""
    least = [
        smallest_side(k, d, before, after, config.padding_mode)
        for k, d, (before, after) in zip(config.kernel_pair, config.dilation_pair, config.pads)
    ]
    return dataclasses.replace(config, height=max(config.height, least[0]), width=max(config.width, least[1]))


def explicit_pads(config: Conv2dConfig) -> tuple[int, int]:
    """Symmetric pads per axis that keep the configuration valid: 'same' rounds up."""
    return tuple(max(before_after) for before_after in config.pads)


def with_padding(config: Conv2dConfig, padding, **fields) -> Conv2dConfig:
    return fitted(dataclasses.replace(config, padding=padding, **fields))


def explicit(config: Conv2dConfig) -> Conv2dConfig:
    """Padding as a pair of ints ('same' and 'valid' replaced by what they pad)."""
    return with_padding(config, explicit_pads(config))


def grouped(config: Conv2dConfig) -> Conv2dConfig:
    """At least two groups: groups=1 becomes 2, with twice the channels."""
    if config.groups > 1:
        return config
    return dataclasses.replace(
        config, groups=2, in_channels=2 * config.in_channels, out_channels=2 * config.out_channels
    )


def pair_of(config: Conv2dConfig, name: str) -> tuple[int, int]:
    return reference.spec.as_pair(getattr(config, name), name)


def other_axis(pair, axis: int, value):
    return (value, pair[1]) if axis == 0 else (pair[0], value)


def draw_axis(draw) -> int:
    axis = draw(st.sampled_from((0, 1)))
    count_event("axis=" + ("height" if axis == 0 else "width"))
    return axis


# One function per kind: (draw, valid config) -> (valid config, changes, names).


def groups_not_dividing_in_channels(draw, config):
    config = grouped(config)
    channels = draw(st.sampled_from([c for c in range(1, config.in_channels + config.groups) if c % config.groups]))
    if channels < config.groups:
        count_event("groups > in_channels")
    shape = list(config.input_shape)
    shape[-3] = channels
    return config, (("in_channels", channels), ("input_shape", tuple(shape))), ("groups", "channels")


def groups_not_dividing_out_channels(draw, config):
    config = grouped(config)
    out = draw(st.sampled_from([o for o in range(1, config.out_channels + config.groups) if o % config.groups]))
    changes = [("out_channels", out), ("weight_shape", (out, *config.weight_shape[1:]))]
    if config.bias:
        changes.append(("bias_shape", (out,)))
    return config, tuple(changes), ("groups", "out_channels")


def channel_mismatch(draw, config):
    channels = draw(st.integers(1, config.in_channels + 3).filter(lambda c: c != config.in_channels))
    shape = list(config.input_shape)
    shape[-3] = channels
    return config, (("input_shape", tuple(shape)),), ("channels",)


def kernel_too_large(axis: int):
    def breaks(draw, config):
        config = explicit(config)
        padded = (config.height, config.width)[axis] + 2 * explicit_pads(config)[axis]
        kernel, dilation = config.kernel_pair, config.dilation_pair
        extra = draw(st.integers(0, 2))
        if kernel[axis] > 1 and draw(st.booleans()):
            count_event("too large only after dilation")
            grown = -(-padded // (kernel[axis] - 1)) + extra  # d (k - 1) + 1 > padded
            return config, (("dilation", other_axis(dilation, axis, grown)),), ("kernel_size", "dilation")
        grown = -(-padded // dilation[axis]) + 1 + extra
        weight_shape = (*config.weight_shape[:2], *other_axis(kernel, axis, grown))
        return (
            config,
            (("kernel_size", other_axis(kernel, axis, grown)), ("weight_shape", weight_shape)),
            ("kernel_size",),
        )

    return breaks


def not_positive(name: str):
    def breaks(draw, config):
        bad = draw(st.integers(-2, 0))
        if name == "groups":
            return config, (("groups", bad),), ("groups",)
        value = bad if draw(st.booleans()) else other_axis(pair_of(config, name), draw_axis(draw), bad)
        return config, ((name, value),), (name,)

    return breaks


def negative_padding(draw, config):
    config = explicit(config)
    form = draw(st.sampled_from(("int", "one axis", "both axes")))
    count_event(f"negative padding: {form}, {config.padding_mode}")
    crop = draw(st.integers(-3, -1))
    if form == "int":
        padding = crop
    elif form == "one axis":
        padding = other_axis(explicit_pads(config), draw_axis(draw), crop)
    else:
        padding = (crop, draw(st.integers(-3, -1)))
    return config, (("padding", padding),), ("padding",)


def unknown_padding_string(draw, config):
    return config, (("padding", draw(st.sampled_from(("full", "SAME", "Valid", "causal", "none", "")))),), ("padding",)


def unknown_padding_mode(draw, config):
    mode = draw(st.sampled_from(("mirror", "constant", "Zeros", "zero", "reflection", "wrap", "edge", "symmetric", "")))
    return config, (("padding_mode", mode),), ("padding_mode",)


def same_with_stride(draw, config):
    config = with_padding(config, "same", stride=1)
    stride = draw(st.integers(2, 4) | st.tuples(st.integers(1, 4), st.integers(1, 4)).filter(lambda s: max(s) > 1))
    return config, (("stride", stride),), ("padding", "stride")


def pad_too_large(mode: str):
    """Shrink the input along one axis below what this mode's padding there needs."""

    def breaks(draw, config):
        axis = draw_axis(draw)
        least_pad = 1 if mode == "reflect" else 2
        pads = other_axis(explicit_pads(config), axis, max(least_pad, explicit_pads(config)[axis]))
        config = with_padding(config, pads, padding_mode=mode)
        too_small = draw(st.integers(1, pads[axis] if mode == "reflect" else pads[axis] - 1))
        shape = list(config.input_shape)
        shape[-2 + axis] = too_small
        return config, (("input_shape", tuple(shape)),), ("padding", mode)

    return breaks


def input_rank(rank: int):
    def breaks(draw, config):
        four_d = (config.batch or 1, config.in_channels, config.height, config.width)
        shape = (config.height, config.width) if rank == 2 else (draw(st.integers(1, 2)), *four_d)
        return config, (("input_shape", shape),), ("input",)

    return breaks


def bias_wrong_length(draw, config):
    config = dataclasses.replace(config, bias=True)
    length = draw(st.integers(0, config.out_channels + 2).filter(lambda n: n != config.out_channels))
    return config, (("bias_shape", (length,)),), ("bias",)


def bias_wrong_rank(draw, config):
    config = dataclasses.replace(config, bias=True)
    shape = draw(st.sampled_from(((), (config.out_channels, 1), (1, config.out_channels))))
    return config, (("bias_shape", shape),), ("bias",)


def mismatched_dtypes(draw, config):
    operand = draw(st.sampled_from(("input", "weight", "bias") if config.bias else ("input", "weight")))
    count_event(f"float32 {operand}")
    return config, ((f"{operand}_dtype", "float32"),), ("dtype", operand)


def not_an_int(draw, config):
    name = draw(st.sampled_from(("stride", "padding", "dilation", "groups")))
    count_event(f"float {name}")
    config = explicit(config) if name == "padding" else config
    if name == "groups":
        return config, (("groups", float(config.groups)),), ("groups",)
    pair = pair_of(config, name)
    as_float = draw(st.sampled_from((float(pair[0]), pair[0] + 0.5)))
    value = as_float if draw(st.booleans()) else other_axis(pair, draw_axis(draw), as_float)
    return config, ((name, value),), (name,)


def bool_argument(draw, config):
    name = draw(st.sampled_from(("padding", "padding", "stride", "dilation", "groups")))
    flag = draw(st.booleans())
    config = explicit(config) if name == "padding" else config
    if name == "groups":
        return config, (("groups", flag),), ("groups",)
    value = flag if draw(st.booleans()) else other_axis(pair_of(config, name), draw_axis(draw), flag)
    count_event(f"bool {name}: {'bare' if isinstance(value, bool) else 'in a pair'}")
    return config, ((name, value),), (name,)


def one_element_list(draw, config):
    """[v] for stride, dilation or padding; torch reads [v] as (v, v) for each, except padding in
    the non-zero modes. v is the least of the pair, made valid for both axes."""
    name = draw(st.sampled_from(("stride", "dilation", "padding")))
    config = explicit(config)
    least = min(pair_of(config, name))
    config = fitted(dataclasses.replace(config, **{name: least}))
    count_event(f"[{name}], {config.padding_mode}")
    return config, ((name, [least]),), (name,)


def wrong_length_sequence(draw, config):
    name = draw(st.sampled_from(("stride", "dilation", "padding")))
    config = explicit(config) if name == "padding" else config
    pair = pair_of(config, name)
    value = () if draw(st.booleans()) else (draw(st.integers(0 if name == "padding" else 1, 2)), *pair)
    count_event(f"{name} of length {len(value)}")
    return config, ((name, value),), (name,)


def empty_axis(draw, config):
    axis = draw(
        st.sampled_from(("batch", "in_channels", "out_channels", "kernel height", "kernel width", "height", "width"))
    )
    count_event(f"empty {axis}, {config.padding_mode}")
    x_shape, (o, c, kh, kw) = list(config.input_shape), config.weight_shape
    if axis == "batch":
        return config, (("input_shape", (0, *config.input_shape[-3:])),), ("input",)
    if axis == "in_channels":
        x_shape[-3] = 0
        return (
            config,
            (("in_channels", 0), ("input_shape", tuple(x_shape)), ("weight_shape", (o, 0, kh, kw))),
            ("channels",),
        )
    if axis == "out_channels":
        changes = [("out_channels", 0), ("weight_shape", (0, c, kh, kw))]
        return config, tuple(changes + ([("bias_shape", (0,))] if config.bias else [])), ("out_channels",)
    if axis.startswith("kernel"):
        kernel = (0, kw) if axis == "kernel height" else (kh, 0)
        return config, (("kernel_size", kernel), ("weight_shape", (o, c, *kernel))), ("kernel_size",)
    x_shape[-2 if axis == "height" else -1] = 0
    return config, (("input_shape", tuple(x_shape)),), ("input",)


BREAKS = {
    "groups not dividing in_channels": groups_not_dividing_in_channels,
    "groups not dividing out_channels": groups_not_dividing_out_channels,
    "input channels not matching the weight": channel_mismatch,
    "kernel larger than the padded input height": kernel_too_large(0),
    "kernel larger than the padded input width": kernel_too_large(1),
    "stride not positive": not_positive("stride"),
    "dilation not positive": not_positive("dilation"),
    "groups not positive": not_positive("groups"),
    "negative padding": negative_padding,
    "unknown padding string": unknown_padding_string,
    "unknown padding_mode": unknown_padding_mode,
    "padding='same' with stride > 1": same_with_stride,
    "reflect padding >= input size": pad_too_large("reflect"),
    "circular padding > input size": pad_too_large("circular"),
    "input of rank 2": input_rank(2),
    "input of rank 5": input_rank(5),
    "bias of the wrong length": bias_wrong_length,
    "bias of the wrong rank": bias_wrong_rank,
    "mismatched dtypes": mismatched_dtypes,
    "float stride, padding, dilation or groups": not_an_int,
    "bool padding, stride, dilation or groups": bool_argument,
    "one-element list": one_element_list,
    "sequence of length 0 or 3": wrong_length_sequence,
    "empty axis": empty_axis,
}
KINDS = tuple(BREAKS)


@st.composite
def invalid_calls(draw, kinds=KINDS, configs=conv2d_configs()):
    kind = draw(st.sampled_from(kinds))
    count_event(f"kind: {kind}")
    config, changes, names = BREAKS[kind](draw, draw(configs))
    return InvalidCall(kind=kind, changes=changes, names=names, seed=draw(st.integers(0, 2**16)), valid=config)


# Known torch quirks on these calls. Most are calls torch accepts although the reference
# rejects them, because torch reads them as another call: torch_quirk names the quirk and the
# changes that make that call, and the parity test holds torch to the reference on it. One is
# a wrong output shape. Either way a change in torch fails the test, so the table stays true.
BOOL_AFTER_FIRST = "torch's int-list parser refuses a bool only as the first element"
ONE_PAD_VALUE = "padding=[p] reaches F.pad as (p, p), which pads only the width of a 3-D input"
THREE_PAD_VALUES = "padding=(0, h, w) reaches F.pad as six values, which pad the channels by 0"
STRING_PADDING_BIAS_DTYPE = "with padding 'same' or 'valid', conv2d does not check the bias dtype"
NO_OUTPUT_CHANNELS = (
    "on zero input channels conv2d returns zero output channels, not out_channels (pytorch/pytorch#56998)"
)
REFLECT_NO_CHANNELS = (
    "before torch 2.1, reflect padding takes an unbatched input with no channels as no images, and pads it"
)
# Checked: 2.0.1 accepts, 2.1.0 and later reject. The padded values are none, so torch runs the
# zero-padded call (the pads fit: only the channels are broken).
REFLECT_TAKES_NO_CHANNELS = torch_release() < "2.1.0"
# Before torch 2.1 (pytorch/pytorch#106148) circular padding took exactly two values per spatial
# axis of a batched input, so torch rejected six values as the reference does: no quirk there.
# Checked: rejected on 2.0.1, accepted on 2.1.0, 2.1.2, 2.5.1, 2.9.1 and 2.13.0.
CIRCULAR_TAKES_SIX_PAD_VALUES = torch_release() >= "2.1.0"


def _bool_after_first(value) -> bool:
    return (
        isinstance(value, (tuple, list))
        and len(value) > 1
        and not isinstance(value[0], bool)
        and any(isinstance(v, bool) for v in value[1:])
    )


def torch_quirk(call: InvalidCall) -> tuple[str, tuple | None] | None:
    """(quirk, the changes that make the call torch in effect runs, or None) where one applies."""
    kwargs = call.conv_kwargs()
    padding, padding_mode = kwargs["padding"], kwargs["padding_mode"]
    input_shape = call.arrays()[0].shape
    for name in ("stride", "dilation", "padding"):
        if _bool_after_first(kwargs[name]) and (name != "padding" or padding_mode == "zeros"):
            return BOOL_AFTER_FIRST, ((name, tuple(int(v) for v in kwargs[name])),)
    if len(input_shape) in (3, 4) and input_shape[-3] == 0:
        if REFLECT_TAKES_NO_CHANNELS and padding_mode == "reflect" and len(input_shape) == 3:
            return REFLECT_NO_CHANNELS, (("padding_mode", "zeros"),)
        return NO_OUTPUT_CHANNELS, None
    dtypes = {name: call.changed(f"{name}_dtype", "float64") for name in ("input", "weight", "bias")}
    if isinstance(padding, str) and padding_mode == "zeros" and dtypes["bias"] != dtypes["input"] == dtypes["weight"]:
        return STRING_PADDING_BIAS_DTYPE, (("bias_dtype", dtypes["input"]),)
    if padding_mode == "zeros" or not isinstance(padding, (tuple, list)):
        return None
    if len(padding) == 2 and _bool_after_first(padding[::-1]):  # F.pad sees (w, w, h, h)
        return BOOL_AFTER_FIRST, (("padding", tuple(int(v) for v in padding)),)
    if len(padding) == 1 and len(input_shape) == 3:
        return ONE_PAD_VALUE, (("padding", (0, padding[0])),)
    if (
        len(padding) == 3
        and padding[0] == 0
        and len(input_shape) == 4
        and (padding_mode != "circular" or CIRCULAR_TAKES_SIX_PAD_VALUES)
    ):
        return THREE_PAD_VALUES, (("padding", tuple(padding[1:])),)
    return None
