"""Which oneDNN kernels ran, and which ISA oneDNN uses here: read from oneDNN's own verbose log.

The suite's expectations of torch on the CPU (known defects, what the steering reaches) are
keyed on these names, never on the CPU's flag list: oneDNN picks its kernel from the ISA it
uses (which ONEDNN_MAX_CPU_ISA can cap), the shapes and the memory layout, and says which one.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass

import torch

libc = ctypes.CDLL(None)

PASSES = {  # oneDNN's prop_kind -> the pass it computes
    "forward_training": "forward",
    "forward_inference": "forward",
    "forward_scoring": "forward",
    "backward_data": "backward_data",
    "backward_weights": "backward_weights",
    "backward": "backward",
}


@dataclass(frozen=True)
class Kernel:
    pass_: str  # forward, backward_data, backward_weights
    implementation: str  # e.g. brg_conv_fwd:avx10_1_512_amx, jit:avx2, x64:gemm:jit

    def __str__(self) -> str:
        return self.implementation if self.pass_ == "forward" else f"{self.implementation} ({self.pass_})"


PRIMITIVES = ("convolution", "deconvolution")  # the transposed convolutions run oneDNN's deconvolution


def parse_kernels(log: str) -> tuple[Kernel, ...]:
    """The (de)convolution kernels a verbose log names, creation or execution, in order of first mention.

    "onednn_verbose,v1,primitive,exec,cpu,convolution,<implementation>,<prop_kind>,..." (oneDNN 3);
    "onednn_verbose,exec,cpu,convolution,<implementation>,<prop_kind>,..." (oneDNN 2, torch 2.0/2.1)."""
    seen: dict[Kernel, None] = {}
    for line in log.splitlines():
        fields = line.split(",")
        primitive = next((f for f in fields[:-2] if f in PRIMITIVES), None)
        if not line.startswith(("onednn_verbose", "dnnl_verbose")) or primitive is None:
            continue
        if not any(field == "exec" or field.startswith("create") for field in fields[:6]):
            continue
        at = fields.index(primitive)
        seen.setdefault(Kernel(PASSES.get(fields[at + 2], fields[at + 2]), fields[at + 1]))
    return tuple(seen)


_log = None  # one log file per process, emptied for each use
_isa: str | None = None  # oneDNN's ISA, once a log in this process has named it


@contextlib.contextmanager
def kernels_logged(level: int = 1):
    """Yields a list that, once the block ends (by raising too), holds the oneDNN convolution
    kernels run inside it (level 2: created too, which names a kernel before it runs).

    oneDNN prints its log from C to file descriptor 1; that descriptor points at a log file for
    the block (whatever pytest's capture put there is restored afterwards)."""
    global _log
    kernels: list[Kernel] = []
    log, _log = (_log or tempfile.TemporaryFile(mode="w+b")), None  # a nested block takes a file of its own
    log.seek(0)
    log.truncate()
    libc.fflush(None)
    saved = os.dup(1)
    os.dup2(log.fileno(), 1)
    try:
        with torch.backends.mkldnn.verbose(level):
            yield kernels
    finally:
        libc.fflush(None)
        os.dup2(saved, 1)
        os.close(saved)
        log.seek(0)
        text = log.read().decode(errors="replace")
        kernels.extend(parse_kernels(text))
        remember_isa(text)
        _log = log


def remember_isa(log: str) -> None:
    global _isa
    if _isa is None and "isa:" in log:
        _isa = parse_isa(log) or None


def observing(call, level: int = 1):
    """(call(), the oneDNN convolution kernels it ran)."""
    with kernels_logged(level) as kernels:
        result = call()
    return result, tuple(kernels)


ISA_PROBE = """
import torch
with torch.backends.mkldnn.verbose(torch.backends.mkldnn.VERBOSE_ON):
    torch.ones(1, 16, 8, 8).to_mkldnn().to_dense()  # a oneDNN reorder: oneDNN prints its header first
"""


def parse_isa(log: str) -> str:
    """The ISA a verbose log's header names ("onednn_verbose,...,info,cpu,isa:<ISA>"), or ""."""
    for line in log.splitlines():
        if line.startswith(("onednn_verbose", "dnnl_verbose")) and ",isa:" in line:
            return line.split(",isa:", 1)[1].strip()
    return ""


def isa() -> str:
    """The ISA oneDNN says it uses here ("Intel AVX2", "Intel AVX10.1 and Intel AMX with bfloat16
    and 8-bit integer support", ...), which honours ONEDNN_MAX_CPU_ISA. oneDNN prints it once per
    process, at its first verbose line: read from this process's log where it was captured, else
    from a fresh interpreter's. "none" where this torch has no oneDNN."""
    if _isa is None:
        if not torch.backends.mkldnn.is_available():
            return "none (this torch has no oneDNN)"
        with kernels_logged():
            torch.ones(1, 16, 8, 8).to_mkldnn().to_dense()  # a oneDNN reorder: the first one prints the header
    if _isa is None:
        probe = subprocess.run([sys.executable, "-c", ISA_PROBE], capture_output=True, text=True, timeout=120)
        remember_isa(probe.stdout)
    return _isa or "unknown (oneDNN printed no ISA line)"


def isa_has_amx_for(dtype: str) -> bool:
    """Whether oneDNN's ISA includes AMX tiles for the dtype ("... AMX with bfloat16, float16 and ...")."""
    text = isa()
    if "AMX" not in text:
        return False
    amx_part = text.split("AMX", 1)[1]
    return "bfloat16" in amx_part if dtype == "bfloat16" else "float16" in amx_part.replace("bfloat16", "")
