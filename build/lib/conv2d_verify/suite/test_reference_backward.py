"""reference.conv2d_backward earns its trust before it judges torch.

L = sum(conv2d(x, w, b) * g) is linear in x, in w and in b separately, so a central
difference along any direction v is exact up to float64 rounding, whatever the step; the
adjoint identity ties the gradients to the forward pass; and small cases whose gradients
were worked out by hand pin down strides, padding folds and groups.
"""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import reference
from conv2d_verify.invalid_cases import CASES
from conv2d_verify.strategies import conv2d_cases, value_recipes
from reference import conv2d_backward, conv2d_backward_magnitude

ROUNDING = 1e-10  # of the |.|-weighted sum each identity is built from; float64 error is ~K * 1e-16 of it


def arrays(case):
    config = case.config
    b = case.bias.make((config.out_channels,)) if config.bias else None
    return case.input.make(config.input_shape), case.weight.make(config.weight_shape), b


def loss(x, w, b, g, kwargs) -> float:
    return float(np.sum(reference.conv2d(x, w, b, **kwargs) * g))


def loss_magnitude(x, w, b, g, kwargs) -> float:
    """sum(|g| * (|x| conv |w| + |b|)): the scale of loss()'s rounding error."""
    return float(np.sum(np.abs(g) * reference.conv2d_magnitude(x, w, b, **kwargs)))


@given(case=conv2d_cases(), g_recipe=value_recipes(), v_recipe=value_recipes())
def test_central_differences_match_the_gradient(case, g_recipe, v_recipe):
    x, w, b = arrays(case)
    kwargs = case.config.conv_kwargs()
    g = g_recipe.make(reference.conv2d(x, w, b, **kwargs).shape)
    grad_x, grad_w, grad_b = conv2d_backward(g, x, w, b, **kwargs)
    v = v_recipe.make(x.shape)
    difference = (loss(x + v, w, b, g, kwargs) - loss(x - v, w, b, g, kwargs)) / 2
    scale = loss_magnitude(np.abs(x) + np.abs(v), w, b, g, kwargs)
    assert abs(difference - np.sum(grad_x * v)) <= ROUNDING * scale
    v = v_recipe.make(w.shape)
    difference = (loss(x, w + v, b, g, kwargs) - loss(x, w - v, b, g, kwargs)) / 2
    scale = loss_magnitude(x, np.abs(w) + np.abs(v), b, g, kwargs)
    assert abs(difference - np.sum(grad_w * v)) <= ROUNDING * scale
    if b is not None:
        v = v_recipe.make(b.shape)
        difference = (loss(x, w, b + v, g, kwargs) - loss(x, w, b - v, g, kwargs)) / 2
        scale = loss_magnitude(x, w, np.abs(b) + np.abs(v), g, kwargs)
        assert abs(difference - np.sum(grad_b * v)) <= ROUNDING * scale


@given(case=conv2d_cases(), g_recipe=value_recipes())
def test_adjoint_identity_and_bias_sum(case, g_recipe):
    x, w, b = arrays(case)
    kwargs = case.config.conv_kwargs()
    forward = reference.conv2d(x, w, None, **kwargs)
    g = g_recipe.make(forward.shape)
    grad_x, grad_w, grad_b = conv2d_backward(g, x, w, b, **kwargs)
    assert grad_x.shape == x.shape and grad_w.shape == w.shape
    scale = loss_magnitude(x, w, None, g, kwargs)
    inner = np.sum(forward * g)
    assert abs(inner - np.sum(x * grad_x)) <= ROUNDING * scale
    assert abs(inner - np.sum(w * grad_w)) <= ROUNDING * scale
    if b is None:
        assert grad_b is None
    else:
        spatial_and_batch = (1, 2) if x.ndim == 3 else (0, 2, 3)
        np.testing.assert_allclose(grad_b, g.sum(axis=spatial_and_batch), rtol=0, atol=ROUNDING * np.abs(g).sum())


