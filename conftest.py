"""Suite-wide knobs, Hypothesis profiles, report header and the error-ratio summary."""

from __future__ import annotations

import json
import platform
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, settings

from tests import knobs, observations

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


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config):
    knobs.current.dtypes = knobs.parse_dtypes(config.getoption("dtypes"))
    knobs.current.threads = config.getoption("threads")
    knobs.current.report_dir = config.getoption("report_dir")
    knobs.current.profile = config.getoption("hypothesis_profile", None) or knobs.current.profile
    torch.set_num_threads(knobs.current.threads)
    if config.option.xmlpath is None and not hasattr(config, "workerinput"):
        config.option.xmlpath = str(Path(knobs.current.report_dir) / "junit.xml")


def cpu_capability() -> str:
    get = getattr(getattr(torch.backends, "cpu", None), "get_cpu_capability", None)
    return get() if get else "unknown (torch.backends.cpu.get_cpu_capability is missing)"


def pytest_report_header(config):
    return [
        f"conv2d suite: torch {torch.__version__}, numpy {np.__version__}, python {platform.python_version()}",
        f"conv2d suite: cpu capability {cpu_capability()}, mkldnn {torch.backends.mkldnn.is_available()},"
        f" threads {knobs.current.threads}",
        f"conv2d suite: profile {knobs.current.profile}, dtypes {','.join(knobs.current.dtypes)},"
        f" reports {knobs.current.report_dir}",
    ]


def pytest_sessionfinish(session):
    if hasattr(session.config, "workerinput"):
        session.config.workeroutput["observations"] = json.dumps(observations.as_rows())
        return
    rows = observations.as_rows()
    if rows:
        path = Path(knobs.current.report_dir) / "error_ratios.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"torch": torch.__version__, "profile": knobs.current.profile, "rows": rows}, indent=1))


def pytest_testnodedown(node, error):
    payload = getattr(node, "workeroutput", {}).get("observations")
    if payload:
        observations.merge_rows(json.loads(payload))


def pytest_terminal_summary(terminalreporter):
    lines = observations.summary_lines()
    if lines:
        terminalreporter.section("worst error per dtype, in units of eps * (|x| conv |w| + |b|)")
        for line in lines:
            terminalreporter.write_line(line)
