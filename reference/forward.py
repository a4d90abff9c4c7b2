"""The conv2d forward pass in float64: validate, pad, then correlate tap by tap."""

from __future__ import annotations

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


def correlate(padded: np.ndarray, weight: np.ndarray, stride, dilation, groups: int) -> np.ndarray:
    """Cross-correlate an already padded input: one batched matmul per kernel tap."""
    n, c, hp, wp = padded.shape
    out_channels, per_group, kh, kw = weight.shape
    (sh, sw), (dh, dw) = stride, dilation
    ho, wo = output_size(hp, kh, sh, dh), output_size(wp, kw, sw, dw)
    grouped_input = padded.reshape(n, groups, per_group, hp, wp)
    grouped_weight = weight.reshape(groups, out_channels // groups, per_group, kh, kw)
    out = np.zeros((n, groups, out_channels // groups, ho * wo))
    for i in range(kh):
        for j in range(kw):
            rows = slice(i * dh, i * dh + sh * (ho - 1) + 1, sh)
            cols = slice(j * dw, j * dw + sw * (wo - 1) + 1, sw)
            taps = grouped_input[:, :, :, rows, cols].reshape(n, groups, per_group, ho * wo)
            out += grouped_weight[:, :, :, i, j] @ taps
    return out.reshape(n, out_channels, ho, wo)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1, padding_mode="zeros"):
    """What torch.nn.Conv2d computes, in float64.

    input: (N, C, H, W), or (C, H, W) for an unbatched result. weight: (O, C/groups, kh, kw).
    padding: int, pair, 'same' or 'valid'; padding_mode pads first, then the convolution runs
    with no further padding, as nn.Conv2d does. As there, negative padding crops in the
    non-zero modes and is an error with 'zeros'. input, weight and bias share one dtype.
    """
    call = prepare(input, weight, bias, stride, padding, dilation, groups, padding_mode)
    g = call.geometry
    out = correlate(call.padded, call.weight, g.stride, g.dilation, g.groups)
    if call.bias is not None:
        out += call.bias[None, :, None, None]
    return out[0] if call.unbatched else out
