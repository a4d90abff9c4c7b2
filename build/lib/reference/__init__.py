"""A numpy reference for torch.nn.Conv2d. Pure numpy, float64; it never imports torch."""

from .backward import conv2d_backward
from .bounds import conv2d_backward_magnitude, conv2d_magnitude
from .forward import conv2d
from .spec import PADDING_MODES, PADDING_STRINGS, resolve_padding

__all__ = [
    "conv2d",
    "conv2d_magnitude",
    "conv2d_backward",
    "conv2d_backward_magnitude",
    "resolve_padding",
    "PADDING_MODES",
    "PADDING_STRINGS",
]
