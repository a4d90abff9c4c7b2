"""cuDNN's modes, each asked for explicitly (run with --device cuda; skipped elsewhere).

TF32 on and off, with the allowance row for the mode torch reports; cudnn.benchmark on and
off; and with cudnn.deterministic, bit-identical repeated forward and backward passes. Layouts
(channels_last included) and the drawn mix of all these flags run in test_backends.py.
"""

from dataclasses import replace

import pytest
import torch
from hypothesis import given

from conv2d_verify import settings, tolerance
from conv2d_verify.calls import assert_deterministic, check_call, functional_conv2d, make_layer
from conv2d_verify.execution import executions
from conv2d_verify.strategies import differential_cases
from conv2d_verify.values import case_arrays, on_device

pytestmark = pytest.mark.skipif(settings.current().device_type != "cuda", reason="cuDNN modes: run with --device cuda")
half_and_single = pytest.mark.dtypes("float32", "float16", "bfloat16")


@pytest.mark.dtypes("float32")
@pytest.mark.parametrize("tf32", [True, False], ids=["TF32 on", "TF32 off"])
@given(case=differential_cases(), execution=executions())
def test_float32_with_tf32_on_and_off(dtype, tf32, case, execution):
    x, w, b = case_arrays(case, dtype)
    held = [on_device(a, dtype) for a in (x, w, b)]
    forced = replace(execution, tf32=tf32)
    with forced.active(), torch.no_grad():
        assert tolerance.precision_in_force(dtype, "cuda") == ("float32 (TF32)" if tf32 else "float32")
        check_call("F.conv2d", case.config, lambda: functional_conv2d(case.config, *held), *held, forced)


@pytest.mark.torch_only
@half_and_single
@pytest.mark.parametrize("benchmark", [True, False], ids=["benchmark on", "benchmark off"])
@given(case=differential_cases(), execution=executions())
def test_cudnn_benchmark_on_and_off(dtype, benchmark, case, execution):
    x, w, b = case_arrays(case, dtype)
    layer = make_layer(case.config, dtype, w, b)
    inputs = on_device(x, dtype)
    forced = replace(execution, cudnn_benchmark=benchmark)
    with forced.active(), torch.no_grad():
        check_call("nn.Conv2d", case.config, lambda: layer(inputs), inputs, layer.weight, layer.bias, forced)


@pytest.mark.torch_only
@half_and_single
@given(case=differential_cases(), execution=executions())
def test_deterministic_mode_repeats_bit_for_bit(dtype, case, execution):
    x, w, b = case_arrays(case, dtype)
    layer = make_layer(case.config, dtype, w, b)
    forced = replace(execution, cudnn_deterministic=True)

    def forward_and_backward():
        layer.zero_grad()
        inputs = on_device(x, dtype).requires_grad_()
        out = layer(inputs)
        out.backward(torch.ones_like(out))
        return [t.detach().clone() for t in (out, inputs.grad, layer.weight.grad) if t is not None]

    with forced.active():
        first, again = forward_and_backward(), forward_and_backward()
    for what, a, b_ in zip(("the output", "grad_input", "grad_weight"), first, again):
        assert_deterministic(a, b_, forced, what)
