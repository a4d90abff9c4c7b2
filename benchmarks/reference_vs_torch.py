"""The float64 reference against torch's own float64 CPU conv2d: time, memory, throughput, agreement.

Run from the repository root (needs torch, numpy and threadpoolctl):

    python benchmarks/reference_vs_torch.py

Each case is timed forward (reference.conv2d against F.conv2d, after F.pad for the non-zero
padding modes, which is what nn.Conv2d does) and backward (reference.conv2d_backward against
torch.autograd.grad of that graph for input, weight and bias: the gradients out.backward(g)
leaves in .grad, without accumulating into them). Each case runs in a fresh process, shared by
the two sides, with glibc's malloc told to keep freed memory (MALLOC_ENV; --default-malloc to
not); the two sides' repeats are interleaved, each after a pause, after warm-up, and the median
is reported. Two thread settings: one thread (torch.set_num_threads(1) and numpy's BLAS held to
one thread through threadpoolctl), and the defaults.

Also reported: the reference's peak extra memory (tracemalloc, first call in a fresh process)
against the im2col size; its forward GFLOP/s against np.matmul on the im2col GEMM's own shape
(the practical ceiling, and with torch's time a floor for the ratio); and its agreement with
torch relative to |x| conv |w| + |b|: above 1e-12 the script exits 1, so a fast but wrong
reference fails. Other processes' CPU use is measured per row, and a row is measured again
(after waiting for quiet) while it exceeds --max-busy: on a shared machine timings, above all
multi-threaded ones, mean little.

Results: printed, and written to reports/benchmarks.json and reports/benchmarks.md.
--reference-from DIR times the `reference` package found in DIR instead (say, a worktree of
an older commit), to compare versions.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
import tracemalloc
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
AGREEMENT = 1e-12  # of max(|x| conv |w| + |b|); float64 rounding is ~K * 1e-16 of it
THREADS = ("1 thread", "default threads")


@dataclass(frozen=True)
class Case:
    name: str
    n: int
    c: int
    o: int
    h: int
    w: int
    k: int
    stride: int = 1
    padding: int = 1
    dilation: int = 1
    groups: int = 1
    mode: str = "zeros"

    def kwargs(self) -> dict:
        return dict(stride=self.stride, padding=self.padding, dilation=self.dilation, groups=self.groups, padding_mode=self.mode)

    def out_hw(self) -> tuple[int, int]:
        extent = self.dilation * (self.k - 1) + 1
        return tuple((size + 2 * self.padding - extent) // self.stride + 1 for size in (self.h, self.w))

    def gemm(self) -> tuple[int, int, int, int]:
        """(groups, M, K, columns) of the im2col GEMM: weight (M, K) times columns (K, N*Ho*Wo) per group."""
        ho, wo = self.out_hw()
        return self.groups, self.o // self.groups, self.c // self.groups * self.k * self.k, self.n * ho * wo

    def flops(self) -> int:
        groups, m, k, columns = self.gemm()
        return 2 * groups * m * k * columns

    def im2col_bytes(self) -> int:
        groups, _, k, columns = self.gemm()
        return groups * k * columns * 8

    def arrays(self, seed: int = 0) -> dict:
        rng = np.random.default_rng(seed)
        return {
            "x": rng.standard_normal((self.n, self.c, self.h, self.w)),
            "w": rng.standard_normal((self.o, self.c // self.groups, self.k, self.k)),
            "b": rng.standard_normal(self.o),
            "g": rng.standard_normal((self.n, self.o, *self.out_hw())),
        }

    def describe(self) -> str:
        return (
            f"N={self.n} C={self.c}->{self.o} {self.h}x{self.w} k{self.k} stride {self.stride} padding {self.padding}"
            f" dilation {self.dilation} groups {self.groups} padding_mode {self.mode}"
        )


MEDIUM = dict(n=4, c=16, o=32, h=32, w=32, k=3)
CASES = [
    Case("small", n=2, c=3, o=4, h=5, w=5, k=3),
    Case("medium", **MEDIUM),
    Case("large", n=8, c=64, o=64, h=56, w=56, k=3),
    Case("depthwise", n=4, c=32, o=32, h=32, w=32, k=3, groups=32),
    Case("strided+dilated", n=4, c=16, o=16, h=64, w=64, k=5, stride=2, padding=2, dilation=2),
    Case("pointwise", n=8, c=256, o=64, h=28, w=28, k=1, padding=0),
    Case("medium reflect", **MEDIUM, mode="reflect"),
    Case("medium replicate", **MEDIUM, mode="replicate"),
    Case("medium circular", **MEDIUM, mode="circular"),
]


def load_reference(directory: Path):
    sys.path.insert(0, str(directory))
    import reference
    from reference import bounds

    return reference, bounds


# --- peak memory: the first call in a fresh process, so that nothing is cached yet ----------


def peak_extra_bytes(case: Case, direction: str, reference_dir: Path) -> int:
    command = [sys.executable, __file__, "--peak-memory", case.name, direction, "--reference-from", str(reference_dir)]
    return int(subprocess.run(command, capture_output=True, text=True, check=True).stdout.split()[-1])


def measure_peak(name: str, direction: str, reference_dir: Path) -> int:
    reference, _ = load_reference(reference_dir)
    case = next(c for c in CASES if c.name == name)
    a = case.arrays()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    if direction == "forward":
        reference.conv2d(a["x"], a["w"], a["b"], **case.kwargs())
    else:
        reference.conv2d_backward(a["g"], a["x"], a["w"], a["b"], **case.kwargs())
    return tracemalloc.get_traced_memory()[1] - before


# --- timing ----------------------------------------------------------------------------------


def loops_for(fn, target: float) -> int:
    """Calls per timed sample so that one sample lasts about `target` seconds."""
    once = []
    for _ in range(3):
        start = time.perf_counter()
        fn()
        once.append(time.perf_counter() - start)
    return max(1, int(target / max(min(once), 1e-7)))


# After a call, idle worker threads spin for a while (OpenBLAS's, torch's OpenMP pool) before
# they sleep; on a machine with few cores they would steal a core from the other side's next
# sample. Each sample starts after a pause that lets them sleep.
SETTLE_SECONDS = 0.25


def sample(fn, loops: int) -> float:
    time.sleep(SETTLE_SECONDS)
    start = time.perf_counter()
    for _ in range(loops):
        fn()
    return (time.perf_counter() - start) / loops


def time_pair(ours, theirs, repeats: int, target: float) -> tuple[float, float]:
    """Median seconds per call of each, repeats interleaved (alternating which goes first)."""
    for fn in (ours, theirs, ours, theirs):  # warm-up
        fn()
    loops = (loops_for(ours, target), loops_for(theirs, target))
    times = ([], [])
    for repeat in range(repeats):
        for side in (0, 1) if repeat % 2 == 0 else (1, 0):
            times[side].append(sample((ours, theirs)[side], loops[side]))
    return statistics.median(times[0]), statistics.median(times[1])


def gemm_seconds(groups: int, m: int, k: int, columns: int, repeats: int, target: float) -> float:
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal((groups, m, k)), rng.standard_normal((groups, k, columns))
    fn = lambda: np.matmul(a, b)  # noqa: E731
    for _ in range(2):
        fn()
    loops = loops_for(fn, target)
    return statistics.median(sample(fn, loops) for _ in range(repeats))


class CpuShare:
    """Other processes' share of this machine's CPU time since this object was made (Linux; None elsewhere)."""

    def __init__(self):
        self.start = self.snapshot()

    @staticmethod
    def snapshot():
        try:
            fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        except OSError:
            return None
        tick = os.sysconf("SC_CLK_TCK")
        own = sum(getattr(resource.getrusage(who), f) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN) for f in ("ru_utime", "ru_stime"))
        return sum(fields) / tick, (fields[3] + fields[4]) / tick, own

    def others(self) -> float | None:
        end = self.snapshot()
        if self.start is None or end is None:
            return None
        total, idle, own = (e - s for e, s in zip(end, self.start))
        return max(0.0, (total - idle - own) / total) if total > 0 else None


def wait_until_quiet(max_busy: float, patience: float) -> None:
    """Wait (at most `patience` seconds) for a second in which other processes leave the CPUs idle."""
    deadline = time.monotonic() + patience
    while time.monotonic() < deadline:
        share = CpuShare()
        time.sleep(1)
        busy = share.others()
        if busy is None or busy <= max_busy:
            return


def measured(measure, max_busy: float, attempts: int):
    """measure() and the other processes' CPU share during it; measured again, after waiting for the
    machine to go quiet, while that share is above max_busy (a shared machine skews timings)."""
    for attempt in range(attempts):
        share = CpuShare()
        result = measure()
        busy = share.others()
        if busy is None or busy <= max_busy or attempt == attempts - 1:
            return result, busy
        wait_until_quiet(max_busy, patience=120)


# --- the run -----------------------------------------------------------------------------------


def measure_case(name: str, repeats: int, target: float, reference_dir: Path, max_busy: float, attempts: int) -> dict:
    """One case's row: agreement, peak memory, and both thread settings' timings."""
    import threadpoolctl
    import torch
    import torch.nn.functional as F

    reference, bounds = load_reference(reference_dir)
    default_threads = torch.get_num_threads()
    case = next(c for c in CASES if c.name == name)
    kwargs, a = case.kwargs(), case.arrays()
    tx, tw, tb = (torch.from_numpy(a[k]).requires_grad_() for k in "xwb")
    tg = torch.from_numpy(a["g"])

    def torch_forward():
        x, padding = tx, case.padding
        if case.mode != "zeros":
            x, padding = F.pad(x, (case.padding,) * 4, mode=case.mode), 0
        return F.conv2d(x, tw, tb, case.stride, padding, case.dilation, case.groups)

    graph = torch_forward()  # kept for the timed backward passes

    def torch_forward_nograd():
        with torch.no_grad():
            return torch_forward()

    def torch_backward():
        return torch.autograd.grad(graph, (tx, tw, tb), tg, retain_graph=True)

    def ref_forward():
        return reference.conv2d(a["x"], a["w"], a["b"], **kwargs)

    def ref_backward():
        return reference.conv2d_backward(a["g"], a["x"], a["w"], a["b"], **kwargs)

    def agreement() -> dict:
        """max |reference - torch| / max(|x| conv |w| + |b|), per result."""
        ours = (ref_forward(), *ref_backward())
        theirs = (torch_forward_nograd(), *torch_backward())
        scales = (
            bounds.conv2d_magnitude(a["x"], a["w"], a["b"], **kwargs),
            *bounds.conv2d_backward_magnitude(a["g"], a["x"], a["w"], a["b"], **kwargs),
        )
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
                    time_pair(ref_forward, torch_forward_nograd, repeats, target),
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


# glibc hands large freed blocks back to the kernel, and the next allocation faults its pages
# in again; how often depends on what else the process allocated, so in one process each side
# made the other pay page faults (torch's medium forward: 0.55 ms alone, 1.0 ms after a numpy
# call). These keep freed memory in the process, for both sides alike.
MALLOC_ENV = {"MALLOC_TRIM_THRESHOLD_": str(1 << 30), "MALLOC_MMAP_THRESHOLD_": str(1 << 25)}


def run(cases, args, reference_dir: Path) -> dict:
    """Each case in a fresh process (the two sides of a case share it): what one case leaves
    behind (allocator state, thread pools) would otherwise skew the next one's timings."""
    import threadpoolctl

    load = CpuShare()
    square = 2048
    results = {"cases": [], "square_gemm": {"size": square}}
    for setting in THREADS:
        with threadpoolctl.threadpool_limits(limits=1 if setting == "1 thread" else None, user_api="blas"):
            seconds, busy = measured(lambda: gemm_seconds(1, square, square, square, args.repeats, args.sample_seconds), args.max_busy, args.attempts)
        results["square_gemm"][setting] = {"seconds": seconds, "gflops": 2 * square**3 / seconds / 1e9, "others_cpu_share": busy}
    for case in cases:
        command = [
            sys.executable, __file__, "--measure-case", case.name, "--repeats", str(args.repeats),
            "--sample-seconds", str(args.sample_seconds), "--max-busy", str(args.max_busy),
            "--attempts", str(args.attempts), "--reference-from", str(reference_dir),
        ]
        env = os.environ if args.default_malloc else {**os.environ, **MALLOC_ENV}
        output = subprocess.run(command, capture_output=True, text=True, check=True, env=env).stdout
        results["cases"].append(json.loads(output.strip().splitlines()[-1]))
        print(f"  {case.name}: done", file=sys.stderr)
    results["other_processes_cpu_share"] = load.others()
    return results


