"""Merge per-version report folders into one matrix, and show how numerics drift between versions.

    python tools/version_matrix.py reports/torch2.0 reports/torch2.13 ...   # or: reports/torch2.*

Writes reports/matrix.md and reports/matrix.html: for each torch version (columns, oldest first)
and each area (rows), pass/fail/skip counts and the worst error as a fraction of its allowance;
then, for the cases two consecutive versions both checked (the ci profile is derandomized, so
they check the same ones), how far the outputs moved, in units of the allowance.
"""

from __future__ import annotations

import html
import json
import sys
from collections import Counter
from pathlib import Path

import numpy as np

def forward(dtype: str):
    return ("test_forward.py::", f"[{dtype}]", lambda row: row["api"] in ("nn.Conv2d", "F.conv2d") and row["dtype"] == dtype)


AREAS = {  # area -> (test module, a part of the test id, which rows of the worst-error table; forward: all forward checks)
    **{f"forward {dtype}": forward(dtype) for dtype in ("float64", "float32", "float16", "bfloat16")},
    "gradients": ("test_gradients", "", lambda row: row["api"].startswith("grad_")),
    "backends and layouts": ("test_backends", "", None),
    "special values": ("test_special_values", "", None),
    "invalid-input parity": ("test_invalid_parity", "", None),
    "known defects (strict xfail)": ("test_known_defects", "", None),
    "seed blog": ("test_seed_blog", "", None),
    "reference self-checks": ("test_reference_", "", None),
    "meta-tests": ("test_meta_", "", None),
}


def version_key(folder: Path) -> tuple:
    meta = json.loads((folder / "results.json").read_text())["meta"]
    return tuple(int(part) for part in meta["torch"].split("+")[0].split(".")[:3])


def cell(results: dict, module: str, id_part: str, pick) -> str:
    counts = Counter(test["outcome"] for nodeid, test in results["tests"].items() if f"/{module}" in nodeid and id_part in nodeid)
    text = " / ".join(f"{counts[o]} {o}" for o in ("passed", "failed", "skipped", "xfailed", "xpassed") if counts[o]) or "-"
    if pick is not None:
        rows = [row for row in results["worst"] if pick(row)]
        if rows:
            text += f"; worst {max(row['worst_of_allowance'] for row in rows):.0%}"
    return text


def load_outputs(folder: Path) -> dict[str, np.ndarray]:
    outputs = {}
    for path in sorted(folder.glob("outputs-*.npz")):
        with np.load(path, allow_pickle=False) as archive:
            outputs.update({key: archive[key] for key in archive.files})
    return outputs


def drift(older: dict[str, np.ndarray], newer: dict[str, np.ndarray]) -> dict:
    """Over the cases both versions checked: how many moved at all, and the largest move in
    units of the (older version's) allowance."""
    shared = [key for key in older.keys() & newer.keys() if older[key].shape == newer[key].shape]
    moves = []
    for key in shared:
        (got_old, allowed), got_new = older[key], newer[key][0]
        with np.errstate(divide="ignore", invalid="ignore"):
            moved = np.where(got_old == got_new, 0.0, np.abs(got_new - got_old) / allowed)
        moves.append(float(np.nanmax(moved, initial=0.0)))
    moves = np.array(moves) if moves else np.zeros(0)
    return {"shared": len(shared), "changed": int((moves > 0).sum()), "largest": float(moves.max(initial=0.0)),
            "p99": float(np.quantile(moves, 0.99)) if moves.size else 0.0}


def main(folders: list[str]) -> None:
    folders = sorted((Path(f) for f in folders if (Path(f) / "results.json").exists()), key=version_key)
    runs = [json.loads((folder / "results.json").read_text()) for folder in folders]
    versions = [run["meta"]["torch"] for run in runs]
    lines = ["# Conv2d suite across torch versions", "", "| area | " + " | ".join(versions) + " |", "|---" * (len(versions) + 1) + "|"]
    for area, (module, id_part, pick) in AREAS.items():
        lines.append(f"| {area} | " + " | ".join(cell(run, module, id_part, pick) for run in runs) + " |")
    lines += ["", "## Drift between consecutive versions (same cases, outputs compared)", "",
              "| from | to | cases compared | outputs changed | largest move / allowance | 99th percentile |", "|---|---|---|---|---|---|"]
    outputs = [load_outputs(folder) for folder in folders]
    for (old_version, old), (new_version, new) in zip(zip(versions, outputs), list(zip(versions, outputs))[1:]):
        d = drift(old, new)
        lines.append(f"| {old_version} | {new_version} | {d['shared']} | {d['changed']} | {d['largest']:.3g} | {d['p99']:.3g} |")
    text = "\n".join(lines) + "\n"
    target = folders[0].parent if folders else Path("reports")
    (target / "matrix.md").write_text(text)
    (target / "matrix.html").write_text(f"<!doctype html><meta charset='utf-8'><title>Conv2d suite matrix</title><pre>{html.escape(text)}</pre>\n")
    print(text)


if __name__ == "__main__":
    main(sys.argv[1:])
