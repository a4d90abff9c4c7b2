"""Running record of the worst error seen per (api, dtype, backend, regime)."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass
class Worst:
    examples: int = 0
    worst_in_eps: float = 0.0  # max |got - expected| / (eps * bound)
    worst_of_allowance: float = 0.0  # max |got - expected| / allowance


KEY = ("api", "dtype", "backend", "regime")
_table: dict[tuple[str, ...], Worst] = {}


def observe(api: str, dtype: str, backend: str, regime: str, in_eps: float, of_allowance: float) -> None:
    worst = _table.setdefault((api, dtype, backend, regime), Worst())
    worst.examples += 1
    worst.worst_in_eps = max(worst.worst_in_eps, in_eps)
    worst.worst_of_allowance = max(worst.worst_of_allowance, of_allowance)


def as_rows() -> list[dict]:
    return [{**dict(zip(KEY, key)), **asdict(worst)} for key, worst in sorted(_table.items())]


def merge_rows(rows: list[dict]) -> None:
    for row in rows:
        worst = _table.setdefault(tuple(row[name] for name in KEY), Worst())
        worst.examples += row["examples"]
        worst.worst_in_eps = max(worst.worst_in_eps, row["worst_in_eps"])
        worst.worst_of_allowance = max(worst.worst_of_allowance, row["worst_of_allowance"])


def summary_lines() -> list[str]:
    return [
        f"{row['api']:<10} {row['dtype']:<9} {row['backend']:<14} {row['regime']:<8} examples {row['examples']:>6}"
        f"  worst {row['worst_in_eps']:8.3f} eps  ({row['worst_of_allowance']:6.1%} of allowance)"
        for row in as_rows()
    ]
