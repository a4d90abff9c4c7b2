"""conv_transpose1d/2d/3d of the reference on small cases whose answers were worked out by hand.

The cases follow the definition out[n, g*Cog + o, i*s + j*d - p] += x[n, g*Cig + c, i] * w[g*Cig + c, o, j]:
padding crops p from each end of the full result and output_padding uncovers what the end crop
hid (or bias alone).
"""

import numpy as np
import pytest

import reference

from .known_answer_helpers import K3, SCATTER_3D, X3, assert_exact, scatter_3d_weight


def test_conv_transpose1d_stride_2_on_ncl_all_different():
    x = np.arange(1.0, 25.0).reshape(2, 3, 4)  # x[n, c, i] = 12n + 4c + i + 1
    w = np.zeros((3, 4, 3))  # (C_in=3, C_out=4, k=3)
    w[1, 2] = [1.0, 10.0, 100.0]  # channel 1 -> output 2 through the whole kernel
    w[2, 0, 1] = -1.0  # channel 2 -> output 0 at tap 1
    b = np.array([0.5, -1.0, 0.0, 2.0])
    out = reference.conv_transpose1d(x, w, b, stride=2)
    # (N=2, C_out=4, L=(4-1)*2 + 3 = 9)
    expected = np.broadcast_to(b[None, :, None], (2, 4, 9)).copy()
    # output 2 at 2i + j: x[n, 1] = [5, 6, 7, 8] (n=0), [17, 18, 19, 20] (n=1); taps overlap at even positions
    expected[0, 2] = [5, 50, 500 + 6, 60, 600 + 7, 70, 700 + 8, 80, 800]
    expected[1, 2] = [17, 170, 1700 + 18, 180, 1800 + 19, 190, 1900 + 20, 200, 2000]
    # output 0 at 2i + 1: -x[n, 2] = -[9, 10, 11, 12] (n=0), -[21, 22, 23, 24] (n=1), plus 0.5
    expected[0, 0, 1::2] -= [9, 10, 11, 12]
    expected[1, 0, 1::2] -= [21, 22, 23, 24]
    assert_exact(out, expected)


@pytest.mark.parametrize(
    "padding, output_padding, expected",
    [
        (0, 0, [1, 10, 100 + 2, 20, 200 + 3, 30, 300]),  # full: L = 2*2 + 3 = 7
        (1, 0, [10, 102, 20, 203, 30]),  # one cropped from each end
        (1, 1, [10, 102, 20, 203, 30, 300]),  # output_padding uncovers what the end crop hid
    ],
)
def test_conv_transpose1d_padding_crops_and_output_padding_uncovers(padding, output_padding, expected):
    out = reference.conv_transpose1d(X3, K3, stride=2, padding=padding, output_padding=output_padding)
    assert_exact(out, [[expected]])


def test_conv_transpose1d_output_padding_beyond_stride_below_dilation():
    # stride 1, dilation 3, padding 1, output_padding 2 (>= stride, < dilation): L = 2 - 2 + 3 + 2 + 1 = 6
    # 1, 2, 3 land at -1, 0, 1 and 10, 20, 30 at 2, 3, 4 (-1 cropped); position 5 holds bias alone
    out = reference.conv_transpose1d(X3, np.array([[[1.0, 10.0]]]), np.array([0.5]), 1, 1, 2, 1, 3)
    assert_exact(out, [[[2.5, 3.5, 10.5, 20.5, 30.5, 0.5]]])


def test_conv_transpose1d_stride_and_dilation_2():
    # positions 2i + 2j: 1, 2, 3 at 0, 2, 4 and 10, 20, 30 at 2, 4, 6; output_padding 1 adds position 7
    out = reference.conv_transpose1d(X3, np.array([[[1.0, 10.0]]]), stride=2, output_padding=1, dilation=2)
    assert_exact(out, [[[1, 0, 12, 0, 23, 0, 30, 0]]])


