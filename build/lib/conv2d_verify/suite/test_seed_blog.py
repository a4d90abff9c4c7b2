"""The seed blog's experiments: on an all-ones 5x5 input each output channel of Conv2d is the
sum of its kernel plus its bias, for one and for three input channels."""

import dataclasses

import numpy as np
import pytest
import torch

import reference
from conv2d_verify import tolerance
from conv2d_verify.backends import conv_backend
from conv2d_verify.calls import check_against_reference, run_valid_call
from conv2d_verify.config import Conv2dConfig
from conv2d_verify.execution import default_execution
from conv2d_verify.judge import Comparison, expect, judge
from conv2d_verify.seed_blog import (
    ONE_CHANNEL_BIAS,
    ONE_CHANNEL_OUTPUT,
    ONE_CHANNEL_WEIGHT,
    THREE_CHANNEL_BIAS,
    THREE_CHANNEL_OUTPUT,
    THREE_CHANNEL_WEIGHT,
)
from conv2d_verify.settings import current as run_settings
from conv2d_verify.values import TORCH_DTYPES, as_numpy

BLOG_LAYERS = {"1->3": (1, 3), "3->4": (3, 4)}
PRINTED = {
    "1->3": (ONE_CHANNEL_WEIGHT, ONE_CHANNEL_BIAS, ONE_CHANNEL_OUTPUT),
    "3->4": (THREE_CHANNEL_WEIGHT, THREE_CHANNEL_BIAS, THREE_CHANNEL_OUTPUT),
}


def blog_config(in_channels: int, out_channels: int) -> Conv2dConfig:
    return Conv2dConfig(in_channels, out_channels, 3, 1, 0, 1, 1, True, "zeros", 1, 5, 5)


@pytest.mark.torch_only
@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("layer_name", sorted(BLOG_LAYERS))
def test_each_channel_is_its_kernel_sum_plus_bias(layer_name, seed, dtype):
    config = blog_config(*BLOG_LAYERS[layer_name])
    torch.manual_seed(seed)
    device, execution = run_settings().device, default_execution()
    layer = torch.nn.Conv2d(**config.layer_kwargs(), dtype=TORCH_DTYPES[dtype], device=device)  # torch's own init
    ones = torch.ones(config.input_shape, dtype=TORCH_DTYPES[dtype], device=device)
    with torch.no_grad():
        got = run_valid_call(lambda: layer(ones), dtype, config, execution, skip=True)
    x, w, b = as_numpy(ones), as_numpy(layer.weight), as_numpy(layer.bias)
    per_channel = w.sum(axis=(1, 2, 3)) + b  # the blog's f_p[o].sum() + f_b[o]
    magnitude = np.abs(w).sum(axis=(1, 2, 3)) + np.abs(b)
    expected = np.broadcast_to(per_channel[None, :, None, None], got.shape)
    bound = np.broadcast_to(magnitude[None, :, None, None], got.shape)
    allowance = tolerance.allowance_for(
        bound, tolerance.precision_in_force(dtype, ones.device.type), (x, w, b), w[0].size
    )
    allowance = dataclasses.replace(allowance, description=f"kernel sum plus bias: {allowance.description}")
    compared = Comparison(
        "nn.Conv2d",
        config,
        dtype,
        str(ones.device),
        conv_backend(config, ones, layer.weight),
        torch.__version__,
        execution,
        x,
        w,
        b,
    )
    judge(compared, as_numpy(got), expect(expected, bound, allowance, dtype))
    check_against_reference("nn.Conv2d", got, ones, layer.weight, layer.bias, config, execution)


@pytest.mark.torch_only
@pytest.mark.parametrize("layer_name", sorted(PRINTED))
def test_printed_weights_reproduce_printed_outputs(layer_name):
    weight, bias, printed = PRINTED[layer_name]
    config = blog_config(*BLOG_LAYERS[layer_name])
    layer = torch.nn.Conv2d(**config.layer_kwargs())
    with torch.no_grad():
        layer.weight.copy_(torch.from_numpy(weight))
        layer.bias.copy_(torch.from_numpy(bias))
        got = as_numpy(layer(torch.ones(config.input_shape)))
    # Every printed number is rounded to 4 decimals: the sum of 9*C weights and a bias, and the
    # printed output, may each be off by half a unit of 1e-4.
    rounding = (weight[0].size + 1 + 1) * 0.5e-4
    expected = np.broadcast_to(printed[None, :, None, None], got.shape)
    np.testing.assert_array_equal(got, got[:, :, :1, :1].repeat(3, 2).repeat(3, 3))  # constant planes
    assert np.all(np.abs(got - expected) <= rounding), (got[0, :, 0, 0], printed)
    from_reference = reference.conv2d(np.ones(config.input_shape), weight, bias)
    assert np.all(np.abs(from_reference - expected) <= rounding), (from_reference[0, :, 0, 0], printed)
