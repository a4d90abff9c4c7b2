"""conv1d and conv3d of the reference on small cases whose answers were worked out by hand.

As for conv2d: N, C and the spatial sizes differ, strides and dilations differ per axis, 'same'
uses an even kernel, each padding mode.
"""

import numpy as np
import pytest

import reference

from .known_answer_helpers import assert_exact, one_hot

# conv1d


def test_conv1d_stride_2_on_ncl_all_different():
    x = np.arange(42.0).reshape(2, 3, 7)  # x[n, c, l] = 21n + 7c + l
    w = one_hot((2, 3, 3), ((0, 1, 2), 1.0), ((1, 2, 0), 10.0))
    out = reference.conv1d(x, w, np.array([0.5, -1.0]), stride=2)
    # (N=2, O=2, Lo=(7-3)//2+1=3): out[n, 0, y] = x[n, 1, 2y+2] + 0.5, out[n, 1, y] = 10 x[n, 2, 2y] - 1
    assert_exact(out, [[[9.5, 11.5, 13.5], [139, 159, 179]], [[30.5, 32.5, 34.5], [349, 369, 389]]])


def test_conv1d_dilation_3_reads_three_apart():
    x = np.arange(18.0).reshape(1, 2, 9)  # x[c, l] = 9c + l
    w = one_hot((1, 2, 2), ((0, 0, 0), 1.0), ((0, 1, 1), 100.0))
    # kernel spans 4: Lo = 6; out[y] = x[0, y] + 100 x[1, y + 3] = y + 100 (12 + y) = 1200 + 101y
    assert_exact(reference.conv1d(x, w, dilation=3), [[[1200, 1301, 1402, 1503, 1604, 1705]]])


@pytest.mark.parametrize(
    "weight, dilation", [([1.0, 0.0, 0.0, 10.0], 1), ([1.0, 10.0], 3)], ids=["kernel 4", "kernel 2 dilated 3"]
)
def test_conv1d_same_with_even_kernel_puts_the_odd_pixel_after(weight, dilation):
    # both span 4: total pad 3 -> 1 before, 2 after; padded x = [0, 1, 2, 3, 4, 5, 0, 0]
    assert reference.resolve_padding("same", (len(weight),), (dilation,), (1,)) == ((1, 2),)
    out = reference.conv1d(
        np.arange(1.0, 6.0)[None, None], np.array(weight)[None, None], padding="same", dilation=dilation
    )
    # out[y] = padded[y] + 10 padded[y + 3]: 0 + 30, 1 + 40, 2 + 50, 3 + 0, 4 + 0
    assert_exact(out, [[[30, 41, 52, 3, 4]]])


# padding 2 on [1, 2, 3, 4] through a length-1 identity kernel: the padded input itself
PADDED_1D = {
    "zeros": [0, 0, 1, 2, 3, 4, 0, 0],
    "reflect": [3, 2, 1, 2, 3, 4, 3, 2],
    "replicate": [1, 1, 1, 2, 3, 4, 4, 4],
    "circular": [3, 4, 1, 2, 3, 4, 1, 2],
}


@pytest.mark.parametrize("padding_mode", sorted(PADDED_1D))
def test_conv1d_each_padding_mode(padding_mode):
    out = reference.conv1d(np.arange(1.0, 5.0)[None, None], np.ones((1, 1, 1)), padding=2, padding_mode=padding_mode)
    assert_exact(out, [[PADDED_1D[padding_mode]]])


@pytest.mark.parametrize("padding_mode", ["reflect", "replicate", "circular"])
def test_conv1d_negative_padding_crops_in_the_copying_modes(padding_mode):
    out = reference.conv1d(np.arange(1.0, 6.0)[None, None], np.ones((1, 1, 1)), padding=-1, padding_mode=padding_mode)
    assert_exact(out, [[[2, 3, 4]]])


