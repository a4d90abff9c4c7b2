"""The run checks what it claims to check: the torch version a tox env names is the one loaded."""

import os

import pytest
import torch


@pytest.mark.skipif(
    "CONV2D_EXPECT_TORCH" not in os.environ, reason="no expected torch version set (tox sets one per env)"
)
def test_torch_is_the_version_this_env_names():
    expected = os.environ["CONV2D_EXPECT_TORCH"]
    assert torch.__version__.split("+")[0] == expected, (
        f"this env should run torch {expected}, loaded {torch.__version__}"
    )
