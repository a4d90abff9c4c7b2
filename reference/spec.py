"""Argument checking for the conv family, with torch's rules and errors that name the bad argument.

Everything here normalises what the caller passed (ints or d-tuples, padding strings, modes)
into plain tuples, or raises ValueError/TypeError. Nothing is ever given a silent default.
The number of spatial axes d (1, 2 or 3) always comes from the op called, never from the data.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np

PADDING_MODES = ("zeros", "reflect", "replicate", "circular")
PADDING_STRINGS = ("same", "valid")

Pair = tuple[int, int]
Pads = tuple[Pair, ...]  # ((before, after), ...) per spatial axis: ((top, bottom), (left, right)) in 2-D

AXES = {1: ("length",), 2: ("height", "width"), 3: ("depth", "height", "width")}
SPATIAL = {1: "L", 2: "H, W", 3: "D, H, W"}
KERNEL = {1: "k", 2: "kh, kw", 3: "kd, kh, kw"}


@dataclass(frozen=True)
class Geometry:
    """A validated convolution: what the conv does once the arguments are understood."""

    stride: tuple[int, ...]
    dilation: tuple[int, ...]
    pads: Pads
    groups: int
    padding_mode: str


def _is_int(value) -> bool:
    return type(value) is int or (isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_)))


def as_tuple(value, d: int, name: str) -> tuple[int, ...]:
    """An int, or a sequence of one or d ints (as torch accepts), as a d-tuple."""
    if type(value) is int:  # the common case, without the slower checks below
        return (value,) * d
    if _is_int(value):
        return (int(value),) * d
    if isinstance(value, (tuple, list)) and len(value) in (1, d) and all(map(_is_int, value)):
        return tuple(int(value[min(i, len(value) - 1)]) for i in range(d))
    wanted = "a pair of ints" if d == 2 else f"a sequence of {d} ints"
    raise TypeError(f"{name} must be an int or {wanted}, got {value!r}")


def as_pair(value, name: str) -> Pair:
    return as_tuple(value, 2, name)


def positive_tuple(value, d: int, name: str) -> tuple[int, ...]:
    values = as_tuple(value, d, name)
    if min(values) < 1:
        raise ValueError(f"{name} must be positive, got {value!r}")
    return values


def positive_pair(value, name: str) -> Pair:
    return positive_tuple(value, 2, name)


def non_negative_tuple(value, d: int, name: str) -> tuple[int, ...]:
    values = as_tuple(value, d, name)
    if min(values) < 0:
        raise ValueError(f"{name} must not be negative, got {value!r}")
    return values


def check_groups(groups) -> int:
    if not _is_int(groups):
        raise TypeError(f"groups must be an int, got {groups!r}")
    if groups < 1:
        raise ValueError(f"groups must be a positive integer, got {groups!r}")
    return int(groups)


def check_padding_form(padding, padding_mode: str, d: int = 2) -> None:
    """A one-element padding sequence is only meaningful with zeros, when d > 1.

    nn.Conv2d (and Conv3d) hand F.pad each padding value twice, so `padding=[p]` becomes
    F.pad(x, (p, p)), which pads the last axis alone: batched input raises, and unbatched
    2-D input gets a result that disagrees with what `padding=[p]` means for 'zeros' (every
    axis). The reference rejects both. For conv1d, [p] is simply the full padding.
    """
    if d > 1 and padding_mode != "zeros" and isinstance(padding, (tuple, list)) and len(padding) == 1:
        form = "a pair" if d == 2 else f"{d} values"
        raise ValueError(
            f"padding={padding!r} (one value in a sequence) works only with padding_mode='zeros';"
            f" give an int or {form} for padding_mode={padding_mode!r}"
        )


def check_padding_mode(padding_mode) -> str:
    if padding_mode not in PADDING_MODES:
        raise ValueError(f"padding_mode must be one of {PADDING_MODES}, got {padding_mode!r}")
    return padding_mode


def resolve_padding(padding, kernel_size, dilation, stride) -> Pads:
    """Pads as ((before, after), ...), one pair per axis of kernel_size.

    'same' pads d*(k-1) in total per axis, the smaller half first: the odd pixel goes after
    (bottom/right/back), as torch does. It is only legal with stride 1.
    """
    d = len(kernel_size)
    if isinstance(padding, str):
        if padding not in PADDING_STRINGS:
            form = "a pair" if d == 2 else f"a sequence of {d} ints"
            raise ValueError(f"padding must be an int, {form} or one of {PADDING_STRINGS}, got {padding!r}")
        if padding == "valid":
            return ((0, 0),) * d
        if any(s != 1 for s in stride):
            raise ValueError(f"padding='same' needs stride 1, got stride={tuple(stride)}")
        totals = [dil * (k - 1) for dil, k in zip(dilation, kernel_size)]
        return tuple((total // 2, total - total // 2) for total in totals)
    # negative pads crop; check_pads_fit rules on them
    return tuple((p, p) for p in as_tuple(padding, d, "padding"))


def check_pads_fit(pads: Pads, spatial, padding_mode: str) -> None:
    """The pads torch accepts for this mode and input size.

    'zeros' pads inside the convolution, which rejects negative padding. The other modes pad
    with F.pad first, where a negative pad crops; the crop must leave something. reflect needs
    each pad < the axis size, circular each pad <= the axis size.
    """
    if padding_mode == "zeros":
        if min(min(pair) for pair in pads) < 0:
            raise ValueError(
                f"negative padding {pads} is not supported with padding_mode='zeros'"
                " (the other padding modes crop instead)"
            )
        return
    for axis, before_after, size in zip(AXES[len(pads)], pads, spatial):
        if size + sum(before_after) < 1:
            raise ValueError(f"padding {before_after} crops the input {axis} {size} to nothing")
        largest = max(before_after)
        if padding_mode == "reflect" and largest >= size:
            raise ValueError(
                f"padding {largest} is too large for padding_mode='reflect' on input {axis} {size}"
                " (must be smaller than the input size)"
            )
        if padding_mode == "circular" and largest > size:
            raise ValueError(
                f"padding {largest} is too large for padding_mode='circular' on input {axis} {size}"
                " (must not exceed the input size)"
            )


def check_real(array: np.ndarray, name: str) -> None:
    # floating or integer as np.issubdtype sees them (timedelta64 included), at a fraction of its cost
    if array.dtype.kind not in "fium":
        raise TypeError(f"{name} must hold real numbers, got dtype {array.dtype}")


def as_float64(array, name: str) -> np.ndarray:
    array = np.asarray(array)
    check_real(array, name)
    return array.astype(np.float64)


def as_float64_operands(input, weight, bias):
    """input, weight and bias (or None) in float64, once they are real and share one dtype.

    Any integer or floating dtype is accepted, but only one for all three: torch rejects a
    float64 input with a float32 weight, so the reference does too, naming the odd one out.
    """
    arrays = {"input": np.asarray(input), "weight": np.asarray(weight)}
    if bias is not None:
        arrays["bias"] = np.asarray(bias)
    for name, array in arrays.items():
        check_real(array, name)
    dtypes = [array.dtype for array in arrays.values()]
    if len(set(dtypes)) > 1:
        # the minority dtype is the odd one; between two, the input sets the dtype
        majority = max(dtypes, key=lambda dtype: (dtypes.count(dtype), dtype == arrays["input"].dtype))
        odd = next(name for name, array in arrays.items() if array.dtype != majority)
        usual = next(name for name, array in arrays.items() if array.dtype == majority)
        raise TypeError(
            f"{odd} has dtype {arrays[odd].dtype} but {usual} has dtype {majority}:"
            " input, weight and bias must share one dtype"
        )
    # no copy when already float64: the reference only reads its operands
    as_float = {name: array.astype(np.float64, copy=False) for name, array in arrays.items()}
    return as_float["input"], as_float["weight"], as_float.get("bias")


def check_ranks(input: np.ndarray, weight: np.ndarray, d: int, weight_layout: str) -> None:
    """input batched (N, C, *spatial) by now, weight (d+2)-D."""
    if input.ndim != d + 2:
        raise ValueError(
            f"input must be {d + 1}-D (C, {SPATIAL[d]}) or {d + 2}-D (N, C, {SPATIAL[d]}), got shape {input.shape}"
        )
    if weight.ndim != d + 2:
        raise ValueError(f"weight must be {d + 2}-D ({weight_layout}, {KERNEL[d]}), got shape {weight.shape}")


def _check_spatial(input: np.ndarray, d: int, unless: str) -> None:
    if min(input.shape[2:]) < 1 and min(input.shape[:2]) > 0:
        names = " and ".join(AXES[d]) if d < 3 else "depth, height and width"
        raise ValueError(f"input {names} must be positive unless {unless}, got shape {input.shape}")


def check_operands(input: np.ndarray, weight: np.ndarray, bias: np.ndarray | None, groups: int, d: int = 2) -> None:
    """Ranks and channel counts: input (N, C, *spatial), weight (O, C/groups, *k), bias (O,)."""
    check_ranks(input, weight, d, "out_channels, in_channels/groups")
    _check_spatial(input, d, "the batch or the channels are empty")
    # Torch accepts an empty batch and zero in_channels (weight.shape[1] == 0: the output is the
    # bias, or zeros), but not zero out_channels or an empty kernel.
    if weight.shape[0] < 1:
        raise ValueError(f"out_channels (weight.shape[0]) must be positive, got weight of shape {weight.shape}")
    if min(weight.shape[2:]) < 1:
        raise ValueError(f"kernel_size must be positive, got weight of shape {weight.shape}")
    out_channels, channels_per_group = weight.shape[:2]
    if out_channels % groups:
        raise ValueError(f"out_channels (weight.shape[0]={out_channels}) must be divisible by groups={groups}")
    if input.shape[1] != channels_per_group * groups:
        if input.shape[1] % groups:
            raise ValueError(f"in_channels (input.shape[1]={input.shape[1]}) must be divisible by groups={groups}")
        raise ValueError(
            f"input has {input.shape[1]} channels, but weight of shape {weight.shape} with groups={groups}"
            f" expects {channels_per_group * groups}"
        )
    if bias is not None and bias.shape != (out_channels,):
        raise ValueError(f"bias must have shape ({out_channels},), got {bias.shape}")


def check_transposed_operands(input: np.ndarray, weight: np.ndarray, bias: np.ndarray | None, groups: int, d: int):
    """Ranks and channel counts for a transposed conv: input (N, C_in, *spatial),
    weight (C_in, C_out/groups, *k), bias (C_out,). Unlike the conv, torch wants at least one
    input channel; an empty input axis is accepted only with an empty batch."""
    check_ranks(input, weight, d, "in_channels, out_channels/groups")
    _check_spatial(input, d, "the batch is empty")
    in_channels, outs_per_group = weight.shape[:2]
    if in_channels < 1:
        raise ValueError(f"in_channels (weight.shape[0]) must be positive, got weight of shape {weight.shape}")
    if outs_per_group < 1:
        raise ValueError(f"out_channels (weight.shape[1]) must be positive, got weight of shape {weight.shape}")
    if min(weight.shape[2:]) < 1:
        raise ValueError(f"kernel_size must be positive, got weight of shape {weight.shape}")
    if in_channels % groups:
        raise ValueError(f"in_channels (weight.shape[0]={in_channels}) must be divisible by groups={groups}")
    if input.shape[1] != in_channels:
        raise ValueError(
            f"input has {input.shape[1]} channels, but weight of shape {weight.shape} expects in_channels={in_channels}"
        )
    if bias is not None and bias.shape != (outs_per_group * groups,):
        raise ValueError(f"bias must have shape ({outs_per_group * groups},) (out_channels), got {bias.shape}")


def check_input_paddable(input_shape: tuple[int, ...], padding_mode: str) -> None:
    """F.pad's reflect and replicate refuse an input with no channels or an empty axis (even for
    zero pads, and even with an empty batch)."""
    if padding_mode in ("reflect", "replicate") and min(input_shape[1:]) == 0:
        raise ValueError(
            f"padding_mode={padding_mode!r} cannot pad an input with no channels or an empty axis,"
            f" got shape {input_shape}"
        )


def check_kernel_fits(padded_size, kernel_size, dilation, pads: Pads | None = None) -> None:
    extent = tuple(dil * (k - 1) + 1 for dil, k in zip(dilation, kernel_size))
    if any(e > p for e, p in zip(extent, padded_size)):
        after_padding = "" if pads is None else f" after padding {pads}"
        raise ValueError(
            f"kernel_size {tuple(kernel_size)} with dilation {tuple(dilation)} spans {'x'.join(map(str, extent))},"
            f" larger than the input{after_padding}: {'x'.join(map(str, padded_size))}"
        )


def transposed_output_size(size, kernel_size, stride, padding, output_padding, dilation) -> tuple[int, ...]:
    """(in-1)*s - 2p + d*(k-1) + output_padding + 1 per axis, as torch sizes a transposed conv."""
    return tuple(
        (i - 1) * s - 2 * p + dil * (k - 1) + op + 1
        for i, k, s, p, op, dil in zip(size, kernel_size, stride, padding, output_padding, dilation)
    )


def check_output_padding(output_padding, stride, dilation) -> None:
    """Torch's rule: per axis, output_padding < stride or output_padding < dilation."""
    if any(op >= s and op >= dil for op, s, dil in zip(output_padding, stride, dilation)):
        raise ValueError(
            f"output_padding {output_padding} must be smaller than either stride {stride} or"
            f" dilation {dilation} on every axis"
        )
