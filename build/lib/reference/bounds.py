"""The magnitude a conv2d result is built from, the scale for every error allowance.

Each output element y = sum(x * w) + b. A summation's rounding error is bounded by a
multiple of eps times sum(|x| * |w|) + |b|: the same convolution on absolute values.
Every padding mode only copies values, so padding |x| equals |padding x|.
"""

from __future__ import annotations

import numpy as np

from .backward import conv2d_backward
from .forward import conv2d
from .spec import check_real


def absolute(**arrays) -> list:
    """|a| for each named array, in order (None stays None), once it is known to hold real numbers."""
    result = []
    for name, array in arrays.items():
        if array is not None:
            array = np.asarray(array)
            check_real(array, name)
            array = np.abs(array)
        result.append(array)
    return result


def conv2d_magnitude(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1, padding_mode="zeros"):
    """|input| conv |weight| + |bias| per output element, in float64."""
    return conv2d(*absolute(input=input, weight=weight, bias=bias), stride, padding, dilation, groups, padding_mode)


def conv2d_backward_magnitude(
    grad_output, input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1, padding_mode="zeros"
):
    """conv2d_backward on absolute values: per element, the sum of |products| each gradient adds up."""
    return conv2d_backward(
        *absolute(grad_output=grad_output, input=input, weight=weight, bias=bias),
        stride,
        padding,
        dilation,
        groups,
        padding_mode,
    )
