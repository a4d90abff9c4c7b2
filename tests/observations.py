"""What this run checked: every example's verdict and error, and the worst error per
(api, dtype, backend, regime). Kept per process; xdist workers hand theirs to the controller."""

from __future__ import annotations

import hashlib
import os
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np


@dataclass
class Worst:
    examples: int = 0
    worst_in_eps: float = 0.0  # max |got - expected| / (eps * bound)
    worst_of_allowance: float = 0.0  # max |got - expected| / allowance


KEY = ("api", "dtype", "backend", "regime")
_table: dict[tuple[str, ...], Worst] = {}
_examples: list[dict] = []
_outputs: dict[str, np.ndarray] = {}  # case digest -> torch's output and allowance, for drift across versions


def observe(api: str, dtype: str, backend: str, regime: str, in_eps: float, of_allowance: float) -> None:
    worst = _table.setdefault((api, dtype, backend, regime), Worst())
    worst.examples += 1
    worst.worst_in_eps = max(worst.worst_in_eps, in_eps)
    worst.worst_of_allowance = max(worst.worst_of_allowance, of_allowance)


def current_test() -> str:
    return os.environ.get("PYTEST_CURRENT_TEST", "").split(" ")[0]


def record_example(**fields) -> None:
    """One checked example: api, dtype, backend, regime, config, execution, errors, verdict."""
    _examples.append({"test": current_test(), **fields})


def case_digest(description: str, *operands) -> str:
    """The same case, the same digest, whatever the torch version: test, call and values held."""
    digest = hashlib.sha1(f"{current_test()}|{description}".encode())
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
