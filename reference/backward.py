"""The convolution gradient in float64, for the loss L = sum(conv(input, weight, bias) * grad_output).

The forward pass multiplies the weight by the im2col columns of the padded input, so the
weight's gradient is grad_output times the columns, transposed, and the columns' gradient is
the weight, transposed, times grad_output; each column entry copied one padded pixel, so its
gradient adds back onto that pixel (col2im, one kernel tap at a time). Padding only copies
values too, so the padded input's gradient folds back onto the input the same way.

The transposed convolution uses each half alone: its forward pass is the padded input's
gradient, its weight's gradient this one's, with the roles of the arrays exchanged.
"""

from __future__ import annotations

import itertools
import math

import numpy as np

from . import spec
from .forward import (
    block_budget,
    blocks,
    column_blocks,
    correlate,
    is_pointwise,
    output_shape,
    pixel_range,
    prepare,
    scratch,
    windows,
)
from .padding import fold_borders, pad_input


def correlate_backward(
    grad_output: np.ndarray,
    weight: np.ndarray,
    padded_size,
    stride,
    dilation,
    groups: int,
    padded=None,
    input_grad=True,
):
    """The gradients of forward.correlate: (grad of the padded input, grad of the weight).

    Either may be left out (None): the padded input's when input_grad is False, the weight's
    when `padded` (the correlated input, whose columns it needs) is None. The transposed
    convolution needs each alone; the conv needs both, from one pass over the blocks.
    """
    n, out_channels, *out = grad_output.shape
    _, per_group, *kernel_size = weight.shape
    outs, taps, pixels = out_channels // groups, per_group * math.prod(kernel_size), math.prod(out)
    grouped_weight_t = weight.reshape(groups, outs, taps).swapaxes(1, 2)
    grad_padded = grad_weight = None
    unit_stride = all(s == 1 for s in stride)
    if input_grad and unit_stride and all(k == 1 for k in kernel_size):
        grad_padded = grouped_weight_t @ grad_output.reshape(n, groups, outs, pixels)
        grad_padded = grad_padded.reshape(n, groups * per_group, *padded_size)
        input_grad = False
    if padded is not None and is_pointwise(padded, kernel_size, stride):
        g = grad_output.reshape(n, groups, outs, pixels)
        columns = padded.reshape(n, groups, per_group, pixels)
        grad_weight, padded = (g @ columns.swapaxes(-1, -2)).sum(axis=0).reshape(weight.shape), None
    # For stride 1 the padded input's gradient is also a correlation (transposed_correlate). It
    # skips the columns' gradient and its prod(k) strided adds, but its matmul has only C/groups
    # rows where col2im's has O/groups of inner dimension: measured faster when C/groups >= O/groups.
    # It multiplies every kernel tap by the zeros around grad_output too, which is harmless only
    # for a finite weight (inf * 0 would be a NaN the true gradient lacks).
    if input_grad and unit_stride and per_group >= outs and bool(np.isfinite(weight).all()):
        grad_padded, input_grad = transposed_correlate(grad_output, weight, dilation, groups), False
    if not input_grad and padded is None:
        return grad_padded, grad_weight
    inner = math.prod(out[1:])
    if padded is None:
        budget = block_budget(outs)
        chunks = ((images, rows, None) for images, rows in blocks(n, out[0], groups * taps * inner * 8, budget))
    else:
        grad_weight = np.zeros((groups, outs, taps))
        chunks = column_blocks(windows(padded, kernel_size, stride, dilation, out), groups, outs)
    if input_grad:
        grad_padded = np.zeros((n, groups * per_group, *padded_size))
        # no two pixels of one tap's window share memory, so += through this view is safe per tap
        grad_columns = windows(grad_padded, kernel_size, stride, dilation, out, writeable=True)
    # images and pixels on one axis, as forward.column_blocks lays out the columns
    g = np.ascontiguousarray(grad_output.swapaxes(0, 1)).reshape(groups, outs, n * pixels)
    for images, rows, block in chunks:
        g_block = g[:, :, pixel_range(images, rows, out[0], inner)]
        if block is not None:
            grad_weight += g_block @ block.swapaxes(-1, -2)
        if input_grad:
            column_grad = scratch("column_grad", groups * taps * g_block.shape[2]).reshape(groups, taps, -1)
            np.matmul(grouped_weight_t, g_block, out=column_grad)
            column_grad = column_grad.reshape(
                -1, *kernel_size, images.stop - images.start, rows.stop - rows.start, *out[1:]
            )
            for tap in itertools.product(*map(range, kernel_size)):
                grad_columns[(images, slice(None), *tap, rows)] += column_grad[(slice(None), *tap)].swapaxes(0, 1)
    return grad_padded, (grad_weight if grad_weight is None else grad_weight.reshape(weight.shape))


