"""Suite-wide knobs, Hypothesis profiles, report header and the error-ratio summary."""

from __future__ import annotations

import datetime
import json
import os
import platform
import time
from pathlib import Path

import numpy as np
import pytest
import threadpoolctl
import torch
from hypothesis import HealthCheck, settings

from tests import knobs, observations, results
from tests.probes import cpu_capability, onednn_isa
from tests.execution import cudnn_tf32

settings.register_profile("dev", max_examples=40, deadline=None)
settings.register_profile(
    "ci",
    max_examples=250,
    derandomize=True,
    database=None,
    print_blob=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "nightly",
    max_examples=5000,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(knobs.current.profile)  # --hypothesis-profile, when given, loads after this


def pytest_addoption(parser):
    group = parser.getgroup("conv2d", "Conv2d differential suite")
    group.addoption("--dtypes", default=",".join(knobs.current.dtypes), help="comma-separated dtypes to check (env CONV2D_DTYPES)")
    group.addoption("--threads", type=int, default=knobs.current.threads, help="torch intra-op threads (env CONV2D_THREADS)")
    group.addoption("--report-dir", default=knobs.current.report_dir, help="where results are written (env CONV2D_REPORT_DIR)")
    group.addoption("--device", default=knobs.current.device, help="torch device under test: cpu, cuda, cuda:N, mps (env CONV2D_DEVICE)")


def runs_the_suite(config) -> bool:
    """False when pytest was pointed at benchmarks/ only: those runs leave reports/ alone."""
    paths = [arg for arg in config.args if not arg.startswith("-")]
    return not paths or not all(Path(arg.split("::")[0]).resolve().is_relative_to(Path(__file__).parent / "benchmarks") for arg in paths)


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config):
    knobs.current.dtypes = knobs.parse_dtypes(config.getoption("dtypes"))
    knobs.current.threads = config.getoption("threads")
    knobs.current.report_dir = config.getoption("report_dir")
    knobs.current.profile = config.getoption("hypothesis_profile", None) or knobs.current.profile
    knobs.current.device = config.getoption("device")
    check_device(knobs.current.device)
    torch.set_num_threads(knobs.current.threads)
    # The reference's BLAS too: with pytest-xdist, each worker's OpenBLAS threads spinning on
    # the same cores halved the gradient tests' throughput (benchmarks/suite_throughput.py).
    threadpoolctl.threadpool_limits(limits=knobs.current.threads, user_api="blas")
    if not hasattr(config, "workerinput"):
        # Read by each pytest-xdist worker's OpenMP runtime as it starts (too late for this
        # process): idle OpenMP threads sleep instead of spinning. Examples drawn with two torch
        # threads in two workers on two cores otherwise spun each other 3x slower (the gradient
        # tests ran 0.58x as fast with -n 2 as in one process; benchmarks/suite_throughput.py).
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    if config.option.xmlpath is None and not hasattr(config, "workerinput") and runs_the_suite(config):
        config.option.xmlpath = str(Path(knobs.current.report_dir) / "junit.xml")


def check_device(name: str) -> None:
    try:
        device = torch.device(name)
    except RuntimeError as error:
        raise pytest.UsageError(f"--device {name!r}: {error}") from error
    available = {
        "cpu": lambda: True,
        "cuda": lambda: torch.cuda.is_available() and (device.index is None or device.index < torch.cuda.device_count()),
        "mps": lambda: hasattr(torch.backends, "mps") and torch.backends.mps.is_available(),
    }.get(device.type)
    if available is None:
        raise pytest.UsageError(f"--device {name!r}: the suite runs on cpu, cuda or mps, not {device.type}")
    if not available():
        raise pytest.UsageError(f"--device {name!r}: this torch ({torch.__version__}) cannot reach that device here")
    if device.type == "mps" and "float64" in knobs.current.dtypes:
        raise pytest.UsageError("--device mps: MPS has no float64; pass --dtypes float32,float16,bfloat16")


