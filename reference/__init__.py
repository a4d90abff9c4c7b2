"""A numpy reference for torch's convolutions: conv1d/2d/3d (as nn.Conv*d, every padding_mode)
and conv_transpose1d/2d/3d (as the functionals), with their gradients and the magnitudes
their rounding errors scale with. Pure numpy, float64; it never imports torch."""

from .backward import conv1d_backward, conv2d_backward, conv3d_backward
from .bounds import (
    conv1d_backward_magnitude,
    conv1d_magnitude,
    conv2d_backward_magnitude,
    conv2d_magnitude,
    conv3d_backward_magnitude,
    conv3d_magnitude,
    conv_transpose1d_backward_magnitude,
    conv_transpose1d_magnitude,
    conv_transpose2d_backward_magnitude,
    conv_transpose2d_magnitude,
    conv_transpose3d_backward_magnitude,
    conv_transpose3d_magnitude,
)
from .forward import conv1d, conv2d, conv3d
from .spec import PADDING_MODES, PADDING_STRINGS, resolve_padding
from .transposed import (
    conv_transpose1d,
    conv_transpose1d_backward,
    conv_transpose2d,
    conv_transpose2d_backward,
    conv_transpose3d,
    conv_transpose3d_backward,
    output_padding_for,
)

__all__ = [
    "conv1d",
    "conv2d",
    "conv3d",
    "conv_transpose1d",
    "conv_transpose2d",
    "conv_transpose3d",
    "conv1d_backward",
    "conv2d_backward",
    "conv3d_backward",
    "conv_transpose1d_backward",
    "conv_transpose2d_backward",
    "conv_transpose3d_backward",
    "conv1d_magnitude",
    "conv2d_magnitude",
    "conv3d_magnitude",
    "conv_transpose1d_magnitude",
    "conv_transpose2d_magnitude",
    "conv_transpose3d_magnitude",
    "conv1d_backward_magnitude",
    "conv2d_backward_magnitude",
    "conv3d_backward_magnitude",
    "conv_transpose1d_backward_magnitude",
    "conv_transpose2d_backward_magnitude",
    "conv_transpose3d_backward_magnitude",
    "output_padding_for",
    "resolve_padding",
    "PADDING_MODES",
    "PADDING_STRINGS",
]
