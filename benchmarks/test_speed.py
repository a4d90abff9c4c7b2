"""pytest-benchmark view of the bench set: reference and torch float64 conv2d, conv3d and
conv_transpose2d, side by side.

Not part of the default run (pytest collects tests/ only). From the repository root:

    python -m pytest benchmarks/test_speed.py -p no:xdist --benchmark-group-by=group

Each group holds one case, direction and thread setting; within it the table's parenthesised
figures are multiples of the faster side, so the reference's is its ratio to torch (or torch's
to it). reference_vs_torch.py measures the same cases with more care (interleaved samples, a
fresh process per case, other processes' load) and writes reports/benchmarks.md.
"""

from __future__ import annotations

import os

import pytest
import torch
from bench_cases import CASES, reference_calls, torch_calls

import reference

threadpoolctl = pytest.importorskip("threadpoolctl")

THREAD_SETTINGS = {
    "1 thread": 1,
    "all CPUs": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
}


@pytest.fixture(params=list(THREAD_SETTINGS), ids=list(THREAD_SETTINGS))
def threads(request):
    count = THREAD_SETTINGS[request.param]
    before = torch.get_num_threads()
    torch.set_num_threads(count)
    with threadpoolctl.threadpool_limits(limits=count, user_api="blas"):
        yield request.param
    torch.set_num_threads(before)


@pytest.mark.parametrize("side", ["reference", "torch"])
@pytest.mark.parametrize("direction", ["forward", "backward"])
@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_speed(benchmark, case, direction, side, threads):
    arrays = case.arrays()
    calls = reference_calls(reference, case, arrays) if side == "reference" else torch_calls(case, arrays)
    benchmark.group = f"{case.name} {direction}, {threads}"
    benchmark.name = side
    benchmark(calls[direction == "backward"])