@given(case=conv2d_cases(), g_recipe=value_recipes())
def test_magnitude_bounds_each_gradient(case, g_recipe):
    x, w, b = arrays(case)
    kwargs = case.config.conv_kwargs()
    g = g_recipe.make(reference.conv2d(x, w, b, **kwargs).shape)
    magnitudes = conv2d_backward_magnitude(g, x, w, b, **kwargs)
    for gradient, magnitude in zip(conv2d_backward(g, x, w, b, **kwargs), magnitudes):
        if gradient is None:
            assert magnitude is None
            continue
        assert np.all(np.abs(gradient) <= magnitude * (1 + 1e-12))


@given(case=conv2d_cases(), g_recipe=value_recipes())
def test_unbatched_is_the_batch_of_one(case, g_recipe):
    x, w, b = arrays(case)
    kwargs = case.config.conv_kwargs()
    single = x if x.ndim == 3 else x[0]
    g = g_recipe.make(reference.conv2d(single, w, b, **kwargs).shape)
    unbatched = conv2d_backward(g, single, w, b, **kwargs)
    batched = conv2d_backward(g[None], single[None], w, b, **kwargs)
    assert unbatched[0].shape == single.shape
    np.testing.assert_array_equal(unbatched[0], batched[0][0])
    for ours, theirs in zip(unbatched[1:], batched[1:]):
        np.testing.assert_array_equal(ours, theirs)


# Known answers, worked out by hand.


def test_1x1_kernel():
    x = np.arange(48.0).reshape(2, 3, 2, 4)  # (N=2, C=3, H=2, W=4): x[n, c, h, w] = 24n + 8c + 4h + w
    w = np.array([[1.0, 2.0, 3.0], [10.0, 20.0, 30.0]]).reshape(2, 3, 1, 1)  # (O=2, C=3, 1, 1)
    g = np.broadcast_to(np.array([1.0, 2.0])[None, :, None, None], (2, 2, 2, 4))  # g[n, o] = o + 1
    grad_x, grad_w, grad_b = conv2d_backward(g, x, w, np.zeros(2))
    # grad_x[n, c] = 1 * w[0, c] + 2 * w[1, c] everywhere
    np.testing.assert_array_equal(grad_x, np.broadcast_to(np.array([21.0, 42.0, 63.0])[None, :, None, None], x.shape))
    # sum of channel c over n, h, w: 24 * 8 + 8c * 16 + 4 * 8 + (0+1+2+3) * 4 = 248 + 128c; times o + 1
    np.testing.assert_array_equal(grad_w[:, :, 0, 0], [[248, 376, 504], [496, 752, 1008]])
    np.testing.assert_array_equal(grad_b, [16.0, 32.0])  # (o + 1) * N * H * W


def test_one_hot_kernel_with_stride_2_1_scatters_to_strided_rows():
    x = np.arange(120.0).reshape(2, 3, 5, 4)  # x[n, c, h, w] = 60n + 20c + 4h + w
    w = np.zeros((1, 3, 2, 2))
    w[0, 1, 1, 0] = 1.0  # out[n, 0, y, x] = x[n, 1, 2y + 1, x]; out is (2, 1, 2, 3)
    g = np.arange(1.0, 13.0).reshape(2, 1, 2, 3)
    grad_x, grad_w, _ = conv2d_backward(g, x, w, stride=(2, 1))
    expected = np.zeros((2, 3, 5, 4))  # rows 0, 2, 4 and column 3 are never read
    expected[0, 1, 1, :3], expected[0, 1, 3, :3] = [1, 2, 3], [4, 5, 6]
    expected[1, 1, 1, :3], expected[1, 1, 3, :3] = [7, 8, 9], [10, 11, 12]
    np.testing.assert_array_equal(grad_x, expected)
    # grad_w[0, c, i, j] = sum g[n, y, x] * (60n + 20c + 4(2y + i) + x + j)
    #   = 60 * 57 + (20c + 4i + j) * 78 + 8 * 48 + 86, with sum g = 78, sum g*n = 57, sum g*y = 48, sum g*x = 86
    c, i, j = np.meshgrid(np.arange(3), np.arange(2), np.arange(2), indexing="ij")
    np.testing.assert_array_equal(grad_w[0], 3890 + 78 * (20 * c + 4 * i + j))


