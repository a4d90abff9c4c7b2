"""Run a case through torch, and judge torch's output against the reference."""

from __future__ import annotations

import math

import numpy as np
import torch
from hypothesis import currently_in_test_context, event, target

import reference

from . import knobs, observations, tolerance
from .assertions import Comparison, assert_conv_close
from .strategies import Conv2dCase, Conv2dConfig

TORCH_DTYPES = {"float64": torch.float64, "float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}

# A drawn scale_exponent e multiplies values by 2**(e * step): a wider reach for wider dtypes,
# while float16 gets down into its subnormals (2**-14 and below).
EXPONENT_STEP = {"float64": 8, "float32": 4, "bfloat16": 4, "float16": 1}


def as_numpy(tensor: torch.Tensor | None) -> np.ndarray | None:
    """float64 copy on the host; exact for every dtype checked here."""
    return None if tensor is None else tensor.detach().to("cpu", torch.float64).numpy()


def case_arrays(case: Conv2dCase, dtype: str):
    """The case's input, weight and bias in float64, scaled by powers of two so that the
    magnitude bound stays below 1/16 of the dtype's largest value (no overflow)."""
    config, step = case.config, EXPONENT_STEP[dtype]
    x = case.input.make(config.input_shape, step)
    w = case.weight.make(config.weight_shape, step)
    b = case.bias.make((config.out_channels,), step) if config.bias else None
    bound = reference.conv2d_magnitude(x, w, b, **config.conv_kwargs())
    excess = float(bound.max()) / (tolerance.LARGEST[dtype] / 16)
    if excess > 1:
        halvings = math.ceil(math.log2(excess) / 2)
        x, w = np.ldexp(x, -halvings), np.ldexp(w, -halvings)
        b = None if b is None else np.ldexp(b, -2 * halvings)
    return x, w, b


def make_layer(config: Conv2dConfig, dtype: str, weight: np.ndarray, bias: np.ndarray | None) -> torch.nn.Conv2d:
    layer = torch.nn.Conv2d(**config.layer_kwargs(), dtype=TORCH_DTYPES[dtype])
    with torch.no_grad():
        layer.weight.copy_(torch.from_numpy(weight))
        if bias is not None:
            layer.bias.copy_(torch.from_numpy(bias))
    return layer


def functional_conv2d(config: Conv2dConfig, x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
    """F.conv2d, after F.pad for the padding modes that only nn.Conv2d knows."""
    kwargs = config.conv_kwargs()
    mode = kwargs.pop("padding_mode")
    if mode != "zeros":
        pair = reference.spec.as_pair
        (top, bottom), (left, right) = reference.resolve_padding(
            config.padding, config.weight_shape[2:], pair(config.dilation, "dilation"), pair(config.stride, "stride")
        )
        x = torch.nn.functional.pad(x, (left, right, top, bottom), mode=mode)
        kwargs["padding"] = 0
    return torch.nn.functional.conv2d(x, weight, bias, **kwargs)


def check_against_reference(api: str, got: torch.Tensor, x: torch.Tensor, weight: torch.Tensor, bias, config: Conv2dConfig, record: bool = True) -> None:
    """Compare torch's output with reference.conv2d on the values torch itself held.

    record=False keeps deliberately wrong outputs (the meta-tests) out of the error statistics
    and out of reports/repro.
    """
    __tracebackhide__ = True
    dtype = str(got.dtype).removeprefix("torch.")
    xs, ws, bs = as_numpy(x), as_numpy(weight), as_numpy(bias)
    expected = reference.conv2d(xs, ws, bs, **config.conv_kwargs())
    bound = reference.conv2d_magnitude(xs, ws, bs, **config.conv_kwargs())
    exact = tolerance.exact_regime((xs, ws, bs), bound, dtype)
    reduction_length = int(np.prod(ws.shape[1:]))
    allowed = tolerance.allowance(bound, dtype, exact, reduction_length)
    got_values = as_numpy(got)
    error = np.abs(got_values - expected)
    in_eps = float(np.max(error / (tolerance.EPS[dtype] * bound + tolerance.FLOOR[dtype]), initial=0.0))
    of_allowance = float(np.max(np.where(allowed > 0, error / np.where(allowed > 0, allowed, 1), np.where(error > 0, np.inf, 0)), initial=0.0))
    regime = "exact" if exact else "bounded"
    if record:
        observations.observe(api, dtype, regime, in_eps, of_allowance)
    if record and currently_in_test_context():
        event(f"regime={regime}")
        if not exact and math.isfinite(in_eps):
            target(in_eps, label=f"error in eps*bound units ({api}, {dtype})")
    comparison = Comparison(
        api=api,
        config=config,
        dtype=dtype,
        device=str(got.device),
        torch_version=torch.__version__,
        threads=knobs.current.threads,
        input=xs,
        weight=ws,
        bias=bs,
        regime="exact (integer data, every partial sum representable): 0" if exact else tolerance.describe(dtype, reduction_length),
    )
    assert_conv_close(got_values, expected, allowed, comparison, save_reproduction=record)
