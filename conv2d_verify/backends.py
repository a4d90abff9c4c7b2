"""Which CPU kernel torch routes a convolution to (oneDNN, Slow2d, SlowDilated2d, ...)."""

from __future__ import annotations

import torch

from . import settings
from .ops import op_of

# torch's Python binding of its backend enum names no transposed oneDNN backend: "???"
UNNAMED_BACKEND = "unnamed by torch"


def conv_backend(config, x: torch.Tensor, weight: torch.Tensor) -> str:
    """The backend name torch selects for this call, or 'unknown' where torch cannot say.

    nn.Conv*d pads first for non-zero modes, and for an asymmetric 'same' torch pads the extra
    row/column itself: the selection is asked about the convolution that really runs.
    """
    if not settings.current().judges_torch:
        return "target"  # a --target conv2d: torch's backend selection says nothing about it
    select = getattr(torch._C, "_select_conv_backend", None)
    if select is None:
        return "unknown"
    op = op_of(config)
    rank = op.dims + 2
    if op.transposed:
        size, padding = tuple(config.size), [p for p, _ in config.pads]
        output_padding = list(config.output_paddings)
    else:
        size, padding = config.kernel_call
        output_padding = [0] * op.dims
    shape = (*(x.shape if x.dim() == rank else (1, *x.shape))[:2], *size)
    stand_in = torch.empty(shape, dtype=x.dtype, device=x.device)
    memory_format = {4: torch.channels_last, 5: torch.channels_last_3d}.get(rank)
    if memory_format is not None and x.dim() == rank and x.is_contiguous(memory_format=memory_format):
        if not x.is_contiguous():
            stand_in = stand_in.contiguous(memory_format=memory_format)
    strides, dilations = (
        config.geometry.stride,
        config.geometry.dilation,
    )  # the kernel call's (a transposed op's adjoint)
    backend = select(
        stand_in,
        weight,
        None,
        list(strides),
        list(padding),
        list(dilations),
        op.transposed,
        output_padding,
        config.groups,
    )
    name = str(backend).rsplit(".", 1)[-1]
    return UNNAMED_BACKEND if name == "???" else name