def test_dilation_1_2_reads_two_columns_apart():
    x = np.arange(18.0).reshape(1, 1, 3, 6)  # x[h, w] = 6h + w
    w = np.array([[[[1.0, 10.0]]]])  # (1, 1, 1, 2) spanning 1 x 3: out[y, x] = x[y, x] + 10 x[y, x + 2]
    g = np.zeros((1, 1, 3, 4))
    g[0, 0, 1, 1] = 1.0
    grad_x, grad_w, _ = conv2d_backward(g, x, w, dilation=(1, 2))
    expected = np.zeros((1, 1, 3, 6))
    expected[0, 0, 1, 1], expected[0, 0, 1, 3] = 1.0, 10.0
    np.testing.assert_array_equal(grad_x, expected)
    np.testing.assert_array_equal(grad_w, [[[[7.0, 9.0]]]])  # x[1, 1], x[1, 3]


# Padding (1, 2) on a (1, 1, 2, 3) input, 1x1 identity kernel, g[p, q] = R[p] * C[q] on the
# (4, 7) padded grid with R = (1, 10, 100, 1000), C = (1, ..., 7). Each axis folds on its
# own: grad_x = outer(rows, cols), each the sum of R (C) over the padded positions copying it.
#   rows: padded rows -1, 0, 1, 2 copy reflect (1, 0, 1, 0), replicate (0, 0, 1, 1), circular (1, 0, 1, 0)
#   cols: padded cols -2..4 copy reflect (2,1,0,1,2,1,0), replicate (0,0,0,1,2,2,2), circular (1,2,0,1,2,0,1)
FOLDED_BY_MODE = {
    "zeros": ([10, 100], [3, 4, 5]),
    "reflect": ([10 + 1000, 1 + 100], [3 + 7, 2 + 4 + 6, 1 + 5]),
    "replicate": ([1 + 10, 100 + 1000], [1 + 2 + 3, 4, 5 + 6 + 7]),
    "circular": ([10 + 1000, 1 + 100], [3 + 6, 1 + 4 + 7, 2 + 5]),
}


@pytest.mark.parametrize("padding_mode", sorted(FOLDED_BY_MODE))
def test_padding_folds_onto_the_copied_pixels(padding_mode):
    g = np.outer([1.0, 10.0, 100.0, 1000.0], np.arange(1.0, 8.0))[None, None]
    x = np.arange(1.0, 7.0).reshape(1, 1, 2, 3)
    grad_x, grad_w, _ = conv2d_backward(g, x, np.ones((1, 1, 1, 1)), padding=(1, 2), padding_mode=padding_mode)
    rows, cols = FOLDED_BY_MODE[padding_mode]
    np.testing.assert_array_equal(grad_x[0, 0], np.outer(rows, cols))
    # grad_w = sum(padded * g), and sum(padded * g) = sum(x * grad_x) as every copy is counted
    np.testing.assert_array_equal(grad_w, [[[[np.sum(x[0, 0] * np.outer(rows, cols))]]]])


@pytest.mark.parametrize("padding_mode", ["replicate", "circular"])
def test_a_single_pixel_padded_by_one_is_read_by_every_tap(padding_mode):
    # (1, 1, 1, 1) input padded to 3x3, all copies of it; 3x3 kernel, output (1, 1, 1, 1)
    w = np.arange(1.0, 10.0).reshape(1, 1, 3, 3)
    grad_x, grad_w, grad_b = conv2d_backward(
        np.full((1, 1, 1, 1), 2.0), np.full((1, 1, 1, 1), 5.0), w, np.ones(1), padding=1, padding_mode=padding_mode
    )
    np.testing.assert_array_equal(grad_x, [[[[2.0 * 45]]]])  # g * sum(w)
    np.testing.assert_array_equal(grad_w, np.full((1, 1, 3, 3), 2.0 * 5))  # g * x at every tap
    np.testing.assert_array_equal(grad_b, [2.0])
    ones = conv2d_backward(
        np.ones((1, 1, 1)), np.ones((1, 1, 1)), np.ones((1, 1, 3, 3)), padding=1, padding_mode=padding_mode
    )
    np.testing.assert_array_equal(ones[0], [[[9.0]]])  # unbatched: 9 copies, each weighted 1


