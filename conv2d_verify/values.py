"""The case's values as the dtype under test holds them: float64 arrays scaled into the dtype's
range, tensors on the run's device, and tensors back as float64 arrays."""

from __future__ import annotations

import math

import numpy as np
import torch

from . import settings, tolerance
from .ops import op_of
from .strategies import Conv2dCase

TORCH_DTYPES = {
    "float64": torch.float64,
    "float32": torch.float32,
    "float16": torch.float16,
    "bfloat16": torch.bfloat16,
}

# A drawn scale_exponent e multiplies values by 2**(e * step): a wider reach for wider dtypes,
# while float16 gets down into its subnormals (2**-14 and below).
EXPONENT_STEP = {"float64": 8, "float32": 4, "bfloat16": 4, "float16": 1}


def dtype_name(tensor: torch.Tensor) -> str:
    return str(tensor.dtype).removeprefix("torch.")


def as_numpy(tensor: torch.Tensor | None) -> np.ndarray | None:
    """float64 copy on the host; exact for every dtype checked here."""
    return None if tensor is None else tensor.detach().to("cpu", torch.float64).numpy()


def on_device(array: np.ndarray | None, dtype: str) -> torch.Tensor | None:
    """The array as a tensor of the dtype on the run's device (--device)."""
    return (
        None
        if array is None
        else torch.from_numpy(array).to(device=settings.current().device, dtype=TORCH_DTYPES[dtype])
    )


def case_arrays(case: Conv2dCase, dtype: str):
    """The case's input, weight and bias in float64, scaled by powers of two so that every
    value and the magnitude bound stay below 1/16 of the dtype's largest value: finite data,
    no overflow (special values are tested on their own)."""
    config, step = case.config, EXPONENT_STEP[dtype]
    ceiling = tolerance.LARGEST[dtype] / 16
    x = within(case.input.make(config.input_shape, step), ceiling)
    w = within(case.weight.make(config.weight_shape, step), ceiling)
    b = within(case.bias.make((config.out_channels,), step), ceiling) if config.bias else None
    excess = float(op_of(config).magnitude(x, w, b, **config.conv_kwargs()).max(initial=0.0)) / ceiling
    if excess > 1:
        halvings = math.ceil(math.log2(excess) / 2)
        x, w = np.ldexp(x, -halvings), np.ldexp(w, -halvings)
        b = None if b is None else np.ldexp(b, -2 * halvings)
    return x, w, b


def within(values: np.ndarray, ceiling: float) -> np.ndarray:
    """values halved as often as needed for every magnitude to be at most ceiling."""
    largest = float(np.abs(values).max(initial=0.0))
    return values if largest <= ceiling else np.ldexp(values, -math.ceil(math.log2(largest / ceiling)))
