"""float16 and bfloat16 on oneDNN's CPU kernels, steered to reach them.

On CPUs with AVX512-BF16, AVX512-FP16 or AMX, torch sends half-precision convs to oneDNN,
whose specialised kernels (brgemm, AMX tiles) take over only for some shapes: channel counts
in multiples of 16, batches, strides and output widths (an output width of 1 with a stride
reaches a known AMX defect). These tests draw such shapes, record which oneDNN kernel ran
(Hypothesis statistics, from oneDNN's verbose log), and check that the steering reaches the
specialised kernels at all. On other CPUs torch uses Slow2d for these dtypes and the module
is skipped, saying so.
"""

import pytest
import torch
from hypothesis import event, given
from hypothesis import strategies as st

from . import knobs
from .backends import cpu_capability
from .differential import case_arrays, check_call, functional_conv2d, on_device
from .execution import executions
from .known_defects import cpu_flags
from .onednn import with_kernels
from .strategies import Conv2dConfig, conv2d_cases, conv2d_configs

SUPPORTED = {
    "bfloat16": lambda: torch.ops.mkldnn._is_mkldnn_bf16_supported(),
    "float16": lambda: torch.ops.mkldnn._is_mkldnn_fp16_supported(),
}


def onednn_takes(dtype: str) -> bool:
    check = SUPPORTED[dtype]
    try:
        return bool(check()) and torch.backends.mkldnn.is_available()
    except (AttributeError, RuntimeError):  # torch without the check: no half-precision oneDNN path
        return False


low_precision = [
    pytest.param(d, marks=pytest.mark.skipif(not onednn_takes(d), reason=f"this CPU ({cpu_capability()}) has no oneDNN {d} conv kernels: torch uses Slow2d"))
    for d in ("bfloat16", "float16") if d in knobs.current.dtypes
]
pytestmark = pytest.mark.skipif(knobs.current.device_type != "cpu", reason="CPU kernels: run without --device")

small_images = dict(max_kernel=3, max_dilation=2, max_stride=3, max_pad=2, max_extra=6, batches=st.integers(1, 4))
steered_configs = conv2d_configs(**small_images, group_counts=st.sampled_from((1, 1, 2)), channels_per_group=st.sampled_from((16, 32, 48, 64)))
depthwise_configs = conv2d_configs(**small_images, group_counts=st.sampled_from((16, 32)), channels_per_group=st.just(1))
oneDNN_only = executions(mkldnn=st.just(True), nnpack=st.just(False), input_layout=st.sampled_from(("contiguous", "channels_last")), weight_layout=st.just("contiguous"))


@pytest.mark.parametrize("dtype", low_precision)
@given(case=conv2d_cases(configs=steered_configs | depthwise_configs), execution=oneDNN_only)
def test_onednn_half_precision_kernels(dtype, case, execution):
    x, w, b = case_arrays(case, dtype)
    with execution.active(), torch.no_grad():
        xt, wt, bt = execution.arrange_input(on_device(x, dtype)), on_device(w, dtype), on_device(b, dtype)
        kernels = []

        def call():
            got, used = with_kernels(lambda: functional_conv2d(case.config, xt, wt, bt))
            kernels.extend(used)
            return got

        check_call("F.conv2d", case.config, call, xt, wt, bt)
    for kernel in kernels:
        event(f"oneDNN kernel ({dtype}): {kernel}")


# Shapes each specialised kernel takes: 32 channels in and out, a 3x3 kernel, 9x9 images.
PROBE = Conv2dConfig(32, 32, 3, 1, 1, 1, 1, True, "zeros", 2, 9, 9)
EXPECTED_ISA = {"bfloat16": ("amx_bf16", "amx"), "float16": ("amx_fp16", "amx")}


@pytest.mark.parametrize("dtype", low_precision)
def test_steering_reaches_the_specialised_kernels(dtype):
    """The steered shapes run on oneDNN's brgemm kernels, and on AMX ones where the CPU has AMX
    for this dtype: otherwise the test above would only ever exercise the generic ones."""
    x = torch.ones(PROBE.input_shape, dtype=getattr(torch, dtype))
    w = torch.ones(PROBE.weight_shape, dtype=getattr(torch, dtype))
    _, kernels = with_kernels(lambda: torch.nn.functional.conv2d(x, w, padding=1))
    assert kernels and all(k.startswith("brg") for k in kernels), f"oneDNN ran {kernels} for {PROBE}"
    flag, isa = EXPECTED_ISA[dtype]
    if flag in cpu_flags():
        assert all(isa in k for k in kernels), f"the CPU has {flag}, but oneDNN ran {kernels}"
