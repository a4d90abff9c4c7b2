"""The backward of conv1d, conv3d and conv_transpose1d/2d/3d of the reference on small cases
whose gradients were worked out by hand."""

import numpy as np
import pytest

import reference

from .known_answer_helpers import K3, SCATTER_3D, X3, assert_exact, one_hot, scatter_3d_weight


def test_conv1d_backward_one_hot_kernel_with_stride_2():
    x = np.arange(42.0).reshape(2, 3, 7)  # x[n, c, l] = 21n + 7c + l
    w = one_hot((1, 3, 3), ((0, 1, 2), 1.0))  # out[n, 0, y] = x[n, 1, 2y + 2], Lo = 3
    g = np.array([[[1.0, 2.0, 3.0]], [[4.0, 5.0, 6.0]]])
    grad_x, grad_w, grad_b = reference.conv1d_backward(g, x, w, np.zeros(1), stride=2)
    expected = np.zeros((2, 3, 7))
    expected[:, 1, 2::2] = [[1, 2, 3], [4, 5, 6]]  # each g lands on the one pixel its output read
    assert_exact(grad_x, expected)
    # grad_w[0, c, j] = sum g[n, y] (21n + 7c + 2y + j) = 21 * 15 + 2 * 25 + (7c + j) * 21
    #   with sum g = 21, sum g n = 15, sum g y = 25
    assert_exact(grad_w, [[[365, 386, 407], [512, 533, 554], [659, 680, 701]]])
    assert_exact(grad_b, [21])


def test_conv1d_backward_dilation_3():
    x = np.arange(18.0).reshape(1, 2, 9)  # x[c, l] = 9c + l
    w = one_hot((1, 2, 2), ((0, 0, 0), 1.0), ((0, 1, 1), 100.0))  # out[y] = x[0, y] + 100 x[1, y + 3]
    g = one_hot((1, 1, 6), ((0, 0, 2), 1.0))
    grad_x, grad_w, grad_b = reference.conv1d_backward(g, x, w, dilation=3)
    assert_exact(grad_x, one_hot((1, 2, 9), ((0, 0, 2), 1.0), ((0, 1, 5), 100.0)))
    assert_exact(grad_w, [[[2, 5], [11, 14]]])  # x[c, 2 + 3j]
    assert grad_b is None


def test_conv1d_backward_same_with_even_kernel():
    # padded x = [0, 1, 2, 3, 4, 5, 0, 0]; out[y] = padded[y] + 10 padded[y + 3], g all ones
    x, w = np.arange(1.0, 6.0)[None, None], np.array([[[1.0, 0.0, 0.0, 10.0]]])
    grad_x, grad_w, _ = reference.conv1d_backward(np.ones((1, 1, 5)), x, w, padding="same")
    # x[i] sits at padded i + 1: read by tap 0 from y = i + 1 <= 4 and by tap 3 from y = i - 2 >= 0
    assert_exact(grad_x, [[[1, 1, 1 + 10, 1 + 10, 10]]])
    # grad_w[j] = sum over y of padded[y + j]: 0+1+2+3+4, 1+..+5, 2+3+4+5+0, 3+4+5+0+0
    assert_exact(grad_w, [[[10, 15, 14, 12]]])


# Padding 2 on [1, 2, 3, 4], g = (1, 2, 4, ..., 128) on the padded axis: each pixel's gradient is
# the sum of g over the padded positions copying it (PADDED_1D: reflect copies 2,1,0,1,2,3,2,1, ...).
FOLDED_1D = {
    "zeros": [4, 8, 16, 32],
    "reflect": [4, 2 + 8 + 128, 1 + 16 + 64, 32],
    "replicate": [1 + 2 + 4, 8, 16, 32 + 64 + 128],
    "circular": [4 + 64, 8 + 128, 1 + 16, 2 + 32],
}


@pytest.mark.parametrize("padding_mode", sorted(FOLDED_1D))
def test_conv1d_backward_padding_folds_onto_the_copied_pixels(padding_mode):
    x, g = np.arange(1.0, 5.0)[None, None], 2.0 ** np.arange(8)[None, None]
    grad_x, grad_w, _ = reference.conv1d_backward(g, x, np.ones((1, 1, 1)), padding=2, padding_mode=padding_mode)
    assert_exact(grad_x, [[FOLDED_1D[padding_mode]]])
    assert_exact(grad_w, [[[np.dot(x[0, 0], FOLDED_1D[padding_mode])]]])  # every copy counted once


