"""The benchmark's environment record and its markdown tables."""

from __future__ import annotations

import datetime
import os
import platform
import subprocess
from pathlib import Path

import numpy as np
from bench_timing import SETTLE_SECONDS

AGREEMENT = 1e-12  # of max(|x| conv |w| + |b|); float64 rounding is ~K * 1e-16 of it
THREADS = ("1 thread", "default threads")
# glibc hands large freed blocks back to the kernel, and the next allocation faults its pages
# in again; how often depends on what else the process allocated, so in one process each side
# made the other pay page faults (torch's medium forward: 0.55 ms alone, 1.0 ms after a numpy
# call). These keep freed memory in the process, for both sides alike.
MALLOC_ENV = {"MALLOC_TRIM_THRESHOLD_": str(1 << 30), "MALLOC_MMAP_THRESHOLD_": str(1 << 25)}


def environment(command: str, reference_dir: Path) -> dict:
    import threadpoolctl  # noqa: PLC0415 - only the process that writes the record loads these
    import torch  # noqa: PLC0415

    def cpu_model() -> str:
        try:
            for line in Path("/proc/cpuinfo").read_text().splitlines():
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
        except OSError:
            pass
        return platform.processor() or platform.machine()

    def git(*args) -> str:
        try:
            return subprocess.run(
                ["git", *args], cwd=reference_dir, capture_output=True, text=True, check=True
            ).stdout.strip()
        except (OSError, subprocess.CalledProcessError):
            return "unknown"

    blas = [
        {key: info.get(key) for key in ("internal_api", "version", "architecture", "num_threads")}
        for info in threadpoolctl.threadpool_info()
        if info["user_api"] == "blas"
    ]
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "command": command,
        "reference": str(reference_dir),
        "git": git("rev-parse", "--short", "HEAD")
        + (" with uncommitted changes to reference/" if git("status", "--porcelain", "reference") else ""),
        "machine": f"{cpu_model()}, {os.cpu_count()} logical CPUs, {platform.system()} {platform.machine()}",
        "python": platform.python_version(),
        "numpy": np.__version__,
        "numpy_blas": blas,
        "torch": torch.__version__,
        "torch_default_threads": torch.get_num_threads(),
        "threadpoolctl": threadpoolctl.__version__,
        "openblas_env": {key: value for key, value in os.environ.items() if key.startswith("OPENBLAS")},
    }


def fmt_share(share: float | None) -> str:
    return "?" if share is None else f"{share:.0%}"


def fmt_ms(seconds: float) -> str:
    return f"{seconds * 1e3:.3f}" if seconds < 0.01 else f"{seconds * 1e3:.1f}"


