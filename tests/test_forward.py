"""torch's Conv2d forward pass against the float64 reference, over generated configurations."""

import pytest
import torch
from hypothesis import given

from . import knobs
from .differential import TORCH_DTYPES, case_arrays, check_against_reference, functional_conv2d, make_layer
from .strategies import conv2d_cases

dtypes = pytest.mark.parametrize("dtype", knobs.current.dtypes)


@dtypes
@given(case=conv2d_cases())
def test_module_matches_reference(dtype, case):
    x, w, b = case_arrays(case, dtype)
    layer = make_layer(case.config, dtype, w, b)
    inputs = torch.from_numpy(x).to(TORCH_DTYPES[dtype])
    with torch.no_grad():
        got = layer(inputs)
    check_against_reference("nn.Conv2d", got, inputs, layer.weight, layer.bias, case.config)


@dtypes
@given(case=conv2d_cases())
def test_functional_matches_reference(dtype, case):
    x, w, b = case_arrays(case, dtype)
    as_dtype = [None if a is None else torch.from_numpy(a).to(TORCH_DTYPES[dtype]) for a in (x, w, b)]
    got = functional_conv2d(case.config, *as_dtype)
    check_against_reference("F.conv2d", got, *as_dtype, case.config)
