"""Meta-tests: torch raising on a valid call fails the run, unless a capability gap with the
exact message and version range covers it."""

import re

import pytest

from conv2d_verify.calls import run_valid_call
from conv2d_verify.capabilities import CapabilityGap
from conv2d_verify.config import Conv2dConfig
from conv2d_verify.execution import default_execution

CONFIG = Conv2dConfig(3, 4, 3, 1, 0, 1, 1, True, "zeros", 1, 5, 5)
GAP = CapabilityGap(
    "half conv", r'"slow_conv2d_cpu" not implemented for \'Half\'', ("float16",), "99.0", "https://example.invalid"
)


def raising(message):
    def call():
        raise RuntimeError(message)

    return call


def test_a_covered_gap_is_not_a_failure():
    assert (
        run_valid_call(
            raising("\"slow_conv2d_cpu\" not implemented for 'Half'"),
            "float16",
            CONFIG,
            default_execution(),
            gaps=(GAP,),
        )
        is None
    )


@pytest.mark.parametrize(
    "message, dtype",
    [
        ("\"slow_conv2d_cpu\" not implemented for 'Half'", "float32"),  # another dtype
        ("\"slow_conv2d_cpu\" not implemented for 'Half' and more", "float16"),  # the pattern must match in full
        ("could not create a primitive", "float16"),  # any other backend error
    ],
)
def test_anything_else_fails_and_explains(message, dtype):
    with pytest.raises(AssertionError, match="(?s)raised on a valid configuration.*" + re.escape(message)):
        run_valid_call(raising(message), dtype, CONFIG, default_execution(), gaps=(GAP,))


def test_a_gap_expires_with_the_version_that_fixed_it():
    fixed = CapabilityGap(GAP.name, GAP.message_pattern, GAP.dtypes, "1.0", GAP.link)
    with pytest.raises(AssertionError):
        run_valid_call(
            raising("\"slow_conv2d_cpu\" not implemented for 'Half'"),
            "float16",
            CONFIG,
            default_execution(),
            gaps=(fixed,),
        )
