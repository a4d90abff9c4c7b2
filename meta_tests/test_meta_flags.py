"""Meta-tests: torch's flags are passed to the verdict, never mirrored. A flag set behind the
harness's back cannot end up in a failure message or a reproducer that says otherwise."""

import dataclasses

import pytest
import torch
import torch.nn.functional as F

from conv2d_verify.backends import conv_backend
from conv2d_verify.calls import check_against_reference, check_call
from conv2d_verify.config import Conv2dConfig
from conv2d_verify.execution import default_execution

CONFIG = Conv2dConfig(3, 4, (3, 2), 1, 1, 1, 1, True, "zeros", 2, 7, 6)


def tensors():
    generator = torch.Generator().manual_seed(0)
    return tuple(torch.randn(shape, generator=generator) for shape in (CONFIG.input_shape, CONFIG.weight_shape, (4,)))


def test_a_flag_set_another_way_fails_the_check():
    """The case issue 11 found: oneDNN switched off by a torch.backends context manager while the
    check was told the default settings; its reproducer would have claimed oneDNN was on."""
    x, w, b = tensors()
    with (
        torch.backends.mkldnn.flags(enabled=False),
        pytest.raises(AssertionError, match="mkldnn=True here, False in torch"),
    ):
        check_call("F.conv2d", CONFIG, lambda: F.conv2d(x, w, b, padding=1), x, w, b, default_execution())


def test_a_plain_assignment_is_refused():
    with pytest.raises(RuntimeError, match="not allowed to set torch.backends.mkldnn flags"):
        torch.backends.mkldnn.enabled = False


def test_the_reproducer_sets_the_flags_that_ran():
    x, w, b = tensors()
    without_onednn = dataclasses.replace(default_execution(), mkldnn=False)
    with without_onednn.active():
        wrong = F.conv2d(x, w, b, padding=1) * (1 + 1e-3)
        backend = conv_backend(CONFIG, x, w)
        with pytest.raises(AssertionError) as failure:
            check_against_reference("F.conv2d", wrong, x, w, b, CONFIG, without_onednn, record=False)
    assert backend != "Mkldnn"
    message = str(failure.value)
    assert f"backend {backend}" in message and "mkldnn=False" in message
    assert "torch.backends.mkldnn.enabled = False" in message  # the reproducer's own setup line
