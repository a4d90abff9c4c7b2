"""torch's Conv2d forward pass against the float64 reference, over generated configurations."""

import pytest
import torch
from hypothesis import given

from . import knobs
from .differential import case_arrays, check_call, functional_conv2d, make_layer, on_device
from .strategies import conv2d_cases

dtypes = pytest.mark.parametrize("dtype", knobs.current.dtypes)


@dtypes
@given(case=conv2d_cases())
def test_module_matches_reference(dtype, case):
    x, w, b = case_arrays(case, dtype)
    layer = make_layer(case.config, dtype, w, b)
    inputs = on_device(x, dtype)
    with torch.no_grad():
        check_call("nn.Conv2d", case.config, lambda: layer(inputs), inputs, layer.weight, layer.bias)


@dtypes
@given(case=conv2d_cases())
def test_functional_matches_reference(dtype, case):
    x, w, b = case_arrays(case, dtype)
    as_dtype = [on_device(a, dtype) for a in (x, w, b)]
    check_call("F.conv2d", case.config, lambda: functional_conv2d(case.config, *as_dtype), *as_dtype)
