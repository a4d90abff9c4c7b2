"""Each known torch defect's reproducer, judged by what it ran here.

The reproducer runs with oneDNN's verbose log on, so the kernels it reached are read, not
assumed. Where it reached the kernel the defect lives in, on a torch version the entry lists
as affected: a strict xfail (an unexpected pass means torch fixed it: end the entry's affected
range there). Where it reached it on a version outside those ranges: a plain pass. Where it
could not reach it (another CPU class, no torch.compile on this Python): a skip that says why."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from conv2d_verify.known_defects import KNOWN_DEFECTS, OneDNNGemm, OneDNNKernel
from conv2d_verify.onednn import parse_isa, parse_kernels
from conv2d_verify.probes import onednn_isa

DEFECTS = Path(__file__).parent / "defects"  # <defect name>.py, torch only


def reproducer_reached(defect, output: str) -> bool:
    """Whether the reproducer's run reached what the defect lives in."""
    implementations = [k.implementation for k in parse_kernels(output)]
    isa = parse_isa(output)

    def reached(where) -> bool:
        if isinstance(where, OneDNNKernel):
            return where.matches(implementations, isa)
        if isinstance(where, OneDNNGemm):  # oneDNN logs no GEMM: the generated tests judge these by the backend
            return False
        return where.unreachable_reason() is None

    return any(reached(w) for w in defect.where)


@pytest.mark.torch_only
@pytest.mark.parametrize("defect", KNOWN_DEFECTS, ids=lambda d: d.name)
def test_reproducer(request, defect):
    reason = defect.unreachable_reason()
    if reason is not None:
        pytest.skip(f"{defect.name} lives in {' or '.join(map(str, defect.where))}, which cannot run here: {reason}")
    # 2: oneDNN names each kernel as it creates it, before it runs, so a crashing one is named too
    environment = {**os.environ, "ONEDNN_VERBOSE": "2"}
    result = subprocess.run(
        [sys.executable, str(DEFECTS / f"{defect.name}.py")],
        capture_output=True,
        text=True,
        timeout=300,
        env=environment,
    )
    if not reproducer_reached(defect, result.stdout):
        ran = sorted({k.implementation for k in parse_kernels(result.stdout)}) or "no oneDNN convolution"
        pytest.skip(
            f"{defect.name} lives in {' or '.join(map(str, defect.where))}; its reproducer reached {ran} here"
            f" (oneDNN ISA: {parse_isa(result.stdout) or onednn_isa()}): nothing to check on this machine"
        )
    if defect.in_this_torch():
        request.applymarker(pytest.mark.xfail(strict=True, reason=f"{defect.summary}; {defect.link}"))
    shown = "\n".join(
        line for line in (result.stdout + result.stderr).splitlines() if not line.startswith("onednn_verbose")
    )
    assert result.returncode == 0, f"{defect.name} (exit {result.returncode}):\n{shown}"
