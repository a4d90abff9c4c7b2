"""The suite's pytest plugin (entry point `conv2d_verify`): options, Hypothesis profiles, the
report header, dtype parametrization, and the records that become reports/.

Loaded before pytest picks its root directory, so `--report-dir DIR` is an option wherever it
appears. It stays inert in a pytest run that collects none of the suite (another project in the
same environment): options are registered, nothing else happens.
"""

from __future__ import annotations

import datetime
import json
import os
import platform
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase
from hypothesis import settings as hypothesis_settings

from . import records, settings

hypothesis_settings.register_profile("dev", max_examples=40, deadline=None)
hypothesis_settings.register_profile(
    "ci",
    max_examples=250,
    # no hill-climbing in ci: it spends half the examples mutating one best example, which
    # crowded a region or layout under 5% of a test's examples (nightly and hunt climb)
    phases=[phase for phase in Phase if phase != Phase.target],
    derandomize=True,
    database=None,
    print_blob=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
hypothesis_settings.register_profile(
    "nightly",
    max_examples=5000,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)

hypothesis_settings.register_profile(  # conv2d-verify hunt: many seeds, in rounds (conv2d_verify/hunt.py)
    "hunt",
    max_examples=int(os.environ.get("CONV2D_HUNT_EXAMPLES", "1000")),
    deadline=None,
    database=None,
    print_blob=True,
    suppress_health_check=list(HealthCheck),
)

PACKAGE = Path(__file__).resolve().parent
SUITE_DIRS = (PACKAGE / "suite", PACKAGE.parent / "tests", PACKAGE.parent / "meta_tests")
MARKERS = (
    "compile: through torch.compile (inductor); slow, so left out unless asked for with -m compile",
    "dtypes(*names): run the test for these of the run's dtypes only",
    "torch_only: judges torch's own nn.Conv2d or kernels; skipped when --target names another conv2d",
)
WARNINGS_EXPECTED = (
    # torch warns that it copies the input for an even 'same' kernel: expected, and tested.
    "ignore:Using padding='same' with even kernel lengths:UserWarning",
    # torch.backends.mkldnn.flags() warns that oneDNN TF32 needs an Intel GPU: irrelevant on CPU.
    "ignore:TF32 acceleration on top of oneDNN:UserWarning",
    # torch.compile imports torch.jit internals that warn about their own deprecation.
    "ignore:`torch.jit.script_method` is deprecated:DeprecationWarning",
)


def pytest_addoption(parser):
    defaults = settings.from_environment()
    group = parser.getgroup("conv2d", "Conv2d differential suite")
    group.addoption(
        "--dtypes", default=",".join(defaults.dtypes), help="comma-separated dtypes to check (env CONV2D_DTYPES)"
    )
    group.addoption("--threads", type=int, default=defaults.threads, help="torch intra-op threads (env CONV2D_THREADS)")
    group.addoption(
        "--report-dir", default=defaults.report_dir, help="where results are written (env CONV2D_REPORT_DIR)"
    )
    group.addoption(
        "--device", default=defaults.device, help="torch device under test: cpu, cuda, cuda:N, mps (env CONV2D_DEVICE)"
    )
    group.addoption(
        "--target",
        default=defaults.target,
        help="the conv2d under test, package.module:function with torch.nn.functional.conv2d's signature"
        " (env CONV2D_TARGET)",
    )


def is_suite_run(config) -> bool:
    """Whether this pytest run collects the suite: a path or --pyargs module of it, or a folder holding it."""
    for arg in config.args:
        if arg.startswith("conv2d_verify"):
            return True
        path = (Path(config.invocation_params.dir) / arg.split("::")[0]).resolve()
        if any(path.is_relative_to(suite) or suite.is_relative_to(path) for suite in SUITE_DIRS):
            return True
    return False


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config):
    for marker in MARKERS:
        config.addinivalue_line("markers", marker)
    config.stash[SUITE_RUN] = is_suite_run(config)
    if not config.stash[SUITE_RUN]:
        return
    for line in WARNINGS_EXPECTED:
        config.addinivalue_line("filterwarnings", line)
    run = settings.RunSettings(
        profile=config.getoption("hypothesis_profile", None) or settings.from_environment().profile,
        dtypes=settings.parse_dtypes(config.getoption("dtypes")),
        threads=config.getoption("threads"),
        report_dir=config.getoption("report_dir"),
        device=config.getoption("device"),
        target=config.getoption("target"),
    )
    hypothesis_settings.load_profile(run.profile)  # --hypothesis-profile, when given, loads after this
    from . import environment  # noqa: PLC0415 - imports torch: only where the suite runs

    environment.prepare(run)
    settings.freeze(run)
    if not hasattr(config, "workerinput"):
        # Read by each pytest-xdist worker's OpenMP runtime as it starts (too late for this
        # process): idle OpenMP threads sleep instead of spinning. Examples drawn with two torch
        # threads in two workers on two cores otherwise spun each other 3x slower.
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        if config.option.xmlpath is None:
            config.option.xmlpath = str(Path(run.report_dir) / "junit.xml")


SUITE_RUN = pytest.StashKey[bool]()


def suite_run(config) -> bool:
    return config.stash.get(SUITE_RUN, False)


def pytest_report_header(config):
    if suite_run(config):
        from . import environment  # noqa: PLC0415

        return environment.header_lines(settings.current())
    return None


