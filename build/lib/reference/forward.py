"""The conv2d forward pass in float64: validate, pad, then correlate by im2col and matmul."""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np

from . import spec
from .padding import pad_input


@dataclass(frozen=True)
class PreparedCall:
    padded: np.ndarray  # (N, C, Hp, Wp) float64
    weight: np.ndarray  # (O, C/groups, kh, kw) float64
    bias: np.ndarray | None
    geometry: spec.Geometry
    unbatched: bool


def prepare(input, weight, bias, stride, padding, dilation, groups, padding_mode) -> PreparedCall:
    """Check every argument as torch would, and pad the input; the shared front of the reference."""
    x, w, b = spec.as_float64_operands(input, weight, bias)
    unbatched = x.ndim == 3
    if unbatched:
        x = x[np.newaxis]
    groups = spec.check_groups(groups)
    stride = spec.positive_pair(stride, "stride")
    dilation = spec.positive_pair(dilation, "dilation")
    padding_mode = spec.check_padding_mode(padding_mode)
    spec.check_operands(x, w, b, groups)
    spec.check_padding_form(padding, padding_mode)
    kernel_size = (w.shape[2], w.shape[3])
    pads = spec.resolve_padding(padding, kernel_size, dilation, stride)
    spec.check_input_paddable(x.shape, padding_mode)
    spec.check_pads_fit(pads, x.shape[2:], padding_mode)
    padded = pad_input(x, pads, padding_mode)
    spec.check_kernel_fits(padded.shape[2:], kernel_size, dilation, pads)
    geometry = spec.Geometry(stride, dilation, pads, groups, padding_mode)
    return PreparedCall(padded, w, b, geometry, unbatched)


def output_size(padded: int, kernel: int, stride: int, dilation: int) -> int:
    return (padded - dilation * (kernel - 1) - 1) // stride + 1


def windows(padded: np.ndarray, kernel_size, stride, dilation, out_size, writeable: bool = False) -> np.ndarray:
    """A view (N, C, kh, kw, Ho, Wo) of the padded input:
    [n, c, i, j, y, x] = padded[n, c, y*sh + i*dh, x*sw + j*dw]."""
    n, c = padded.shape[:2]
    (kh, kw), (sh, sw), (dh, dw), (ho, wo) = kernel_size, stride, dilation, out_size
    s_n, s_c, s_h, s_w = padded.strides
    shape, strides = (n, c, kh, kw, ho, wo), (s_n, s_c, dh * s_h, dw * s_w, sh * s_h, sw * s_w)
    return np.lib.stride_tricks.as_strided(padded, shape, strides, writeable=writeable)


# Below this many output channels per group (depthwise, say), a matmul against the im2col columns
# reads each column about once: it runs at memory speed, not at the speed of arithmetic.
NARROW = 8
NARROW_BLOCK_BYTES = 1 << 20  # to stay in cache
BLOCK_BYTES = 1 << 23  # fewer, larger matmuls


def blocks(n: int, ho: int, bytes_per_row: int, budget: int) -> list[tuple[slice, slice]]:
    """(images, output rows) per block: whole images when one fits in the budget, else rows of one image."""
    rows = max(1, budget // max(1, bytes_per_row))
    if rows >= ho:
        images = rows // ho
        return [(slice(first, min(first + images, n)), slice(0, ho)) for first in range(0, n, images)]
    return [
        (slice(image, image + 1), slice(first, min(first + rows, ho)))
        for image in range(n)
        for first in range(0, ho, rows)
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


def column_blocks(columns: np.ndarray, groups: int, outs: int):
    """Yield (images, rows, block): the im2col columns of those images and output rows, as
    (groups, C/groups*kh*kw, images*rows*Wo), for a matmul with `outs` output channels per group.

    Images and pixels share the last axis, so that each group is one wide matmul rather than a
    stack of one per image (which OpenBLAS threads worse: 0.36 against 0.52 ms on the medium
    bench case with 2 threads). The columns are built a block at a time into one reused buffer,
    which keeps the extra memory to a block (NARROW_BLOCK_BYTES for a memory-bound, narrow
    matmul, else BLOCK_BYTES). A block is only valid until the next one is yielded.
    """
    n, c, kh, kw, ho, wo = columns.shape
    for images, rows in blocks(n, ho, c * kh * kw * wo * 8, NARROW_BLOCK_BYTES if outs < NARROW else BLOCK_BYTES):
        window = columns[images, :, :, :, rows].transpose(1, 2, 3, 0, 4, 5)
        copy = scratch("columns", window.size).reshape(window.shape)
        np.copyto(copy, window)
        pixels = (images.stop - images.start) * (rows.stop - rows.start) * wo
        yield images, rows, copy.reshape(groups, c // groups * kh * kw, pixels)


def pixel_range(images: slice, rows: slice, ho: int, wo: int) -> slice:
    """Where a block's columns lie along the flattened (N, Ho, Wo) axis: whole images, or rows of one."""
    if rows.stop - rows.start == ho:
        return slice(images.start * ho * wo, images.stop * ho * wo)
    return slice((images.start * ho + rows.start) * wo, (images.start * ho + rows.stop) * wo)


def is_pointwise(padded: np.ndarray, kernel_size, stride) -> bool:
    """A 1x1 kernel with stride 1: the input is its own im2col, with images outermost."""
    return tuple(kernel_size) == (1, 1) and tuple(stride) == (1, 1) and padded.flags.c_contiguous


def correlate(
    padded: np.ndarray, weight: np.ndarray, stride, dilation, groups: int, bias: np.ndarray | None = None
) -> np.ndarray:
    """Cross-correlate an already padded input, plus bias: im2col, then one matmul per group and block."""
    n, c, hp, wp = padded.shape
    out_channels, per_group, kh, kw = weight.shape
    (sh, sw), (dh, dw) = stride, dilation
    ho, wo = output_size(hp, kh, sh, dh), output_size(wp, kw, sw, dw)
    outs = out_channels // groups
    grouped_weight = weight.reshape(groups, outs, per_group * kh * kw)
    if is_pointwise(padded, (kh, kw), stride):
        out = np.matmul(grouped_weight, padded.reshape(n, groups, per_group, hp * wp))
        if bias is not None:
            out += bias.reshape(groups, outs, 1)
        return out.reshape(n, out_channels, ho, wo)
    out = np.empty((groups, outs, n * ho * wo))
    for images, rows, block in column_blocks(windows(padded, (kh, kw), stride, dilation, (ho, wo)), groups, outs):
        np.matmul(grouped_weight, block, out=out[:, :, pixel_range(images, rows, ho, wo)])
    if bias is not None:
        out += bias.reshape(groups, outs, 1)
    # a view, images outermost: copying it into that order would cost more than the matmul saved
    return out.reshape(out_channels, n, ho, wo).swapaxes(0, 1)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1, padding_mode="zeros"):
    """What torch.nn.Conv2d computes, in float64.

    input: (N, C, H, W), or (C, H, W) for an unbatched result. weight: (O, C/groups, kh, kw).
    padding: int, pair, 'same' or 'valid'; padding_mode pads first, then the convolution runs
    with no further padding, as nn.Conv2d does. As there, negative padding crops in the
    non-zero modes and is an error with 'zeros'. input, weight and bias share one dtype.
    """
    call = prepare(input, weight, bias, stride, padding, dilation, groups, padding_mode)
    g = call.geometry
    out = correlate(call.padded, call.weight, g.stride, g.dilation, g.groups, call.bias)
    return out[0] if call.unbatched else out
