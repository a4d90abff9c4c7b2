"""The conv2d gradient in float64, for the loss L = sum(conv2d(input, weight, bias) * grad_output).

The forward pass multiplies the weight by the im2col columns of the padded input, so the
weight's gradient is grad_output times the columns, transposed, and the columns' gradient is
the weight, transposed, times grad_output; each column entry copied one padded pixel, so its
gradient adds back onto that pixel (col2im, one kernel tap at a time). Padding only copies
values too, so the padded input's gradient folds back onto the input the same way.
"""

from __future__ import annotations

import numpy as np

from . import spec
from .forward import column_blocks, correlate, is_pointwise, output_size, pixel_range, prepare, scratch, windows
from .padding import fold_borders, pad_input


def correlate_backward(grad_output: np.ndarray, padded: np.ndarray, weight: np.ndarray, stride, dilation, groups: int):
    """The gradients of forward.correlate: (grad of the padded input, grad of the weight)."""
    n, c, hp, wp = padded.shape
    out_channels, per_group, kh, kw = weight.shape
    ho, wo = grad_output.shape[2:]
    outs, taps = out_channels // groups, per_group * kh * kw
    grouped_weight_t = weight.reshape(groups, outs, taps).swapaxes(1, 2)
    if is_pointwise(padded, (kh, kw), stride):
        g = grad_output.reshape(n, groups, outs, ho * wo)
        pixels = padded.reshape(n, groups, per_group, hp * wp)
        grad_weight = (g @ pixels.swapaxes(-1, -2)).sum(axis=0)
        return (grouped_weight_t @ g).reshape(padded.shape), grad_weight.reshape(weight.shape)
    # For stride 1 the padded input's gradient is also a correlation (transposed_correlate). It
    # skips the columns' gradient and its kh*kw strided adds, but its matmul has only C/groups
    # rows where col2im's has O/groups of inner dimension: measured faster when C/groups >= O/groups.
    # It multiplies every kernel tap by the zeros around grad_output too, which is harmless only
    # for a finite weight (inf * 0 would be a NaN the true gradient lacks).
    transposed = stride == (1, 1) and per_group >= outs and bool(np.isfinite(weight).all())
    grad_padded = (
        transposed_correlate(grad_output, weight, dilation, groups) if transposed else np.zeros((n, c, hp, wp))
    )
    # no two pixels of one tap's window share memory, so += through this view is safe per tap
    grad_columns = windows(grad_padded, (kh, kw), stride, dilation, (ho, wo), writeable=True)
    # images and pixels on one axis, as forward.column_blocks lays out the columns
    g = np.ascontiguousarray(grad_output.swapaxes(0, 1)).reshape(groups, outs, n * ho * wo)
    grad_weight = np.zeros((groups, outs, taps))
    for images, rows, block in column_blocks(windows(padded, (kh, kw), stride, dilation, (ho, wo)), groups, outs):
        g_block = g[:, :, pixel_range(images, rows, ho, wo)]
        grad_weight += g_block @ block.swapaxes(-1, -2)
        if transposed:
            continue
        column_grad = scratch("column_grad", block.size).reshape(block.shape)
        np.matmul(grouped_weight_t, g_block, out=column_grad)
        column_grad = column_grad.reshape(c, kh, kw, images.stop - images.start, rows.stop - rows.start, wo)
        for i in range(kh):
            for j in range(kw):
                grad_columns[images, :, i, j, rows] += column_grad[:, i, j].swapaxes(0, 1)
    return grad_padded, grad_weight.reshape(weight.shape)


def transposed_correlate(grad_output: np.ndarray, weight: np.ndarray, dilation, groups: int) -> np.ndarray:
    """For stride 1, the padded input's gradient: grad_output zero-padded by the kernel's extent,
    correlated with the kernel flipped and its two channel axes swapped within each group."""
    out_channels, per_group, kh, kw = weight.shape
    extent_h, extent_w = dilation[0] * (kh - 1), dilation[1] * (kw - 1)
    padded = pad_input(grad_output, ((extent_h, extent_h), (extent_w, extent_w)), "zeros")
    flipped = weight.reshape(groups, out_channels // groups, per_group, kh, kw).swapaxes(1, 2)[..., ::-1, ::-1]
    return correlate(
        padded, flipped.reshape(groups * per_group, out_channels // groups, kh, kw), (1, 1), dilation, groups
    )


def fold_padding(grad_padded: np.ndarray, size, pads: spec.Pads, padding_mode: str) -> np.ndarray:
    """The input's gradient from the padded input's: crop for zeros, else sum over the copies
    first. That sum is done in place: grad_padded is used up."""
    (top, bottom), (left, right) = pads
    height, width = size
    if padding_mode != "zeros":
        if min(top, bottom, left, right) < 0:  # give back the cropped rows and columns, with zero gradient
            uncrop = ((max(-top, 0), max(-bottom, 0)), (max(-left, 0), max(-right, 0)))
            grad_padded = pad_input(grad_padded, uncrop, "zeros")
            (top, bottom), (left, right) = (max(top, 0), max(bottom, 0)), (max(left, 0), max(right, 0))
        fold_borders(grad_padded, height, top, bottom, padding_mode, axis=2)
        fold_borders(grad_padded[:, :, top : top + height], width, left, right, padding_mode, axis=3)
    if (top, bottom, left, right) == (0, 0, 0, 0):
        return grad_padded
    return grad_padded[:, :, top : top + height, left : left + width].copy()


def conv2d_backward(
    grad_output, input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1, padding_mode="zeros"
):
    """(grad_input, grad_weight, grad_bias) of sum(conv2d(input, weight, bias, ...) * grad_output).

    Takes every argument reference.conv2d takes, checked the same way; grad_output has the
    forward output's shape ((O, Ho, Wo) for an unbatched input). grad_bias is None when bias
    is None. The loss is linear in each argument, so these are also its exact derivatives.
    """
    call = prepare(input, weight, bias, stride, padding, dilation, groups, padding_mode)
    geometry = call.geometry
    n, _, hp, wp = call.padded.shape
    out_channels, _, kh, kw = call.weight.shape
    (sh, sw), (dh, dw) = geometry.stride, geometry.dilation
    out_shape = (n, out_channels, output_size(hp, kh, sh, dh), output_size(wp, kw, sw, dw))
    expected = out_shape[1:] if call.unbatched else out_shape
    g = spec.as_float64(grad_output, "grad_output")
    if g.shape != expected:
        raise ValueError(f"grad_output must have the output's shape {expected}, got {g.shape}")
    g = g.reshape(out_shape)
    grad_padded, grad_weight = correlate_backward(
        g, call.padded, call.weight, geometry.stride, geometry.dilation, geometry.groups
    )
    (top, bottom), (left, right) = geometry.pads
    size = (hp - top - bottom, wp - left - right)
    grad_input = fold_padding(grad_padded, size, geometry.pads, geometry.padding_mode)
    grad_bias = None if call.bias is None else g.sum(axis=(0, 2, 3))
    return (grad_input[0] if call.unbatched else grad_input), grad_weight, grad_bias