def test_conv3d_backward_one_hot_kernel_with_stride_2_1_3():
    x = np.arange(720.0).reshape(2, 3, 5, 4, 6)  # x[n, c, d, h, w] = 360n + 120c + 24d + 6h + w
    w = one_hot((1, 3, 2, 3, 2), ((0, 2, 1, 2, 1), 1.0))  # out = x[n, 2, 2z+1, y+2, 3x+1]
    g = np.arange(1.0, 17.0).reshape(2, 1, 2, 2, 2)  # g = 8n + 4z + 2y + x + 1
    grad_x, grad_w, grad_b = reference.conv3d_backward(g, x, w, np.zeros(1), stride=(2, 1, 3))
    expected = np.zeros(x.shape)
    expected[:, 2, 1:4:2, 2:4, 1:5:3] = g[:, 0]
    assert_exact(grad_x, expected)
    # grad_w[0, c, a, b, e] = sum g (360n + 120c + 24(2z + a) + 6(y + b) + 3x + e)
    #   = 360*100 + 48*84 + 6*76 + 3*72 + 136 (120c + 24a + 6b + e): sum g = 136, sum g n = 100,
    #   sum g z = 84, sum g y = 76, sum g x = 72
    c, a, b, e = np.meshgrid(np.arange(3), np.arange(2), np.arange(3), np.arange(2), indexing="ij")
    assert_exact(grad_w, (40704 + 136 * (120 * c + 24 * a + 6 * b + e))[None])
    assert_exact(grad_b, [136])


# padding (1, 0, 2) on a (2, 3, 4) volume, g = outer(R, ones(3), C) on the (4, 3, 8) padded grid:
# each axis folds alone. Depth (copies as in COPIED_3D) with R = (1, 10, 100, 1000), width FOLDED_1D.
FOLDED_DEPTH = {
    "zeros": [10, 100],
    "reflect": [10 + 1000, 1 + 100],
    "replicate": [1 + 10, 100 + 1000],
    "circular": [10 + 1000, 1 + 100],
}


@pytest.mark.parametrize("padding_mode", sorted(FOLDED_DEPTH))
def test_conv3d_backward_padding_folds_each_axis(padding_mode):
    x = np.arange(1.0, 25.0).reshape(1, 1, 2, 3, 4)
    g = np.einsum("d,h,w->dhw", [1.0, 10.0, 100.0, 1000.0], np.ones(3), 2.0 ** np.arange(8))[None, None]
    grad_x, grad_w, _ = reference.conv3d_backward(
        g, x, np.ones((1, 1, 1, 1, 1)), padding=(1, 0, 2), padding_mode=padding_mode
    )
    folded = np.einsum("d,h,w->dhw", FOLDED_DEPTH[padding_mode], np.ones(3), FOLDED_1D[padding_mode])
    assert_exact(grad_x, folded[None, None])
    assert_exact(grad_w, [[[[[np.sum(x * folded)]]]]])


def test_conv3d_backward_groups_keep_channel_blocks_apart():
    x = np.array([1.0, 2.0, 3.0, 4.0]).reshape(1, 4, 1, 1, 1)
    w = np.array([[1, 10], [100, 1000], [1, 1], [2, -1]], dtype=float).reshape(4, 2, 1, 1, 1)
    g = np.array([1.0, 2.0, 3.0, 4.0]).reshape(1, 4, 1, 1, 1)
    grad_x, grad_w, grad_b = reference.conv3d_backward(g, x, w, np.zeros(4), groups=2)
    assert_exact(grad_x.ravel(), [1 + 200, 10 + 2000, 3 + 8, 3 - 4])
    assert_exact(grad_w.reshape(4, 2), [[1, 2], [2, 4], [9, 12], [12, 16]])  # g[o] * x[block of o]
    assert_exact(grad_b, [1, 2, 3, 4])


# Backward of the transposed convs: grad_x[i] = sum_j w[j] g[i*s + j*d - p] (over positions kept),
# grad_w[j] = sum_i x[i] g[i*s + j*d - p], grad_b = sum g.


