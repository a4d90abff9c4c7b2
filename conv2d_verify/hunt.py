"""`conv2d-verify hunt`: a time-boxed, sharded long run that goes looking for disagreements and
writes a findings report.

    conv2d-verify hunt --minutes 30 --dtypes bfloat16 --shards 2 --report-dir reports/hunt

Each shard runs the differential tests in rounds, each round under a fresh Hypothesis seed and
the `hunt` profile (CONV2D_HUNT_EXAMPLES examples per test), until the time is up. Every failing
test's minimal example (Hypothesis shrinks it) is a finding; findings are told apart by their
signature (api, dtype, the kernels that ran, the kind of disagreement, the geometry class), and
the examples inside known defects' regions are counted under their entries. The environment
passes through: cap oneDNN's ISA (ONEDNN_MAX_CPU_ISA) to hunt on another class of CPU.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

DIFFERENTIAL_MODULES = (
    "test_forward",
    "test_gradients",
    "test_backends",
    "test_cpu_low_precision",
    "test_family_forward",
    "test_family_gradients",
)
EXAMPLES_PER_TEST = 1000
# Regions that name what a kernel sees; the rest (padding spelling, batching) would split one
# defect into many signatures.
GEOMETRY = re.compile(r"^(groups=|an output side|stride larger|kernel spans|padding past|a single input|wide )")


def options(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="conv2d-verify hunt", description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=30.0, help="time box (default 30)")
    parser.add_argument("--shards", type=int, default=os.cpu_count() or 1, help="parallel shards (default: CPUs)")
    parser.add_argument("--dtypes", default="bfloat16", help="comma-separated dtypes (default bfloat16)")
    parser.add_argument("--report-dir", default="reports/hunt", help="where findings.md goes (default reports/hunt)")
    parser.add_argument("--examples", type=int, default=EXAMPLES_PER_TEST, help="examples per test and round")
    parser.add_argument("--seed", type=int, default=int(time.time()) % 100_000, help="first Hypothesis seed")
    parser.add_argument("--modules", default=",".join(DIFFERENTIAL_MODULES), help="suite modules to run")
    return parser.parse_args(argv)


def suite_folder() -> Path:
    """The test modules: shipped as conv2d_verify/suite, or tests/ beside the package in a checkout."""
    package = Path(__file__).resolve().parent
    return next(folder for folder in (package / "suite", package.parent / "tests") if folder.is_dir())


def round_command(args, folder: Path, seed: int) -> list[str]:
    modules = [str(suite_folder() / f"{name}.py") for name in args.modules.split(",")]
    return [
        sys.executable,
        "-m",
        "pytest",
        *modules,
        "-p",
        "no:cacheprovider",
        "-p",
        "no:xdist",
        "-q",
        "--hypothesis-profile=hunt",
        f"--hypothesis-seed={seed}",
        f"--dtypes={args.dtypes}",
        f"--report-dir={folder}",
    ]


def run_shard(args, shard: int, deadline: float, out: Path, started: float) -> list[dict]:
    rounds = []
    env = {**os.environ, "CONV2D_HUNT_EXAMPLES": str(args.examples), "CONV2D_HUNT_DEADLINE": str(deadline)}
    number = 0
    while time.time() < deadline:
        seed = args.seed + 1000 * shard + number
        folder = out / f"shard{shard}" / f"round{number}"
        log = folder.with_suffix(".log")
        log.parent.mkdir(parents=True, exist_ok=True)
        begun = time.time()
        with log.open("w") as sink:
            code = subprocess.call(round_command(args, folder, seed), env=env, stdout=sink, stderr=subprocess.STDOUT)
        rounds.append(
            {
                "shard": shard,
                "round": number,
                "seed": seed,
                "exit": code,
                "folder": str(folder),
                "log": str(log),
                "started_min": (begun - started) / 60,
                "ended_min": (time.time() - started) / 60,
            }
        )
        number += 1
    return rounds


def geometry_class(regions: list[str]) -> str:
    return ", ".join(sorted(r for r in regions if GEOMETRY.match(r))) or "plain"


def signature(failure: dict) -> tuple[str, ...]:
    api = re.sub(r"^(nn\.Conv2d|F\.conv2d|torch\.compile\(nn\.Conv2d\))", "conv2d", failure.get("api", "?"))
    kernels = ", ".join(sorted(set(failure.get("kernels") or []))) or "(no oneDNN kernel)"
    return (
        api,
        failure.get("dtype", "?"),
        kernels,
        failure.get("classification", failure.get("headline", "?")[:80]),
        geometry_class(failure.get("regions") or []),
    )


def gather(rounds: list[dict], out: Path) -> dict:
    """The findings by signature, the known defects' examples by entry, and the totals."""
    findings: dict[tuple, dict] = {}
    defects: dict[str, Counter] = defaultdict(Counter)
    examples, outcomes = 0, Counter()
    for entry in sorted(rounds, key=lambda r: r["ended_min"]):
        results = Path(entry["folder"]) / "results.json"
        if not results.exists():
            outcomes["round without results (see its log)"] += 1
            continue
        data = json.loads(results.read_text())
        examples += len(data["examples"])
        for row in data["examples"]:
            verdict = row["verdict"]
            if verdict.startswith("known defect"):
                name = verdict.split(": ", 1)[1]
                defects[name][
                    verdict.split(": ", 1)[0].removeprefix("known defect").strip(" ,") or "wrong as listed"
                ] += 1
        for nodeid, test in data["tests"].items():
            outcomes[test["outcome"]] += 1
            failure = test.get("failure")
            if test["outcome"] != "failed" or not failure:
                continue
            key = signature(failure)
            found = findings.get(key)
            if found is None:
                found = findings[key] = {
                    "signature": key,
                    "first": failure,
                    "test": nodeid,
                    "first_found_min": entry["ended_min"],
                    "examples_before": examples,
                    "seed": entry["seed"],
                    "times": 0,
                }
                kept = out / "findings" / f"finding{len(findings)}.py"
                if failure.get("repro") and Path(failure["repro"]).exists():
                    kept.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy(failure["repro"], kept)
                    found["repro"] = str(kept)
            found["times"] += 1
    return {"findings": list(findings.values()), "defects": defects, "examples": examples, "outcomes": outcomes}


