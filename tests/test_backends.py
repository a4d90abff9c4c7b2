"""Every CPU kernel torch can route a Conv2d to, and every memory layout, against the reference:
oneDNN on and off, NNPACK on and off (it takes float32 batches of 16 or more, undilated), one
or two threads, channels_last and non-contiguous inputs and weights; on CUDA, cuDNN with TF32
on and off, deterministic and benchmark on and off. Each call also runs again under poisoned
memory and must give bit-identical results (always on the CPU; on CUDA under cudnn.deterministic)."""

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from conv2d_verify import settings
from conv2d_verify.calls import check_call, functional_conv2d, make_layer
from conv2d_verify.execution import executions
from conv2d_verify.strategies import conv2d_cases, conv2d_configs, differential_cases
from conv2d_verify.values import case_arrays, on_device

# Batches of 16 and more reach NNPACK; 0 reaches the Empty backend.
BATCH_KINDS = {
    "unbatched": st.none(),
    "small": st.integers(1, 3),
    "nnpack-sized": st.integers(16, 17),
    "empty": st.just(0),
}
BATCHES = st.sampled_from(("small", "small", "unbatched", "nnpack-sized", "empty")).flatmap(BATCH_KINDS.__getitem__)
cases = differential_cases(max_per_group=3, max_extra=5, batches=BATCHES)
nnpack_cases = conv2d_cases(
    configs=conv2d_configs(max_per_group=3, max_dilation=1, max_extra=5, batches=BATCH_KINDS["nnpack-sized"])
)


@given(case=cases, execution=executions())
def test_functional_under_every_backend_and_layout(dtype, case, execution):
    x, w, b = case_arrays(case, dtype)
    with execution.active():
        xt, wt, bt = (
            execution.arrange_input(on_device(x, dtype)),
            execution.arrange_weight(on_device(w, dtype)),
            on_device(b, dtype),
        )
        call = lambda: functional_conv2d(case.config, xt, wt, bt)
        check_call("F.conv2d", case.config, call, xt, wt, bt, execution)


@pytest.mark.torch_only
@pytest.mark.skipif(settings.current().device_type != "cpu", reason="NNPACK runs float32 on the CPU only")
@pytest.mark.dtypes("float32")
@given(case=nnpack_cases, execution=executions(mkldnn=st.just(False), nnpack=st.just(True)))
def test_nnpack(dtype, case, execution):
    """NNPACK, reached on purpose: float32, batch >= 16, no dilation, oneDNN off."""
    test_functional_under_every_backend_and_layout.hypothesis.inner_test(dtype, case, execution)


@pytest.mark.torch_only
@given(case=cases, execution=executions())
def test_module_under_every_backend_and_layout(dtype, case, execution):
    """Layouts as users set them: model.to(memory_format=...) rewrites weight.data."""
    x, w, b = case_arrays(case, dtype)
    layer = make_layer(case.config, dtype, w, b)
    layer.weight.data = execution.arrange_weight(layer.weight.data)
    inputs = execution.arrange_input(on_device(x, dtype))
    with execution.active(), torch.no_grad():
        check_call("nn.Conv2d", case.config, lambda: layer(inputs), inputs, layer.weight, layer.bias, execution)