@pytest.mark.parametrize(
    "padding, output_padding, grad_x, grad_w",
    [
        # g = 1..7 on positions 2i + j: grad_x[i] = g[2i] + 10 g[2i+1] + 100 g[2i+2]; grad_w[j] = sum x[i] g[2i+j]
        (0, 0, [1 + 20 + 300, 3 + 40 + 500, 5 + 60 + 700], [1 + 6 + 15, 2 + 8 + 18, 3 + 10 + 21]),
        # g = 1..6 on positions 2i + j - 1: tap 0 of input 0 lands on the crop
        (1, 1, [10 + 200, 2 + 30 + 400, 4 + 50 + 600], [4 + 12, 1 + 6 + 15, 2 + 8 + 18]),
    ],
)
def test_conv_transpose1d_backward_stride_2(padding, output_padding, grad_x, grad_w):
    g = np.arange(1.0, 8.0 - padding)[None, None]
    got = reference.conv_transpose1d_backward(g, X3, K3, np.zeros(1), 2, padding, output_padding)
    assert_exact(got[0], [[grad_x]])
    assert_exact(got[1], [[grad_w]])
    assert_exact(got[2], [g.sum()])


def test_conv_transpose1d_backward_output_padding_beyond_stride_below_dilation():
    # stride 1, dilation 3, padding 1, output_padding 2: positions i + 3j - 1 on L = 6; g = 1..6
    g = np.arange(1.0, 7.0)[None, None]
    grad_x, grad_w, grad_b = reference.conv_transpose1d_backward(
        g, X3, np.array([[[1.0, 10.0]]]), np.ones(1), 1, 1, 2, 1, 3
    )
    assert_exact(grad_x, [[[10 * 3, 1 + 10 * 4, 2 + 10 * 5]]])  # g at (-1, 2), (0, 3), (1, 4)
    assert_exact(grad_w, [[[2 * 1 + 3 * 2, 1 * 3 + 2 * 4 + 3 * 5]]])
    assert_exact(grad_b, [21])  # position 5, reached by no tap, still counts for the bias


def test_conv_transpose1d_backward_on_ncl_all_different():
    x = np.arange(1.0, 25.0).reshape(2, 3, 4)
    w = np.zeros((3, 4, 3))
    w[1, 2], w[2, 0, 1] = [1.0, 10.0, 100.0], -1.0  # as in the forward case above
    g = np.arange(72.0).reshape(2, 4, 9)  # g[n, o, p] = 36n + 9o + p
    grad_x, _, grad_b = reference.conv_transpose1d_backward(g, x, w, np.zeros(4), stride=2)
    expected = np.zeros((2, 3, 4))
    # channel 1: g[n, 2, 2i] + 10 g[n, 2, 2i+1] + 100 g[n, 2, 2i+2] = 111 (36n + 18 + 2i) + 210
    expected[:, 1] = [[2208, 2430, 2652, 2874], [6204, 6426, 6648, 6870]]
    expected[:, 2] = [[-1, -3, -5, -7], [-37, -39, -41, -43]]  # -g[n, 0, 2i + 1] = -(36n + 2i + 1)
    assert_exact(grad_x, expected)
    assert_exact(grad_b, [396, 558, 720, 882])  # sum over n, p: 162o + 396


@pytest.mark.parametrize("op", ["conv_transpose1d_backward", "conv_transpose2d_backward", "conv_transpose3d_backward"])
def test_conv_transpose_backward_groups_keep_channel_blocks_apart(op):
    d = int(op[len("conv_transpose")])
    x = np.array([1.0, 2.0, 3.0, 4.0]).reshape((1, 4) + (1,) * d)
    w = np.array([[1, 10], [100, 1000], [1, 1], [2, -1]], dtype=float).reshape((4, 2) + (1,) * d)
    g = np.array([1.0, 2.0, 3.0, 4.0]).reshape((1, 4) + (1,) * d)
    grad_x, grad_w, grad_b = getattr(reference, op)(g, x, w, np.zeros(4), groups=2)
    # grad_x[c] = sum over the outputs o of c's block of w[c, o] g[o]; grad_w[c, o] = x[c] g[o]
    assert_exact(grad_x.ravel(), [1 + 20, 100 + 2000, 3 + 4, 6 - 4])
    assert_exact(grad_w.reshape(4, 2), [[1, 2], [2, 4], [9, 12], [12, 16]])
    assert_exact(grad_b, [1, 2, 3, 4])


def test_conv_transpose2d_backward_stride_2_1():
    x = np.array([[[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]]])
    w = np.array([[[[1.0, 10.0], [100.0, 1000.0]]]])
    g = np.arange(16.0).reshape(1, 1, 4, 4)  # g[r, q] = 4r + q
    grad_x, grad_w, _ = reference.conv_transpose2d_backward(g, x, w, stride=(2, 1))
    # grad_x[i, j] = sum w[a, b] (4(2i + a) + j + b) = 1111 (8i + j) + (10 + 400 + 5000)
    assert_exact(grad_x, [[[[5410, 6521, 7632], [14298, 15409, 16520]]]])
    # grad_w[a, b] = sum x[i, j] (8i + j + 4a + b) = 145 + 21 (4a + b)
    assert_exact(grad_w, [[[[145, 166], [229, 250]]]])


