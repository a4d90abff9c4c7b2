"""reference.conv2d on small cases whose answers were worked out by hand.

Sizes are chosen so that axis mix-ups change the answer: N, C, H and W differ, inputs are
not square, strides and dilations differ per axis, and 'same' uses an even kernel.
"""

import numpy as np
import pytest

import reference

TWO_BY_THREE = np.array([[[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]]])  # (N=1, C=1, H=2, W=3)


def one_hot_kernel(shape, *positions_and_values):
    kernel = np.zeros(shape)
    for position, value in positions_and_values:
        kernel[position] = value
    return kernel


def test_stride_2_1_on_nchw_all_different():
    x = np.arange(120.0).reshape(2, 3, 5, 4)  # x[n, c, h, w] = 60n + 20c + 4h + w
    w = one_hot_kernel((1, 3, 2, 2), ((0, 1, 1, 0), 1.0))  # picks channel 1, row +1, col +0
    out = reference.conv2d(x, w, np.array([0.5]), stride=(2, 1))
    # (N=2, O=1, Ho=(5-2)//2+1=2, Wo=(4-2)//1+1=3); out = x[n, 1, 2y+1, x] + 0.5
    expected = np.array([[[[24.5, 25.5, 26.5], [32.5, 33.5, 34.5]]], [[[84.5, 85.5, 86.5], [92.5, 93.5, 94.5]]]])
    assert out.shape == (2, 1, 2, 3)
    np.testing.assert_array_equal(out, expected)


def test_dilation_1_2_on_a_wide_input():
    x = np.arange(36.0).reshape(1, 2, 3, 6)  # channel 0: x[h, w] = 6h + w
    w = one_hot_kernel((1, 2, 1, 2), ((0, 0, 0, 0), 1.0), ((0, 0, 0, 1), 10.0))
    out = reference.conv2d(x, w, dilation=(1, 2))
    # kernel spans 1 x 3; out[h, w] = x[h, w] + 10 x[h, w + 2] = 66h + 11w + 20; (1, 1, 3, 4)
    expected = np.array([[[[20, 31, 42, 53], [86, 97, 108, 119], [152, 163, 174, 185]]]], dtype=float)
    np.testing.assert_array_equal(out, expected)


def test_same_with_even_kernel_puts_the_odd_pixel_bottom_right():
    # kernel (2, 4): total pads 1 (rows) and 3 (cols) -> top 0, bottom 1, left 1, right 2
    w = one_hot_kernel((1, 1, 2, 4), ((0, 0, 0, 0), 1.0), ((0, 0, 1, 3), 10.0))
    out = reference.conv2d(TWO_BY_THREE, w, padding="same")
    # tap (0,0) reads x[y, x-1]; tap (1,3) reads x[y+1, x+2]: only x[1, 2] = 6 lands, at (0, 0)
    np.testing.assert_array_equal(out, [[[[60.0, 1.0, 2.0], [0.0, 4.0, 5.0]]]])


def test_same_respects_dilation():
    # kernel 2 with dilation 3 spans 4: total pad 3 per axis -> before 1, after 2
    assert reference.resolve_padding("same", (2, 2), (3, 3), (1, 1)) == ((1, 2), (1, 2))
    w = one_hot_kernel((1, 1, 2, 2), ((0, 0, 1, 1), 1.0))  # tap at offset +3 rows, +3 cols
    x = np.arange(1.0, 21.0).reshape(1, 1, 4, 5)
    out = reference.conv2d(x, w, padding="same", dilation=3)
    # out[y, x] = x[y + 2, x + 2]: rows 2-3, cols 2-4 of x, zeros beyond
    expected = np.zeros((1, 1, 4, 5))
    expected[0, 0, :2, :3] = [[13, 14, 15], [18, 19, 20]]
    np.testing.assert_array_equal(out, expected)


def test_valid_is_no_padding():
    out = reference.conv2d(TWO_BY_THREE, np.ones((1, 1, 2, 2)), padding="valid")
    np.testing.assert_array_equal(out, [[[[12.0, 16.0]]]])  # 1+2+4+5, 2+3+5+6


