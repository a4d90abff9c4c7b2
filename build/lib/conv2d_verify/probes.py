"""What this torch, on this machine, can do, as torch itself reports it.

Everything the suite expects of the machine comes from here or from what torch ran
(tests/onednn.py), never from the CPU's flag list: a capped oneDNN (ONEDNN_MAX_CPU_ISA) or ATen
(ATEN_CPU_CAPABILITY) behaves like another CPU, and only torch knows which it is.
"""

from __future__ import annotations

from functools import cache

import torch

from . import onednn

TorchVersion = torch.torch_version.TorchVersion


def torch_version() -> str:
    return torch.__version__


def cpu_capability() -> str:
    """The vector ISA torch's own CPU kernels dispatch to (AVX2, AVX512, DEFAULT, ...), which
    honours ATEN_CPU_CAPABILITY."""
    get = getattr(getattr(torch.backends, "cpu", None), "get_cpu_capability", None)
    return get() if get else "unknown (torch.backends.cpu.get_cpu_capability is missing)"


def has_onednn() -> bool:
    return torch.backends.mkldnn.is_available()


def onednn_isa() -> str:
    return onednn.isa()


def nnpack_unavailable() -> str | None:
    return (
        None if torch._nnpack_available() else "NNPACK is not available in this torch build (torch._nnpack_available())"
    )


@cache
def compile_unavailable() -> str | None:
    """Why torch.compile cannot run here (torch's own check of this Python), or None."""
    try:
        import torch._dynamo as dynamo  # noqa: PLC0415 - importing dynamo is slow; only callers that compile need it
    except ImportError as error:
        return f"torch._dynamo does not import: {error}"
    check = getattr(dynamo.eval_frame, "check_if_dynamo_supported", None)  # raises, naming the reason
    try:
        if check is not None:
            check()
        elif not getattr(dynamo, "is_dynamo_supported", lambda: True)():
            raise RuntimeError("torch._dynamo.is_dynamo_supported() is False")
    except RuntimeError as error:
        return f"torch {torch.__version__} cannot compile here: {error}"
    return None
