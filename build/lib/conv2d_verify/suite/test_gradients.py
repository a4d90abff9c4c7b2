"""Gradients against reference.conv2d_backward (conv2d_verify/gradients.py): x.grad, weight.grad
and bias.grad after backward with a drawn grad_output, under oneDNN on and off and one or two
threads: of nn.Conv2d, and through autograd of the functional conv2d under test (F.conv2d, or
--target)."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conv2d_verify.execution import executions
from conv2d_verify.gradients import check_functional_gradients, check_module_gradients
from conv2d_verify.strategies import conv2d_cases, value_recipes

contiguous = st.just("contiguous")
flags = executions(nnpack=st.just(False), input_layout=contiguous, weight_layout=contiguous)


@pytest.mark.torch_only
@given(case=conv2d_cases(), grad=value_recipes(), execution=flags)
def test_module_gradients_match_reference(dtype, case, grad, execution):
    check_module_gradients(dtype, case, grad, execution)


@given(case=conv2d_cases(), grad=value_recipes(), execution=flags)
def test_functional_gradients_match_reference(dtype, case, grad, execution):
    check_functional_gradients(dtype, case, grad, execution)
