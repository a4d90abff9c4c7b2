"""Documented capability gaps: valid Conv2d calls that some torch versions refuse by design
(a dtype without a CPU kernel, say). Each is listed once with torch's exact message pattern and
the versions it applies to. Any other exception from torch on a valid call is a failure.

torch 2.13.0 on CPU accepts every configuration the suite generates. Entries come from running
the suite on older releases (tox.ini), never from guesses: each `before` is the first release
seen to have the capability, checked on that release and the one before it.
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
        return (
            dtype in self.dtypes
            and torch_release() < self.before
            and re.fullmatch(self.message_pattern, str(error).strip(), re.S) is not None
        )


def torch_release() -> torch.torch_version.TorchVersion:
    """This torch's version without the local build tag (2.0.1+cu117 is 2.0.1), comparable with strings."""
    return torch.torch_version.TorchVersion(torch.__version__.split("+")[0])


CAPABILITY_GAPS: tuple[CapabilityGap, ...] = (
    CapabilityGap(
        name="float16 convolution on CPU",
        message_pattern=r'"(slow_conv2d_cpu|slow_conv_dilated<>)" not implemented for \'Half\'',
        dtypes=("float16",),
        before="2.2.0",  # raised on 2.0.1, 2.1.0 and 2.1.2
        link="https://github.com/pytorch/pytorch/pull/99497 (native float16 conv on CPU; issue 97068)",
    ),
    CapabilityGap(
        name="bfloat16 reflect and replicate padding on CPU",
        message_pattern=r'"(reflection_pad2d|replication_pad2d_cpu)" not implemented for \'BFloat16\'',
        dtypes=("bfloat16",),
        before="2.1.0",  # raised on 2.0.1
        link="https://github.com/pytorch/pytorch/pull/102949",
    ),
    CapabilityGap(
        name="float16 reflect and replicate padding on CPU",
        message_pattern=r'"(reflection|replication)_pad2d(_cpu|_channels_last)?" not implemented for \'Half\'',
        dtypes=("float16",),
        before="2.6.0",  # raised on 2.0.1, 2.1.x, 2.2.0, 2.3.0, 2.4.0 and 2.5.1
        link="https://github.com/pytorch/pytorch/pull/135931 (fixes issue 135680)",
    ),
)


def gap_for(error: BaseException, dtype: str, gaps=None) -> CapabilityGap | None:
    return next((gap for gap in (CAPABILITY_GAPS if gaps is None else gaps) if gap.covers(error, dtype)), None)
