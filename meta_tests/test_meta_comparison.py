"""Meta-tests: the comparison must be able to fail. Each feeds it a plausible wrong answer
(a convolution instead of a correlation, a pixel of padding moved, a 1e-4 relative error)
and requires the helper to reject it."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import assume, given

from conv2d_verify.calls import check_against_reference, make_layer, run_valid_call
from conv2d_verify.config import Conv2dConfig
from conv2d_verify.execution import cudnn_settings, default_execution
from conv2d_verify.strategies import conv2d_cases
from conv2d_verify.values import TORCH_DTYPES, case_arrays, on_device

# N, C, H, W all different, kernel not square
SHAPES = Conv2dConfig(3, 4, (3, 2), 1, 1, 1, 1, True, "zeros", 2, 7, 6)


def normal_tensors(config: Conv2dConfig, dtype: str, seed: int = 0):
    rng = np.random.default_rng(seed)
    as_torch = lambda shape: torch.from_numpy(rng.standard_normal(shape)).to(TORCH_DTYPES[dtype])
    return as_torch(config.input_shape), as_torch(config.weight_shape), as_torch((config.out_channels,))


def must_reject(got, x, w, b, config):
    with pytest.raises(AssertionError, match="disagrees with the float64 reference"):
        check_against_reference("F.conv2d", got, x, w, b, config, default_execution(), record=False)


@pytest.mark.parametrize("dtype", ["float64", "float32", "float16", "bfloat16"])
def test_rejects_a_kernel_flipped_180_degrees(dtype):
    x, w, b = normal_tensors(SHAPES, dtype)
    honest = run_valid_call(lambda: F.conv2d(x, w, b, padding=1), dtype, SHAPES, default_execution(), skip=True)
    check_against_reference(
        "F.conv2d", honest, x, w, b, SHAPES, default_execution(), record=False
    )  # the honest answer passes
    must_reject(F.conv2d(x, w.flip(2, 3), b, padding=1), x, w, b, SHAPES)


@pytest.mark.parametrize("dtype", ["float64", "float32", "float16", "bfloat16"])
@pytest.mark.parametrize(
    "shifted_pads", [(1, 1, 2, 0), (1, 1, 0, 2), (2, 0, 1, 1), (0, 2, 1, 1)], ids=["down", "up", "right", "left"]
)
def test_rejects_padding_shifted_by_one_pixel(dtype, shifted_pads):
    x, w, b = normal_tensors(SHAPES, dtype)
    shifted = run_valid_call(
        lambda: F.conv2d(F.pad(x, shifted_pads), w, b), dtype, SHAPES, default_execution(), skip=True
    )
    must_reject(shifted, x, w, b, SHAPES)


def test_rejects_same_padding_with_the_odd_pixel_first():
    config = Conv2dConfig(2, 3, (2, 4), 1, "same", 1, 1, False, "zeros", 1, 5, 6)
    x, w, _ = normal_tensors(config, "float32")
    # torch's 'same' pads (top 0, bottom 1, left 1, right 2); this pads the other way round
    must_reject(F.conv2d(F.pad(x, (2, 1, 1, 0)), w), x, w, None, config)


@given(case=conv2d_cases(families=("same_sign",)))
def test_rejects_a_relative_error_of_1e_4_in_float32(case):
    x, w, b = case_arrays(case, "float32")  # all positive: no cancellation to hide behind
    layer = make_layer(case.config, "float32", w, b)
    inputs = on_device(x, "float32")
    with torch.no_grad(), cudnn_settings(tf32=False, deterministic=None, benchmark=None):  # TF32 allows ~2e-3
        honest = run_valid_call(lambda: layer(inputs), "float32", case.config, default_execution())
        assume(honest is not None)  # a capability gap of this torch
        assume(bool(honest.abs().max() > 0))  # every tap in zero padding: scaling changes nothing
        must_reject(honest * (1 + 1e-4), inputs, layer.weight, layer.bias, case.config)
