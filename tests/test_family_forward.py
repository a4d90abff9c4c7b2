"""The forward pass of Conv1d, Conv3d and ConvTranspose1d/2d/3d against the float64 reference,
as tests/test_forward.py checks Conv2d: the module (nn.ConvTranspose*d called with output_size
where the configuration says so) or the functional (F.conv1d, ...; F.pad first for a non-zero
padding mode), over generated configurations with boundary and channel foci
(family_strategies.py), the input and weight in every memory layout (channels_last_3d for 3-d),
each example run twice, the second time under poisoned memory."""

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from conv2d_verify.calls import check_call, functional_call, make_layer, module_forward
from conv2d_verify.execution import layouts_only
from conv2d_verify.family_strategies import family_cases
from conv2d_verify.ops import FAMILY, OPS
from conv2d_verify.records import count_event
from conv2d_verify.values import case_arrays, on_device

pytestmark = pytest.mark.torch_only
layouts = layouts_only()
apis = st.sampled_from(("module", "functional"))


@pytest.mark.parametrize("op", FAMILY)
@given(data=st.data())
def test_family_forward_matches_reference(op, dtype, data):
    case, execution, api = data.draw(family_cases(op)), data.draw(layouts), data.draw(apis)
    config, spec = case.config, OPS[op]
    rank = spec.dims + 2
    count_event(f"api: {api}")
    x, w, b = case_arrays(case, dtype)
    if api == "module":
        layer = make_layer(config, dtype, w, b)
        layer.weight.data = execution.arrange_weight(layer.weight.data, rank)
        xt, wt, bt = execution.arrange_input(on_device(x, dtype), rank), layer.weight, layer.bias
        forward = module_forward(config, layer)
        call, name = lambda: forward(xt), spec.module_api
    else:
        xt, wt, bt = (
            execution.arrange_input(on_device(x, dtype), rank),
            execution.arrange_weight(on_device(w, dtype), rank),
            on_device(b, dtype),
        )
        call, name = lambda: functional_call(config, xt, wt, bt), spec.functional_api
    with execution.active(), torch.no_grad():
        check_call(name, config, call, xt, wt, bt, execution)
