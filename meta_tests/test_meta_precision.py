"""Meta-tests of the precision modes: the allowance follows torch's TF32 flags as they are when
the comparison runs, and each mode's row accepts what that arithmetic can honestly produce and
rejects what it cannot. They run on any device: only the flags and the tolerance are exercised,
with TF32 emulated in numpy (operands truncated to 10 stored mantissa bits)."""

import numpy as np
import pytest
from hypothesis import assume, given

import reference
from conv2d_verify import tolerance
from conv2d_verify.execution import cudnn_settings, tf32_line
from conv2d_verify.strategies import conv2d_cases
from conv2d_verify.values import case_arrays


def truncated_to_tf32(values: np.ndarray) -> np.ndarray:
    bits = values.astype(np.float32).view(np.uint32) & np.uint32(0xFFFFE000)  # sign, exponent, 10 mantissa bits
    return bits.view(np.float32).astype(np.float64)


@pytest.mark.parametrize("tf32", [True, False], ids=["TF32 allowed", "TF32 forbidden"])
def test_precision_is_read_from_torch_flags(tf32):
    with cudnn_settings(tf32=tf32, deterministic=None, benchmark=None):
        assert tolerance.precision_in_force("float32", "cuda") == ("float32 (TF32)" if tf32 else "float32")
        assert tolerance.precision_in_force("float32", "cpu") == "float32"  # TF32 is a cuDNN mode only
    assert tf32_line(tf32).startswith("torch.backends.cudnn.")


def test_half_types_on_cuda_have_their_own_rows():
    assert tolerance.precision_in_force("float16", "cuda") == "float16 (cuda)"
    assert tolerance.precision_in_force("bfloat16", "cuda") == "bfloat16 (cuda)"
    assert tolerance.precision_in_force("float64", "cuda") == "float64"


def allowances(x, w, b, config):
    kwargs = config.conv_kwargs()
    bound = reference.conv2d_magnitude(x, w, b, **kwargs)
    k = int(np.prod(w.shape[1:]))
    return {p: tolerance.allowance(bound, p, False, k) for p in ("float32", "float32 (TF32)")}


@given(case=conv2d_cases(families=("same_sign",)))
def test_tf32_row_holds_a_tf32_result_and_the_float32_row_does_not(case):
    x, w, b = case_arrays(case, "float32")
    kwargs = case.config.conv_kwargs()
    exact = reference.conv2d(x, w, b, **kwargs)
    tf32_result = reference.conv2d(truncated_to_tf32(x), truncated_to_tf32(w), b, **kwargs).astype(np.float32)
    allowed = allowances(x, w, b, case.config)
    assert np.all(np.abs(tf32_result - exact) <= allowed["float32 (TF32)"])
    truncation_showed = np.any(truncated_to_tf32(x) != x) and np.any(truncated_to_tf32(w) != w)
    assume(truncation_showed and bool(np.any(np.abs(tf32_result - exact) > 2 * allowed["float32"])))
    assert np.any(np.abs(tf32_result - exact) > allowed["float32"])


@given(case=conv2d_cases(families=("same_sign",)))
def test_tf32_row_rejects_a_relative_error_of_1e_2(case):
    x, w, b = case_arrays(case, "float32")
    exact = reference.conv2d(x, w, b, **case.config.conv_kwargs())
    assume(bool(np.abs(exact).max() > 0))
    assert np.any(np.abs(exact * 1e-2) > allowances(x, w, b, case.config)["float32 (TF32)"])


@pytest.mark.parametrize("largest, exact", [(2048.0, True), (2049.0, False)])
def test_tf32_exact_regime_needs_operands_tf32_holds(largest, exact):
    x, w = np.array([[[[largest, 1.0]]]]), np.array([[[[1.0, 1.0]]]])
    bound = reference.conv2d_magnitude(x, w)
    assert tolerance.exact_regime((x, w, None), bound, "float32 (TF32)") is exact
    assert tolerance.exact_regime((x, w, None), bound, "float32") is True
