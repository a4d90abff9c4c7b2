"""An obviously correct conv2d: a loop per output element, each padded pixel looked up by hand.

Only the reference's own tests use it, on tiny sizes, to cross-check the vectorised version.
It shares argument checking with it (reference.spec) but none of the arithmetic or padding.
"""

from __future__ import annotations

import itertools

import numpy as np

from . import spec


def padded_pixel(plane: np.ndarray, row: int, col: int, pads: spec.Pads, padding_mode: str) -> float:
    """The value at (row, col) of the padded plane, from the mode's definition."""
    height, width = plane.shape
    r, c = row - pads[0][0], col - pads[1][0]
    inside = 0 <= r < height and 0 <= c < width
    if inside:
        return plane[r, c]
    if padding_mode == "zeros":
        return 0.0
    if padding_mode == "replicate":
        return plane[min(max(r, 0), height - 1), min(max(c, 0), width - 1)]
    if padding_mode == "circular":
        return plane[r % height, c % width]
    if padding_mode == "reflect":
        r = -r if r < 0 else (2 * (height - 1) - r if r >= height else r)
        c = -c if c < 0 else (2 * (width - 1) - c if c >= width else c)
        return plane[r, c]
    raise ValueError(f"unknown padding_mode {padding_mode!r}")


def conv2d_slow(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1, padding_mode="zeros"):
    x = spec.as_float64(input, "input")
    w = spec.as_float64(weight, "weight")
    unbatched = x.ndim == 3
    if unbatched:
        x = x[np.newaxis]
    groups = spec.check_groups(groups)
    (sh, sw), (dh, dw) = spec.positive_pair(stride, "stride"), spec.positive_pair(dilation, "dilation")
    padding_mode = spec.check_padding_mode(padding_mode)
    spec.check_operands(x, w, None if bias is None else np.asarray(bias, dtype=float), groups)
    n_batch, channels, height, width = x.shape
    out_channels, per_group, kh, kw = w.shape
    pads = spec.resolve_padding(padding, (kh, kw), (dh, dw), (sh, sw))
    spec.check_pads_fit(pads, (height, width), padding_mode)
    padded_h, padded_w = height + sum(pads[0]), width + sum(pads[1])
    spec.check_kernel_fits((padded_h, padded_w), (kh, kw), (dh, dw))
    out_h = (padded_h - dh * (kh - 1) - 1) // sh + 1
    out_w = (padded_w - dw * (kw - 1) - 1) // sw + 1
    out = np.zeros((n_batch, out_channels, out_h, out_w))
    outs_per_group = out_channels // groups
    for n, o, y, x_ in itertools.product(range(n_batch), range(out_channels), range(out_h), range(out_w)):
        group = o // outs_per_group
        total = 0.0 if bias is None else float(bias[o])
        for c, i, j in itertools.product(range(per_group), range(kh), range(kw)):
            plane = x[n, group * per_group + c]
            total += w[o, c, i, j] * padded_pixel(plane, y * sh + i * dh, x_ * sw + j * dw, pads, padding_mode)
        out[n, o, y, x_] = total
    return out[0] if unbatched else out
