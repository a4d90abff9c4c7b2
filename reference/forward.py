"""The convolution forward pass in float64, for 1, 2 or 3 spatial axes: validate, pad, then
correlate by im2col and matmul. conv1d, conv2d and conv3d are the one core with d fixed."""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass

import numpy as np

from . import spec
from .padding import pad_input


@dataclass(frozen=True)
class PreparedCall:
    padded: np.ndarray  # (N, C, *padded spatial) float64
    weight: np.ndarray  # (O, C/groups, *k) float64
    bias: np.ndarray | None
    geometry: spec.Geometry
    unbatched: bool


def batched(x: np.ndarray, d: int) -> tuple[np.ndarray, bool]:
    """x with a batch axis, and whether it was added (an unbatched (C, *spatial) input)."""
    return (x[np.newaxis], True) if x.ndim == d + 1 else (x, False)


def prepare(input, weight, bias, stride, padding, dilation, groups, padding_mode, d: int = 2) -> PreparedCall:
    """Check every argument as torch would, and pad the input; the shared front of the reference."""
    x, w, b = spec.as_float64_operands(input, weight, bias)
    x, unbatched = batched(x, d)
    groups = spec.check_groups(groups)
    stride = spec.positive_tuple(stride, d, "stride")
    dilation = spec.positive_tuple(dilation, d, "dilation")
    padding_mode = spec.check_padding_mode(padding_mode)
    spec.check_operands(x, w, b, groups, d)
    spec.check_padding_form(padding, padding_mode, d)
    kernel_size = w.shape[2:]
    pads = spec.resolve_padding(padding, kernel_size, dilation, stride)
    spec.check_input_paddable(x.shape, padding_mode)
    spec.check_pads_fit(pads, x.shape[2:], padding_mode)
    padded = pad_input(x, pads, padding_mode)
    spec.check_kernel_fits(padded.shape[2:], kernel_size, dilation, pads)
    geometry = spec.Geometry(stride, dilation, pads, groups, padding_mode)
    return PreparedCall(padded, w, b, geometry, unbatched)


def output_size(padded: int, kernel: int, stride: int, dilation: int) -> int:
    return (padded - dilation * (kernel - 1) - 1) // stride + 1


