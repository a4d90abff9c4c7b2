"""Helpers the hand-computed known-answer tests share."""

import numpy as np


def one_hot(shape, *positions_and_values):
    kernel = np.zeros(shape)
    for position, value in positions_and_values:
        kernel[position] = value
    return kernel


def assert_exact(got, expected):
    """Shape, then dtype, then every value bit for bit (the data are small integers or halves)."""
    __tracebackhide__ = True
    expected = np.asarray(expected, dtype=float)
    assert got.shape == expected.shape, f"shape {got.shape}, expected {expected.shape}"
    assert got.dtype == np.float64, got.dtype
    np.testing.assert_array_equal(got, expected)


# conv_transpose1d's small case, and conv_transpose3d's one-hot scatter, forward and backward
X3 = np.array([[[1.0, 2.0, 3.0]]])
K3 = np.array([[[1.0, 10.0, 100.0]]])
SCATTER_3D = dict(stride=(2, 1, 3), padding=(1, 0, 0), output_padding=(1, 1, 2), dilation=(1, 2, 1))


def scatter_3d_weight():
    w = np.zeros((3, 4, 2, 2, 1))  # (C_in=3, C_out=4, 2, 2, 1)
    w[2, 1, 1, 1, 0] = 1.0  # channel 2 -> output 1 at (2i + 1 - 1, h + 2, 3j)
    w[0, 3, 0, 0, 0] = -2.0  # channel 0 -> output 3 at (2i - 1, h, 3j): depth -1 cropped
    return w