def transposed_correlate(grad_output: np.ndarray, weight: np.ndarray, dilation, groups: int) -> np.ndarray:
    """For stride 1, the padded input's gradient: grad_output zero-padded by the kernel's extent,
    correlated with the kernel flipped and its two channel axes swapped within each group."""
    out_channels, per_group, *kernel_size = weight.shape
    extents = [dil * (k - 1) for dil, k in zip(dilation, kernel_size)]
    padded = pad_input(grad_output, tuple((e, e) for e in extents), "zeros")
    swapped = weight.reshape(groups, out_channels // groups, per_group, *kernel_size).swapaxes(1, 2)
    flipped = swapped[(Ellipsis, *(slice(None, None, -1),) * len(kernel_size))]
    flipped = flipped.reshape(groups * per_group, out_channels // groups, *kernel_size)
    return correlate(padded, flipped, (1,) * len(kernel_size), dilation, groups)


def fold_padding(grad_padded: np.ndarray, size, pads: spec.Pads, padding_mode: str) -> np.ndarray:
    """The input's gradient from the padded input's: crop for zeros, else sum over the copies
    first. That sum is done in place: grad_padded is used up."""
    if padding_mode != "zeros":
        if min(min(pair) for pair in pads) < 0:  # give back the cropped positions, with zero gradient
            grad_padded = pad_input(grad_padded, tuple((max(-a, 0), max(-b, 0)) for a, b in pads), "zeros")
            pads = tuple((max(a, 0), max(b, 0)) for a, b in pads)
        # fold each axis within the middle of the axes before it, where the copies already landed
        middle = (slice(None), slice(None))
        for axis, (length, (before, after)) in enumerate(zip(size, pads)):
            fold_borders(grad_padded[middle], length, before, after, padding_mode, axis=2 + axis)
            middle += (slice(before, before + length),)
    crop = [slice(before, before + length) for length, (before, _) in zip(size, pads)]
    if all(pair == (0, 0) for pair in pads):
        return grad_padded
    return grad_padded[(slice(None), slice(None), *crop)].copy()


def conv_backward(grad_output, input, weight, bias, stride, padding, dilation, groups, padding_mode, d: int):
    """The one gradient core behind conv1d_backward, conv2d_backward and conv3d_backward."""
    call = prepare(input, weight, bias, stride, padding, dilation, groups, padding_mode, d)
    geometry = call.geometry
    padded_size = call.padded.shape[2:]
    out = output_shape(padded_size, call.weight.shape[2:], geometry.stride, geometry.dilation)
    expected = (call.weight.shape[0], *out) if call.unbatched else (len(call.padded), call.weight.shape[0], *out)
    g = spec.as_float64(grad_output, "grad_output")
    if g.shape != expected:
        raise ValueError(f"grad_output must have the output's shape {expected}, got {g.shape}")
    if call.unbatched:
        g = g[np.newaxis]
    grad_padded, grad_weight = correlate_backward(
        g, call.weight, padded_size, geometry.stride, geometry.dilation, geometry.groups, call.padded
    )
    size = [length - before - after for length, (before, after) in zip(padded_size, geometry.pads)]
    grad_input = fold_padding(grad_padded, size, geometry.pads, geometry.padding_mode)
    grad_bias = None if call.bias is None else g.sum(axis=(0, *range(2, 2 + d)))
    return (grad_input[0] if call.unbatched else grad_input), grad_weight, grad_bias


def conv1d_backward(
    grad_output, input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1, padding_mode="zeros"
):
    """(grad_input, grad_weight, grad_bias) of sum(conv1d(input, weight, bias, ...) * grad_output)."""
    return conv_backward(grad_output, input, weight, bias, stride, padding, dilation, groups, padding_mode, 1)


def conv2d_backward(
    grad_output, input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1, padding_mode="zeros"
):
    """(grad_input, grad_weight, grad_bias) of sum(conv2d(input, weight, bias, ...) * grad_output).

    Takes every argument reference.conv2d takes, checked the same way; grad_output has the
    forward output's shape ((O, Ho, Wo) for an unbatched input). grad_bias is None when bias
    is None. The loss is linear in each argument, so these are also its exact derivatives.
    """
    return conv_backward(grad_output, input, weight, bias, stride, padding, dilation, groups, padding_mode, 2)


def conv3d_backward(
    grad_output, input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1, padding_mode="zeros"
):
    """(grad_input, grad_weight, grad_bias) of sum(conv3d(input, weight, bias, ...) * grad_output)."""
    return conv_backward(grad_output, input, weight, bias, stride, padding, dilation, groups, padding_mode, 3)