def test_conv_transpose1d_groups_keep_channel_blocks_apart():
    x = np.arange(1.0, 9.0).reshape(1, 4, 2)  # channels [1,2], [3,4], [5,6], [7,8]
    w = np.array([[[1, 0]], [[0, 1]], [[10, 0]], [[0, 100]]], dtype=float)  # (C_in=4, C_out/groups=1, k=2)
    # output 0 = channel 0 at i plus channel 1 at i+1; output 1 = 10 channel 2 at i plus 100 channel 3 at i+1
    assert_exact(reference.conv_transpose1d(x, w, groups=2), [[[1, 2 + 3, 4], [50, 60 + 700, 800]]])


def test_conv_transpose1d_unbatched_input_gives_unbatched_output():
    x = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])  # (C_in=2, L=3); channel sums 5, 7, 9
    b = np.array([0.0, 1.0, 2.0])
    out = reference.conv_transpose1d(x, np.ones((2, 3, 2)), b)
    # out[p] = s[p] + s[p - 1]: 5, 5 + 7, 7 + 9, 9, plus bias o
    assert_exact(out, [[5, 12, 16, 9], [6, 13, 17, 10], [7, 14, 18, 11]])
    assert_exact(reference.conv_transpose1d(x[None], np.ones((2, 3, 2)), b)[0], out)


def test_conv_transpose1d_all_ones_sums_the_taps_landing_at_each_position():
    w = np.arange(2 * 3 * 3, dtype=float).reshape(2, 3, 3)  # (C_in=2, C_out=3, k=3)
    b = np.array([1.0, -2.0, 0.25])
    out = reference.conv_transpose1d(np.ones((1, 2, 4)), w, b, stride=2)
    t = w.sum(axis=0)  # t[o, j]: tap j summed over the input channels
    # stride 2, L = 9: even positions inside get taps 0 and 2, odd ones tap 1; the ends one tap each
    landing = [
        t[:, 0],
        t[:, 1],
        t[:, 0] + t[:, 2],
        t[:, 1],
        t[:, 0] + t[:, 2],
        t[:, 1],
        t[:, 0] + t[:, 2],
        t[:, 1],
        t[:, 2],
    ]
    assert_exact(out, (np.stack(landing, axis=1) + b[:, None])[None])


def test_conv_transpose1d_magnitude_is_the_transposed_conv_of_absolute_values():
    x, w, b = np.array([[[1.0, -2.0]]]), np.array([[[-1.0, 1.0]]]), np.array([-1.0])
    assert_exact(reference.conv_transpose1d(x, w, b), [[[-1 - 1, 1 + 2 - 1, -2 - 1]]])
    assert_exact(reference.conv_transpose1d_magnitude(x, w, b), [[[1 + 1, 1 + 2 + 1, 2 + 1]]])


# conv_transpose2d


def test_conv_transpose2d_stride_2_1_on_nchw_all_different():
    x = np.arange(1.0, 37.0).reshape(2, 3, 2, 3)  # channel 1: [[7,8,9],[10,11,12]] (n=0), [[25..27],[28..30]] (n=1)
    w = np.zeros((3, 2, 2, 2))  # (C_in=3, C_out=2, 2, 2)
    w[1, 1] = [[1.0, 10.0], [100.0, 1000.0]]
    out = reference.conv_transpose2d(x, w, np.array([-1.0, 0.5]), stride=(2, 1))
    # (N=2, C_out=2, H=(2-1)*2 + 2 = 4, W=(3-1) + 2 = 4); output 1 gets x[n, 1, i, j] * w[a, b] at (2i + a, j + b)
    expected = np.full((2, 2, 4, 4), -1.0)
    expected[0, 1] = [
        [7, 8 + 70, 9 + 80, 90],  # input row 0 through kernel row 0: [1, 10]
        [700, 800 + 7000, 900 + 8000, 9000],  # input row 0 through kernel row 1: [100, 1000]
        [10, 11 + 100, 12 + 110, 120],  # input row 1 through kernel row 0
        [1000, 1100 + 10000, 1200 + 11000, 12000],
    ]
    expected[1, 1] = [
        [25, 26 + 250, 27 + 260, 270],
        [2500, 2600 + 25000, 2700 + 26000, 27000],
        [28, 29 + 280, 30 + 290, 300],
        [2800, 2900 + 28000, 3000 + 29000, 30000],
    ]
    expected[:, 1] += 0.5
    assert_exact(out, expected)