def test_conv1d_reflect_with_stride_and_dilation():
    # reflect by 2: [3, 2, 1, 2, 3, 4, 3, 2]; kernel [1, 10] dilated 2, stride 2: Lo = (8 - 3)//2 + 1 = 3
    out = reference.conv1d(np.arange(1.0, 5.0)[None, None], np.array([[[1.0, 10.0]]]), None, 2, 2, 2, 1, "reflect")
    assert_exact(out, [[[3 + 10 * 1, 1 + 10 * 3, 3 + 10 * 3]]])  # p[2y] + 10 p[2y + 2]


def test_conv1d_groups_keep_channel_blocks_apart():
    x = np.arange(1.0, 13.0).reshape(1, 4, 3)  # channels [1,2,3], [4,5,6], [7,8,9], [10,11,12]
    w = np.array([[[1, 0], [0, 10]], [[100, 0], [0, -1]]], dtype=float)  # (O=2, C/groups=2, k=2)
    # out[0, y] = x[0, y] + 10 x[1, y+1]; out[1, y] = 100 x[2, y] - x[3, y+1]
    assert_exact(reference.conv1d(x, w, groups=2), [[[1 + 50, 2 + 60], [700 - 11, 800 - 12]]])


def test_conv1d_depthwise_with_channel_multiplier():
    x = np.stack([np.full(4, c + 1.0) for c in range(3)])[None]  # channel c is all c+1
    w = np.arange(1.0, 13.0).reshape(6, 1, 2)  # output o reads channel o // 2 through [2o+1, 2o+2]
    out = reference.conv1d(x, w, groups=3)
    expected = [1 * (1 + 2), 1 * (3 + 4), 2 * (5 + 6), 2 * (7 + 8), 3 * (9 + 10), 3 * (11 + 12)]
    assert_exact(out, np.broadcast_to(np.array(expected, dtype=float)[None, :, None], (1, 6, 3)))


def test_conv1d_unbatched_input_gives_unbatched_output():
    x = np.arange(1.0, 11.0).reshape(2, 5)  # (C=2, L=5): [1..5], [6..10]
    b = np.array([0.0, 1.0, 2.0])
    out = reference.conv1d(x, np.ones((3, 2, 2)), b)
    # every output sums a 2 x 2 window: (2y + 3) + (2y + 13) = 4y + 16, plus bias o
    assert_exact(out, [[16, 20, 24, 28], [17, 21, 25, 29], [18, 22, 26, 30]])
    assert_exact(reference.conv1d(x[None], np.ones((3, 2, 2)), b)[0], out)


@pytest.mark.parametrize("in_channels", [1, 3])
def test_conv1d_all_ones_gives_kernel_sum_plus_bias_in_the_interior(in_channels):
    w = np.arange(4 * in_channels * 3, dtype=float).reshape(4, in_channels, 3)
    b = np.array([1.0, -2.0, 0.25, 0.0])
    out = reference.conv1d(np.ones((2, in_channels, 6)), w, b, padding=1)
    expected = np.empty((2, 4, 6))
    expected[:, :, 1:5] = (w.sum(axis=(1, 2)) + b)[:, None]  # every tap reads a one
    expected[:, :, 0] = w[:, :, 1:].sum(axis=(1, 2)) + b  # tap 0 reads the zero before
    expected[:, :, 5] = w[:, :, :2].sum(axis=(1, 2)) + b  # tap 2 reads the zero after
    assert_exact(out, expected)


# conv3d


def test_conv3d_stride_2_1_3_on_ncdhw_all_different():
    x = np.arange(720.0).reshape(2, 3, 5, 4, 6)  # x[n, c, d, h, w] = 360n + 120c + 24d + 6h + w
    w = one_hot((1, 3, 2, 3, 2), ((0, 2, 1, 2, 1), 1.0))  # picks channel 2 at offset (+1, +2, +1)
    out = reference.conv3d(x, w, np.array([0.25]), stride=(2, 1, 3))
    # (N=2, O=1, Do=(5-2)//2+1=2, Ho=(4-3)+1=2, Wo=(6-2)//3+1=2)
    # out = x[n, 2, 2z+1, y+2, 3x+1] + 0.25 = 277.25 + 360n + 48z + 6y + 3x
    expected = [
        [[[[277.25, 280.25], [283.25, 286.25]], [[325.25, 328.25], [331.25, 334.25]]]],
        [[[[637.25, 640.25], [643.25, 646.25]], [[685.25, 688.25], [691.25, 694.25]]]],
    ]
    assert_exact(out, expected)


