"""torch.compile for the compile tests: one fresh dynamo graph per example, counted."""

from __future__ import annotations

import torch

from .repro import COMPILE_CALL


def compiled(layer: torch.nn.Module):
    """The layer compiled as the reproducers compile it, after resetting dynamo's cache and counters."""
    import torch._dynamo as dynamo  # noqa: PLC0415 - slow to import; only the compile tests need it

    dynamo.reset()
    dynamo.utils.counters.clear()
    return eval(COMPILE_CALL, {"torch": torch})(layer)


def graphs_compiled() -> int:
    import torch._dynamo as dynamo  # noqa: PLC0415

    return int(dynamo.utils.counters["stats"]["unique_graphs"])
