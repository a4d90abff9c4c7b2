"""The magnitude a convolution's result is built from, the scale for every error allowance.

Each output element y = sum(x * w) + b, for the plain and the transposed convolutions alike,
and so is each element of their gradients (sums of products of two of the arguments). A
summation's rounding error is bounded by a multiple of eps times sum(|x| * |w|) + |b|: the
same operation on absolute values. Every padding mode only copies values, so padding |x|
equals |padding x|; cropping and zero-extending (the transposed output) likewise.
"""

from __future__ import annotations

import numpy as np

from .backward import conv1d_backward, conv2d_backward, conv3d_backward
from .forward import conv1d, conv2d, conv3d
from .spec import check_real
from .transposed import (
    conv_transpose1d,
    conv_transpose1d_backward,
    conv_transpose2d,
    conv_transpose2d_backward,
    conv_transpose3d,
    conv_transpose3d_backward,
)


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


def on_absolute_values(operation, name: str):
    """operation (a forward op, or a *_backward taking grad_output first) on |every array argument|,
    the other arguments passed as they are."""
    backward = name.endswith("_backward_magnitude")

    def magnitude(*args, **kwargs):
        arrays = ("grad_output", "input", "weight", "bias") if backward else ("input", "weight", "bias")
        named = {**dict(zip(arrays, args)), **{k: kwargs.pop(k) for k in arrays if k in kwargs}}
        named.setdefault("bias", None)
        return operation(*absolute(**{k: named.get(k) for k in arrays}), *args[len(arrays) :], **kwargs)

    magnitude.__name__ = magnitude.__qualname__ = name
    magnitude.__doc__ = f"{operation.__name__} on absolute values: per element, the sum of |products| it adds up."
    return magnitude


conv1d_magnitude = on_absolute_values(conv1d, "conv1d_magnitude")
conv2d_magnitude = on_absolute_values(conv2d, "conv2d_magnitude")
conv3d_magnitude = on_absolute_values(conv3d, "conv3d_magnitude")
conv_transpose1d_magnitude = on_absolute_values(conv_transpose1d, "conv_transpose1d_magnitude")
conv_transpose2d_magnitude = on_absolute_values(conv_transpose2d, "conv_transpose2d_magnitude")
conv_transpose3d_magnitude = on_absolute_values(conv_transpose3d, "conv_transpose3d_magnitude")
conv1d_backward_magnitude = on_absolute_values(conv1d_backward, "conv1d_backward_magnitude")
conv2d_backward_magnitude = on_absolute_values(conv2d_backward, "conv2d_backward_magnitude")
conv3d_backward_magnitude = on_absolute_values(conv3d_backward, "conv3d_backward_magnitude")
conv_transpose1d_backward_magnitude = on_absolute_values(
    conv_transpose1d_backward, "conv_transpose1d_backward_magnitude"
)
conv_transpose2d_backward_magnitude = on_absolute_values(
    conv_transpose2d_backward, "conv_transpose2d_backward_magnitude"
)
conv_transpose3d_backward_magnitude = on_absolute_values(
    conv_transpose3d_backward, "conv_transpose3d_backward_magnitude"
)
