"""What this run checked, recorded as data where it happens: every judged example, the worst error
per (api, dtype, backend, regime), each failing test's worst element and reproducer, Hypothesis'
statistics per test, and torch's outputs for drift across versions. The plugin names the running
test (running()); xdist workers hand their records to the controller (payload(), merge())."""

from __future__ import annotations

import contextlib
import hashlib
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
from hypothesis import currently_in_test_context, event, target


@dataclass
class Worst:
    examples: int = 0
    worst_in_eps: float = 0.0  # max |got - expected| / (eps * bound)
    worst_of_allowance: float = 0.0  # max |got - expected| / allowance


@dataclass
class TestStatistics:
    """What one test's examples reached, as the suite counted it while they ran: each event (a
    region, a kernel, a verdict) with the number of times it was hit, and the best score of each
    target() Hypothesis climbs. Hypothesis' own event() sees the same events."""

    events: Counter = field(default_factory=Counter)
    targets: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {"events": dict(self.events.most_common()), "targets": self.targets}


KEY = ("api", "dtype", "backend", "regime")
_test = ""  # the node id of the running test
_table: dict[tuple[str, ...], Worst] = {}
_examples: list[dict] = []
_failures: dict[str, dict] = {}  # node id -> the failed comparison: headline, worst element, reproducer
_statistics: dict[str, TestStatistics] = {}
_began = time.monotonic()
_outputs: dict[str, np.ndarray] = {}  # case digest -> torch's output and allowance, for drift across versions


@contextlib.contextmanager
def running(nodeid: str):
    """Attribute what is recorded inside to the test nodeid."""
    global _test
    _test = nodeid
    try:
        yield
    finally:
        _test = ""


@contextlib.contextmanager
def set_aside():
    """The examples and the failure recorded inside are dropped afterwards: a meta-test's planted
    failure is not the run's."""
    examples, failure = len(_examples), _failures.get(_test)
    try:
        yield
    finally:
        del _examples[examples:]
        if failure is None:
            _failures.pop(_test, None)
        else:
            _failures[_test] = failure


def current_test() -> str:
    return _test


def count_event(text: str) -> None:
    """Count a region, kernel or verdict this example reached: in the test's statistics, and as
    hypothesis.event() inside a Hypothesis test (--hypothesis-show-statistics)."""
    _statistics.setdefault(_test, TestStatistics()).events[text] += 1
    if currently_in_test_context():
        event(text)


def climb(score: float, label: str) -> None:
    """hypothesis.target(): steer towards larger scores; the best one is kept in the statistics."""
    targets = _statistics.setdefault(_test, TestStatistics()).targets
    targets[label] = max(targets.get(label, score), score)
    if currently_in_test_context():
        target(score, label=label)


def climb_to_rare(reached: list[str]) -> None:
    """Steer towards what this test has reached least: the score is 1 / (times seen) of the
    rarest event among `reached` (regions, layouts, kernels), 1 for one never seen before."""
    events = _statistics.setdefault(_test, TestStatistics()).events
    score = max((1.0 / max(events[name], 1) for name in reached), default=0.0)
    climb(score, label="rarity of the regions, layouts and kernels reached")


def observe(api: str, dtype: str, backend: str, regime: str, in_eps: float, of_allowance: float) -> None:
    worst = _table.setdefault((api, dtype, backend, regime), Worst())
    worst.examples += 1
    worst.worst_in_eps = max(worst.worst_in_eps, in_eps)
    worst.worst_of_allowance = max(worst.worst_of_allowance, of_allowance)


def record_example(**fields) -> None:
    """One checked example: api, dtype, backend, kernels, regime, config, execution, errors,
    verdict; at_s: seconds since this process began recording."""
    _examples.append({"test": _test, "at_s": round(time.monotonic() - _began, 3), **fields})


def record_failure(**fields) -> None:
    """The running test's failed comparison (the last one: Hypothesis replays the minimal example last)."""
    _failures[_test] = {"test": _test, **fields}


def failure(nodeid: str) -> dict | None:
    return _failures.get(nodeid)


def statistics(nodeid: str) -> dict | None:
    return _statistics[nodeid].as_dict() if nodeid in _statistics else None


def case_digest(description: str, *operands) -> str:
    """The same case, the same digest, whatever the torch version: test, call and values held."""
    digest = hashlib.sha1(f"{_test}|{description}".encode())
    for operand in operands:
        if operand is not None:
            digest.update(np.ascontiguousarray(operand).tobytes())
    return digest.hexdigest()


def record_output(digest: str, got: np.ndarray, allowed: np.ndarray) -> None:
    _outputs[digest] = np.stack([got.ravel(), allowed.ravel()])


def save_outputs(report_dir: str, worker: str) -> None:
    """outputs-<worker>.npz under the report folder (numpy arrays only, never pickles)."""
    if _outputs:
        Path(report_dir).mkdir(parents=True, exist_ok=True)
        np.savez_compressed(Path(report_dir) / f"outputs-{worker}.npz", **_outputs)


def as_rows() -> list[dict]:
    return [{**dict(zip(KEY, key)), **asdict(worst)} for key, worst in sorted(_table.items())]


def examples() -> list[dict]:
    return list(_examples)


def payload() -> dict:
    return {"worst": as_rows(), "examples": _examples}


def merge(payload: dict) -> None:
    for row in payload["worst"]:
        worst = _table.setdefault(tuple(row[name] for name in KEY), Worst())
        worst.examples += row["examples"]
        worst.worst_in_eps = max(worst.worst_in_eps, row["worst_in_eps"])
        worst.worst_of_allowance = max(worst.worst_of_allowance, row["worst_of_allowance"])
    _examples.extend(payload["examples"])


def summary_lines() -> list[str]:
    return [
        f"{row['api']:<10} {row['dtype']:<9} {row['backend']:<14} {row['regime']:<8} examples {row['examples']:>6}"
        f"  worst {row['worst_in_eps']:8.3f} eps  ({row['worst_of_allowance']:6.1%} of allowance)"
        for row in as_rows()
    ]
