"""The Conv2d forward pass against the float64 reference, over generated configurations:
nn.Conv2d itself, and the functional conv2d under test (torch's F.conv2d, or --target)."""

import pytest
import torch
from hypothesis import given

from conv2d_verify.calls import check_call, functional_conv2d, make_layer
from conv2d_verify.execution import default_execution
from conv2d_verify.strategies import conv2d_cases
from conv2d_verify.values import case_arrays, on_device


@pytest.mark.torch_only
@given(case=conv2d_cases())
def test_module_matches_reference(dtype, case):
    x, w, b = case_arrays(case, dtype)
    layer = make_layer(case.config, dtype, w, b)
    inputs = on_device(x, dtype)
    with torch.no_grad():
        check_call(
            "nn.Conv2d", case.config, lambda: layer(inputs), inputs, layer.weight, layer.bias, default_execution()
        )


@given(case=conv2d_cases())
def test_functional_matches_reference(dtype, case):
    x, w, b = case_arrays(case, dtype)
    held = [on_device(a, dtype) for a in (x, w, b)]
    check_call("F.conv2d", case.config, lambda: functional_conv2d(case.config, *held), *held, default_execution())
