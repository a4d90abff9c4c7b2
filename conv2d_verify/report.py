"""The run's report files: results.json (machine-readable), summary.md and summary.html.

summary.html is a self-contained page (plots embedded as PNG data) for the person who opens it
after a run: green or red at the top, what broke first (each failing test's worst element and
its reproducer as a code block), then the worst errors, the regions covered and the plots.
"""

from __future__ import annotations

import html
import json
from collections import Counter
from pathlib import Path

from .region_shares import share_table
from .report_plots import COVERAGE, plot_pngs

STYLE = """body{font-family:sans-serif;max-width:1200px;margin:1em auto;padding:0 1em;color:#222}
h1.green{color:#1a7f37} h1.red{color:#c62828} table{border-collapse:collapse;margin:.5em 0 1.5em}
th,td{border:1px solid #ccc;padding:3px 8px;text-align:left;font-size:13px;vertical-align:top}
th{background:#f0f0f0} pre{background:#f6f8fa;border:1px solid #ddd;padding:8px;overflow-x:auto;font-size:12px}
.failure{border-left:4px solid #c62828;padding-left:1em;margin-bottom:1.5em} img{max-width:100%}"""


def write(report_dir: str, meta: dict, tests: dict[str, dict], worst: list[dict], examples: list[dict]) -> None:
    folder = Path(report_dir)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "results.json").write_text(
        json.dumps({"meta": meta, "tests": tests, "worst": worst, "examples": examples}, default=str)
    )
    summary = Summary(meta, tests, worst, examples)
    (folder / "summary.md").write_text(summary.markdown())
    (folder / "summary.html").write_text(summary.html(plot_pngs(examples)))


