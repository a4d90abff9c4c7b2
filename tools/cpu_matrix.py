"""The suite as it runs on other classes of CPU: one fresh process per cell, with oneDNN's ISA
(ONEDNN_MAX_CPU_ISA) or ATen's vector capability (ATEN_CPU_CAPABILITY) capped before torch
loads, then one table of the cells.

    python tools/cpu_matrix.py                        # every cell, ci profile
    python tools/cpu_matrix.py --profile dev onednn-AVX2 aten-default
    python tools/cpu_matrix.py --merge-only           # re-merge reports/cpu/* without running

Each cell writes reports/cpu/<cell>/; the merged table is reports/cpu/cpu_matrix.md and .html:
per cell, the outcome counts per area, the ISA oneDNN reported and the capability ATen reported,
the oneDNN kernels reached and the worst error / allowance per dtype, and the wall time. A cap
above what the CPU has changes nothing (oneDNN and ATen use what the CPU has), and the table
says which ISA really ran. Exits 1 when any cell fails.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import matrix_report

ROOT = Path(__file__).resolve().parent.parent
CELLS = {  # name -> environment set before torch loads
    "default": {},
    "onednn-AVX2": {"ONEDNN_MAX_CPU_ISA": "AVX2"},
    "onednn-AVX512_CORE": {"ONEDNN_MAX_CPU_ISA": "AVX512_CORE"},
    "onednn-AVX512_CORE_VNNI": {"ONEDNN_MAX_CPU_ISA": "AVX512_CORE_VNNI"},
    "onednn-AVX512_CORE_BF16": {"ONEDNN_MAX_CPU_ISA": "AVX512_CORE_BF16"},
    "onednn-AVX512_CORE_FP16": {"ONEDNN_MAX_CPU_ISA": "AVX512_CORE_FP16"},
    "aten-default": {"ATEN_CPU_CAPABILITY": "default"},
    "aten-avx2": {"ATEN_CPU_CAPABILITY": "avx2"},
    "aten-avx512": {"ATEN_CPU_CAPABILITY": "avx512"},
}
CAPS = ("ONEDNN_MAX_CPU_ISA", "ATEN_CPU_CAPABILITY")


def run_cell(name: str, folder: Path, profile: str, pytest_args: list[str]) -> int:
    environment = {key: value for key, value in os.environ.items() if key not in CAPS} | CELLS[name]
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-n",
        "auto",
        f"--hypothesis-profile={profile}",
        "--report-dir",
        str(folder),
        *pytest_args,
    ]
    started = time.monotonic()
    print(
        f"== {name} ({' '.join(f'{k}={v}' for k, v in CELLS[name].items()) or 'no cap'}): {' '.join(command[1:])}",
        flush=True,
    )
    done = subprocess.run(command, cwd=ROOT, env=environment)
    print(f"== {name}: exit {done.returncode} in {time.monotonic() - started:.0f} s", flush=True)
    return done.returncode


def merge(folder: Path) -> str:
    cells = [name for name in CELLS if (folder / name / "results.json").exists()]
    runs = [matrix_report.load(folder / name) for name in cells]
    meta = runs[0]["meta"] if runs else {}
    intro = [
        f"torch {meta.get('torch', '?')}, profile {meta.get('profile', '?')}, {meta.get('date', '?')}; cells: "
        + "; ".join(f"{name} = {' '.join(f'{k}={v}' for k, v in CELLS[name].items()) or 'no cap'}" for name in cells)
        + "."
    ]
    sections = [
        (
            "Areas (passed / failed / skipped / xfailed per area; worst error as a fraction of its allowance)",
            ["area", *cells],
            [matrix_report.totals_row(runs), *matrix_report.area_rows(runs)],
        ),
        ("Per dtype and machine", ["", *cells], [*matrix_report.machine_rows(runs), *matrix_report.dtype_rows(runs)]),
        (
            "oneDNN kernels reached (examples per run; a kernel's pass in brackets when not forward)",
            ["dtype", "kernel", *cells],
            matrix_report.kernel_rows(runs),
        ),
    ]
    return matrix_report.write(folder, "cpu_matrix", "Conv2d suite across CPU classes", intro, sections)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("cells", nargs="*", help=f"cells to run (default: all): {', '.join(CELLS)}")
    parser.add_argument("--profile", default="ci", help="Hypothesis profile for every cell (default: ci)")
    parser.add_argument("--report-dir", default="reports/cpu", help="folder for the cells' reports and the table")
    parser.add_argument("--merge-only", action="store_true", help="merge the cells already in --report-dir")
    options, pytest_args = parser.parse_known_args()
    unknown = [name for name in options.cells if name not in CELLS]
    if unknown:
        parser.error(f"unknown cells {unknown}; known: {', '.join(CELLS)}")
    folder = Path(options.report_dir)
    failed = []
    if not options.merge_only:
        failed = [
            name for name in options.cells or CELLS if run_cell(name, folder / name, options.profile, pytest_args) != 0
        ]
    print(merge(folder))
    if failed:
        print(f"failed cells: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
