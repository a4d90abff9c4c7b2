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
    if min(pad_h, pad_w) < 0:
        raise ValueError(f"padding must be non-negative, got {padding!r}")
    return ((pad_h, pad_h), (pad_w, pad_w))


def check_pads_fit(pads: Pads, spatial: Pair, padding_mode: str) -> None:
    """reflect needs each pad < the axis size, circular each pad <= the axis size (as torch)."""
    for axis, (before_after, size) in zip(("height", "width"), zip(pads, spatial)):
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


def as_float64(array, name: str) -> np.ndarray:
    array = np.asarray(array)
    if array.dtype == np.bool_ or not (
        np.issubdtype(array.dtype, np.floating) or np.issubdtype(array.dtype, np.integer)
    ):
        raise TypeError(f"{name} must hold real numbers, got dtype {array.dtype}")
    return array.astype(np.float64)


def check_operands(input: np.ndarray, weight: np.ndarray, bias: np.ndarray | None, groups: int) -> None:
    """Ranks and channel counts: input (N, C, H, W), weight (O, C/groups, kh, kw), bias (O,)."""
    if input.ndim != 4:
        raise ValueError(f"input must be 3-D (C, H, W) or 4-D (N, C, H, W), got shape {input.shape}")
    if weight.ndim != 4:
        raise ValueError(f"weight must be 4-D (out_channels, in_channels/groups, kh, kw), got shape {weight.shape}")
    if min(input.shape[2:]) < 1:
        raise ValueError(f"input height and width must be positive, got shape {input.shape}")
    if min(weight.shape) < 1:
        raise ValueError(f"weight must have no empty axis, got shape {weight.shape}")
    out_channels, channels_per_group = weight.shape[:2]
    if out_channels % groups:
        raise ValueError(f"out_channels (weight.shape[0]={out_channels}) must be divisible by groups={groups}")
    if input.shape[1] != channels_per_group * groups:
        raise ValueError(
            f"input has {input.shape[1]} channels, but weight of shape {weight.shape} with groups={groups}"
            f" expects {channels_per_group * groups}"
        )
    if bias is not None and bias.shape != (out_channels,):
        raise ValueError(f"bias must have shape ({out_channels},), got {bias.shape}")


def check_kernel_fits(padded_hw: Pair, kernel_size: Pair, dilation: Pair) -> None:
    extent = tuple(d * (k - 1) + 1 for d, k in zip(dilation, kernel_size))
    if extent[0] > padded_hw[0] or extent[1] > padded_hw[1]:
        raise ValueError(
            f"kernel_size {kernel_size} with dilation {dilation} spans {extent[0]}x{extent[1]},"
            f" larger than the padded input {padded_hw[0]}x{padded_hw[1]}"
        )
