"""Kill power, measured: each fault of meta_tests/planted_faults.py planted in turn, the
differential tests run at the ci profile in one process until the first failure (-x), and the
examples judged and seconds until that failure read from the run's records.

    python tools/kill_power.py [fault names...]   ->  reports/kill_power.md

A fault the run never fails on is a survivor: its combination is out of the suite's reach.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from meta_tests.planted_faults import FAULTS  # noqa: E402

MODULES = ["tests/test_forward.py", "tests/test_gradients.py", "tests/test_backends.py"]
OUT = ROOT / "reports" / "kill_power"


def measure(name: str) -> dict:
    folder = OUT / name.replace(" ", "_").replace(",", "")
    command = [
        sys.executable,
        "-m",
        "pytest",
        *MODULES,
        "-p",
        "meta_tests.planted_faults",
        "-p",
        "no:xdist",
        "-p",
        "no:cacheprovider",
        "-x",
        "-q",
        "--hypothesis-profile=ci",
        f"--report-dir={folder}",
    ]
    begun = time.monotonic()
    run = subprocess.run(
        command, cwd=ROOT, env={**os.environ, "CONV2D_PLANTED_FAULT": name}, capture_output=True, text=True
    )
    wall = time.monotonic() - begun
    data = json.loads((folder / "results.json").read_text())
    examples = data["examples"]
    first = next((i for i, row in enumerate(examples) if row["verdict"] == "fail"), None)
    failed = [(nodeid, test) for nodeid, test in data["tests"].items() if test["outcome"] == "failed"]
    row = {"fault": name, "exit": run.returncode, "wall_s": round(wall, 1), "examples": len(examples)}
    if first is not None and failed:
        nodeid, test = failed[0]
        row.update(
            caught_by=nodeid.split("::")[-1],
            kind=test.get("failure", {}).get("classification", test.get("failure", {}).get("headline", "")[:60]),
            examples_to_failure=first + 1,
            seconds_to_failure=examples[first]["at_s"],
        )
    return row


def table(rows: list[dict]) -> str:
    lines = [
        "# Kill power: planted combination faults at the ci profile",
        "",
        f"Differential tests ({', '.join(MODULES)}) in one process, -x; examples judged and seconds until the"
        " first failing example (from the run's records; Hypothesis then shrinks it).",
        "",
        "| fault | caught by | kind | examples to failure | seconds to failure | run's wall |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for r in rows:
        if "caught_by" in r:
            lines.append(
                f"| {r['fault']} | {r['caught_by']} | {r['kind']} | {r['examples_to_failure']} |"
                f" {r['seconds_to_failure']:.1f} | {r['wall_s']:.0f} s |"
            )
        else:
            lines.append(f"| {r['fault']} | survived ({r['examples']} examples) | - | - | - | {r['wall_s']:.0f} s |")
    return "\n".join(lines) + "\n"


def main(names: list[str]) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    rows = []
    for name in names or list(FAULTS):
        rows.append(measure(name))
        print(rows[-1], flush=True)
    text = table(rows)
    (ROOT / "reports" / "kill_power.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main(sys.argv[1:])