def test_conv_transpose2d_dilation_1_2_with_output_padding_beyond_stride():
    # w [1, 10] spans 3 columns; padding (0, 1) crops a column each side; output_padding (0, 1) < dilation 2
    # columns j + 2b - 1: row [1, 2, 3] -> 1 cropped, 2, 3 at 0, 1; 10, 20, 30 at 1, 2, 3. W = 2 - 2 + 2 + 1 + 1 = 4
    out = reference.conv_transpose2d(
        np.array([[[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]]]),
        np.array([[[[1.0, 10.0]]]]),
        padding=(0, 1),
        output_padding=(0, 1),
        dilation=(1, 2),
    )
    assert_exact(out, [[[[2, 3 + 10, 20, 30], [5, 6 + 40, 50, 60]]]])


@pytest.mark.parametrize("d", [2, 3])
def test_conv_transpose2d_and_3d_groups_keep_channel_blocks_apart(d):
    x = np.array([1.0, 2.0, 3.0, 4.0]).reshape((1, 4) + (1,) * d)
    w = np.array([[1, 10], [100, 1000], [1, 1], [2, -1]], dtype=float).reshape(
        (4, 2) + (1,) * d
    )  # (C_in, C_out/2, ...)
    out = getattr(reference, f"conv_transpose{d}d")(x, w, np.array([0.5, -0.5, 0, 0]), groups=2)
    # out[o] (o in block g) = sum over the block's channels c of x[c] w[c, o]
    assert_exact(out.ravel(), [1 + 200 + 0.5, 10 + 2000 - 0.5, 3 + 8, 3 - 4])


def test_conv_transpose2d_depthwise_with_channel_multiplier():
    x = np.stack([np.full((2, 3), c + 1.0) for c in range(3)])[None]  # channel c is all c+1
    w = np.arange(1.0, 7.0).reshape(3, 2, 1, 1)  # channel c feeds outputs 2c and 2c+1
    out = reference.conv_transpose2d(x, w, groups=3)
    assert_exact(out[0, :, 0, 0], [1, 2, 6, 8, 15, 18])
    assert out.shape == (1, 6, 2, 3)


def test_conv_transpose2d_unbatched_input_gives_unbatched_output():
    x = np.array([[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]])  # (C_in=1, H=2, W=3)
    out = reference.conv_transpose2d(x, np.ones((1, 2, 1, 2)), np.array([0.0, 1.0]))
    # each row spreads over two columns: [1, 1+2, 2+3, 3], [4, 4+5, 5+6, 6]
    assert_exact(out, [[[1, 3, 5, 3], [4, 9, 11, 6]], [[2, 4, 6, 4], [5, 10, 12, 7]]])
    assert_exact(reference.conv_transpose2d(x[None], np.ones((1, 2, 1, 2)), np.array([0.0, 1.0]))[0], out)


def test_conv_transpose2d_all_ones_interior_is_the_kernel_sum_plus_bias():
    w = np.arange(2 * 3 * 2 * 3, dtype=float).reshape(2, 3, 2, 3)  # (C_in=2, C_out=3, 2, 3)
    b = np.array([1.0, -2.0, 0.25])
    out = reference.conv_transpose2d(np.ones((1, 2, 3, 4)), w, b)
    assert out.shape == (1, 3, 4, 6)
    # stride 1: rows 1-2 and columns 2-3 are reached by every tap from some input pixel
    assert_exact(out[0, :, 1:3, 2:4], np.broadcast_to((w.sum(axis=(0, 2, 3)) + b)[:, None, None], (3, 2, 2)))
    assert_exact(out[0, :, 0, 0], w[:, :, 0, 0].sum(axis=0) + b)  # the corner: tap (0, 0) alone


