"""The run's settings: one place for their names, environment variables and defaults.

The plugin turns each into a command-line option whose default is read here (so the README, the
options and the code cannot disagree), and freezes the values it parsed once pytest is
configured; everything else reads them through current().
"""

from __future__ import annotations

import os
from dataclasses import dataclass

ALL_DTYPES = ("float64", "float32", "float16", "bfloat16")
TORCH_CONV2D = "torch.nn.functional:conv2d"


@dataclass(frozen=True)
class RunSettings:
    profile: str
    dtypes: tuple[str, ...]
    threads: int
    report_dir: str
    device: str
    target: str  # "package.module:function" with torch.nn.functional.conv2d's signature

    @property
    def device_type(self) -> str:
        return self.device.split(":")[0]

    @property
    def judges_torch(self) -> bool:
        """True when the conv under test is torch's own (not a --target of the user's)."""
        return self.target == TORCH_CONV2D


def from_environment() -> RunSettings:
    """The defaults: each CONV2D_* variable where it is set, else the value written here."""
    return RunSettings(
        profile=os.environ.get("CONV2D_PROFILE", "dev"),
        dtypes=parse_dtypes(os.environ.get("CONV2D_DTYPES", ",".join(ALL_DTYPES))),
        threads=int(os.environ.get("CONV2D_THREADS", "1")),
        report_dir=os.environ.get("CONV2D_REPORT_DIR", "reports"),
        device=os.environ.get("CONV2D_DEVICE", "cpu"),
        target=os.environ.get("CONV2D_TARGET", TORCH_CONV2D),
    )


def parse_dtypes(text: str) -> tuple[str, ...]:
    names = tuple(name.strip() for name in text.split(",") if name.strip())
    unknown = [name for name in names if name not in ALL_DTYPES]
    if unknown or not names:
        raise ValueError(f"dtypes must be a comma-separated subset of {ALL_DTYPES}, got {text!r}")
    return names


_frozen: RunSettings | None = None


def freeze(settings: RunSettings) -> None:
    """Called once, when pytest is configured: from then on current() is these settings."""
    global _frozen
    _frozen = settings


def current() -> RunSettings:
    """The run's settings; outside a pytest run (tools, benchmarks), the defaults."""
    return _frozen if _frozen is not None else from_environment()
