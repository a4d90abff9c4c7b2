"""The run's torch side: the device checked, threads set, and what the header and reports say
about the versions, the device and the CPU kernels in use."""

from __future__ import annotations

import numpy as np
import pytest
import threadpoolctl
import torch

from . import probes
from .execution import cudnn_tf32
from .settings import RunSettings
from .target import load_target


def prepare(run: RunSettings) -> None:
    check_device(run)
    try:
        load_target(run.target)  # a bad --target is a usage error now, not a failure in every test
    except ValueError as error:
        raise pytest.UsageError(str(error)) from error
    torch.set_num_threads(run.threads)
    # Backend flags change only through Execution.active() (context managers), as in torch's own
    # test utilities: a plain assignment anywhere in the run raises instead of going unrecorded.
    torch.backends.disable_global_flags()
    # The reference's BLAS too: with pytest-xdist, each worker's OpenBLAS threads spinning on
    # the same cores halved the gradient tests' throughput (benchmarks/suite_throughput.py).
    threadpoolctl.threadpool_limits(limits=run.threads, user_api="blas")


def check_device(run: RunSettings) -> None:
    try:
        device = torch.device(run.device)
    except RuntimeError as error:
        raise pytest.UsageError(f"--device {run.device!r}: {error}") from error
    available = {
        "cpu": lambda: True,
        "cuda": lambda: (
            torch.cuda.is_available() and (device.index is None or device.index < torch.cuda.device_count())
        ),
        "mps": lambda: hasattr(torch.backends, "mps") and torch.backends.mps.is_available(),
    }.get(device.type)
    if available is None:
        raise pytest.UsageError(f"--device {run.device!r}: the suite runs on cpu, cuda or mps, not {device.type}")
    if not available():
        raise pytest.UsageError(
            f"--device {run.device!r}: this torch ({torch.__version__}) cannot reach that device here"
        )
    if device.type == "mps" and "float64" in run.dtypes:
        raise pytest.UsageError("--device mps: MPS has no float64; pass --dtypes float32,float16,bfloat16")


def versions() -> dict:
    return {"torch": torch.__version__, "numpy": np.__version__}


def device_description(run: RunSettings) -> dict:
    """What the report header and results.json say about the device under test and its flags."""
    device = torch.device(run.device)
    if device.type == "cuda":
        index = device.index if device.index is not None else torch.cuda.current_device()
        cudnn = torch.backends.cudnn
        capability = "".join(map(str, torch.cuda.get_device_capability(index)))
        return {
            "device": f"cuda:{index} {torch.cuda.get_device_name(index)} (sm_{capability})",
            "cuda": torch.version.cuda,
            "cudnn": cudnn.version(),
            "cudnn_enabled": cudnn.enabled,
            "cudnn_conv_tf32": cudnn_tf32(),
            "cudnn_deterministic": cudnn.deterministic,
            "cudnn_benchmark": cudnn.benchmark,
            "matmul_tf32": torch.backends.cuda.matmul.allow_tf32,
            "host_cpu_capability": probes.cpu_capability(),
        }
    if device.type == "mps":
        return {"device": "mps", "host_cpu_capability": probes.cpu_capability()}
    return {"device": "cpu", "cpu_capability": probes.cpu_capability(), "onednn_isa": probes.onednn_isa()}


def header_lines(run: RunSettings) -> list[str]:
    device = ", ".join(f"{key} {value}" for key, value in device_description(run).items())
    return [
        f"conv2d suite: torch {torch.__version__}, numpy {np.__version__}, target {run.target}",
        f"conv2d suite: {device}, threads {run.threads}",
        f"conv2d suite: profile {run.profile}, dtypes {','.join(run.dtypes)}, reports {run.report_dir}",
    ]