def test_conv_transpose2d_backward_dilation_1_2_with_output_padding_beyond_stride():
    x = np.array([[[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]]])
    g = np.arange(8.0).reshape(1, 1, 2, 4)  # g[i, q] = 4i + q; columns j + 2b - 1
    grad_x, grad_w, _ = reference.conv_transpose2d_backward(
        g, x, np.array([[[[1.0, 10.0]]]]), padding=(0, 1), output_padding=(0, 1), dilation=(1, 2)
    )
    # grad_x[i, j] = g[i, j - 1] + 10 g[i, j + 1]: row 0: 10*1, 0 + 10*2, 1 + 10*3; row 1: 10*5, 4 + 60, 5 + 70
    assert_exact(grad_x, [[[[10, 20, 31], [50, 64, 75]]]])
    # tap 0: 2*0 + 3*1 + 5*4 + 6*5; tap 1: 1*1 + 2*2 + 3*3 + 4*5 + 5*6 + 6*7
    assert_exact(grad_w, [[[[53, 106]]]])


def test_conv_transpose3d_backward_stride_2_1_1():
    x = np.arange(1.0, 13.0).reshape(1, 1, 2, 2, 3)  # sum 78; sum x i = 57, sum x h = 48, sum x j = 86
    w = np.array([[1.0, 10.0], [100.0, 1000.0]]).reshape(1, 1, 2, 1, 2)
    g = np.arange(32.0).reshape(1, 1, 4, 2, 4)  # g[p, h, q] = 8p + 4h + q
    grad_x, grad_w, _ = reference.conv_transpose3d_backward(g, x, w, stride=(2, 1, 1))
    # grad_x[i, h, j] = sum w[a, b] (8(2i + a) + 4h + j + b) = 1111 (16i + 4h + j) + (10 + 800 + 9000)
    expected = [[[9810, 10921, 12032], [14254, 15365, 16476]], [[27586, 28697, 29808], [32030, 33141, 34252]]]
    assert_exact(grad_x, [[expected]])
    # grad_w[a, b] = sum x (16i + 4h + j) + 78 (8a + b) = 16*57 + 4*48 + 86 + 78 (8a + b)
    assert_exact(grad_w, np.array([[1190, 1268], [1814, 1892]]).reshape(1, 1, 2, 1, 2))


def test_conv_transpose3d_backward_gathers_what_the_one_hot_taps_scattered():
    x = np.arange(720.0).reshape(2, 3, 4, 5, 6)
    g = np.sin(np.arange(2 * 4 * 7 * 8 * 18.0)).reshape(2, 4, 7, 8, 18)
    grad_x, grad_w, grad_b = reference.conv_transpose3d_backward(g, x, scatter_3d_weight(), np.zeros(4), **SCATTER_3D)
    expected = np.zeros(x.shape)
    expected[:, 2] = g[:, 1, 0:7:2, 2:7, 0:16:3]
    expected[:, 0, 1:] = -2 * g[:, 3, 1:6:2, 0:5, 0:16:3]  # input depth 0 landed on the crop
    np.testing.assert_allclose(grad_x, expected, rtol=0, atol=1e-12)
    np.testing.assert_allclose(grad_w[2, 1, 1, 1, 0], np.sum(x[:, 2] * g[:, 1, 0:7:2, 2:7, 0:16:3]), rtol=1e-13)
    np.testing.assert_allclose(grad_w[0, 3, 0, 0, 0], np.sum(x[:, 0, 1:] * g[:, 3, 1:6:2, 0:5, 0:16:3]), rtol=1e-13)
    np.testing.assert_allclose(grad_b, g.sum(axis=(0, 2, 3, 4)), rtol=1e-13)


def test_conv_transpose_backward_magnitude_is_the_backward_of_absolute_values():
    x, w, g = np.array([[[1.0, -2.0]]]), np.array([[[-1.0, 1.0]]]), np.array([[[-1.0, 1.0, -1.0]]])
    grad_x, grad_w, grad_b = reference.conv_transpose1d_backward_magnitude(g, x, w, np.array([-7.0]))
    assert_exact(grad_x, [[[2, 2]]])  # |w| . |g| over the two positions each input reaches
    assert_exact(grad_w, [[[1 + 2, 1 + 2]]])
    assert_exact(grad_b, [3])
