"""Each example is run again, with the memory torch will allocate poisoned: a kernel that reads
memory it never wrote (a stale read) gives other numbers then, the same ones on every poisoned
call, and one that is nondeterministic gives other numbers from call to call.

Poisoning: on glibc, mallopt(M_PERTURB) for the duration of the call, so that every allocation
comes filled with 0x5a bytes (float32 1.5e16, bfloat16 1.5e16, float16 203, float64 1.4e127)
and every freed block is scribbled; on every allocator, blocks of the outputs' sizes filled with
the same bytes are freed just before the call, so that an allocator reusing freed blocks (CUDA's
caching allocator, malloc's free lists) hands them to torch.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
from dataclasses import dataclass
from functools import cache

import torch

M_PERTURB = -6  # glibc's mallopt parameter
PERTURB_BYTE = 0xA5  # glibc fills allocations with its complement, 0x5a
SENTINEL_BYTE = 0x5A
POISON_SOURCE = [  # the same poisoning in a reproducer (glibc only)
    "import ctypes",
    "libc = ctypes.CDLL(None)",
    f"poison = getattr(libc, 'mallopt', None)  # glibc: M_PERTURB fills new allocations with 0x{SENTINEL_BYTE:02x}",
]


@cache
def _mallopt():
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or None)
    except (OSError, TypeError):  # Windows has no C library to load by that name
        return None
    mallopt = getattr(libc, "mallopt", None)
    if mallopt is None or mallopt(M_PERTURB, 0) != 1:  # not glibc (macOS, musl)
        return None
    return mallopt


def poisoning() -> str:
    """How this machine poisons memory, for the records."""
    return "glibc M_PERTURB and freed sentinel blocks" if _mallopt() else "freed sentinel blocks (no glibc mallopt)"


@contextlib.contextmanager
def poisoned(outputs: tuple[torch.Tensor, ...]):
    """Memory torch allocates inside comes filled with 0x5a bytes (see the module's docstring)."""
    sentinels = [torch.empty(t.nbytes, dtype=torch.uint8, device=t.device).fill_(SENTINEL_BYTE) for t in outputs]
    del sentinels  # freed: the next allocations of these sizes may reuse them
    mallopt = _mallopt()
    if mallopt is not None:
        mallopt(M_PERTURB, PERTURB_BYTE)
    try:
        yield
    finally:
        if mallopt is not None:
            mallopt(M_PERTURB, 0)


def same_bits(a: torch.Tensor | None, b: torch.Tensor | None) -> bool:
    if a is None or b is None:
        return a is b
    return bool(torch.equal(a, b) or ((a == b) | (a.isnan() & b.isnan())).all())


@dataclass(frozen=True)
class Disagreement:
    """A later call of the same example gave other bits than the first call."""

    kind: str  # STALE_READ or NONDETERMINISTIC
    again: tuple  # the outputs of the call that differed

    @property
    def explanation(self) -> str:
        return EXPLANATIONS[self.kind]


STALE_READ = "stale read"
NONDETERMINISTIC = "nondeterministic"
EXPLANATIONS = {
    STALE_READ: "the call with poisoned memory differs from the first, and a second poisoned call repeats it"
    " bit for bit: the output depends on what memory held before the call (a stale read)",
    NONDETERMINISTIC: "two calls with memory poisoned alike differ from each other: the kernel is"
    " nondeterministic under these settings",
}


def rerun(call, first: tuple, deterministic: bool) -> Disagreement | None:
    """call() again under poisoned memory and, where that differs from `first`, once more under
    poisoned memory: the two poisoned calls agreeing means the output depends on memory the
    kernel never wrote (a stale read); disagreeing, that the kernel is nondeterministic.
    Outputs are tuples of tensors (or None), as call() returns them. Where torch promises no
    determinism (cuDNN outside deterministic mode) a difference is not a finding by itself: the
    caller judges the outputs against the reference."""

    def poisoned_call():
        with poisoned(tuple(t for t in first if t is not None)):
            return call()

    again = poisoned_call()
    if all(same_bits(a, b) for a, b in zip(first, again)):
        return None
    if not deterministic:
        return Disagreement(NONDETERMINISTIC, again)
    third = poisoned_call()
    repeatable = all(same_bits(a, b) for a, b in zip(again, third))
    return Disagreement(STALE_READ if repeatable else NONDETERMINISTIC, again)
