"""Meta-tests for the conv family: the comparison of each op can fail. Each feeds it a plausible
wrong answer (the kernel flipped, output_padding dropped, a 1e-3 relative error on one output
position of a transposed convolution with few taps) and requires the judge to reject it, after
the honest answer passes."""

import dataclasses
import functools

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from conv2d_verify import repro
from conv2d_verify.calls import check_against_reference
from conv2d_verify.execution import arranged, default_execution, flag_changes_allowed
from conv2d_verify.family_config import ConvConfig
from conv2d_verify.ops import FAMILY, OPS
from conv2d_verify.values import TORCH_DTYPES

# N, C, every spatial size different; strided, dilated, grouped; output_padding for the transposed
SHAPES = {
    "conv1d": ConvConfig("conv1d", 4, 6, 3, 2, 1, 1, 2, True, "zeros", 2, (9,)),
    "conv3d": ConvConfig("conv3d", 4, 6, (3, 2, 1), (2, 1, 1), 1, (1, 2, 1), 2, True, "zeros", 2, (5, 6, 4)),
    "conv_transpose1d": ConvConfig("conv_transpose1d", 4, 6, 3, 2, 1, 1, 2, True, "zeros", 2, (5,), 1),
    "conv_transpose2d": ConvConfig(
        "conv_transpose2d", 4, 6, (3, 2), (2, 3), (1, 0), (1, 2), 2, True, "zeros", 2, (4, 3), (1, 2)
    ),
    "conv_transpose3d": ConvConfig(
        "conv_transpose3d", 4, 6, (2, 3, 1), (2, 1, 3), (0, 1, 0), 1, 2, True, "zeros", 2, (3, 4, 2), (1, 0, 2)
    ),
}


def tensors(config: ConvConfig, dtype: str):
    rng = np.random.default_rng(0)
    as_torch = lambda shape: torch.from_numpy(rng.standard_normal(shape)).to(TORCH_DTYPES[dtype])
    return as_torch(config.input_shape), as_torch(config.weight_shape), as_torch((config.out_channels,))


def judge(op: str, got, x, w, b, config) -> None:
    check_against_reference(OPS[op].functional_api, got, x, w, b, config, default_execution(), record=False)


def must_reject(op: str, got, x, w, b, config) -> None:
    with pytest.raises(AssertionError, match="disagrees with the float64 reference"):
        judge(op, got, x, w, b, config)


def call(config: ConvConfig, x, w, b):
    return (
        getattr(F, config.op)(x, w, b, **config.conv_kwargs())
        if config.transposed
        else getattr(F, config.op)(x, w, b, **{k: v for k, v in config.conv_kwargs().items() if k != "padding_mode"})
    )


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("op", FAMILY)
def test_rejects_a_flipped_kernel(op, dtype):
    config = SHAPES[op]
    x, w, b = tensors(config, dtype)
    judge(op, call(config, x, w, b), x, w, b, config)  # the honest answer passes
    spatial = tuple(range(2, w.dim()))
    must_reject(op, call(config, x, w.flip(spatial), b), x, w, b, config)


@pytest.mark.parametrize("op", ["conv_transpose1d", "conv_transpose2d", "conv_transpose3d"])
def test_rejects_output_padding_filled_with_the_wrong_values(op):
    """output_padding extends the output past the last tap: those positions hold the bias alone."""
    config = SHAPES[op]
    x, w, b = tensors(config, "float32")
    got = call(config, x, w, b)
    got[(..., -1)] += 1e-3
    must_reject(op, got, x, w, b, config)


@pytest.mark.parametrize("op", ["conv_transpose1d", "conv_transpose2d", "conv_transpose3d"])
def test_rejects_a_small_error_where_few_taps_land(op):
    """The allowance is per position, from that position's own magnitude and taps: a 1e-5
    relative error where the fewest taps land is rejected in float32."""
    config = SHAPES[op]
    x, w, b = tensors(config, "float32")
    got = call(config, x, w, b)
    counts = functools.reduce(np.multiply.outer, config.taps_per_position())
    fewest = np.unravel_index(np.argmin(np.where(counts > 0, counts, counts.max() + 1)), counts.shape)
    index = (0, 0, *fewest)
    got[index] += 1e-5 * max(abs(float(got[index])), 1.0)
    must_reject(op, got, x, w, b, config)


@pytest.mark.parametrize("weight_layout", ["contiguous", "channels_last", "sliced", "transposed"])
@pytest.mark.parametrize("input_layout", ["contiguous", "channels_last", "sliced", "transposed", "expanded"])
@pytest.mark.parametrize("op", FAMILY)
def test_reproducer_source_runs_in_every_layout(op, input_layout, weight_layout):
    """The source a reproducer and the crash isolation run (module and functional, forward and
    backward) executes and puts each tensor in the layout it names."""
    config = SHAPES[op]
    x, w, b = (t.numpy() for t in tensors(config, "float64"))
    g = np.ones(config.output_shape)
    execution = dataclasses.replace(default_execution(), input_layout=input_layout, weight_layout=weight_layout)
    for api in (OPS[op].module_api, OPS[op].functional_api, f"{OPS[op].module_api} backward"):
        scope = {"torch": torch, "np": np, "x": x, "w": w, "b": b, "g": g}
        with flag_changes_allowed():  # the source sets torch's flags as default_execution() has them
            exec(repro.isolation_source(api, config, "float64", execution), scope)
        held = scope["layer"].weight if "layer" in scope else scope["wt"]
        assert torch.equal(held.detach(), arranged(torch.from_numpy(w), weight_layout, w.ndim)), api
        assert held.stride() == arranged(torch.from_numpy(w), weight_layout, w.ndim).stride(), api
