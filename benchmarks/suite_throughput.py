"""Examples per second of the differential tests, single process and with pytest-xdist -n 2.

Runs the ci profile (derandomized) on the forward and gradient tests in fresh pytest processes.
Start-up (interpreter, torch import, collection, worker boot) is timed separately with a run that
selects no test, and subtracted, so the rates are steady-state; rates with start-up are shown too.

    python benchmarks/suite_throughput.py        # writes reports/throughput.json and .md
"""

from __future__ import annotations

import datetime
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SUITES = {"forward": "tests/test_forward.py", "gradients": "tests/test_gradients.py"}
WORKERS = ("0", "2")


def run(args: list[str], report_dir: str) -> float:
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "--hypothesis-profile=ci",
        "--report-dir",
        report_dir,
        *args,
    ]
    start = time.perf_counter()
    subprocess.run(command, cwd=ROOT, check=False, capture_output=True)
    return time.perf_counter() - start


def examples_checked(report_dir: str) -> int:
    rows = json.loads((Path(report_dir) / "error_ratios.json").read_text())["rows"]
    return sum(row["examples"] for row in rows)


def measure(path: str, workers: str) -> dict:
    with tempfile.TemporaryDirectory() as scratch:
        startup = run([path, "-n", workers, "-k", "no_test_has_this_name"], scratch)
        wall = run([path, "-n", workers], scratch)
        examples = examples_checked(scratch)
    return {
        "workers": workers,
        "examples": examples,
        "wall_s": wall,
        "startup_s": startup,
        "per_s_with_startup": examples / wall,
        "per_s_steady": examples / max(wall - startup, 1e-9),
    }


def main() -> None:
    import torch  # noqa: PLC0415 - only for the versions in the report

    results = {name: [measure(path, workers) for workers in WORKERS] for name, path in SUITES.items()}
    meta = {
        "date": datetime.date.today().isoformat(),
        "torch": torch.__version__,
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "machine": platform.machine(),
        "command": "python benchmarks/suite_throughput.py",
    }
    lines = [
        f"# Suite throughput ({meta['date']}, torch {meta['torch']}, {meta['cpus']} CPUs)",
        "",
        f"`{meta['command']}`: ci profile, examples checked against the reference per second.",
        "",
        "| tests | workers | examples | steady examples/s | with start-up | start-up s | -n 2 speed-up (steady) |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name, (single, double) in results.items():
        for row in (single, double):
            speedup = f"{row['per_s_steady'] / single['per_s_steady']:.2f}x" if row is double else ""
            lines.append(
                f"| {name} | {row['workers']} | {row['examples']} | {row['per_s_steady']:.0f} | "
                f"{row['per_s_with_startup']:.0f} | {row['startup_s']:.1f} | {speedup} |"
            )
    reports = ROOT / "reports"
    reports.mkdir(exist_ok=True)
    (reports / "throughput.json").write_text(json.dumps({"meta": meta, "results": results}, indent=1))
    (reports / "throughput.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
