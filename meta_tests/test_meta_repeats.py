"""Meta-tests: repeated calls tell a stale read from nondeterminism, and a fault that fires on
every second call of one combination is caught by check_call as such, with a reproducer."""

import subprocess
import sys
from pathlib import Path

import pytest
import torch

from conv2d_verify import records, repeats
from conv2d_verify.calls import check_call, functional_conv2d
from conv2d_verify.config import Conv2dConfig
from conv2d_verify.execution import default_execution

from . import planted_faults

needs_glibc = pytest.mark.skipif(
    repeats.poisoning().startswith("freed sentinel blocks (no"), reason="memory poisoning needs glibc's mallopt"
)


@needs_glibc
def test_output_from_unwritten_memory_is_a_stale_read():
    first = (torch.zeros(4),)
    found = repeats.rerun(lambda: (torch.empty(1 << 12)[:4].clone(),), first, deterministic=True)
    assert found is not None and found.kind == repeats.STALE_READ
    assert found.again[0][0].item() == pytest.approx(1.5365e16, rel=1e-3)  # 0x5a5a5a5a


def test_output_that_changes_every_call_is_nondeterministic():
    found = repeats.rerun(lambda: (torch.randn(4),), (torch.randn(4),), deterministic=True)
    assert found is not None and found.kind == repeats.NONDETERMINISTIC


def test_repeatable_output_passes():
    assert repeats.rerun(lambda: (torch.arange(4.0),), (torch.arange(4.0),), deterministic=True) is None


CONFIG = Conv2dConfig(2, 2, 2, 1, 0, 1, 1, False, "zeros", 2, 3, 3)


def test_every_second_call_fault_is_caught_as_nondeterministic():
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(CONFIG.input_shape, generator=generator, dtype=torch.bfloat16)
    x = x.contiguous(memory_format=torch.channels_last)
    w = torch.randn(CONFIG.weight_shape, generator=generator, dtype=torch.bfloat16)
    planted_faults.planted("bf16 channels_last, every second call")
    try:
        with records.set_aside(), pytest.raises(AssertionError, match="nondeterministic") as caught:
            check_call(
                "F.conv2d", CONFIG, lambda: functional_conv2d(CONFIG, x, w, None), x, w, None, default_execution()
            )
    finally:
        planted_faults.removed()
    script = str(caught.value).split("Reproduce in a fresh interpreter: python ", 1)[1].split("\n", 1)[0]
    fixed = subprocess.run([sys.executable, script], capture_output=True, text=True, timeout=120)
    Path(script).unlink()  # the planted failure's reproducer is not the run's
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr  # torch's own conv2d, unplanted, repeats itself
