"""Meta-tests of the known-defect machinery: an entry applies only where its kernel ran, a crash is
observed in a child process and judged by the kernel it crashed in, and oneDNN's log is read in
both of its formats."""

import dataclasses
import signal

import numpy as np
import pytest

from conv2d_verify import calls, isolated, known_defects, records
from conv2d_verify.config import Conv2dConfig
from conv2d_verify.execution import default_execution
from conv2d_verify.known_defects import CRASHES, WRONG, KnownDefect, OneDNNKernel, Ran
from conv2d_verify.onednn import Kernel, parse_isa, parse_kernels

CONFIG = Conv2dConfig(3, 4, 3, 1, 1, 1, 1, True, "zeros", 1, 5, 5)
LOG_V3 = """onednn_verbose,v1,info,cpu,isa:Intel AVX-512 with Intel DL Boost and bfloat16 support
onednn_verbose,v1,primitive,create:cache_miss,cpu,convolution,brg_conv_fwd:avx512_core_bf16,forward_training,src,,mb1,0.05
onednn_verbose,v1,primitive,exec,cpu,reorder,jit:uni,undef,src:bf16::blocked:abcd::f0,,1x3x1x13,0.003
onednn_verbose,v1,primitive,exec,cpu,convolution,brg_conv_fwd:avx512_core_bf16,forward_training,src,,mb1,0.01
onednn_verbose,v1,primitive,exec,cpu,convolution,jit:avx512_core,backward_data,src:f32 ...,mb1_ic3oc1,0.01
"""
LOG_V2 = """onednn_verbose,info,cpu,isa:Intel AVX2
onednn_verbose,exec,cpu,convolution,jit:avx2,forward_training,src_f32::blocked:abcd:f0,,mb1_ic3oc4,0.02
"""


def defect(where, effect=WRONG) -> KnownDefect:
    return KnownDefect(
        "fake", "a fake defect", "https://example.invalid", (("0.0.1", None),), (where,), effect, lambda *_: True
    )


def test_both_log_formats_name_the_kernels_and_the_isa():
    assert parse_kernels(LOG_V3) == (
        Kernel("forward", "brg_conv_fwd:avx512_core_bf16"),
        Kernel("backward_data", "jit:avx512_core"),
    )
    assert parse_isa(LOG_V3) == "Intel AVX-512 with Intel DL Boost and bfloat16 support"
    assert parse_kernels(LOG_V2) == (Kernel("forward", "jit:avx2"),)
    assert parse_isa(LOG_V2) == "Intel AVX2"


def test_a_defect_applies_only_where_its_kernel_ran():
    listed = defect(OneDNNKernel(r"^brg_conv_fwd:"))
    assert (
        known_defects.wrong_values_from([listed], Ran("Mkldnn", (Kernel("forward", "brg_conv_fwd:avx10_1_512_amx"),)))
        is listed
    )
    assert (
        known_defects.wrong_values_from([listed], Ran("Mkldnn", (Kernel("forward", "jit_bf16:avx512_core_bf16"),)))
        is None
    )
    assert (
        known_defects.wrong_values_from([listed], Ran("Mkldnn", (Kernel("backward_data", "brg_conv_fwd:x"),))) is None
    )  # another pass
    assert known_defects.wrong_values_from([listed], Ran("Slow2d")) is None


def test_a_gradient_kernel_defect_covers_only_the_gradients_its_pass_computes():
    weights_pass = defect(OneDNNKernel(r"amx", passes=("backward_weights",)))
    ran = Ran(
        "Mkldnn", (Kernel("forward", "brg_conv_fwd:avx10_1_512_amx"), Kernel("backward_weights", "brgconv_bwd_w:amx"))
    )
    assert [
        known_defects.wrong_values_from([weights_pass], ran, g) is weights_pass
        for g in (None, "input", "weight", "bias")
    ] == [
        False,
        False,
        True,
        True,
    ]


def test_an_isa_condition_is_read_from_onednn_not_the_cpu():
    gemm_without_amx = OneDNNKernel(r"^x64:gemm:jit$", isa=r"^(?!.*AMX)")
    assert gemm_without_amx.matches(["x64:gemm:jit"], "Intel AVX-512 with Intel DL Boost and bfloat16 support")
    assert not gemm_without_amx.matches(
        ["x64:gemm:jit"], "Intel AVX10.1 and Intel AMX with bfloat16 and 8-bit integer support"
    )


def test_a_fixed_version_lifts_the_entry():
    fixed = dataclasses.replace(defect(OneDNNKernel("^jit")), affected=(("0.0.1", "0.0.2"),))
    assert known_defects.wrong_values_from([fixed], Ran("Mkldnn", (Kernel("forward", "jit:avx2"),))) is None


CRASHING_SOURCE = """
import os, signal, sys
print("onednn_verbose,v1,primitive,create:cache_miss,cpu,convolution,brg_conv_fwd:fake,forward_training,src,,mb1,0.1")
sys.stdout.flush()
os.kill(os.getpid(), signal.SIGSEGV)
"""


def test_a_crash_is_observed_in_a_child_with_the_kernel_it_crashed_in():
    run = isolated.run(CRASHING_SOURCE, {})
    assert run.signal == signal.SIGSEGV and run.last_kernel == "brg_conv_fwd:fake"
    survived = isolated.run("x = np.ones(3) * 2", {"w": np.zeros(2)})
    assert not survived.crashed and survived.error is None
    raised = isolated.run("raise ValueError('no')", {})
    assert not raised.crashed and "ValueError: no" in raised.error
    assert isolated.run("import os; os._exit(3)", {}).signal is None  # an exit status is no crash


@pytest.mark.parametrize(
    "listed, recorded", [(r"^brg_conv_fwd:", True), (r"^jit:", False)], ids=["listed kernel", "another kernel"]
)
def test_a_crash_is_known_only_in_the_listed_kernel(monkeypatch, listed, recorded):
    crash = isolated.IsolatedRun(signal.SIGSEGV, None, (Kernel("forward", "brg_conv_fwd:fake"),))
    monkeypatch.setattr(isolated, "run", lambda source, arrays: crash)
    monkeypatch.setattr(records, "record_example", lambda **fields: None)  # a made-up crash: not this run's record
    operands = (np.ones(CONFIG.input_shape), np.ones(CONFIG.weight_shape), np.ones(CONFIG.out_channels))
    candidates = [defect(OneDNNKernel(listed), CRASHES)]
    if recorded:
        assert calls.crashed_as_known(
            "F.conv2d", CONFIG, "bfloat16", "cpu", operands, "Mkldnn", candidates, default_execution()
        )
    else:
        with pytest.raises(
            AssertionError, match=r"(?s)crashed \(signal 11\).*brg_conv_fwd:fake.*Reproduce in a fresh interpreter"
        ):
            calls.crashed_as_known(
                "F.conv2d", CONFIG, "bfloat16", "cpu", operands, "Mkldnn", candidates, default_execution()
            )


def test_nothing_is_isolated_without_a_crashing_suspect(monkeypatch):
    monkeypatch.setattr(isolated, "run", lambda *_: pytest.fail("isolated without a reason"))
    assert not calls.crashed_as_known(
        "F.conv2d",
        CONFIG,
        "float32",
        "cpu",
        (None, None, None),
        "Mkldnn",
        [defect(OneDNNKernel("x"))],
        default_execution(),
    )
