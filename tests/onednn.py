"""Which oneDNN kernel ran: oneDNN's verbose log, read from the process's stdout for one call."""

from __future__ import annotations

import ctypes
import os
import tempfile

import torch

libc = ctypes.CDLL(None)


def with_kernels(call):
    """(call(), the implementations of the oneDNN convolutions it ran, e.g. 'brg_conv_fwd:avx10_1_512_amx').

    oneDNN prints its log from C to file descriptor 1; that descriptor points at a temporary
    file for the call (whatever pytest's capture put there is restored afterwards)."""
    with tempfile.TemporaryFile(mode="w+b") as log:
        libc.fflush(None)
        saved = os.dup(1)
        os.dup2(log.fileno(), 1)
        try:
            with torch.backends.mkldnn.verbose(torch.backends.mkldnn.VERBOSE_ON):
                result = call()
        finally:
            libc.fflush(None)
            os.dup2(saved, 1)
            os.close(saved)
        log.seek(0)
        lines = log.read().decode(errors="replace").splitlines()
    # "onednn_verbose,v1,primitive,exec,cpu,convolution,<implementation>,..." (older releases: no v1,primitive)
    fields = [line.split(",") for line in lines if line.startswith("onednn_verbose") and ",exec," in line]
    return result, sorted({f[f.index("convolution") + 1] for f in fields if "convolution" in f[:-1]})