def device_description() -> dict:
    """What the report header and results.json say about the device under test and its flags."""
    device = torch.device(knobs.current.device)
    if device.type == "cuda":
        index = device.index if device.index is not None else torch.cuda.current_device()
        cudnn = torch.backends.cudnn
        return {
            "device": f"cuda:{index} {torch.cuda.get_device_name(index)} (sm_{''.join(map(str, torch.cuda.get_device_capability(index)))})",
            "cuda": torch.version.cuda, "cudnn": cudnn.version(), "cudnn_enabled": cudnn.enabled,
            "cudnn_conv_tf32": cudnn_tf32(), "cudnn_deterministic": cudnn.deterministic, "cudnn_benchmark": cudnn.benchmark,
            "matmul_tf32": torch.backends.cuda.matmul.allow_tf32, "host_cpu_capability": cpu_capability(),
        }
    if device.type == "mps":
        return {"device": "mps", "host_cpu_capability": cpu_capability()}
    return {"device": "cpu", "cpu_capability": cpu_capability(), "onednn_isa": onednn_isa()}


def pytest_report_header(config):
    device = ", ".join(f"{key} {value}" for key, value in device_description().items())
    return [
        f"conv2d suite: torch {torch.__version__}, numpy {np.__version__}, python {platform.python_version()}",
        f"conv2d suite: {device}, threads {knobs.current.threads}",
        f"conv2d suite: profile {knobs.current.profile}, dtypes {','.join(knobs.current.dtypes)},"
        f" reports {knobs.current.report_dir}",
    ]


_outcomes: dict[str, dict] = {}  # nodeid -> outcome, duration, failure headline, Hypothesis statistics


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    """Hypothesis' statistics as a JUnit property of each test (Hypothesis itself adds them only
    without xdist, and only as a global property)."""
    report = (yield).get_result()
    stats = report.__dict__.get("_hypothesis_stats")
    if stats:
        report.user_properties.append(("hypothesis_statistics", stats))


def pytest_runtest_logreport(report):
    if hasattr(report.config if hasattr(report, "config") else None, "workerinput"):
        return
    entry = _outcomes.setdefault(report.nodeid, {"outcome": "passed", "duration_s": 0.0})
    entry["duration_s"] += report.duration
    if report.when == "call" or report.outcome != "passed":
        entry["outcome"] = ("xfailed" if report.skipped else "xpassed") if hasattr(report, "wasxfail") else report.outcome
    for name, value in report.user_properties:
        if name == "hypothesis_statistics":
            entry["hypothesis_statistics"] = value
    if report.failed:
        text = str(report.longrepr)
        entry["headline"] = next((line.strip("E ").strip() for line in text.splitlines() if "Worst element" in line or "raised on a valid" in line), text.splitlines()[-1] if text else "")
        entry["repro"] = next((line.split("python ", 1)[1].strip() for line in text.splitlines() if "Reproduce in a fresh interpreter: python" in line), "")


_started = time.monotonic()


def pytest_sessionfinish(session):
    if not runs_the_suite(session.config):
        return
    worker = getattr(session.config, "workerinput", {}).get("workerid", "main")
    observations.save_outputs(knobs.current.report_dir, worker)
    if hasattr(session.config, "workerinput"):
        session.config.workeroutput["observations"] = json.dumps(observations.payload(), default=str)
        return
    rows = observations.as_rows()
    folder = Path(knobs.current.report_dir)
    folder.mkdir(parents=True, exist_ok=True)
    if rows:
        (folder / "error_ratios.json").write_text(json.dumps({"torch": torch.__version__, "profile": knobs.current.profile, "rows": rows}, indent=1))
    meta = {
        "torch": torch.__version__, "numpy": np.__version__, "python": platform.python_version(), **device_description(),
        "profile": knobs.current.profile, "dtypes": list(knobs.current.dtypes),
        "threads": knobs.current.threads, "date": datetime.date.today().isoformat(), "wall_s": round(time.monotonic() - _started, 1),
    }
    results.write(str(folder), meta, _outcomes, rows, observations.examples())


@pytest.hookimpl(optionalhook=True)  # an xdist hook: unknown under -p no:xdist
def pytest_testnodedown(node, error):
    payload = getattr(node, "workeroutput", {}).get("observations")
    if payload:
        observations.merge(json.loads(payload))


def pytest_terminal_summary(terminalreporter):
    lines = observations.summary_lines()
    if lines:
        terminalreporter.section("worst error per dtype, in units of eps * (|x| conv |w| + |b|)")
        for line in lines:
            terminalreporter.write_line(line)
