"""The forward pass on special values and shapes: NaN and infinities, signed zeros, subnormals,
overflow past the dtype's range, empty batches and zero-sized inputs, long reductions.

Every value check goes through check_call, so a failure has the standard message and
reproduction script. The reference is IEEE-literal: zero padding is made of zeros, and
inf * 0 there is NaN like anywhere else.
"""

from dataclasses import replace

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import reference
from conv2d_verify import tolerance
from conv2d_verify.calls import check_against_reference, check_call, functional_conv2d, make_layer, run_valid_call
from conv2d_verify.config import Conv2dConfig
from conv2d_verify.execution import Execution, default_execution
from conv2d_verify.records import count_event
from conv2d_verify.settings import current as run_settings
from conv2d_verify.special_values import (
    SMALLEST_NORMAL,
    nonfinite_cases,
    overflow_cases,
    signed_zero_cases,
    subnormal_cases,
)
from conv2d_verify.strategies import conv2d_cases, conv2d_configs
from conv2d_verify.values import TORCH_DTYPES, as_numpy, case_arrays, on_device

# NaN, inf and overflow are the point here: numpy's warnings about them in the reference are not news.
pytestmark = pytest.mark.filterwarnings("ignore:(invalid value|overflow) encountered:RuntimeWarning")
apis = st.sampled_from(("nn.Conv2d", "F.conv2d") if run_settings().judges_torch else ("F.conv2d",))
# A third of the profile's examples per test: this module runs 32 Hypothesis tests.
examples = settings(max_examples=max(10, settings.default.max_examples // 3))


def checked(
    api: str, config: Conv2dConfig, dtype: str, x, w, b, execution: Execution | None = None
) -> torch.Tensor | None:
    """nn.Conv2d or F.conv2d on the values, through check_call. torch's output, for further
    checks; None where a known defect covers the example (not run, or not held to the reference)."""
    execution = execution or default_execution()
    if api == "nn.Conv2d":
        layer = make_layer(config, dtype, w, b)
        held = (on_device(x, dtype), layer.weight, layer.bias)
        compute = lambda: layer(held[0])
    else:
        held = tuple(on_device(a, dtype) for a in (x, w, b))
        compute = lambda: functional_conv2d(config, *held)
    with execution.active(), torch.no_grad():
        return check_call(api, config, compute, *held, execution)


def held_values(dtype: str, *arrays):
    """The arrays as the dtype holds them, back in float64."""
    return [None if a is None else as_numpy(torch.from_numpy(a).to(TORCH_DTYPES[dtype])) for a in arrays]


def count_outputs(label: str, count: int) -> None:
    count_event(f"{label}: " + ("none" if count == 0 else "1" if count == 1 else "several"))


# --- NaN and infinities ----------------------------------------------------------------------


@examples
@given(special=nonfinite_cases(weight_taps_read_padding=False), api=apis)
def test_nonfinite_values_where_every_weight_tap_reads_input_pixels(dtype, special, api):
    """NaN/inf in the input, the bias, or weight taps that read an input pixel at every output
    position: unambiguous, so torch must give NaN exactly where the reference does."""
    got = checked(api, special.case.config, dtype, *special.arrays(dtype))
    if got is not None:
        count_outputs("NaN outputs", int(torch.isnan(got).sum()))
        count_outputs("infinite outputs", int(torch.isinf(got).sum()))


def padding_tap_cases():
    return nonfinite_cases(weight_taps_read_padding=True, tensors=("weight",))


@examples
@given(special=padding_tap_cases(), api=apis)
def test_nonfinite_weight_reading_zero_padding_on_torch_own_kernels(dtype, special, api):
    """With oneDNN off, torch's Slow2d/SlowDilated2d materialise the padding zeros (im2col):
    inf * 0 = NaN there, as in the reference."""
    checked(api, special.case.config, dtype, *special.arrays(dtype), replace(default_execution(), mkldnn=False))


@examples
@given(special=padding_tap_cases(), api=apis)
def test_nonfinite_weight_reading_zero_padding(dtype, special, api):
    """The expectation is the IEEE-literal one, padding zeros times inf is NaN: torch's own
    kernels give it, and so does every backend where the same zeros are written out (F.pad, or
    the extra row of padding='same' with an even kernel). oneDNN's float32, float16 and non-AMX
    bfloat16 kernels skip the taps over their own padding and give a finite number instead."""
    checked(api, special.case.config, dtype, *special.arrays(dtype))


# --- signed zeros, subnormals, overflow ---------------------------------------------------------


@examples
@given(zeros=signed_zero_cases(), api=apis)
def test_signed_zeros(dtype, zeros, api):
    """-0.0 among the data; where every product and the bias are zeros, the result is exactly
    zero (either sign: the sign of a zero sum depends on the order of summation)."""
    config = zeros.case.config
    x, w, b = zeros.arrays(dtype)
    got = checked(api, config, dtype, x, w, b)
    if got is None:
        return
    held = held_values(dtype, x, w, b)
    all_zero_products = reference.conv2d_magnitude(*held, **config.conv_kwargs()) == 0
    count_outputs("outputs made of zeros only", int(all_zero_products.sum()))
    nonzero = as_numpy(got)[all_zero_products] != 0
    assert not nonzero.any(), (
        f"{api} {dtype}: {nonzero.sum()} outputs made only of zero products are not zero: {config!r}"
    )


@examples
@given(tiny=subnormal_cases(), api=apis)
def test_subnormals(dtype, tiny, api):
    """Subnormal operands of the dtype, or normal operands with subnormal products."""
    got = checked(api, tiny.case.config, dtype, *tiny.arrays(dtype))
    if got is not None:
        magnitudes = as_numpy(got.abs())
        count_outputs("subnormal outputs", int(((magnitudes > 0) & (magnitudes < SMALLEST_NORMAL[dtype])).sum()))


@examples
@given(big=overflow_cases(), api=apis)
def test_overflow_to_infinity(dtype, big, api):
    """Results past the dtype's largest value are +-inf, those within it finite; check_call
    applies tolerance.with_overflow, and the events count how often it had work to do."""
    config = big.case.config
    x, w, b = big.arrays(dtype)
    got = checked(api, config, dtype, x, w, b)
    if got is None:
        return
    expected = reference.conv2d(*held_values(dtype, x, w, b), **config.conv_kwargs())
    count_outputs(
        "overflow: outputs past the dtype's largest value", int((np.abs(expected) > tolerance.LARGEST[dtype]).sum())
    )
    count_outputs("overflow: infinite outputs", int(torch.isinf(got).sum()))


@pytest.mark.dtypes("float32", "float16", "bfloat16")
def test_comparison_applies_overflow(dtype):
    """check_against_reference expects +-inf past the dtype's range (torch's honest answer passes)
    and rejects the largest finite value in its place."""
    config = Conv2dConfig(1, 2, (1, 2), 1, 0, 1, 1, False, "zeros", 1, 1, 2)
    largest = tolerance.LARGEST[dtype]
    x = torch.tensor([[[[largest / 2, largest / 2]]]], dtype=TORCH_DTYPES[dtype], device=run_settings().device)
    w = torch.tensor([[[[1.5, 1.5]]], [[[-1.5, -1.5]]]], dtype=TORCH_DTYPES[dtype], device=run_settings().device)
    execution = default_execution()
    got = run_valid_call(lambda: torch.nn.functional.conv2d(x, w), dtype, config, execution, skip=True)
    assert got.flatten().tolist() == [float("inf"), float("-inf")]
    check_against_reference("F.conv2d", got, x, w, None, config, execution, record=False)
    with pytest.raises(AssertionError, match="disagrees with the float64 reference"):
        check_against_reference("F.conv2d", got.nan_to_num(), x, w, None, config, execution, record=False)


# --- empty and zero-sized inputs -------------------------------------------------------------------


@examples
@given(case=conv2d_cases(configs=conv2d_configs(batches=st.just(0))), api=apis)
def test_empty_batch(dtype, case, api):
    """N = 0: torch and the reference agree on the output shape (0, O, Ho, Wo)."""
    got = checked(api, case.config, dtype, *case_arrays(case, dtype))
    assert got is None or got.shape[0] == 0


ZERO_SIZED = {  # input shape, conv kwargs; the kernel is 3x2
    "height 0, padding fits the kernel": ((1, 3, 0, 6), {"padding": 2}),
    "width 0, padding fits the kernel": ((2, 3, 5, 0), {"padding": 1}),
    "unbatched, height 0": ((3, 0, 6), {"padding": 2}),
    "height 0, no padding": ((1, 3, 0, 6), {"padding": 0}),
    "height 0, reflect": ((1, 3, 0, 6), {"padding": 1, "padding_mode": "reflect"}),
    "width 0, replicate": ((1, 3, 5, 0), {"padding": 1, "padding_mode": "replicate"}),
    "height 0, circular": ((1, 3, 0, 6), {"padding": 2, "padding_mode": "circular"}),
}


@pytest.mark.torch_only
@pytest.mark.parametrize("shape, kwargs", ZERO_SIZED.values(), ids=ZERO_SIZED.keys())
def test_zero_height_or_width_is_rejected(shape, kwargs):
    """torch rejects an empty spatial axis unless the batch is empty; the reference raises a
    ValueError that names the input."""
    layer = torch.nn.Conv2d(3, 4, (3, 2), **kwargs, device=run_settings().device)
    fits = (
        kwargs.get("padding_mode", "zeros") == "zeros"
        and min(shape[-2] + 2 * kwargs["padding"] - 3, shape[-1] + 2 * kwargs["padding"] - 2) >= 0
    )
    with pytest.raises(RuntimeError, match="Only zero batch or zero channel inputs are supported" if fits else None):
        layer(torch.zeros(shape, device=run_settings().device))
    with pytest.raises(ValueError, match="input"):
        reference.conv2d(np.zeros(shape), np.zeros((4, 3, 3, 2)), None, **kwargs)


@pytest.mark.torch_only
def test_empty_batch_with_zero_height():
    """torch accepts an empty spatial axis when the batch is empty too; so does the reference."""
    config = Conv2dConfig(3, 4, (3, 2), 1, 2, 1, 1, True, "zeros", 0, 0, 6)
    x, w, b = (torch.zeros(config.input_shape), torch.ones(config.weight_shape), torch.ones(4))
    x, w, b = (t.to(run_settings().device) for t in (x, w, b))
    got = torch.nn.functional.conv2d(x, w, b, padding=2)
    assert got.shape == (0, 4, 2, 9)
    check_against_reference("F.conv2d", got, x, w, b, config, default_execution(), record=False)


# --- long reductions ---------------------------------------------------------------------------

LARGE_CHANNELS = {  # in_channels * kh * kw per group, the reduction length K, in the thousands
    "C=256 3x3, K=2304": Conv2dConfig(256, 16, 3, 1, 1, 1, 1, True, "zeros", 1, 5, 5),
    "C=1024 1x1, K=1024": Conv2dConfig(1024, 8, 1, 1, 0, 1, 1, True, "zeros", 2, 3, 3),
    "C=128 5x5 dilated reflect, K=3200": Conv2dConfig(128, 8, 5, 1, 2, 2, 1, False, "reflect", 1, 6, 5),
    "C=512 groups=2 3x3 stride 2, K=2304": Conv2dConfig(512, 32, 3, 2, 1, 1, 2, True, "zeros", 1, 7, 7),
    "depthwise 512 3x3, K=9": Conv2dConfig(512, 512, 3, 1, 1, 1, 512, True, "zeros", 1, 6, 6),
}


@examples
@given(case=conv2d_cases(configs=st.sampled_from(list(LARGE_CHANNELS.values()))), api=apis)
def test_large_channel_counts(dtype, case, api):
    count_event(next(name for name, config in LARGE_CHANNELS.items() if config == case.config))
    checked(api, case.config, dtype, *case_arrays(case, dtype))
