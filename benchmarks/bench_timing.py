"""Timing on a shared machine with few cores: interleaved samples after a pause, and other
processes' CPU use measured per row so that a row measured while busy is measured again."""

from __future__ import annotations

import os
import resource
import statistics
import time
from pathlib import Path

import numpy as np


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
    fn = lambda: np.matmul(a, b)
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
        own = sum(
            getattr(resource.getrusage(who), f)
            for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
            for f in ("ru_utime", "ru_stime")
        )
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