def output_shape(padded_size, kernel_size, stride, dilation) -> tuple[int, ...]:
    return tuple([(p - dil * (k - 1) - 1) // s + 1 for p, k, s, dil in zip(padded_size, kernel_size, stride, dilation)])


def windows(padded: np.ndarray, kernel_size, stride, dilation, out_size, writeable: bool = False) -> np.ndarray:
    """A view (N, C, *k, *out) of the padded input; in 2-D
    [n, c, i, j, y, x] = padded[n, c, y*sh + i*dh, x*sw + j*dw]."""
    spatial = padded.strides[2:]
    strides = (
        *padded.strides[:2],
        *[dil * s for dil, s in zip(dilation, spatial)],
        *[st * s for st, s in zip(stride, spatial)],
    )
    shape = (*padded.shape[:2], *kernel_size, *out_size)
    if padded.flags.c_contiguous and padded.size:
        # the same view as as_strided's, built without its several microseconds of overhead
        # (numpy checks that it stays inside padded's memory)
        view = np.ndarray(shape, padded.dtype, padded, 0, strides)
        view.flags.writeable = writeable
        return view
    return np.lib.stride_tricks.as_strided(padded, shape, strides, writeable=writeable)


# Below this many output channels per group (depthwise, say), a matmul against the im2col columns
# reads each column about once: it runs at memory speed, not at the speed of arithmetic.
NARROW = 8
NARROW_BLOCK_BYTES = 1 << 20  # to stay in cache
BLOCK_BYTES = 1 << 23  # fewer, larger matmuls


def block_budget(outs: int) -> int:
    """The bytes of columns per block, for a matmul with `outs` output channels per group."""
    return NARROW_BLOCK_BYTES if outs < NARROW else BLOCK_BYTES


def blocks(n: int, rows_total: int, bytes_per_row: int, budget: int) -> list[tuple[slice, slice]]:
    """(images, rows of the first output axis) per block: whole images when one fits in the
    budget, else rows of one image."""
    rows = max(1, budget // max(1, bytes_per_row))
    if rows >= rows_total:
        images = rows // max(1, rows_total)
        return [(slice(first, min(first + images, n)), slice(0, rows_total)) for first in range(0, n, images)]
    return [
        (slice(image, image + 1), slice(first, min(first + rows, rows_total)))
        for image in range(n)
        for first in range(0, rows_total, rows)
    ]


_scratch = threading.local()


def scratch(name: str, size: int) -> np.ndarray:
    """A float64 work buffer of `size` elements, kept per thread and name between calls: fresh
    megabyte-sized arrays come back from the allocator as new pages, and faulting them in costs
    more than the arithmetic on mid-sized convolutions."""
    buffer = getattr(_scratch, name, None)
    if buffer is None or buffer.size < size:
        buffer = np.empty(size)
        setattr(_scratch, name, buffer)
    return buffer[:size]


# Why the im2col gather stays on one thread, although torch splits its unfold over images: numpy
# releases the GIL for the strided copy, but handing part of it to a sleeping thread cost about
# 80 us on this project's 2-vCPU machine (OpenBLAS's threads still spin after each matmul), against
# 0.22 ms for the whole medium bench case's copy. Measured, split in two: the medium case's copy
# 0.22 -> 0.26 ms; blocks of 1, 2 and 4 MiB (8 images, C=64, 56x56, k3) 3.4x, 1.65x, 1.2x slower,
# 8 MiB 12% faster, and slower again under load. The remaining gap to torch is mostly the GEMM
# (OpenBLAS 0.38-0.46 ms against torch's 0.29 ms on the medium case's matmul).


def column_blocks(columns: np.ndarray, groups: int, outs: int):
    """Yield (images, rows, block): the im2col columns of those images and rows of the first
    output axis, as (groups, C/groups*prod(k), images*rows*(rest of the output)), for a matmul
    with `outs` output channels per group.

    Images and pixels share the last axis, so that each group is one wide matmul rather than a
    stack of one per image (which OpenBLAS threads worse: 0.36 against 0.52 ms on the medium
    bench case with 2 threads). The columns are built a block at a time into one reused buffer,
    which keeps the extra memory to a block (NARROW_BLOCK_BYTES for a memory-bound, narrow
    matmul, else BLOCK_BYTES). A block is only valid until the next one is yielded.
    """
    n, c = columns.shape[:2]
    d = (columns.ndim - 2) // 2
    out = columns.shape[2 + d :]
    taps, inner = c * math.prod(columns.shape[2 : 2 + d]), math.prod(out[1:])
    channels_first, before_rows = CHANNELS_FIRST[d], (slice(None),) * (1 + d)
    for images, rows in blocks(n, out[0], taps * inner * 8, block_budget(outs)):
        window = columns[(images, *before_rows, rows)].transpose(channels_first)
        copy = scratch("columns", window.size).reshape(window.shape)
        np.copyto(copy, window)
        pixels = (images.stop - images.start) * (rows.stop - rows.start) * inner
        yield images, rows, copy.reshape(groups, taps // groups, pixels)


# (N, C, *k, *out) to (C, *k, N, *out): channels and taps first, then images and pixels
CHANNELS_FIRST = {d: (1, *range(2, 2 + d), 0, *range(2 + d, 2 + 2 * d)) for d in (1, 2, 3)}


def pixel_range(images: slice, rows: slice, rows_total: int, inner: int) -> slice:
    """Where a block's columns lie along the flattened (N, *out) axis: whole images, or rows of
    one; `inner` is the size of the output past its first axis."""
    if rows.stop - rows.start == rows_total:
        return slice(images.start * rows_total * inner, images.stop * rows_total * inner)
    return slice((images.start * rows_total + rows.start) * inner, (images.start * rows_total + rows.stop) * inner)


def is_pointwise(padded: np.ndarray, kernel_size, stride) -> bool:
    """A 1x1 kernel with stride 1: the input is its own im2col, with images outermost."""
    return all(k == 1 for k in kernel_size) and all(s == 1 for s in stride) and padded.flags.c_contiguous


def correlate(
    padded: np.ndarray, weight: np.ndarray, stride, dilation, groups: int, bias: np.ndarray | None = None
) -> np.ndarray:
    """Cross-correlate an already padded input, plus bias: im2col, then one matmul per group and block."""
    n = padded.shape[0]
    out_channels, per_group = weight.shape[:2]
    kernel_size = weight.shape[2:]
    out = output_shape(padded.shape[2:], kernel_size, stride, dilation)
    outs, pixels, inner = out_channels // groups, math.prod(out), math.prod(out[1:])
    grouped_weight = weight.reshape(groups, outs, per_group * math.prod(kernel_size))
    if is_pointwise(padded, kernel_size, stride):
        result = np.matmul(grouped_weight, padded.reshape(n, groups, per_group, pixels))
        if bias is not None:
            result += bias.reshape(groups, outs, 1)
        return result.reshape(n, out_channels, *out)
    result = np.empty((groups, outs, n * pixels))
    for images, rows, block in column_blocks(windows(padded, kernel_size, stride, dilation, out), groups, outs):
        np.matmul(grouped_weight, block, out=result[:, :, pixel_range(images, rows, out[0], inner)])
    if bias is not None:
        result += bias.reshape(groups, outs, 1)
    # a view, images outermost: copying it into that order would cost more than the matmul saved
    return result.reshape(out_channels, n, *out).swapaxes(0, 1)


def conv(input, weight, bias, stride, padding, dilation, groups, padding_mode, d: int) -> np.ndarray:
    """The one convolution core behind conv1d, conv2d and conv3d."""
    call = prepare(input, weight, bias, stride, padding, dilation, groups, padding_mode, d)
    g = call.geometry
    out = correlate(call.padded, call.weight, g.stride, g.dilation, g.groups, call.bias)
    return out[0] if call.unbatched else out


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1, padding_mode="zeros"):
    """What torch.nn.Conv1d computes, in float64: input (N, C, L) or (C, L), weight (O, C/groups, k)."""
    return conv(input, weight, bias, stride, padding, dilation, groups, padding_mode, 1)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1, padding_mode="zeros"):
    """What torch.nn.Conv2d computes, in float64.

    input: (N, C, H, W), or (C, H, W) for an unbatched result. weight: (O, C/groups, kh, kw).
    padding: int, pair, 'same' or 'valid'; padding_mode pads first, then the convolution runs
    with no further padding, as nn.Conv2d does. As there, negative padding crops in the
    non-zero modes and is an error with 'zeros'. input, weight and bias share one dtype.
    """
    return conv(input, weight, bias, stride, padding, dilation, groups, padding_mode, 2)


def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1, padding_mode="zeros"):
    """What torch.nn.Conv3d computes, in float64: input (N, C, D, H, W) or (C, D, H, W),
    weight (O, C/groups, kd, kh, kw); the rules are conv2d's, per axis."""
    return conv(input, weight, bias, stride, padding, dilation, groups, padding_mode, 3)