def test_conv3d_dilation_1_2_3():
    x = np.arange(72.0).reshape(1, 1, 3, 4, 6)  # x[d, h, w] = 24d + 6h + w
    w = one_hot((1, 1, 2, 2, 2), ((0, 0, 0, 0, 0), 1.0), ((0, 0, 1, 1, 1), 100.0))
    # second tap at (+1, +2, +3): out (2, 2, 3) = x[z, y, x] + 100 x[z+1, y+2, x+3] = 101 (24z + 6y + x) + 3900
    expected = [[[[[3900, 4001, 4102], [4506, 4607, 4708]], [[6324, 6425, 6526], [6930, 7031, 7132]]]]]
    assert_exact(reference.conv3d(x, w, dilation=(1, 2, 3)), expected)


def test_conv3d_same_with_even_kernel_puts_the_odd_pixel_after():
    # kernel (2, 1, 4): total pads 1, 0, 3 -> (0, 1), (0, 0), (1, 2)
    assert reference.resolve_padding("same", (2, 1, 4), (1, 1, 1), (1, 1, 1)) == ((0, 1), (0, 0), (1, 2))
    x = np.arange(1.0, 13.0).reshape(1, 1, 2, 2, 3)  # planes [[1,2,3],[4,5,6]] and [[7,8,9],[10,11,12]]
    w = one_hot((1, 1, 2, 1, 4), ((0, 0, 0, 0, 0), 1.0), ((0, 0, 1, 0, 3), 10.0))
    # tap (0,0,0) reads x[z, y, x-1]; tap (1,0,3) reads x[z+1, y, x+2]: only at z = 0, x = 0 (9 and 12)
    expected = [[[[[90, 1, 2], [120, 4, 5]], [[0, 7, 8], [0, 10, 11]]]]]
    assert_exact(reference.conv3d(x, w, padding="same"), expected)


# padding (1, 0, 2) on a (2, 3, 4) volume through a 1x1x1 identity kernel: the padded volume,
# x[d_index][:, h][:, :, w_index] with the index each padded position copies:
#   depth -1..2: reflect (1, 0, 1, 0), replicate (0, 0, 1, 1), circular (1, 0, 1, 0)
#   width -2..5: reflect (2, 1, 0, 1, 2, 3, 2, 1), replicate (0, 0, 0, 1, 2, 3, 3, 3), circular (2, 3, 0, 1, 2, 3, 0, 1)
COPIED_3D = {
    "reflect": ([1, 0, 1, 0], [2, 1, 0, 1, 2, 3, 2, 1]),
    "replicate": ([0, 0, 1, 1], [0, 0, 0, 1, 2, 3, 3, 3]),
    "circular": ([1, 0, 1, 0], [2, 3, 0, 1, 2, 3, 0, 1]),
}


@pytest.mark.parametrize("padding_mode", ["zeros", *sorted(COPIED_3D)])
def test_conv3d_each_padding_mode(padding_mode):
    x = np.arange(1.0, 25.0).reshape(2, 3, 4)
    out = reference.conv3d(x[None, None], np.ones((1, 1, 1, 1, 1)), padding=(1, 0, 2), padding_mode=padding_mode)
    if padding_mode == "zeros":
        expected = np.zeros((4, 3, 8))
        expected[1:3, :, 2:6] = x
    else:
        depth, width = COPIED_3D[padding_mode]
        expected = x[np.ix_(depth, [0, 1, 2], width)]
    assert_exact(out, expected[None, None])


