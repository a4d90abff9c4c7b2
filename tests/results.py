"""The run's report files: results.json (machine-readable), summary.md and summary.html.

summary.html is self-contained (plots embedded as PNG data): a user who opens it after a red run
sees what broke, where and by how much, and which regions of the configuration space were hit.
"""

from __future__ import annotations

import base64
import html
import io
import json
from collections import Counter
from pathlib import Path

COVERAGE = {  # region -> how to read it from an example row
    "dtype": lambda row: row["dtype"],
    "backend": lambda row: row["backend"],
    "padding_mode": lambda row: row["config"]["padding_mode"],
    "padding": lambda row: row["config"]["padding"] if isinstance(row["config"]["padding"], str) else "explicit",
    "groups": lambda row: "1" if row["config"]["groups"] == 1 else "depthwise" if row["config"]["in_channels"] == row["config"]["groups"] else "grouped",
    "dilated": lambda row: str(row["config"]["dilation"] not in (1, [1, 1], (1, 1))),
    "strided": lambda row: str(row["config"]["stride"] not in (1, [1, 1], (1, 1))),
    "layout": lambda row: row["execution"].split("input_layout=")[-1].split(",")[0].strip("'") if "input_layout=" in row["execution"] else "contiguous",
}


def write(report_dir: str, meta: dict, tests: dict[str, dict], worst: list[dict], examples: list[dict]) -> None:
    folder = Path(report_dir)
    folder.mkdir(parents=True, exist_ok=True)
    failures = [row for row in examples if row["verdict"] == "fail"]
    results = {"meta": meta, "tests": tests, "worst": worst, "examples": examples}
    (folder / "results.json").write_text(json.dumps(results, default=str))
    plots = plot_pngs(examples)
    (folder / "summary.md").write_text(markdown(meta, tests, worst, failures, examples))
    (folder / "summary.html").write_text(html_page(meta, tests, worst, failures, examples, plots))


def outcome_counts(tests: dict[str, dict]) -> Counter:
    return Counter(test["outcome"] for test in tests.values())


def last_failure_per_test(failures: list[dict]) -> list[dict]:
    """Hypothesis replays the minimal failing example last: keep that one per test."""
    return list({row["test"]: row for row in failures}.values())


def markdown(meta, tests, worst, failures, examples) -> str:
    counts = outcome_counts(tests)
    lines = [
        f"# Conv2d suite: torch {meta['torch']} on {meta['device']}",
        "",
        f"{meta['date']}, profile `{meta['profile']}`, dtypes {', '.join(meta['dtypes'])}.",
        "",
        "Device and flags: " + ", ".join(f"{key} {value}" for key, value in meta.items() if key not in ("torch", "numpy", "python", "date", "profile", "dtypes")) + ".",
        "",
        "Tests: " + ", ".join(f"{n} {outcome}" for outcome, n in sorted(counts.items())) + f"; {len(examples)} examples checked.",
        "",
    ]
    failed = [(nodeid, test) for nodeid, test in tests.items() if test["outcome"] == "failed"]
    if failed:
        lines += ["## What broke", "", "| test | worst element | reproduce |", "| --- | --- | --- |"]
        for nodeid, test in failed:
            lines.append(f"| `{nodeid}` | {test.get('headline', '').replace('|', '/')} | `{test.get('repro', '')}` |")
        lines.append("")
    if failures:
        lines += ["## Failing examples (the minimal one per test)", "", "| test | dtype | backend | error / allowance | configuration |", "| --- | --- | --- | --- | --- |"]
        for row in last_failure_per_test(failures):
            lines.append(f"| `{row['test']}` | {row['dtype']} | {row['backend']} | {row['worst_of_allowance']:.3g} | `{row['config']}` |")
        lines.append("")
    lines += ["## Worst error per API, dtype and backend", "", "| api | dtype | backend | regime | examples | eps * bound | of allowance |", "| --- | --- | --- | --- | --- | --- | --- |"]
    for row in worst:
        lines.append(f"| {row['api']} | {row['dtype']} | {row['backend']} | {row['regime']} | {row['examples']} | {row['worst_in_eps']:.3g} | {row['worst_of_allowance']:.1%} |")
    lines += ["", "## Coverage (examples per region)", ""]
    for region, read in COVERAGE.items():
        counted = Counter(read(row) for row in examples)
        lines.append(f"- {region}: " + ", ".join(f"{key} {n}" for key, n in sorted(counted.items())))
    return "\n".join(lines) + "\n"


def plot_pngs(examples: list[dict]) -> dict[str, str]:
    """Base64 PNGs: error/allowance per dtype and per backend, and coverage per region."""
    if not examples:
        return {}
    import matplotlib  # noqa: PLC0415 - only the controller that writes the summary needs it

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    def encoded(figure) -> str:
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=80, bbox_inches="tight")
        plt.close(figure)
        return base64.b64encode(buffer.getvalue()).decode()

    plots = {}
    checked = [row for row in examples if row["regime"] == "bounded" and row["verdict"] in ("pass", "fail")]
    for key in ("dtype", "backend"):
        groups = sorted({row[key] for row in checked})
        if not groups:
            continue
        figure, axis = plt.subplots(figsize=(7, 3))
        axis.hist([[min(row["worst_of_allowance"], 1.5) for row in checked if row[key] == group] for group in groups], bins=30, label=groups, stacked=True)
        axis.axvline(1.0, color="red", linestyle="--", label="allowance")
        axis.set_xlabel("worst error / allowance per example (bounded regime; clipped at 1.5)")
        axis.set_ylabel("examples")
        axis.legend(fontsize=7)
        plots[f"error / allowance per {key}"] = encoded(figure)
    figure, axes = plt.subplots(2, 4, figsize=(14, 5))
    for axis, (region, read) in zip(axes.ravel(), COVERAGE.items()):
        counted = Counter(read(row) for row in examples)
        axis.bar([str(key) for key in counted], list(counted.values()))
        axis.set_title(region, fontsize=9)
        axis.tick_params(axis="x", labelrotation=45, labelsize=7)
    figure.tight_layout()
    plots["coverage"] = encoded(figure)
    return plots


def html_page(meta, tests, worst, failures, examples, plots) -> str:
    body = markdown(meta, tests, worst, failures, examples)
    images = "".join(f"<h2>{html.escape(title)}</h2><img alt='{html.escape(title)}' src='data:image/png;base64,{data}'>" for title, data in plots.items())
    status = "red" if any(test["outcome"] == "failed" for test in tests.values()) else "green"
    return (
        "<!doctype html><meta charset='utf-8'><title>Conv2d suite summary</title>"
        f"<style>body{{font-family:sans-serif;max-width:1100px;margin:auto}} .status{{color:{status}}}</style>"
        f"<h1 class='status'>{status.upper()}: torch {html.escape(meta['torch'])}</h1>"
        f"<pre>{html.escape(body)}</pre>{images}\n"
    )
