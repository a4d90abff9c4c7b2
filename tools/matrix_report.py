"""What the version matrix and the CPU-class matrix share: reading a run's report folder,
summarising it per area, and writing a table as markdown and as an HTML page."""

from __future__ import annotations

import html
import json
from collections import Counter
from pathlib import Path

from conv2d_verify.ops import FAMILY, OPS

DTYPES = ("float64", "float32", "float16", "bfloat16")


def forward(dtype: str):
    return (
        "test_forward.py::",
        f"[{dtype}]",
        lambda row: row["api"] in ("nn.Conv2d", "F.conv2d") and row["dtype"] == dtype,
    )


def family(op: str):
    """A family op's differential and special-value tests (their ids end in "-<op>]"), and every
    check of the op in the worst-error table (its module's and functional's names)."""
    names = (OPS[op].module, op)
    return (
        "test_family_",
        f"-{op}]",
        lambda row: any(f"{name})" in row["api"] + ")" or f"{name} " in row["api"] for name in names),
    )


# area -> (test module, a part of the test id, which rows of the worst-error table; forward: all forward checks)
AREAS = {
    **{f"forward {dtype}": forward(dtype) for dtype in DTYPES},
    "gradients": ("test_gradients", "", lambda row: row["api"].startswith("grad_")),
    "backends and layouts": ("test_backends", "", None),
    "low-precision oneDNN kernels": ("test_cpu_low_precision", "", None),
    "special values": ("test_special_values", "", None),
    "invalid-input parity": ("test_invalid_parity", "", None),
    "known defects (strict xfail)": ("test_known_defects", "", None),
    "seed blog": ("test_seed_blog", "", None),
    "reference self-checks": ("test_reference_", "", None),
    "meta-tests": ("test_meta_", "", None),
    **{f"{op}: forward, gradients, special values": family(op) for op in FAMILY},
    "family invalid-input parity": ("test_family_invalid_parity", "", None),
}
OUTCOMES = ("passed", "failed", "skipped", "xfailed", "xpassed")


def load(folder: Path) -> dict:
    return json.loads((folder / "results.json").read_text())


def outcome_counts(results: dict, module: str = "", id_part: str = "") -> Counter:
    return Counter(
        test["outcome"] for nodeid, test in results["tests"].items() if f"/{module}" in nodeid and id_part in nodeid
    )


def counts_text(counts: Counter) -> str:
    return " / ".join(f"{counts[o]} {o}" for o in OUTCOMES if counts[o]) or "-"


def area_cell(results: dict, module: str, id_part: str, pick) -> str:
    text = counts_text(outcome_counts(results, module, id_part))
    if pick is not None:
        rows = [row for row in results["worst"] if pick(row)]
        if rows:
            text += f"; worst {max(row['worst_of_allowance'] for row in rows):.0%}"
    return text


def area_rows(runs: list[dict]) -> list[list[str]]:
    return [[area, *(area_cell(run, *spec) for run in runs)] for area, spec in AREAS.items()]


def worst_per_dtype(results: dict, dtype: str) -> str:
    """The largest error as a fraction of its allowance over every check of the dtype that passed."""
    rows = [row for row in results["worst"] if row["dtype"] == dtype]
    return f"{max(row['worst_of_allowance'] for row in rows):.2f}" if rows else "-"


def totals_row(runs: list[dict]) -> list[str]:
    return ["all tests", *(counts_text(outcome_counts(run)) for run in runs)]


def dtype_rows(runs: list[dict]) -> list[list[str]]:
    """Per dtype: the worst error as a fraction of its allowance."""
    return [[f"worst error / allowance, {dtype}", *(worst_per_dtype(run, dtype) for run in runs)] for dtype in DTYPES]


def kernel_rows(runs: list[dict]) -> list[list[str]]:
    """Per dtype and oneDNN kernel (with its pass): how many examples of each run reached it."""
    counts = [
        Counter((row["dtype"], kernel) for row in run["examples"] for kernel in row.get("kernels", ())) for run in runs
    ]
    keys = sorted(set().union(*counts), key=lambda key: (DTYPES.index(key[0]) if key[0] in DTYPES else 9, key[1]))
    return [[dtype, kernel, *(str(count[(dtype, kernel)] or "-") for count in counts)] for dtype, kernel in keys]


def machine_rows(runs: list[dict]) -> list[list[str]]:
    meta = [run["meta"] for run in runs]
    return [
        ["oneDNN ISA", *(m.get("onednn_isa", "-") for m in meta)],
        ["ATen CPU capability", *(m.get("cpu_capability", "-") for m in meta)],
        ["wall time of the run", *(f"{m['wall_s']:.0f} s" if "wall_s" in m else "-" for m in meta)],
    ]


def markdown_table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return lines + ["| " + " | ".join(cell.replace("|", "/") for cell in row) + " |" for row in rows]


def html_table(header: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{html.escape(cell)}</th>" for cell in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(cell)}</td>" for cell in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


STYLE = (
    "body{font-family:sans-serif;margin:1.5em} table{border-collapse:collapse;margin-bottom:1.5em}"
    " th,td{border:1px solid #bbb;padding:3px 6px;text-align:left;vertical-align:top;font-size:12px}"
    " th{background:#eee} td:first-child{white-space:nowrap}"
)


def write(
    target: Path, name: str, title: str, intro: list[str], sections: list[tuple[str, list[str], list[list[str]]]]
) -> str:
    """<target>/<name>.md and <name>.html: a title, intro lines, then (heading, header, rows) tables."""
    lines = [f"# {title}", "", *intro, ""]
    page = [
        f"<!doctype html><meta charset='utf-8'><title>{html.escape(title)}</title><style>{STYLE}</style>",
        f"<h1>{html.escape(title)}</h1>",
        *(f"<p>{html.escape(line)}</p>" for line in intro if line),
    ]
    for heading, header, rows in sections:
        lines += [f"## {heading}", "", *markdown_table(header, rows), ""]
        page += [f"<h2>{html.escape(heading)}</h2>", html_table(header, rows)]
    text = "\n".join(lines)
    target.mkdir(parents=True, exist_ok=True)
    (target / f"{name}.md").write_text(text)
    (target / f"{name}.html").write_text("\n".join(page) + "\n")
    return text
