"""Gradients of Conv1d, Conv3d and ConvTranspose1d/2d/3d against the reference's *_backward, as
tests/test_gradients.py checks Conv2d: x.grad, weight.grad and bias.grad after backward with a
drawn grad_output, through the module or through autograd of the functional, under oneDNN on
and off, one or two threads, every memory layout; each example run twice, the second time under
poisoned memory."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conv2d_verify.execution import executions
from conv2d_verify.family_strategies import family_cases
from conv2d_verify.gradients import check_functional_gradients, check_module_gradients
from conv2d_verify.ops import FAMILY
from conv2d_verify.records import count_event
from conv2d_verify.strategies import value_recipes

pytestmark = pytest.mark.torch_only
flags = executions(nnpack=st.just(False))
grad_outputs = value_recipes()


@pytest.mark.parametrize("op", FAMILY)
@given(data=st.data())
def test_family_gradients_match_reference(op, dtype, data):
    case, grad, execution = data.draw(family_cases(op)), data.draw(grad_outputs), data.draw(flags)
    if data.draw(st.booleans(), label="through the module"):
        count_event("api: module")
        check_module_gradients(dtype, case, grad, execution)
    else:
        count_event("api: functional")
        check_functional_gradients(dtype, case, grad, execution)
