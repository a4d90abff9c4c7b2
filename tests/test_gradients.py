"""Gradients of nn.Conv2d against reference.conv2d_backward (conv2d_verify/gradients.py): x.grad,
weight.grad and bias.grad after backward with a drawn grad_output, under oneDNN on and off and
one or two threads."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conv2d_verify.execution import executions
from conv2d_verify.gradients import check_module_gradients
from conv2d_verify.strategies import conv2d_cases, value_recipes

contiguous = st.just("contiguous")


@pytest.mark.torch_only
@given(
    case=conv2d_cases(),
    grad=value_recipes(),
    execution=executions(nnpack=st.just(False), input_layout=contiguous, weight_layout=contiguous),
)
def test_module_gradients_match_reference(dtype, case, grad, execution):
    check_module_gradients(dtype, case, grad, execution)
