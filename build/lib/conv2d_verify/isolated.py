"""Run one torch call in a child process, so that a crash is observed instead of suffered.

A known defect that segfaults torch cannot be run in the test process; which kernel it crashes
in is still worth knowing, because that kernel, not a guess about the CPU, says whether the
example falls under the defect. The call runs in a child forked from a server that imported
torch once (multiprocessing's forkserver; spawn where there is none), with oneDNN's creation log
unbuffered in a file: the kernel is named there before it runs, so it survives the crash.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import sys
import tempfile
import traceback
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .onednn import Kernel, parse_kernels

_context = None


def context():
    global _context
    if _context is None:
        method = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
        _context = multiprocessing.get_context(method)
        if method == "forkserver":
            _context.set_forkserver_preload(["torch", __name__])
    return _context


@dataclass(frozen=True)
class IsolatedRun:
    signal: int | None  # the signal that ended the child (11: segmentation fault), or None
    error: str | None  # the exception the call raised, if it returned by raising
    kernels: tuple[Kernel, ...]  # oneDNN convolution kernels created, in order

    @property
    def crashed(self) -> bool:
        return self.signal is not None

    @property
    def last_kernel(self) -> str:
        return self.kernels[-1].implementation if self.kernels else "no oneDNN kernel"


def _unbuffered_c_stdout() -> None:
    libc = ctypes.CDLL(None)
    for name in ("stdout", "__stdoutp"):  # glibc, macOS
        try:
            stream = ctypes.c_void_p.in_dll(libc, name)
        except ValueError:
            continue
        libc.setvbuf(stream, None, 2, 0)  # _IONBF
        return


def _child(source: str, arrays: dict, folder: str) -> None:
    log = os.open(os.path.join(folder, "log"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    os.dup2(log, 1)
    _unbuffered_c_stdout()
    import torch  # noqa: PLC0415 - preloaded by the server; here so the module stays light to import

    torch._C._verbose.mkldnn_set_verbose(2)  # creation and execution
    try:
        exec(source, {"torch": torch, "np": np, **arrays})
    except BaseException:  # noqa: BLE001 - reported to the parent as text
        Path(folder, "error").write_text(traceback.format_exc())
    sys.stdout.flush()


def run(source: str, arrays: dict[str, np.ndarray | None], timeout: float = 120.0) -> IsolatedRun:
    """Execute source (which may use torch, np and the arrays by name) in a child process."""
    with tempfile.TemporaryDirectory() as folder:
        child = context().Process(target=_child, args=(source, arrays, folder))
        child.start()
        child.join(timeout)
        if child.is_alive():
            child.kill()
            child.join()
        log = Path(folder, "log").read_text(errors="replace") if Path(folder, "log").exists() else ""
        error = Path(folder, "error").read_text() if Path(folder, "error").exists() else None
        signal = -child.exitcode if child.exitcode is not None and child.exitcode < 0 else None
        return IsolatedRun(signal, error, parse_kernels(log))
