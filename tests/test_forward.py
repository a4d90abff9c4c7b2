"""The Conv2d forward pass against the float64 reference, over generated configurations, each
boundary region and wide channel counts given a fair share (strategies.BOUNDARY_FOCI and CHANNEL_FOCI), the input
and weight in every memory layout: nn.Conv2d itself, and the functional conv2d under test
(torch's F.conv2d, or --target). Each example runs twice, the second time under poisoned memory."""

import pytest
import torch
from hypothesis import given

from conv2d_verify.calls import check_call, functional_conv2d, make_layer
from conv2d_verify.execution import layouts_only
from conv2d_verify.strategies import differential_cases
from conv2d_verify.values import case_arrays, on_device


@pytest.mark.torch_only
@given(case=differential_cases(), execution=layouts_only())
def test_module_matches_reference(dtype, case, execution):
    x, w, b = case_arrays(case, dtype)
    layer = make_layer(case.config, dtype, w, b)
    layer.weight.data = execution.arrange_weight(layer.weight.data)
    inputs = execution.arrange_input(on_device(x, dtype))
    with execution.active(), torch.no_grad():
        check_call("nn.Conv2d", case.config, lambda: layer(inputs), inputs, layer.weight, layer.bias, execution)


@given(case=differential_cases(), execution=layouts_only())
def test_functional_matches_reference(dtype, case, execution):
    x, w, b = case_arrays(case, dtype)
    with execution.active():
        xt, wt, bt = (
            execution.arrange_input(on_device(x, dtype)),
            execution.arrange_weight(on_device(w, dtype)),
            on_device(b, dtype),
        )
        check_call("F.conv2d", case.config, lambda: functional_conv2d(case.config, xt, wt, bt), xt, wt, bt, execution)
