"""The conv2d gradient in float64, for the loss L = sum(conv2d(input, weight, bias) * grad_output).

The forward pass is one matmul per kernel tap on a strided slice of the padded input, so
each tap's gradient is two matmuls: grad_output against that slice (for the weight) and
the tap's weight, transposed, against grad_output, scattered back into the slice (for the
padded input). Padding only copies values, so the padded input's gradient folds back onto
the input: each padded position adds to the input position it copied.
"""

from __future__ import annotations

import numpy as np

from . import spec
from .forward import output_size, prepare
from .padding import source_indices


def correlate_backward(grad_output: np.ndarray, padded: np.ndarray, weight: np.ndarray, stride, dilation, groups: int):
    """The gradients of forward.correlate: (grad of the padded input, grad of the weight)."""
    n, c, hp, wp = padded.shape
    out_channels, per_group, kh, kw = weight.shape
    (sh, sw), (dh, dw) = stride, dilation
    ho, wo = grad_output.shape[2:]
    grouped_input = padded.reshape(n, groups, per_group, hp, wp)
    grouped_weight = weight.reshape(groups, out_channels // groups, per_group, kh, kw)
    g = grad_output.reshape(n, groups, out_channels // groups, ho * wo)
    grad_padded = np.zeros((n, groups, per_group, hp, wp))
    grad_weight = np.zeros((groups, out_channels // groups, per_group, kh, kw))
    for i in range(kh):
        for j in range(kw):
            rows = slice(i * dh, i * dh + sh * (ho - 1) + 1, sh)
            cols = slice(j * dw, j * dw + sw * (wo - 1) + 1, sw)
            taps = grouped_input[:, :, :, rows, cols].reshape(n, groups, per_group, ho * wo)
            grad_weight[:, :, :, i, j] = (g @ taps.swapaxes(-1, -2)).sum(axis=0)
            back = grouped_weight[:, :, :, i, j].swapaxes(-1, -2) @ g
            grad_padded[:, :, :, rows, cols] += back.reshape(n, groups, per_group, ho, wo)
    return grad_padded.reshape(n, c, hp, wp), grad_weight.reshape(weight.shape)


def fold_padding(grad_padded: np.ndarray, size, pads: spec.Pads, padding_mode: str) -> np.ndarray:
    """The input's gradient from the padded input's: crop for zeros, else sum over the copies."""
    (top, bottom), (left, right) = pads
    height, width = size
    if padding_mode == "zeros":
        return grad_padded[:, :, top : top + height, left : left + width].copy()
    rows = source_indices(height, top, bottom, padding_mode)
    cols = source_indices(width, left, right, padding_mode)
    n, c, _, padded_w = grad_padded.shape
    by_rows = np.zeros((n, c, height, padded_w))
    np.add.at(by_rows, (slice(None), slice(None), rows), grad_padded)
    folded = np.zeros((n, c, height, width))
    np.add.at(folded, (slice(None), slice(None), slice(None), cols), by_rows)
    return folded


def conv2d_backward(grad_output, input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1, padding_mode="zeros"):
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
    grad_padded, grad_weight = correlate_backward(g, call.padded, call.weight, geometry.stride, geometry.dilation, geometry.groups)
    (top, bottom), (left, right) = geometry.pads
    size = (hp - top - bottom, wp - left - right)
    grad_input = fold_padding(grad_padded, size, geometry.pads, geometry.padding_mode)
    grad_bias = None if call.bias is None else g.sum(axis=(0, 2, 3))
    return (grad_input[0] if call.unbatched else grad_input), grad_weight, grad_bias