def test_conv3d_reflect_plane_written_out():
    # the first padded plane in reflect mode copies depth 1, its columns (2, 1, 0, 1, 2, 3, 2, 1)
    out = reference.conv3d(
        np.arange(1.0, 25.0).reshape(1, 1, 2, 3, 4), np.ones((1, 1, 1, 1, 1)), padding=(1, 0, 2), padding_mode="reflect"
    )
    assert_exact(
        out[0, 0, 0],
        [[15, 14, 13, 14, 15, 16, 15, 14], [19, 18, 17, 18, 19, 20, 19, 18], [23, 22, 21, 22, 23, 24, 23, 22]],
    )


def test_conv3d_groups_keep_channel_blocks_apart():
    x = np.array([1.0, 2.0, 3.0, 4.0]).reshape(1, 4, 1, 1, 1)
    w = np.array([[1, 10], [100, 1000], [1, 1], [2, -1]], dtype=float).reshape(4, 2, 1, 1, 1)
    out = reference.conv3d(x, w, np.array([0.5, -0.5, 0, 0]), groups=2)
    assert_exact(out.ravel(), [1 + 20 + 0.5, 100 + 2000 - 0.5, 3 + 4, 6 - 4])


def test_conv3d_unbatched_input_gives_unbatched_output():
    x = np.arange(12.0).reshape(2, 1, 2, 3)  # (C=2, D=1, H=2, W=3): [[0,1,2],[3,4,5]], [[6,7,8],[9,10,11]]
    b = np.array([0.0, 1.0, 2.0])
    out = reference.conv3d(x, np.ones((3, 2, 1, 2, 2)), b)
    # windows: 0+1+3+4 + 6+7+9+10 = 40 and 1+2+4+5 + 7+8+10+11 = 48, plus bias o
    assert_exact(out, [[[[40, 48]]], [[[41, 49]]], [[[42, 50]]]])
    assert_exact(reference.conv3d(x[None], np.ones((3, 2, 1, 2, 2)), b)[0], out)


@pytest.mark.parametrize("padding_mode", ["zeros", "reflect", "replicate", "circular"])
def test_conv3d_all_ones_gives_kernel_sum_plus_bias_in_the_interior(padding_mode):
    w = np.arange(4 * 3 * 2 * 3 * 2, dtype=float).reshape(4, 3, 2, 3, 2)
    b = np.array([1.0, -2.0, 0.25, 0.0])
    out = reference.conv3d(np.ones((2, 3, 4, 5, 6)), w, b, padding=(0, 1, 0), padding_mode=padding_mode)
    expected = np.broadcast_to((w.sum(axis=(1, 2, 3, 4)) + b)[None, :, None, None, None], (2, 4, 3, 5, 5)).copy()
    if padding_mode == "zeros":  # the copying modes pad ones with ones: the sum is everywhere
        expected[:, :, :, 0] -= w[:, :, :, 0].sum(axis=(1, 2, 3))[None, :, None, None]  # kernel row 0 reads zeros
        expected[:, :, :, -1] -= w[:, :, :, 2].sum(axis=(1, 2, 3))[None, :, None, None]  # kernel row 2 reads zeros
    assert_exact(out, expected)


def test_conv1d_and_conv3d_magnitudes_are_the_conv_of_absolute_values():
    x, w = np.array([[[1.0, -2.0, -3.0, 4.0]]]), np.array([[[-1.0, 1.0, 1.0, -1.0]]])
    assert reference.conv1d(x, w, np.array([-1.0]))[0, 0, 0] == -1 - 2 - 3 - 4 - 1
    assert reference.conv1d_magnitude(x, w, np.array([-1.0]))[0, 0, 0] == 1 + 2 + 3 + 4 + 1
    x3, w3 = x.reshape(1, 1, 1, 2, 2), w.reshape(1, 1, 1, 2, 2)
    assert reference.conv3d(x3, w3, np.array([-1.0])).item() == -1 - 2 - 3 - 4 - 1
    assert reference.conv3d_magnitude(x3, w3, np.array([-1.0])).item() == 1 + 2 + 3 + 4 + 1


# conv_transpose1d