def tables(results: dict) -> str:
    lines = []
    for setting in THREADS:
        lines += [
            f"### {setting}: ms per call (median), ratio = reference / torch",
            "",
            "GEMM floor: np.matmul alone on the forward's im2col GEMM (col2im's for conv_transpose2d), over"
            " torch's whole forward time; a numpy reference's forward ratio cannot go below it. Others' CPU:"
            " other processes' share of the machine's CPU time while the row was measured.",
            "",
            "| case | fwd reference | fwd torch | fwd ratio | GEMM floor"
            " | bwd reference | bwd torch | bwd ratio | others' CPU |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        ]
        for row in results["cases"]:
            r = row[setting]
            f, b = r["forward"], r["backward"]
            lines.append(
                f"| {row['case']['name']} | {fmt_ms(f['reference_s'])} | {fmt_ms(f['torch_s'])} | {f['ratio']:.2f}"
                f" | {r['gemm_floor']:.2f} | {fmt_ms(b['reference_s'])} | {fmt_ms(b['torch_s'])} | {b['ratio']:.2f}"
                f" | {fmt_share(r['others_cpu_share'])} |"
            )
        lines.append("")
    square = results["square_gemm"]
    lines += [
        "### Reference memory and forward throughput",
        "",
        "Peak extra memory: tracemalloc's peak during the first call in a fresh process, the result included."
        " im2col: the float64 column matrix, (C/groups)·k^d × N·prod(out) per group; for conv_transpose2d"
        " col2im's, (O/groups)·k^d × N·prod(in). GFLOP/s: 2·N·O·prod(out)·(C/groups)·k^d (conv_transpose2d:"
        " 2·N·C·prod(in)·(O/groups)·k^d) over the reference's forward time, and over np.matmul's time on that"
        " GEMM's own shape (groups × (M, K) @ (K, columns): im2col's (O/groups, C/groups·k^d) @ (.., N·prod(out)),"
        " col2im's (O/groups·k^d, C/groups) @ (.., N·prod(in))). A"
        f" {square['size']}² float64 np.matmul"
        f" reaches {square['1 thread']['gflops']:.1f} GFLOP/s on 1 thread,"
        f" {square['default threads']['gflops']:.1f} with the default threads.",
        "",
        "| case | im2col MB | fwd peak MB (× im2col) | bwd peak MB (× im2col)"
        " | GFLOP/s 1 thread: reference / GEMM | default threads: reference / GEMM |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in results["cases"]:
        im2col, peak = row["im2col_bytes"], row["peak_extra_bytes"]
        one, default = row["1 thread"], row["default threads"]
        lines.append(
            f"| {row['case']['name']} | {im2col / 1e6:.2f}"
            f" | {peak['forward'] / 1e6:.2f} ({peak['forward'] / im2col:.2f})"
            f" | {peak['backward'] / 1e6:.2f} ({peak['backward'] / im2col:.2f})"
            f" | {one['reference_forward_gflops']:.1f} / {one['numpy_gemm_gflops']:.1f}"
            f" | {default['reference_forward_gflops']:.1f} / {default['numpy_gemm_gflops']:.1f} |"
        )
    lines += [
        "",
        f"### Agreement: max |reference - torch| / max(|x| conv |w| + |b|) (must be <= {AGREEMENT:g})",
        "",
        "| case | output | grad_input | grad_weight | grad_bias |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for row in results["cases"]:
        a = row["agreement"]
        lines.append(
            f"| {row['case']['name']} | "
            + " | ".join(f"{a[k]:.1e}" for k in ("output", "grad_input", "grad_weight", "grad_bias"))
            + " |"
        )
    return "\n".join(lines) + "\n"


def markdown(results: dict, cases, args) -> str:
    env = results["environment"]
    blas = ", ".join(f"{b['internal_api']} {b['version']} {b['architecture']}" for b in env["numpy_blas"])
    share = results["other_processes_cpu_share"]
    malloc = "the default malloc" if args.default_malloc else " ".join(f"{k}={v}" for k, v in MALLOC_ENV.items())
    return "\n".join(
        [
            "# reference vs torch: float64 CPU conv2d, conv3d and conv_transpose2d",
            "",
            f"- command: `{env['command']}` (from the repository root)",
            f"- date: {env['date']}; reference: {env['reference']} (git {env['git']})",
            f"- machine: {env['machine']}",
            f"- python {env['python']}, numpy {env['numpy']} ({blas}), torch {env['torch']}"
            f" (default {env['torch_default_threads']} threads), threadpoolctl {env['threadpoolctl']}",
            f"- OPENBLAS_* environment: {env['openblas_env'] or 'none set'}",
            f"- other processes' share of the machine's CPU time during the whole run: {fmt_share(share)};"
            f" a row measured while it exceeded {args.max_busy:.0%} was measured again, after the machine went quiet,"
            f" up to {args.attempts} times",
            f"- each case in a fresh process with {malloc}; {args.repeats} interleaved repeats per side after warm-up,"
            f" each after a {SETTLE_SECONDS} s pause and about"
            f" {args.sample_seconds} s of calls; medians.",
            "- torch forward: F.conv2d / F.conv3d (after F.pad in the non-zero modes, as nn.Conv2d does) or"
            " F.conv_transpose2d, without autograd; torch backward: torch.autograd.grad of that graph for input,"
            " weight and bias. The reference: reference.<op> and reference.<op>_backward.",
            "",
            "Cases (k, stride, padding and dilation alike along every axis):",
            "",
            *(f"- {c.name}: {c.describe()}" for c in cases),
            "",
            tables(results),
        ]
    )