# conv_transpose3d


def test_conv_transpose3d_stride_2_1_1_written_out():
    x = np.arange(1.0, 13.0).reshape(1, 1, 2, 2, 3)  # planes [[1,2,3],[4,5,6]], [[7,8,9],[10,11,12]]
    w = np.array([[1.0, 10.0], [100.0, 1000.0]]).reshape(1, 1, 2, 1, 2)  # depth tap a, width tap b
    out = reference.conv_transpose3d(x, w, stride=(2, 1, 1))
    # (D=(2-1)*2 + 2 = 4, H=2, W=3 + 1 = 4); x[i, h, j] w[a, b] lands at (2i + a, h, j + b)
    expected = [
        [[1, 2 + 10, 3 + 20, 30], [4, 5 + 40, 6 + 50, 60]],  # plane 0 through [1, 10]
        [[100, 200 + 1000, 300 + 2000, 3000], [400, 500 + 4000, 600 + 5000, 6000]],  # plane 0 through [100, 1000]
        [[7, 8 + 70, 9 + 80, 90], [10, 11 + 100, 12 + 110, 120]],  # plane 1 through [1, 10]
        [[700, 800 + 7000, 900 + 8000, 9000], [1000, 1100 + 10000, 1200 + 11000, 12000]],
    ]
    assert_exact(out, [[expected]])


def test_conv_transpose3d_one_hot_taps_scatter_on_ncdhw_all_different():
    x = np.arange(720.0).reshape(2, 3, 4, 5, 6)
    b = np.array([0.5, -1.0, 0.0, 2.0])
    out = reference.conv_transpose3d(x, scatter_3d_weight(), b, **SCATTER_3D)
    # D = 3*2 - 2 + 1 + 1 + 1 = 7, H = 4 + 2 + 1 + 1 = 8 (op 1 < dilation 2), W = 5*3 + 2 + 1 = 18
    expected = np.broadcast_to(b[None, :, None, None, None], (2, 4, 7, 8, 18)).copy()
    expected[:, 1, 0:7:2, 2:7, 0:16:3] += x[:, 2]  # depth 6 exists only thanks to output_padding
    expected[:, 3, 1:6:2, 0:5, 0:16:3] += -2 * x[:, 0, 1:]
    assert_exact(out, expected)


def test_conv_transpose3d_all_ones_sums_the_taps_landing_at_each_position():
    w = np.arange(1 * 2 * 3 * 1 * 1, dtype=float).reshape(1, 2, 3, 1, 1) + 1  # depth taps [1,2,3], [4,5,6]
    out = reference.conv_transpose3d(np.ones((1, 1, 3, 2, 4)), w, np.array([0.5, 0.0]), stride=(2, 1, 1))
    # depth 2i + a, D = 4 + 3 = 7: positions 0..6 get taps (0), (1), (2, 0), (1), (2, 0), (1), (2)
    for o, (t0, t1, t2) in enumerate(w[0, :, :, 0, 0]):
        landing = [t0, t1, t2 + t0, t1, t2 + t0, t1, t2]
        bias = 0.5 if o == 0 else 0.0
        assert_exact(out[0, o], np.broadcast_to(np.array(landing)[:, None, None] + bias, (7, 2, 4)))


def test_conv_transpose3d_unbatched_input_gives_unbatched_output():
    x = np.arange(1.0, 7.0).reshape(1, 1, 2, 3)  # (C_in=1, D=1, H=2, W=3)
    out = reference.conv_transpose3d(x, np.ones((1, 2, 1, 1, 2)), np.array([0.0, 1.0]))
    assert_exact(out, [[[[1, 3, 5, 3], [4, 9, 11, 6]]], [[[2, 4, 6, 4], [5, 10, 12, 7]]]])
    assert_exact(reference.conv_transpose3d(x[None], np.ones((1, 2, 1, 1, 2)), np.array([0.0, 1.0]))[0], out)


# Backward of conv1d and conv3d
