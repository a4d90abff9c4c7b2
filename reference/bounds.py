"""The magnitude a conv2d result is built from, the scale for every error allowance.

Each output element y = sum(x * w) + b. A summation's rounding error is bounded by a
multiple of eps times sum(|x| * |w|) + |b|: the same convolution on absolute values.
Every padding mode only copies values, so padding |x| equals |padding x|.
"""

from __future__ import annotations

import numpy as np

from .forward import conv2d


def conv2d_magnitude(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1, padding_mode="zeros"):
    """|input| conv |weight| + |bias| per output element, in float64."""
    return conv2d(
        np.abs(np.asarray(input)),
        np.abs(np.asarray(weight)),
        None if bias is None else np.abs(np.asarray(bias)),
        stride=stride,
        padding=padding,
        dilation=dilation,
        groups=groups,
        padding_mode=padding_mode,
    )