def test_groups_keep_channel_blocks_apart():
    x = np.array([1.0, 2.0, 3.0, 4.0]).reshape(1, 4, 1, 1)
    w = np.array([[1, 10], [100, 1000], [1, 1], [2, -1]], dtype=float).reshape(4, 2, 1, 1)
    g = np.array([1.0, 2.0, 3.0, 4.0]).reshape(1, 4, 1, 1)
    grad_x, grad_w, grad_b = conv2d_backward(g, x, w, np.zeros(4), groups=2)
    # channels 0-1 feed outputs 0-1, channels 2-3 feed outputs 2-3
    np.testing.assert_array_equal(grad_x.ravel(), [1 + 200, 10 + 2000, 3 + 8, 3 - 4])
    np.testing.assert_array_equal(grad_w[:, :, 0, 0], [[1, 2], [2, 4], [9, 12], [12, 16]])  # g[o] * x[block of o]
    np.testing.assert_array_equal(grad_b, [1, 2, 3, 4])


def test_depthwise_with_channel_multiplier():
    x = np.ones((1, 3, 2, 3))
    w = np.arange(1.0, 7.0).reshape(6, 1, 1, 1)  # output o reads channel o // 2
    grad_x, grad_w, _ = conv2d_backward(np.ones((1, 6, 2, 3)), x, w, groups=3)
    np.testing.assert_array_equal(grad_x[0, :, 0, 0], [1 + 2, 3 + 4, 5 + 6])
    np.testing.assert_array_equal(grad_w.ravel(), np.full(6, 6.0))  # 2 * 3 ones per output


def test_magnitude_is_the_backward_of_absolute_values():
    x, w, g = np.array([[[[1.0, -2.0], [-3.0, 4.0]]]]), np.array([[[[-1.0]]]]), np.array([[[[-1.0, 1.0], [1.0, -1.0]]]])
    grad_x, grad_w, grad_b = conv2d_backward_magnitude(g, x, w, np.array([-7.0]))
    np.testing.assert_array_equal(grad_x, np.ones((1, 1, 2, 2)))
    np.testing.assert_array_equal(grad_w, [[[[1.0 + 2 + 3 + 4]]]])
    np.testing.assert_array_equal(grad_b, [4.0])


# Errors.


@pytest.mark.parametrize(
    "input_shape, grad_shape",
    [
        ((2, 3, 5, 5), (2, 4, 3, 4)),  # wrong width
        ((2, 3, 5, 5), (1, 4, 3, 3)),  # wrong batch
        ((2, 3, 5, 5), (2, 2, 3, 3)),  # wrong channels
        ((2, 3, 5, 5), (4, 3, 3)),  # unbatched gradient for a batched input
        ((3, 5, 5), (1, 4, 3, 3)),  # batched gradient for an unbatched input
    ],
)
def test_grad_output_of_the_wrong_shape(input_shape, grad_shape):
    with pytest.raises(ValueError, match="grad_output"):
        conv2d_backward(np.ones(grad_shape), np.ones(input_shape), np.ones((4, 3, 3, 3)))


def test_grad_output_of_the_wrong_dtype():
    with pytest.raises(TypeError, match="grad_output"):
        conv2d_backward(np.ones((1, 4, 3, 3), dtype=bool), np.ones((1, 3, 5, 5)), np.ones((4, 3, 3, 3)))


@pytest.mark.parametrize("name", sorted(CASES))
def test_invalid_forward_arguments_raise_as_in_conv2d(name):
    case = CASES[name]
    bias = None if case.bias_shape is None else np.ones(case.bias_shape)
    operands = (np.ones(case.input_shape), np.ones(case.weight_shape), bias)
    with pytest.raises((ValueError, TypeError)) as forward:
        reference.conv2d(*operands, **case.kwargs)
    with pytest.raises(forward.type, match=case.names) as backward:
        conv2d_backward(np.ones(1), *operands, **case.kwargs)
    assert str(backward.value) == str(forward.value)


@given(case=conv2d_cases(), data=st.data())
def test_generated_grad_output_shapes_off_by_one_are_rejected(case, data):
    x, w, b = arrays(case)
    kwargs = case.config.conv_kwargs()
    shape = list(reference.conv2d(x, w, b, **kwargs).shape)
    axis = data.draw(st.integers(0, len(shape) - 1))
    shape[axis] += data.draw(st.sampled_from([-1, 1])) if shape[axis] > 1 else 1
    with pytest.raises(ValueError, match="grad_output"):
        conv2d_backward(np.ones(shape), x, w, b, **kwargs)
