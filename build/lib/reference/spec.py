"""Argument checking for conv2d, with torch's rules and errors that name the bad argument.

Everything here normalises what the caller passed (ints or pairs, padding strings, modes)
into plain tuples, or raises ValueError/TypeError. Nothing is ever given a silent default.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np

PADDING_MODES = ("zeros", "reflect", "replicate", "circular")
PADDING_STRINGS = ("same", "valid")

Pair = tuple[int, int]
Pads = tuple[Pair, Pair]  # ((top, bottom), (left, right))


@dataclass(frozen=True)
class Geometry:
    """A validated convolution: what conv2d does once the arguments are understood."""

    stride: Pair
    dilation: Pair
    pads: Pads
    groups: int
    padding_mode: str


def _is_int(value) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))


def as_pair(value, name: str) -> Pair:
    """An int, or a sequence of one or two ints (as torch accepts), as a pair."""
    if _is_int(value):
        return (int(value), int(value))
    if isinstance(value, (tuple, list)) and len(value) in (1, 2) and all(map(_is_int, value)):
        return (int(value[0]), int(value[-1]))
    raise TypeError(f"{name} must be an int or a pair of ints, got {value!r}")


def positive_pair(value, name: str) -> Pair:
    pair = as_pair(value, name)
    if min(pair) < 1:
        raise ValueError(f"{name} must be positive, got {value!r}")
    return pair


def check_groups(groups) -> int:
    if not _is_int(groups):
        raise TypeError(f"groups must be an int, got {groups!r}")
    if groups < 1:
        raise ValueError(f"groups must be a positive integer, got {groups!r}")
    return int(groups)


def check_padding_form(padding, padding_mode: str) -> None:
    """A one-element padding sequence is only meaningful with zeros.

    nn.Conv2d hands F.pad each padding value twice, so `padding=[p]` becomes F.pad(x, (p, p)),
    which pads the width alone: 4-D input raises, and 3-D input gets a result that disagrees
    with what `padding=[p]` means for 'zeros' (both axes). The reference rejects both.
    """
    if padding_mode != "zeros" and isinstance(padding, (tuple, list)) and len(padding) == 1:
        raise ValueError(
            f"padding={padding!r} (one value in a sequence) works only with padding_mode='zeros';"
            f" give an int or a pair for padding_mode={padding_mode!r}"
        )


def check_padding_mode(padding_mode) -> str:
    if padding_mode not in PADDING_MODES:
        raise ValueError(f"padding_mode must be one of {PADDING_MODES}, got {padding_mode!r}")
    return padding_mode


def resolve_padding(padding, kernel_size: Pair, dilation: Pair, stride: Pair) -> Pads:
    """Pads as ((top, bottom), (left, right)).

    'same' pads d*(k-1) in total per axis, the smaller half first: the odd pixel goes to the
    bottom/right, as torch does. It is only legal with stride 1.
    """
    if isinstance(padding, str):
        if padding not in PADDING_STRINGS:
            raise ValueError(f"padding must be an int, a pair or one of {PADDING_STRINGS}, got {padding!r}")
        if padding == "valid":
            return ((0, 0), (0, 0))
        if stride != (1, 1):
            raise ValueError(f"padding='same' needs stride 1, got stride={stride}")
        totals = [d * (k - 1) for d, k in zip(dilation, kernel_size)]
        return tuple((total // 2, total - total // 2) for total in totals)
    pad_h, pad_w = as_pair(padding, "padding")
    return ((pad_h, pad_h), (pad_w, pad_w))  # negative pads crop; check_pads_fit rules on them


def check_pads_fit(pads: Pads, spatial: Pair, padding_mode: str) -> None:
    """The pads torch accepts for this mode and input size.

    'zeros' pads inside the convolution, which rejects negative padding. The other modes pad
    with F.pad first, where a negative pad crops; the crop must leave something. reflect needs
    each pad < the axis size, circular each pad <= the axis size.
    """
    if padding_mode == "zeros":
        if min(min(pads[0]), min(pads[1])) < 0:
            raise ValueError(
                f"negative padding {pads} is not supported with padding_mode='zeros'"
                " (the other padding modes crop instead)"
            )
        return
    for axis, (before_after, size) in zip(("height", "width"), zip(pads, spatial)):
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
    if array.dtype == np.bool_ or not (
        np.issubdtype(array.dtype, np.floating) or np.issubdtype(array.dtype, np.integer)
    ):
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


def check_operands(input: np.ndarray, weight: np.ndarray, bias: np.ndarray | None, groups: int) -> None:
    """Ranks and channel counts: input (N, C, H, W), weight (O, C/groups, kh, kw), bias (O,)."""
    if input.ndim != 4:
        raise ValueError(f"input must be 3-D (C, H, W) or 4-D (N, C, H, W), got shape {input.shape}")
    if weight.ndim != 4:
        raise ValueError(f"weight must be 4-D (out_channels, in_channels/groups, kh, kw), got shape {weight.shape}")
    if min(input.shape[2:]) < 1 and min(input.shape[:2]) > 0:
        raise ValueError(
            "input height and width must be positive unless the batch or the channels are empty,"
            f" got shape {input.shape}"
        )
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


def check_input_paddable(input_shape: tuple[int, ...], padding_mode: str) -> None:
    """F.pad's reflect and replicate refuse an input with no channels (even for zero pads)."""
    if padding_mode in ("reflect", "replicate") and input_shape[1] == 0:
        raise ValueError(f"padding_mode={padding_mode!r} cannot pad an input with no channels, got shape {input_shape}")


def check_kernel_fits(padded_hw: Pair, kernel_size: Pair, dilation: Pair, pads: Pads | None = None) -> None:
    extent = tuple(d * (k - 1) + 1 for d, k in zip(dilation, kernel_size))
    if extent[0] > padded_hw[0] or extent[1] > padded_hw[1]:
        after_padding = "" if pads is None else f" after padding {pads}"
        raise ValueError(
            f"kernel_size {kernel_size} with dilation {dilation} spans {extent[0]}x{extent[1]},"
            f" larger than the input{after_padding}: {padded_hw[0]}x{padded_hw[1]}"
        )