def pytest_generate_tests(metafunc):
    """Tests that take a `dtype` run once per dtype of the run (--dtypes), or per those of its
    @pytest.mark.dtypes(...) among them; tests that parametrize dtype themselves are left alone."""
    if "dtype" not in metafunc.fixturenames or not suite_run(metafunc.config):
        return
    if any("dtype" in str(mark.args[0]) for mark in metafunc.definition.iter_markers("parametrize")):
        return
    wanted = settings.current().dtypes
    marker = metafunc.definition.get_closest_marker("dtypes")
    if marker is not None:
        wanted = tuple(d for d in wanted if d in marker.args)
    metafunc.parametrize(
        "dtype", wanted or [pytest.param(None, marks=pytest.mark.skip(reason="none of its dtypes is in --dtypes"))]
    )


def pytest_collection_modifyitems(config, items):
    """Compiled tests only when asked for (-m compile); torch-only tests skipped under a --target."""
    if not suite_run(config):
        return
    if not config.option.markexpr:
        kept = [item for item in items if item.get_closest_marker("compile") is None]
        config.hook.pytest_deselected(items=[item for item in items if item.get_closest_marker("compile") is not None])
        items[:] = kept
    if not settings.current().judges_torch:
        skip = pytest.mark.skip(reason=f"judges torch's own Conv2d; --target is {settings.current().target}")
        for item in items:
            if item.get_closest_marker("torch_only") is not None:
                item.add_marker(skip)


def pytest_runtest_setup(item):
    """A hunt's round starts no test after the hunt's time is up (CONV2D_HUNT_DEADLINE, epoch seconds)."""
    deadline = os.environ.get("CONV2D_HUNT_DEADLINE")
    if deadline and suite_run(item.config) and time.time() > float(deadline):
        pytest.skip("the hunt's time is up")


@pytest.fixture(autouse=True)
def _conv2d_records(request):
    """Whatever a test records (examples, a failure, Hypothesis' statistics) is filed under its node id."""
    with records.running(request.node.nodeid):
        yield


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """The test's records travel with its report (to the xdist controller, and into JUnit XML)."""
    report = (yield).get_result()
    if report.when == "call" and suite_run(item.config):
        failure, statistics = records.failure(item.nodeid), records.statistics(item.nodeid)
        if failure is not None and report.failed:
            report.user_properties.append(("conv2d_failure", json.dumps(failure, default=str)))
        if statistics is not None:
            report.user_properties.append(("conv2d_statistics", json.dumps(statistics)))


_outcomes: dict[str, dict] = {}  # node id -> outcome, duration, failure, Hypothesis statistics
_started = time.monotonic()


def pytest_runtest_logreport(report):
    if os.environ.get("PYTEST_XDIST_WORKER"):
        return  # a worker's own report: the controller keeps the books
    entry = _outcomes.setdefault(report.nodeid, {"outcome": "passed", "duration_s": 0.0})
    entry["duration_s"] += report.duration
    if report.when == "call" or report.outcome != "passed":
        entry["outcome"] = (
            ("xfailed" if report.skipped else "xpassed") if hasattr(report, "wasxfail") else report.outcome
        )
    for name, value in report.user_properties:
        if name == "conv2d_failure":
            entry["failure"] = json.loads(value)
        elif name == "conv2d_statistics":
            entry["statistics"] = json.loads(value)
    if report.failed and "failure" not in entry:
        entry["failure"] = {
            "headline": report.longrepr.reprcrash.message.splitlines()[0]
            if hasattr(report.longrepr, "reprcrash") and report.longrepr.reprcrash
            else report.outcome
        }


def pytest_sessionfinish(session):
    config = session.config
    if not suite_run(config):
        return
    run = settings.current()
    worker = getattr(config, "workerinput", {}).get("workerid", "main")
    records.save_outputs(run.report_dir, worker)
    if hasattr(config, "workerinput"):
        config.workeroutput["records"] = json.dumps(records.payload(), default=str)
        return
    from . import environment, report  # noqa: PLC0415

    rows = records.as_rows()
    folder = Path(run.report_dir)
    folder.mkdir(parents=True, exist_ok=True)
    if rows:
        (folder / "error_ratios.json").write_text(json.dumps({"profile": run.profile, "rows": rows}, indent=1))
    meta = {
        **environment.versions(),
        **environment.device_description(run),
        "profile": run.profile,
        "dtypes": list(run.dtypes),
        "threads": run.threads,
        "target": run.target,
        "date": datetime.date.today().isoformat(),
        "python": platform.python_version(),
        "wall_s": round(time.monotonic() - _started, 1),
    }
    report.write(str(folder), meta, _outcomes, rows, records.examples())


@pytest.hookimpl(optionalhook=True)  # an xdist hook: unknown under -p no:xdist
def pytest_testnodedown(node, error):
    payload = getattr(node, "workeroutput", {}).get("records")
    if payload:
        records.merge(json.loads(payload))


def pytest_terminal_summary(terminalreporter):
    lines = records.summary_lines() if suite_run(terminalreporter.config) else []
    if lines:
        terminalreporter.section("worst error per dtype, in units of eps * (|x| conv |w| + |b|)")
        for line in lines:
            terminalreporter.write_line(line)
