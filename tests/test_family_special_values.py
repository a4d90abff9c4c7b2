"""Special values and shapes for Conv1d, Conv3d and ConvTranspose1d/2d/3d, as
tests/test_special_values.py checks Conv2d: NaN and infinities, signed zeros, subnormals, empty
batches, long reductions. Every value check goes through check_call."""

import dataclasses

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from conv2d_verify.calls import check_call, functional_call, make_layer, module_forward
from conv2d_verify.execution import default_execution
from conv2d_verify.family_config import ConvConfig
from conv2d_verify.family_strategies import family_cases
from conv2d_verify.ops import FAMILY, OPS
from conv2d_verify.records import count_event
from conv2d_verify.special_values import (
    NONFINITE,
    SMALLEST_NORMAL,
    NonfiniteCase,
    Placement,
    SignedZeroCase,
    SubnormalCase,
    index_into,
)
from conv2d_verify.strategies import conv2d_cases
from conv2d_verify.values import as_numpy, case_arrays, on_device

pytestmark = [
    pytest.mark.torch_only,
    pytest.mark.filterwarnings("ignore:(invalid value|overflow) encountered:RuntimeWarning"),
]
apis = st.sampled_from(("module", "functional"))
# A fifth of the profile's examples per test: this module runs 5 ops x 4 tests per dtype.
examples = settings(max_examples=max(10, settings.default.max_examples // 5))
family = pytest.mark.parametrize("op", FAMILY)


def checked(api: str, config, dtype: str, x, w, b) -> torch.Tensor | None:
    """The op's module or functional on the values, through check_call; torch's output, or None
    where a known defect covers the example."""
    spec, execution = OPS[config.op], default_execution()
    if api == "module":
        layer = make_layer(config, dtype, w, b)
        held, forward, name = (
            (on_device(x, dtype), layer.weight, layer.bias),
            module_forward(config, layer),
            spec.module_api,
        )
        compute = lambda: forward(held[0])
    else:
        held, name = tuple(on_device(a, dtype) for a in (x, w, b)), spec.functional_api
        compute = lambda: functional_call(config, *held)
    with execution.active(), torch.no_grad():
        return check_call(name, config, compute, *held, execution)


@st.composite
def nonfinite_cases(draw, op: str):
    """1 to 3 NaN/inf values in the input, the bias, or (transposed ops, whose taps never meet
    padding: each multiplies input pixels only) the weight."""
    case = draw(family_cases(op))
    config = case.config
    tensors = ["input", *(["bias"] if config.bias else []), *(["weight"] if config.transposed else [])]
    placements = []
    for _ in range(draw(st.integers(1, 3))):
        tensor = draw(st.sampled_from(tensors))
        shape = {"input": config.input_shape, "bias": (config.out_channels,), "weight": config.weight_shape}[tensor]
        value = draw(st.sampled_from(NONFINITE))
        placements.append(Placement(tensor, draw(index_into(shape)), value))
        count_event(f"{value} in {tensor}")
    return NonfiniteCase(case, tuple(placements))


@family
@examples
@given(data=st.data())
def test_family_nonfinite_values(op, dtype, data):
    special, api = data.draw(nonfinite_cases(op)), data.draw(apis)
    got = checked(api, special.case.config, dtype, *special.arrays(dtype))
    if got is not None:
        count_event("NaN outputs: " + ("some" if torch.isnan(got).any() else "none"))


@family
@examples
@given(data=st.data())
def test_family_signed_zeros(op, dtype, data):
    case, api = data.draw(family_cases(op)), data.draw(apis)
    zeroed = data.draw(st.sampled_from((("input",), ("weight",), ("input", "weight", "bias"))))
    zeros = SignedZeroCase(case, zeroed, data.draw(st.sampled_from((1.0, 0.5))), data.draw(st.integers(0, 2**32 - 1)))
    config = case.config
    x, w, b = zeros.arrays(dtype)
    got = checked(api, config, dtype, x, w, b)
    if got is None:
        return
    spec = OPS[op]
    held = [None if a is None else as_numpy(on_device(a, dtype)) for a in (x, w, b)]
    all_zero_products = spec.magnitude(*held, **config.conv_kwargs()) == 0
    nonzero = as_numpy(got)[all_zero_products] != 0
    assert not nonzero.any(), (
        f"{op} {dtype}: {nonzero.sum()} outputs made only of zero products are not zero: {config!r}"
    )


@family
@examples
@given(data=st.data())
def test_family_subnormals(op, dtype, data):
    case, api = data.draw(family_cases(op)), data.draw(apis)
    tiny = SubnormalCase(
        case, data.draw(st.sampled_from(("input", "weight", "product"))), data.draw(st.integers(0, 2**32 - 1))
    )
    got = checked(api, case.config, dtype, *tiny.arrays(dtype))
    if got is not None:
        magnitudes = as_numpy(got.abs())
        count_event(
            "subnormal outputs: "
            + ("some" if ((magnitudes > 0) & (magnitudes < SMALLEST_NORMAL[dtype])).any() else "none")
        )


@family
@examples
@given(data=st.data())
def test_family_empty_batch(op, dtype, data):
    """N = 0: torch and the reference agree on the output shape."""
    case = data.draw(family_cases(op))
    case = dataclasses.replace(case, config=dataclasses.replace(case.config, batch=0))
    got = checked(data.draw(apis), case.config, dtype, *case_arrays(case, dtype))
    assert got is None or got.shape[0] == 0


def long(op: str, channels: int, kernel: int, **changes) -> ConvConfig:
    dims = OPS[op].dims
    return ConvConfig(
        op,
        channels,
        8,
        kernel,
        1,
        kernel // 2 if not OPS[op].transposed else 0,
        1,
        1,
        True,
        "zeros",
        1,
        (4,) * dims,
        **changes,
    )


LONG_REDUCTIONS = {  # in_channels per group times taps (transposed: times taps per position)
    "conv1d C=1024 k3": long("conv1d", 1024, 3),
    "conv3d C=128 k3": long("conv3d", 128, 3),
    "conv_transpose1d C=1024 k5": long("conv_transpose1d", 1024, 5),
    "conv_transpose2d C=256 k3": long("conv_transpose2d", 256, 3),
    "conv_transpose3d C=64 k3": long("conv_transpose3d", 64, 3),
}


@examples
@given(case=conv2d_cases(configs=st.sampled_from(list(LONG_REDUCTIONS.values()))), api=apis)
def test_family_long_reductions(dtype, case, api):
    count_event(next(name for name, config in LONG_REDUCTIONS.items() if config == case.config))
    checked(api, case.config, dtype, *case_arrays(case, dtype))
