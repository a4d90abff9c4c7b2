"""Merge per-version report folders into one matrix, and show how numerics drift between versions.

    python tools/version_matrix.py reports/torch2.0 reports/torch2.13 ...   # or: reports/torch2.*

Writes reports/matrix.md and reports/matrix.html: for each torch version (columns, oldest first)
and each area (rows), pass/fail/skip counts and the worst error as a fraction of its allowance;
then, for the cases two consecutive versions both checked (the ci profile is derandomized, so
they check the same ones), how far the outputs moved, in units of the allowance.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
import matrix_report


def version_key(folder: Path) -> tuple:
    meta = json.loads((folder / "results.json").read_text())["meta"]
    return tuple(int(part) for part in meta["torch"].split("+")[0].split(".")[:3])


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
    return {
        "shared": len(shared),
        "changed": int((moves > 0).sum()),
        "largest": float(moves.max(initial=0.0)),
        "p99": float(np.quantile(moves, 0.99)) if moves.size else 0.0,
    }


def commit() -> str:
    done = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=Path(__file__).parent
    )
    return done.stdout.strip() or "unknown"


def main(folders: list[str]) -> None:
    folders = sorted((Path(f) for f in folders if (Path(f) / "results.json").exists()), key=version_key)
    runs = [matrix_report.load(folder) for folder in folders]
    versions = [run["meta"]["torch"] for run in runs]
    outputs = [load_outputs(folder) for folder in folders]
    drift_rows = []
    for (old_version, old), (new_version, new) in zip(zip(versions, outputs), list(zip(versions, outputs))[1:]):
        d = drift(old, new)
        drift_rows.append(
            [old_version, new_version, str(d["shared"]), str(d["changed"]), f"{d['largest']:.3g}", f"{d['p99']:.3g}"]
        )
    dates = sorted({run["meta"]["date"] for run in runs})
    intro = [
        f"Runs of {', '.join(dates)}, commit {commit()},"
        f" profile {', '.join(sorted({run['meta']['profile'] for run in runs}))}."
    ]
    sections = [
        (
            "Areas (passed / failed / skipped / xfailed per area; worst error as a fraction of its allowance)",
            ["area", *versions],
            [matrix_report.totals_row(runs), *matrix_report.area_rows(runs)],
        ),
        (
            "Per dtype and machine",
            ["", *versions],
            [*matrix_report.dtype_rows(runs), *matrix_report.machine_rows(runs)],
        ),
        (
            "Drift between consecutive versions (same cases, outputs compared)",
            ["from", "to", "cases compared", "outputs changed", "largest move / allowance", "99th percentile"],
            drift_rows,
        ),
    ]
    target = folders[0].parent if folders else Path("reports")
    print(matrix_report.write(target, "matrix", "Conv2d suite across torch versions", intro, sections))


if __name__ == "__main__":
    main(sys.argv[1:])
