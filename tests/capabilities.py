"""Documented capability gaps: valid Conv2d calls that some torch versions refuse by design
(a dtype without a CPU kernel, say). Each is listed once with torch's exact message pattern and
the versions it applies to. Any other exception from torch on a valid call is a failure.

No gap is recorded yet: torch 2.13.0 on CPU accepts every configuration the suite generates.
Entries come from running the suite on older releases (tox.ini), never from guesses.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class CapabilityGap:
    name: str
    message_pattern: str  # a regex that torch's message must match in full
    dtypes: tuple[str, ...]
    before: str  # the first torch version that has the capability
    link: str

    def covers(self, error: BaseException, dtype: str) -> bool:
        version = torch.torch_version.TorchVersion(torch.__version__.split("+")[0])
        return dtype in self.dtypes and version < self.before and re.fullmatch(self.message_pattern, str(error).strip(), re.S) is not None


CAPABILITY_GAPS: tuple[CapabilityGap, ...] = ()


def gap_for(error: BaseException, dtype: str, gaps=None) -> CapabilityGap | None:
    return next((gap for gap in (CAPABILITY_GAPS if gaps is None else gaps) if gap.covers(error, dtype)), None)
