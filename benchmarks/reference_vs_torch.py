"""The float64 reference against torch's own float64 CPU convolutions: time, memory, throughput, agreement.

Run from the repository root (needs torch, numpy and threadpoolctl):

    python benchmarks/reference_vs_torch.py

Each case (a conv2d, conv3d or conv_transpose2d) is timed forward (reference.conv2d against
F.conv2d, after F.pad for the non-zero padding modes, which is what nn.Conv2d does; likewise
reference.conv3d against F.conv3d, reference.conv_transpose2d against F.conv_transpose2d) and
backward (reference.<op>_backward against torch.autograd.grad of that graph for input, weight
and bias: the gradients out.backward(g) leaves in .grad, without accumulating into them). Each
case runs in a fresh process, shared by the two sides, with glibc's malloc told to keep freed
memory (MALLOC_ENV; --default-malloc to not); the two sides' repeats are interleaved, each
after a pause, after warm-up, and the median is reported. Two thread settings: one thread
(torch.set_num_threads(1) and numpy's BLAS held to one thread through threadpoolctl), and the
defaults.

Also reported: the reference's peak extra memory (tracemalloc, first call in a fresh process)
against the im2col size (col2im's for a transposed conv); its forward GFLOP/s against np.matmul
on that GEMM's own shape (the practical ceiling, and with torch's time a floor for the ratio);
and its agreement with torch relative to |x| conv |w| + |b| (reference.<op>_magnitude and
<op>_backward_magnitude): above 1e-12 the script exits 1, so a fast but wrong reference fails.
Other processes' CPU use is measured per row, and a row is measured again (after waiting for
quiet) while it exceeds --max-busy: on a shared machine timings, above all multi-threaded ones,
mean little.

Results: printed, and written to reports/benchmarks.json and reports/benchmarks.md.
--reference-from DIR times the `reference` package found in DIR instead (say, a worktree of
an older commit), to compare versions.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tracemalloc
from dataclasses import asdict
from pathlib import Path

import numpy as np
from bench_cases import CASES, Case, magnitudes, reference_calls, torch_calls
from bench_report import AGREEMENT, MALLOC_ENV, THREADS, environment, markdown, tables
from bench_timing import CpuShare, gemm_seconds, measured, time_pair

ROOT = Path(__file__).resolve().parents[1]


def load_reference(directory: Path):
    sys.path.insert(0, str(directory))
    import reference  # noqa: PLC0415 - the reference under test is the one in `directory`
    from reference import bounds  # noqa: PLC0415

    return reference, bounds


# --- peak memory: the first call in a fresh process, so that nothing is cached yet ----------


def peak_extra_bytes(case: Case, direction: str, reference_dir: Path) -> int:
    command = [sys.executable, __file__, "--peak-memory", case.name, direction, "--reference-from", str(reference_dir)]
    return int(subprocess.run(command, capture_output=True, text=True, check=True).stdout.split()[-1])


def measure_peak(name: str, direction: str, reference_dir: Path) -> int:
    reference, _ = load_reference(reference_dir)
    case = next(c for c in CASES if c.name == name)
    forward, backward = reference_calls(reference, case, case.arrays())
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    (forward if direction == "forward" else backward)()
    return tracemalloc.get_traced_memory()[1] - before


# --- the run -----------------------------------------------------------------------------------


def measure_case(name: str, repeats: int, target: float, reference_dir: Path, max_busy: float, attempts: int) -> dict:
    """One case's row: agreement, peak memory, and both thread settings' timings."""
    import threadpoolctl  # noqa: PLC0415 - loaded in the case's own fresh process
    import torch  # noqa: PLC0415

    reference, bounds = load_reference(reference_dir)
    default_threads = torch.get_num_threads()
    case = next(c for c in CASES if c.name == name)
    a = case.arrays()
    torch_forward, torch_backward = torch_calls(case, a)
    ref_forward, ref_backward = reference_calls(reference, case, a)

    def agreement() -> dict:
        """max |reference - torch| / max(|x| conv |w| + |b|), per result."""
        ours = (ref_forward(), *ref_backward())
        theirs = (torch_forward(), *torch_backward())
        scales = magnitudes(bounds, case, a)
        names = ("output", "grad_input", "grad_weight", "grad_bias")
        return {n: float(np.max(np.abs(o - t.numpy())) / np.max(s)) for n, o, t, s in zip(names, ours, theirs, scales)}

    row = {"case": asdict(case), "im2col_bytes": case.im2col_bytes(), "flops": case.flops(), "agreement": agreement()}
    row["peak_extra_bytes"] = {d: peak_extra_bytes(case, d, reference_dir) for d in ("forward", "backward")}
    for setting in THREADS:
        single = setting == "1 thread"
        torch.set_num_threads(1 if single else default_threads)
        with threadpoolctl.threadpool_limits(limits=1 if single else None, user_api="blas"):
            (fwd, bwd, gemm), busy = measured(
                lambda: (
                    time_pair(ref_forward, torch_forward, repeats, target),
                    time_pair(ref_backward, torch_backward, repeats, target),
                    gemm_seconds(*case.gemm(), repeats, target),
                ),
                max_busy,
                attempts,
            )
        row[setting] = {
            "others_cpu_share": busy,
            "forward": {"reference_s": fwd[0], "torch_s": fwd[1], "ratio": fwd[0] / fwd[1]},
            "backward": {"reference_s": bwd[0], "torch_s": bwd[1], "ratio": bwd[0] / bwd[1]},
            "gemm_s": gemm,
            "gemm_floor": gemm / fwd[1],
            "reference_forward_gflops": case.flops() / fwd[0] / 1e9,
            "numpy_gemm_gflops": case.flops() / gemm / 1e9,
        }
    return row


def run(cases, args, reference_dir: Path) -> dict:
    """Each case in a fresh process (the two sides of a case share it): what one case leaves
    behind (allocator state, thread pools) would otherwise skew the next one's timings."""
    import threadpoolctl  # noqa: PLC0415 - not loaded by the per-case children before they time

    load = CpuShare()
    square = 2048
    results = {"cases": [], "square_gemm": {"size": square}}
    for setting in THREADS:
        with threadpoolctl.threadpool_limits(limits=1 if setting == "1 thread" else None, user_api="blas"):
            seconds, busy = measured(
                lambda: gemm_seconds(1, square, square, square, args.repeats, args.sample_seconds),
                args.max_busy,
                args.attempts,
            )
        results["square_gemm"][setting] = {
            "seconds": seconds,
            "gflops": 2 * square**3 / seconds / 1e9,
            "others_cpu_share": busy,
        }
    for case in cases:
        command = [
            sys.executable,
            __file__,
            "--measure-case",
            case.name,
            "--repeats",
            str(args.repeats),
            "--sample-seconds",
            str(args.sample_seconds),
            "--max-busy",
            str(args.max_busy),
            "--attempts",
            str(args.attempts),
            "--reference-from",
            str(reference_dir),
        ]
        env = os.environ if args.default_malloc else {**os.environ, **MALLOC_ENV}
        output = subprocess.run(command, capture_output=True, text=True, check=True, env=env).stdout
        results["cases"].append(json.loads(output.strip().splitlines()[-1]))
        print(f"  {case.name}: done", file=sys.stderr)
    results["other_processes_cpu_share"] = load.others()
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=9, help="timed repeats per side (median reported)")
    parser.add_argument(
        "--sample-seconds", type=float, default=0.1, help="calls per repeat are chosen to last about this long"
    )
    parser.add_argument("--cases", default="", help="comma-separated case names (default: all)")
    parser.add_argument(
        "--output", default=str(ROOT / "reports" / "benchmarks"), help="path prefix for the .json and .md files"
    )
    parser.add_argument(
        "--max-busy",
        type=float,
        default=0.05,
        help="remeasure a row while other processes used more of the CPU than this",
    )
    parser.add_argument("--attempts", type=int, default=5, help="measurements per row at most")
    parser.add_argument(
        "--default-malloc", action="store_true", help=f"leave glibc's malloc as it is (default: {MALLOC_ENV})"
    )
    parser.add_argument(
        "--reference-from", type=Path, default=ROOT, help="directory holding the reference package to time"
    )
    parser.add_argument(
        "--peak-memory", nargs=2, help=argparse.SUPPRESS
    )  # internal: CASE DIRECTION, in a fresh process
    parser.add_argument("--measure-case", help=argparse.SUPPRESS)  # internal: one case's row, in a fresh process
    args = parser.parse_args()
    reference_dir = args.reference_from.resolve()
    if args.peak_memory:
        print(measure_peak(*args.peak_memory, reference_dir))
        return 0
    if args.measure_case:
        row = measure_case(
            args.measure_case, args.repeats, args.sample_seconds, reference_dir, args.max_busy, args.attempts
        )
        print(json.dumps(row))
        return 0
    cases = [c for c in CASES if not args.cases or c.name in args.cases.split(",")]
    command = "python " + " ".join([os.path.relpath(sys.argv[0], ROOT), *sys.argv[1:]])
    results = {"environment": environment(command, reference_dir), **run(cases, args, reference_dir)}
    text = tables(results)
    print(text)
    busy = [
        row[s]["others_cpu_share"]
        for row in results["cases"]
        for s in THREADS
        if row[s]["others_cpu_share"] is not None
    ]
    if busy and max(busy) > args.max_busy:
        print(
            f"WARNING: some rows were measured while other processes used up to {max(busy):.0%} of the CPU",
            file=sys.stderr,
        )
    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".json").write_text(json.dumps(results, indent=1) + "\n")
    out.with_suffix(".md").write_text(markdown(results, cases, args))
    print(f"wrote {out.with_suffix('.json')} and {out.with_suffix('.md')}")
    worst = max(max(row["agreement"].values()) for row in results["cases"])
    if not worst <= AGREEMENT:
        print(
            f"DISAGREEMENT: the reference and torch differ by {worst:.2e} of the magnitude (> {AGREEMENT:g})",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
