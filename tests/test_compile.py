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

from . import knobs
from .differential import case_arrays, check_call, make_layer, on_device
from .execution import executions
from .repro import COMPILE_CALL, COMPILED
from .strategies import conv2d_cases, value_recipes
from .test_gradients import check_module_gradients

pytestmark = pytest.mark.compile
dynamo = pytest.importorskip("torch._dynamo")
# Each example compiles: a tenth of the profile's examples, at least 10.
examples = settings(max_examples=max(10, settings.default.max_examples // 10))
plain_execution = executions(mkldnn=st.just(True), nnpack=st.just(False), thread_counts=(knobs.current.threads,),
                             input_layout=st.just("contiguous"), weight_layout=st.just("contiguous"))


def compiled(layer: torch.nn.Module):
    dynamo.reset()
    dynamo.utils.counters.clear()
    return eval(COMPILE_CALL, {"torch": torch})(layer)


def graphs_compiled() -> int:
    return int(dynamo.utils.counters["stats"]["unique_graphs"])


@pytest.mark.parametrize("dtype", knobs.current.dtypes)
@examples
@given(case=conv2d_cases(), execution=plain_execution)
def test_compiled_module_matches_reference(dtype, case, execution):
    x, w, b = case_arrays(case, dtype)
    layer = make_layer(case.config, dtype, w, b)
    module, inputs = compiled(layer), on_device(x, dtype)
    with execution.active(), torch.no_grad():
        check_call(COMPILED, case.config, lambda: module(inputs), inputs, layer.weight, layer.bias)
    assert graphs_compiled() <= 1


@pytest.mark.parametrize("dtype", knobs.current.dtypes)
@examples
@given(case=conv2d_cases(), grad=value_recipes(), execution=plain_execution)
def test_compiled_module_gradients_match_reference(dtype, case, grad, execution):
    check_module_gradients(dtype, case, grad, execution, api=COMPILED, wrap=compiled)
    assert graphs_compiled() <= 1  # the backward is compiled with its forward graph