def markdown(args, meta: dict, rounds: list[dict], gathered: dict) -> str:
    lines = [
        "# Hunt findings",
        "",
        f"{meta['torch']}, oneDNN ISA {meta['onednn_isa']}; dtypes {args.dtypes}; {args.shards} shards x"
        f" {args.minutes:g} minutes; {len(rounds)} rounds of {args.examples} examples per test;"
        f" {gathered['examples']} examples judged; test outcomes:"
        f" {', '.join(f'{n} {o}' for o, n in sorted(gathered['outcomes'].items()))}.",
        f"Environment: {', '.join(f'{k}={v}' for k, v in meta['env'].items()) or 'no caps'}.",
        "",
        "## Distinct disagreements",
        "",
    ]
    if not gathered["findings"]:
        lines.append("None: every example agreed with the reference or fell in a known defect's region.")
    else:
        lines += [
            "| # | api | dtype | kernels | kind | geometry | rounds | first after | reproducer |",
            "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
        ]
        for number, found in enumerate(gathered["findings"], 1):
            api, dtype, kernels, kind, geometry = found["signature"]
            lines.append(
                f"| {number} | {api} | {dtype} | {kernels} | {kind} | {geometry} | {found['times']} |"
                f" {found['first_found_min']:.1f} min, {found['examples_before']} examples |"
                f" `{found.get('repro', found['first'].get('repro', '-'))}` |"
            )
        lines += ["", "Each one's minimal example:", ""]
        for number, found in enumerate(gathered["findings"], 1):
            first = found["first"]
            lines += [
                f"{number}. `{found['test']}` (seed {found['seed']}): {first.get('headline', '')}",
                f"   {first.get('worst', '')}",
                f"   Configuration: `{first.get('config', '')}`",
                "",
            ]
    lines += ["", "## Known defects' regions", ""]
    if gathered["defects"]:
        lines += ["| entry | examples |", "| --- | --- |"]
        for name, counts in sorted(gathered["defects"].items()):
            lines.append(f"| {name} | {', '.join(f'{n} {how}' for how, n in counts.most_common())} |")
    else:
        lines.append("No example fell in a known defect's region.")
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    args = options(argv)
    out = Path(args.report_dir)
    out.mkdir(parents=True, exist_ok=True)
    started = time.time()
    deadline = started + 60 * args.minutes
    with ThreadPoolExecutor(args.shards) as pool:
        shards = [pool.submit(run_shard, args, shard, deadline, out, started) for shard in range(args.shards)]
        rounds = [entry for shard in shards for entry in shard.result()]
    from . import environment, probes  # noqa: PLC0415 - imports torch: only after the shards ran

    meta = {
        "torch": f"torch {environment.versions().get('torch', '?')}",
        "onednn_isa": probes.onednn_isa(),
        "env": {k: v for k, v in os.environ.items() if k.startswith(("ONEDNN_", "ATEN_CPU", "DNNL_"))},
    }
    gathered = gather(rounds, out)
    (out / "findings.md").write_text(markdown(args, meta, rounds, gathered))
    (out / "findings.json").write_text(json.dumps({"meta": meta, "rounds": rounds, **gathered}, indent=1, default=str))
    print((out / "findings.md").read_text())
    return 1 if gathered["findings"] else 0
