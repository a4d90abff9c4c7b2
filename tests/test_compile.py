"""The differential tests through torch.compile (inductor): forward and backward of a compiled
nn.Conv2d against the reference, on the suite's device and dtypes.

Marked `compile` and left out of the default run (each example compiles afresh, 0.5 to 2 s on
the CPU): `pytest -m compile`. Shapes are static, and the compile cache is reset before each
example, so each example compiles one dynamo graph (its backward is compiled from that graph),
asserted, never an unbounded set of recompiles.
"""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from conv2d_verify import probes
from conv2d_verify.calls import check_call, make_layer
from conv2d_verify.compiled import compiled, graphs_compiled
from conv2d_verify.execution import executions
from conv2d_verify.gradients import check_module_gradients
from conv2d_verify.repro import COMPILED
from conv2d_verify.settings import current as run_settings
from conv2d_verify.strategies import differential_cases, value_recipes
from conv2d_verify.values import case_arrays, on_device

pytestmark = [
    pytest.mark.compile,
    pytest.mark.torch_only,
    pytest.mark.skipif(probes.compile_unavailable() is not None, reason=str(probes.compile_unavailable())),
]
# Each example compiles: a tenth of the profile's examples, at least 10.
examples = settings(max_examples=max(10, settings.default.max_examples // 10))
plain_execution = executions(mkldnn=st.just(True), nnpack=st.just(False), thread_counts=(run_settings().threads,))


@examples
@given(case=differential_cases(), execution=plain_execution)
def test_compiled_module_matches_reference(dtype, case, execution):
    x, w, b = case_arrays(case, dtype)
    layer = make_layer(case.config, dtype, w, b)
    layer.weight.data = execution.arrange_weight(layer.weight.data)
    module, inputs = compiled(layer), execution.arrange_input(on_device(x, dtype))
    with execution.active(), torch.no_grad():
        check_call(COMPILED, case.config, lambda: module(inputs), inputs, layer.weight, layer.bias, execution)
    assert graphs_compiled() <= 1


@examples
@given(case=differential_cases(), grad=value_recipes(), execution=plain_execution)
def test_compiled_module_gradients_match_reference(dtype, case, grad, execution):
    check_module_gradients(dtype, case, grad, execution, api=COMPILED, wrap=compiled)
    assert graphs_compiled() <= 1  # the backward is compiled with its forward graph
