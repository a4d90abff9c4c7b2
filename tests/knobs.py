"""The suite's knobs: one place for their names, environment variables and defaults.

conftest.py turns each into a command-line option whose default is read here, so the README,
the options and the code cannot disagree.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

ALL_DTYPES = ("float64", "float32", "float16", "bfloat16")


@dataclass
class Knobs:
    profile: str = field(default_factory=lambda: os.environ.get("CONV2D_PROFILE", "dev"))
    dtypes: tuple[str, ...] = field(default_factory=lambda: parse_dtypes(os.environ.get("CONV2D_DTYPES", ",".join(ALL_DTYPES))))
    threads: int = field(default_factory=lambda: int(os.environ.get("CONV2D_THREADS", "1")))
    report_dir: str = field(default_factory=lambda: os.environ.get("CONV2D_REPORT_DIR", "reports"))
    device: str = field(default_factory=lambda: os.environ.get("CONV2D_DEVICE", "cpu"))

    @property
    def device_type(self) -> str:
        return self.device.split(":")[0]


def parse_dtypes(text: str) -> tuple[str, ...]:
    names = tuple(name.strip() for name in text.split(",") if name.strip())
    unknown = [name for name in names if name not in ALL_DTYPES]
    if unknown or not names:
        raise ValueError(f"dtypes must be a comma-separated subset of {ALL_DTYPES}, got {text!r}")
    return names


current = Knobs()
