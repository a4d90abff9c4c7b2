"""Gradients against reference.conv2d_backward (conv2d_verify/gradients.py): x.grad, weight.grad
and bias.grad after backward with a drawn grad_output, under oneDNN on and off, one or two
threads, the input and weight in every memory layout, each boundary region and wide channel
counts given a fair share: of nn.Conv2d, and through autograd of the functional conv2d under
test (F.conv2d, or --target). Each example runs twice, the second time under poisoned memory."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conv2d_verify.execution import executions
from conv2d_verify.gradients import check_functional_gradients, check_module_gradients
from conv2d_verify.strategies import differential_cases, value_recipes

flags = executions(nnpack=st.just(False))


@pytest.mark.torch_only
@given(case=differential_cases(), grad=value_recipes(), execution=flags)
def test_module_gradients_match_reference(dtype, case, grad, execution):
    check_module_gradients(dtype, case, grad, execution)


@given(case=differential_cases(), grad=value_recipes(), execution=flags)
def test_functional_gradients_match_reference(dtype, case, grad, execution):
    check_functional_gradients(dtype, case, grad, execution)