class Summary:
    """The run in tables: each is (title, header, rows), written as markdown and as HTML."""

    def __init__(self, meta: dict, tests: dict[str, dict], worst: list[dict], examples: list[dict]):
        self.meta, self.tests, self.worst, self.examples = meta, tests, worst, examples
        self.failed = {nodeid: test for nodeid, test in tests.items() if test["outcome"] in ("failed", "xpassed")}

    @property
    def status(self) -> str:
        return "red" if self.failed else "green"

    def title(self) -> str:
        target = (
            ""
            if self.meta.get("target", "torch.nn.functional:conv2d") == "torch.nn.functional:conv2d"
            else f", target {self.meta['target']}"
        )
        return f"{self.status.upper()}: torch {self.meta['torch']} on {self.meta['device']}{target}"

    def intro(self) -> list[str]:
        counts = Counter(test["outcome"] for test in self.tests.values())
        skip = ("torch", "numpy", "python", "date", "profile", "dtypes", "device")
        return [
            f"{self.meta['date']}, profile {self.meta['profile']}, dtypes {', '.join(self.meta['dtypes'])},"
            f" python {self.meta['python']}.",
            "Machine and flags: "
            + ", ".join(f"{key} {value}" for key, value in self.meta.items() if key not in skip)
            + ".",
            "Tests: "
            + ", ".join(f"{n} {outcome}" for outcome, n in sorted(counts.items()))
            + f"; {len(self.examples)} examples judged.",
        ]

    def failures(self) -> list[dict]:
        """Each failing test's recorded failure (the minimal example: Hypothesis replays it last)."""
        return [
            {"test": nodeid, **test.get("failure", {"headline": test["outcome"]})}
            for nodeid, test in self.failed.items()
        ]

    def tables(self) -> list[tuple[str, list[str], list[list[str]]]]:
        tables = []
        failing = [row for row in self.examples if row["verdict"] == "fail"]
        if failing:
            last = list({row["test"]: row for row in failing}.values())
            tables.append(
                (
                    "Failing examples (the minimal one per test)",
                    ["test", "dtype", "backend", "kernels", "error / allowance", "configuration"],
                    [
                        [
                            r["test"],
                            r["dtype"],
                            r["backend"],
                            ", ".join(r.get("kernels", [])),
                            f"{r['worst_of_allowance']:.3g}",
                            _config_text(r["config"]),
                        ]
                        for r in last
                    ],
                )
            )
        tables.append(
            (
                "Worst error per API, dtype and backend",
                ["api", "dtype", "backend", "regime", "examples", "eps * bound", "of allowance"],
                [
                    [
                        r["api"],
                        r["dtype"],
                        r["backend"],
                        r["regime"],
                        str(r["examples"]),
                        f"{r['worst_in_eps']:.3g}",
                        f"{r['worst_of_allowance']:.1%}",
                    ]
                    for r in self.worst
                ],
            )
        )
        defects = Counter(row["verdict"] for row in self.examples if row["verdict"].startswith("known defect"))
        if defects:
            tables.append(
                (
                    "Examples in known defects' regions",
                    ["verdict", "examples"],
                    [[v, str(n)] for v, n in sorted(defects.items())],
                )
            )
        coverage = [
            [region, ", ".join(f"{key} {n}" for key, n in sorted(Counter(read(row) for row in self.examples).items()))]
            for region, read in COVERAGE.items()
        ]
        tables.append(("Coverage (examples per region)", ["region", "examples"], coverage))
        fairness = share_table(self.tests)
        if fairness is not None:
            tables.append(fairness)
        return tables

    def markdown(self) -> str:
        lines = [f"# {self.title()}", "", *[f"{line}\n" for line in self.intro()]]
        if self.failed:
            lines += ["## What broke", ""]
            for failure in self.failures():
                lines += [
                    f"### `{failure['test']}`",
                    "",
                    failure.get("headline", ""),
                    "",
                    failure.get("worst", ""),
                    "",
                    f"Reproduce: `python {failure.get('repro', '(no reproducer: see the test log)')}`",
                    "",
                ]
        for title, header, rows in self.tables():
            lines += [f"## {title}", "", "| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
            lines += ["| " + " | ".join(cell.replace("|", "/") for cell in row) + " |" for row in rows]
            lines.append("")
        return "\n".join(lines) + "\n"

    def html(self, plots: dict[str, str]) -> str:
        e = html.escape
        parts = [
            "<!doctype html><html lang='en'><meta charset='utf-8'>"
            f"<title>{e(self.title())}</title><style>{STYLE}</style>",
            f"<h1 class='{self.status}'>{e(self.title())}</h1>",
            *(f"<p>{e(line)}</p>" for line in self.intro()),
        ]
        if self.failed:
            parts.append("<h2 id='what-broke'>What broke</h2>")
            for failure in self.failures():
                parts.append(
                    f"<div class='failure'><h3>{e(failure['test'])}</h3><p>{e(failure.get('headline', ''))}</p>"
                )
                for label in ("worst", "allowance", "config"):
                    if failure.get(label):
                        parts.append(f"<p><b>{label}:</b> {e(str(failure[label]))}</p>")
                script = _read(failure.get("repro"))
                if script:
                    parts.append(
                        f"<p>Reproduce in a fresh interpreter: <code>python {e(failure['repro'])}</code></p>"
                        f"<pre><code>{e(script)}</code></pre>"
                    )
                parts.append("</div>")
        for title, header, rows in self.tables():
            parts.append(f"<h2>{e(title)}</h2>" + _html_table(header, rows))
        for title, data in plots.items():
            parts.append(f"<h2>{e(title)}</h2><img alt='{e(title)}' src='data:image/png;base64,{data}'>")
        return "\n".join(parts) + "\n</html>\n"


def _html_table(header: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{html.escape(cell)}</th>" for cell in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(cell)}</td>" for cell in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _config_text(config: dict) -> str:
    return ", ".join(f"{key}={value}" for key, value in config.items())


def _read(path: str | None) -> str:
    try:
        return Path(path).read_text() if path else ""
    except OSError:
        return ""
