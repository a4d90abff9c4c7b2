"""Gradients of nn.Conv2d against reference.conv2d_backward: x.grad, weight.grad and bias.grad
after backward with a drawn grad_output g (the gradient of loss = (layer(x) * g).sum()),
under oneDNN on and off and one or two threads.

Allowances come from each gradient's magnitude bound and the sums behind it: grad_input sums
out_channels/groups products per tap in the accumulator, then up to kh*kw taps (col2im) and the
padding fold; grad_weight and grad_bias sum Ho*Wo products per image, then N images."""

import numpy as np
import pytest
import torch
from hypothesis import event, given
from hypothesis import strategies as st

import reference
from reference.padding import source_indices

from . import knobs, known_defects, tolerance
from .assertions import Comparison
from .backends import conv_backend
from .differential import EXPONENT_STEP, as_numpy, case_arrays, crashed_as_known, judge, make_layer, on_device, run_observed, within
from .execution import executions, in_force
from .strategies import Conv2dConfig, conv2d_cases, value_recipes


def fold_multiplicity(config: Conv2dConfig) -> int:
    """How many padded positions at most fold back onto one input pixel (1 for zeros)."""
    if config.padding_mode == "zeros":
        return 1
    (top, bottom), (left, right) = config.pads
    rows = np.bincount(source_indices(config.height, top, bottom, config.padding_mode)).max()
    cols = np.bincount(source_indices(config.width, left, right, config.padding_mode)).max()
    return int(rows * cols)


def sums_behind(config: Conv2dConfig, out_shape) -> dict[str, tuple[int, int]]:
    """Per gradient: (terms summed in the accumulator, partial sums added in the output dtype)."""
    out_channels, _, kh, kw = config.weight_shape
    images = 1 if config.batch is None else config.batch
    pixels = out_shape[-1] * out_shape[-2]
    return {
        "input": (out_channels // config.groups, kh * kw + fold_multiplicity(config)),
        "weight": (pixels, images),
        "bias": (pixels, images),
    }


def finite_grad_output(recipe, shape, x, w, b, config, dtype) -> np.ndarray:
    """grad_output from its recipe, halved until every gradient's bound stays below 1/16 of the
    dtype's largest value (overflow is tested with the special values)."""
    ceiling = tolerance.LARGEST[dtype] / 16
    g = within(recipe.make(shape, EXPONENT_STEP[dtype]), ceiling)
    bounds = reference.conv2d_backward_magnitude(g, x, w, b, **config.conv_kwargs())
    largest = max(float(a.max(initial=0.0)) for a in bounds if a is not None)
    return g if largest <= ceiling else np.ldexp(g, -int(np.ceil(np.log2(largest / ceiling))))


def check_gradient(name, got, expected, bound, precision, sums, comparison, tolerated) -> None:
    __tracebackhide__ = True
    inner, outer = sums
    exact = tolerance.exact_regime((comparison.input, comparison.weight, comparison.grad_output), bound, precision, comparison.backend)
    allowed = tolerance.allowance(bound, precision, exact, inner, comparison.backend, outer)
    expected, allowed = tolerance.with_overflow(expected, allowed, comparison.dtype)
    comparison = Comparison(**{**comparison.__dict__, "gradient": name,
                               "regime": "exact: 0" if exact else tolerance.describe(precision, inner, comparison.backend, outer)})
    judge(comparison, "exact" if exact else "bounded", got, expected, bound, allowed, tolerated)


@pytest.mark.parametrize("dtype", knobs.current.dtypes)
@given(case=conv2d_cases(), grad=value_recipes(), execution=executions(nnpack=st.just(False), input_layout=st.just("contiguous"), weight_layout=st.just("contiguous")))
def test_module_gradients_match_reference(dtype, case, grad, execution):
    check_module_gradients(dtype, case, grad, execution)


def check_module_gradients(dtype, case, grad, execution, api: str = "nn.Conv2d", wrap=lambda layer: layer) -> None:
    """Forward and backward through wrap(layer) (the layer itself, or torch.compile of it), each
    gradient judged against the reference."""
    __tracebackhide__ = True
    config = case.config
    x, w, b = case_arrays(case, dtype)
    g = finite_grad_output(grad, config.output_shape, x, w, b, config, dtype)
    layer = make_layer(config, dtype, w, b)
    module = wrap(layer)
    xt = on_device(x, dtype).requires_grad_()
    calls = f"{api} backward"
    with execution.active():
        precision = tolerance.precision_in_force(dtype, xt.device.type)  # the flags in force for this call
        settings = in_force()
        backend = conv_backend(config, xt, layer.weight)
        candidates = known_defects.suspects(calls, config, dtype, (x, w, b), backend)
        if crashed_as_known(calls, config, dtype, str(xt.device), (x, w, b), backend, candidates, grad_output=g):
            return
        gt = on_device(g, dtype)

        def forward_and_backward():
            out = module(xt)
            out.backward(gt)
            return out

        out, ran = run_observed(forward_and_backward, dtype, config, backend, candidates, calls)
        if out is None:
            return
    defect = known_defects.wrong_values_from(candidates, ran)
    xs, ws, bs, gs = as_numpy(xt), as_numpy(layer.weight), as_numpy(layer.bias), as_numpy(gt)
    expected = reference.conv2d_backward(gs, xs, ws, bs, **config.conv_kwargs())
    bounds = reference.conv2d_backward_magnitude(gs, xs, ws, bs, **config.conv_kwargs())
    comparison = Comparison(api, config, dtype, str(xt.device), backend, torch.__version__, settings, xs, ws, bs, "", grad_output=gs,
                            kernels=tuple(str(k) for k in ran.kernels))
    sums = sums_behind(config, config.output_shape)
    got = {"input": xt.grad, "weight": layer.weight.grad, "bias": layer.bias.grad if config.bias else None}
    for index, name in enumerate(("input", "weight", "bias")):
        if got[name] is not None:
            check_gradient(name, as_numpy(got[name]), expected[index], bounds[index], precision, sums[name], comparison, defect)
    event(f"backend={backend} ({dtype})")