# padding (1, 2) on [[1,2,3],[4,5,6]] through a 1x1 identity kernel: the padded input itself
PADDED_BY_MODE = {
    "zeros": [[0, 0, 0, 0, 0, 0, 0], [0, 0, 1, 2, 3, 0, 0], [0, 0, 4, 5, 6, 0, 0], [0, 0, 0, 0, 0, 0, 0]],
    "reflect": [[6, 5, 4, 5, 6, 5, 4], [3, 2, 1, 2, 3, 2, 1], [6, 5, 4, 5, 6, 5, 4], [3, 2, 1, 2, 3, 2, 1]],
    "replicate": [[1, 1, 1, 2, 3, 3, 3], [1, 1, 1, 2, 3, 3, 3], [4, 4, 4, 5, 6, 6, 6], [4, 4, 4, 5, 6, 6, 6]],
    "circular": [[5, 6, 4, 5, 6, 4, 5], [2, 3, 1, 2, 3, 1, 2], [5, 6, 4, 5, 6, 4, 5], [2, 3, 1, 2, 3, 1, 2]],
}


@pytest.mark.parametrize("padding_mode", sorted(PADDED_BY_MODE))
def test_each_padding_mode(padding_mode):
    out = reference.conv2d(TWO_BY_THREE, np.ones((1, 1, 1, 1)), padding=(1, 2), padding_mode=padding_mode)
    np.testing.assert_array_equal(out[0, 0], PADDED_BY_MODE[padding_mode])


def test_groups_keep_channel_blocks_apart():
    x = np.array([1.0, 2.0, 3.0, 4.0]).reshape(1, 4, 1, 1)
    w = np.array([[1, 10], [100, 1000], [1, 1], [2, -1]], dtype=float).reshape(4, 2, 1, 1)
    out = reference.conv2d(x, w, np.array([0.5, -0.5, 0, 0]), groups=2)
    # outputs 0-1 see channels 0-1, outputs 2-3 see channels 2-3
    np.testing.assert_array_equal(out.ravel(), [1 + 20 + 0.5, 100 + 2000 - 0.5, 3 + 4, 6 - 4])


def test_depthwise_with_channel_multiplier():
    x = np.stack([np.full((2, 3), c + 1.0) for c in range(3)])[None]  # channel c is all c+1
    w = np.arange(1.0, 7.0).reshape(6, 1, 1, 1)
    out = reference.conv2d(x, w, groups=3)
    # output o reads channel o // 2
    np.testing.assert_array_equal(out[0, :, 0, 0], [1, 2, 6, 8, 15, 18])
    assert out.shape == (1, 6, 2, 3)


def test_unbatched_input_gives_unbatched_output():
    out = reference.conv2d(TWO_BY_THREE[0], np.ones((2, 1, 2, 2)), np.array([0.0, 1.0]))
    np.testing.assert_array_equal(out, [[[12.0, 16.0]], [[13.0, 17.0]]])


@pytest.mark.parametrize("in_channels", [1, 3])
def test_seed_all_ones_gives_kernel_sum_plus_bias(in_channels):
    # the blog's experiment: on a ones(1, C, 5, 5) input each output channel is constant
    w = np.arange(4 * in_channels * 9, dtype=float).reshape(4, in_channels, 3, 3)
    b = np.array([1.0, -2.0, 0.25, 0.0])
    out = reference.conv2d(np.ones((1, in_channels, 5, 5)), w, b)
    sums = w.sum(axis=(1, 2, 3)) + b
    np.testing.assert_array_equal(out, np.broadcast_to(sums[None, :, None, None], (1, 4, 3, 3)))


def test_magnitude_is_the_conv_of_absolute_values():
    x = np.array([[[[1.0, -2.0], [-3.0, 4.0]]]])
    w = np.array([[[[-1.0, 1.0], [1.0, -1.0]]]])
    assert reference.conv2d(x, w, np.array([-1.0]))[0, 0, 0, 0] == -1 - 2 - 3 - 4 - 1
    assert reference.conv2d_magnitude(x, w, np.array([-1.0]))[0, 0, 0, 0] == 1 + 2 + 3 + 4 + 1
