"""Conv1d, Conv3d and ConvTranspose1d/2d/3d through torch.compile (inductor), forward and
backward, against the reference, as tests/test_compile.py checks Conv2d. Marked `compile` and
left out of the default run: `pytest -m compile`."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from conv2d_verify import probes
from conv2d_verify.calls import check_call, make_layer, module_forward
from conv2d_verify.compiled import compiled, graphs_compiled
from conv2d_verify.execution import executions
from conv2d_verify.family_strategies import family_cases
from conv2d_verify.gradients import check_module_gradients
from conv2d_verify.ops import FAMILY, OPS
from conv2d_verify.settings import current as run_settings
from conv2d_verify.strategies import value_recipes
from conv2d_verify.values import case_arrays, on_device

pytestmark = [
    pytest.mark.compile,
    pytest.mark.torch_only,
    pytest.mark.skipif(probes.compile_unavailable() is not None, reason=str(probes.compile_unavailable())),
]
# Each example compiles, and there are five ops: a fiftieth of the profile's examples, at least 4.
examples = settings(max_examples=max(4, settings.default.max_examples // 50))
plain_execution = executions(mkldnn=st.just(True), nnpack=st.just(False), thread_counts=(run_settings().threads,))
grad_outputs = value_recipes()


@pytest.mark.parametrize("op", FAMILY)
@examples
@given(data=st.data())
def test_family_compiled_module_matches_reference(op, dtype, data):
    case, execution = data.draw(family_cases(op)), data.draw(plain_execution)
    spec, rank = OPS[op], OPS[op].dims + 2
    x, w, b = case_arrays(case, dtype)
    layer = make_layer(case.config, dtype, w, b)
    layer.weight.data = execution.arrange_weight(layer.weight.data, rank)
    module, inputs = module_forward(case.config, compiled(layer)), execution.arrange_input(on_device(x, dtype), rank)
    with execution.active(), torch.no_grad():
        check_call(spec.compiled_api, case.config, lambda: module(inputs), inputs, layer.weight, layer.bias, execution)
    assert graphs_compiled() <= 1


@pytest.mark.parametrize("op", FAMILY)
@examples
@given(data=st.data())
def test_family_compiled_module_gradients_match_reference(op, dtype, data):
    case, grad, execution = data.draw(family_cases(op)), data.draw(grad_outputs), data.draw(plain_execution)
    check_module_gradients(dtype, case, grad, execution, api=OPS[op].compiled_api, wrap=compiled)
    assert graphs_compiled() <= 1
