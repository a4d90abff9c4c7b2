"""float16 and bfloat16 on oneDNN's CPU kernels, steered to reach them.

Where torch sends half-precision convs to oneDNN, oneDNN's specialised kernels (brgemm, AMX
tiles, the jit_bf16 family) take over only for some shapes: channel counts in multiples of 16,
batches, strides and output widths. These tests draw such shapes (the kernel that ran is a
Hypothesis event, from oneDNN's verbose log) and check that the steering reaches a specialised
kernel for the ISA oneDNN reports, an AMX one where that ISA has AMX for the dtype. Where torch
sends these dtypes to its own Slow2d (no oneDNN kernels for them here), they are skipped, saying so.
"""

import re

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from conv2d_verify import settings
from conv2d_verify.calls import check_call, functional_conv2d
from conv2d_verify.config import Conv2dConfig
from conv2d_verify.execution import executions
from conv2d_verify.onednn import isa_has_amx_for, observing
from conv2d_verify.probes import onednn_isa
from conv2d_verify.strategies import conv2d_cases, conv2d_configs
from conv2d_verify.values import case_arrays, on_device

SUPPORT_PROBE = {
    "bfloat16": "_is_mkldnn_bf16_supported",
    "float16": "_is_mkldnn_fp16_supported",
}  # torch.ops.mkldnn.<probe>


def onednn_takes(dtype: str) -> bool:
    """torch's own answer to whether it sends this dtype's convs to oneDNN here."""
    try:
        return torch.backends.mkldnn.is_available() and bool(getattr(torch.ops.mkldnn, SUPPORT_PROBE[dtype])())
    except (AttributeError, RuntimeError):  # torch without the probe: no half-precision oneDNN path
        return False


def require_onednn(dtype: str) -> None:
    if not onednn_takes(dtype):
        pytest.skip(
            f"torch reports no oneDNN {dtype} convs here"
            f" (torch.ops.mkldnn.{SUPPORT_PROBE[dtype]}() is False): it uses Slow2d"
        )


pytestmark = [
    pytest.mark.torch_only,
    pytest.mark.dtypes("bfloat16", "float16"),
    pytest.mark.skipif(settings.current().device_type != "cpu", reason="CPU kernels: run without --device"),
]

small_images = dict(max_kernel=3, max_dilation=2, max_stride=3, max_pad=2, max_extra=6, batches=st.integers(1, 4))
steered_configs = conv2d_configs(
    **small_images, group_counts=st.sampled_from((1, 1, 2)), channels_per_group=st.sampled_from((16, 32, 48, 64))
)
depthwise_configs = conv2d_configs(
    **small_images, group_counts=st.sampled_from((16, 32)), channels_per_group=st.just(1)
)
layouts = st.sampled_from(("contiguous", "channels_last"))
oneDNN_only = executions(
    mkldnn=st.just(True), nnpack=st.just(False), input_layout=layouts, weight_layout=st.just("contiguous")
)


@given(case=conv2d_cases(configs=steered_configs | depthwise_configs), execution=oneDNN_only)
def test_onednn_half_precision_kernels(dtype, case, execution):
    require_onednn(dtype)
    x, w, b = case_arrays(case, dtype)
    with execution.active(), torch.no_grad():
        xt, wt, bt = execution.arrange_input(on_device(x, dtype)), on_device(w, dtype), on_device(b, dtype)
        check_call("F.conv2d", case.config, lambda: functional_conv2d(case.config, xt, wt, bt), xt, wt, bt, execution)


# Shapes each specialised kernel takes: 32 channels in and out, a 3x3 kernel, 9x9 images.
PROBE = Conv2dConfig(32, 32, 3, 1, 1, 1, 1, True, "zeros", 2, 9, 9)
GENERIC = r"^(ref|gemm|x64:gemm)"  # oneDNN's fallbacks: reference loops and im2col GEMM


def test_steering_reaches_the_specialised_kernels(dtype):
    """The probe shape runs on a specialised oneDNN kernel for the ISA oneDNN reports (not a
    generic fallback), and on an AMX one where that ISA has AMX for the dtype: otherwise the test
    above would only ever exercise the generic ones."""
    require_onednn(dtype)
    x = torch.ones(PROBE.input_shape, dtype=getattr(torch, dtype))
    w = torch.ones(PROBE.weight_shape, dtype=getattr(torch, dtype))
    _, kernels = observing(lambda: torch.nn.functional.conv2d(x, w, padding=1))
    names = [k.implementation for k in kernels]
    isa = onednn_isa()
    if not names:
        pytest.skip(f"torch ran no oneDNN kernel for a {dtype} conv here (oneDNN ISA: {isa}): nothing to steer towards")
    assert not any(re.match(GENERIC, name) for name in names), (
        f"oneDNN ({isa}) ran only generic kernels {names} for {PROBE}"
    )
    if isa_has_amx_for(dtype):
        assert all("amx" in name for name in names), f"oneDNN's ISA is {isa!r}, but it ran {names} for {PROBE}"