def environment(command: str, reference_dir: Path) -> dict:
    import threadpoolctl
    import torch

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
            return subprocess.run(["git", *args], cwd=reference_dir, capture_output=True, text=True, check=True).stdout.strip()
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
        "git": f"{git('rev-parse', '--short', 'HEAD')}{' with uncommitted changes to reference/' if git('status', '--porcelain', 'reference') else ''}",
        "machine": f"{cpu_model()}, {os.cpu_count()} logical CPUs, {platform.system()} {platform.machine()}",
        "python": platform.python_version(),
        "numpy": np.__version__,
        "numpy_blas": blas,
        "torch": torch.__version__,
        "torch_default_threads": torch.get_num_threads(),
        "threadpoolctl": threadpoolctl.__version__,
        "openblas_env": {key: value for key, value in os.environ.items() if key.startswith("OPENBLAS")},
    }


# --- output ------------------------------------------------------------------------------------


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
            "GEMM floor: np.matmul alone on the forward's im2col GEMM, over torch's whole forward time;"
            " a numpy reference's forward ratio cannot go below it. Others' CPU: other processes' share of the"
            " machine's CPU time while the row was measured.",
            "",
            "| case | fwd reference | fwd torch | fwd ratio | GEMM floor | bwd reference | bwd torch | bwd ratio | others' CPU |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        ]
        for row in results["cases"]:
            r = row[setting]
            f, b = r["forward"], r["backward"]
            lines.append(
                f"| {row['case']['name']} | {fmt_ms(f['reference_s'])} | {fmt_ms(f['torch_s'])} | {f['ratio']:.2f} | {r['gemm_floor']:.2f}"
                f" | {fmt_ms(b['reference_s'])} | {fmt_ms(b['torch_s'])} | {b['ratio']:.2f} | {fmt_share(r['others_cpu_share'])} |"
            )
        lines.append("")
    square = results["square_gemm"]
    lines += [
        "### Reference memory and forward throughput",
        "",
        "Peak extra memory: tracemalloc's peak during the first call in a fresh process, the result included."
        " GFLOP/s: 2·N·O·Ho·Wo·(C/groups)·kh·kw over the reference's forward time, and over np.matmul's time on the"
        f" im2col GEMM's own shape (groups × (O/groups, K) @ (K, N·Ho·Wo)). A {square['size']}² float64 np.matmul reaches"
        f" {square['1 thread']['gflops']:.1f} GFLOP/s on 1 thread, {square['default threads']['gflops']:.1f} with the default threads.",
        "",
        "| case | im2col MB | fwd peak MB (× im2col) | bwd peak MB (× im2col) | GFLOP/s 1 thread: reference / GEMM | default threads: reference / GEMM |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in results["cases"]:
        im2col, peak = row["im2col_bytes"], row["peak_extra_bytes"]
        one, default = row["1 thread"], row["default threads"]
        lines.append(
            f"| {row['case']['name']} | {im2col / 1e6:.2f} | {peak['forward'] / 1e6:.2f} ({peak['forward'] / im2col:.2f})"
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
        lines.append(f"| {row['case']['name']} | " + " | ".join(f"{a[k]:.1e}" for k in ("output", "grad_input", "grad_weight", "grad_bias")) + " |")
    return "\n".join(lines) + "\n"


def markdown(results: dict, cases, args) -> str:
    env = results["environment"]
    blas = ", ".join(f"{b['internal_api']} {b['version']} {b['architecture']}" for b in env["numpy_blas"])
    share = results["other_processes_cpu_share"]
    return "\n".join([
        "# reference vs torch: float64 CPU conv2d",
        "",
        f"- command: `{env['command']}` (from the repository root)",
        f"- date: {env['date']}; reference: {env['reference']} (git {env['git']})",
        f"- machine: {env['machine']}",
        f"- python {env['python']}, numpy {env['numpy']} ({blas}), torch {env['torch']}"
        f" (default {env['torch_default_threads']} threads), threadpoolctl {env['threadpoolctl']}",
        f"- OPENBLAS_* environment: {env['openblas_env'] or 'none set'}",
        f"- other processes' share of the machine's CPU time during the whole run: {fmt_share(share)}; a row measured"
        f" while it exceeded {args.max_busy:.0%} was measured again, after the machine went quiet, up to {args.attempts} times",
        f"- each case in a fresh process with {'the default malloc' if args.default_malloc else ' '.join(f'{k}={v}' for k, v in MALLOC_ENV.items())};"
        f" {args.repeats} interleaved repeats per side after warm-up, each after a {SETTLE_SECONDS} s pause and about"
        f" {args.sample_seconds} s of calls; medians.",
        "- torch forward: F.conv2d (after F.pad in the non-zero modes, as nn.Conv2d does); torch backward:"
        " torch.autograd.grad of that graph for input, weight and bias.",
        "",
        "Cases (padding 1 for k3, 2 for k5, 0 for k1):",
        "",
        *(f"- {c.name}: {c.describe()}" for c in cases),
        "",
        tables(results),
    ])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=9, help="timed repeats per side (median reported)")
    parser.add_argument("--sample-seconds", type=float, default=0.1, help="calls per repeat are chosen to last about this long")
    parser.add_argument("--cases", default="", help="comma-separated case names (default: all)")
    parser.add_argument("--output", default=str(ROOT / "reports" / "benchmarks"), help="path prefix for the .json and .md files")
    parser.add_argument("--max-busy", type=float, default=0.05, help="remeasure a row while other processes used more of the CPU than this")
    parser.add_argument("--attempts", type=int, default=5, help="measurements per row at most")
    parser.add_argument("--default-malloc", action="store_true", help=f"leave glibc's malloc as it is (default: {MALLOC_ENV})")
    parser.add_argument("--reference-from", type=Path, default=ROOT, help="directory holding the reference package to time")
    parser.add_argument("--peak-memory", nargs=2, help=argparse.SUPPRESS)  # internal: CASE DIRECTION, in a fresh process
    parser.add_argument("--measure-case", help=argparse.SUPPRESS)  # internal: one case's row, in a fresh process
    args = parser.parse_args()
    reference_dir = args.reference_from.resolve()
    if args.peak_memory:
        print(measure_peak(*args.peak_memory, reference_dir))
        return 0
    if args.measure_case:
        row = measure_case(args.measure_case, args.repeats, args.sample_seconds, reference_dir, args.max_busy, args.attempts)
        print(json.dumps(row))
        return 0
    cases = [c for c in CASES if not args.cases or c.name in args.cases.split(",")]
    command = "python " + " ".join([os.path.relpath(sys.argv[0], ROOT), *sys.argv[1:]])
    results = {"environment": environment(command, reference_dir), **run(cases, args, reference_dir)}
    text = tables(results)
    print(text)
    busy = [row[s]["others_cpu_share"] for row in results["cases"] for s in THREADS if row[s]["others_cpu_share"] is not None]
    if busy and max(busy) > args.max_busy:
        print(f"WARNING: some rows were measured while other processes used up to {max(busy):.0%} of the CPU", file=sys.stderr)
    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".json").write_text(json.dumps(results, indent=1) + "\n")
    out.with_suffix(".md").write_text(markdown(results, cases, args))
    print(f"wrote {out.with_suffix('.json')} and {out.with_suffix('.md')}")
    worst = max(max(row["agreement"].values()) for row in results["cases"])
    if not worst <= AGREEMENT:
        print(f"DISAGREEMENT: the reference and torch differ by {worst:.2e} of the magnitude (> {AGREEMENT:g})", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
