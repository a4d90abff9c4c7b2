"""Gradients of the module under test against reference.conv2d_backward: x.grad, weight.grad and
bias.grad after backward with a drawn grad_output g (the gradient of loss = (layer(x) * g).sum()).

Allowances come from each gradient's magnitude bound and the sums behind it: grad_input sums
out_channels/groups products per tap in the accumulator, then up to kh*kw taps (col2im) and the
padding fold; grad_weight and grad_bias sum Ho*Wo products per image, then N images."""

from __future__ import annotations

import dataclasses

import numpy as np

from . import known_defects, records, repeats, tolerance
from .backends import conv_backend
from .calls import api_label, comparison, crashed_as_known, functional_call, make_layer, module_forward, run_observed
from .config import Conv2dConfig
from .execution import Execution
from .judge import expect, judge, judge_repeat
from .ops import op_of
from .values import EXPONENT_STEP, as_numpy, case_arrays, on_device, within


def finite_grad_output(recipe, x, w, b, config: Conv2dConfig, dtype: str) -> np.ndarray:
    """grad_output from its recipe, halved until every gradient's bound stays below 1/16 of the
    dtype's largest value (overflow is tested with the special values)."""
    ceiling = tolerance.LARGEST[dtype] / 16
    g = within(recipe.make(config.output_shape, EXPONENT_STEP[dtype]), ceiling)
    bounds = op_of(config).backward_magnitude(g, x, w, b, **config.conv_kwargs())
    largest = max(float(a.max(initial=0.0)) for a in bounds if a is not None)
    return g if largest <= ceiling else np.ldexp(g, -int(np.ceil(np.log2(largest / ceiling))))


def check_module_gradients(
    dtype, case, grad, execution: Execution, api: str | None = None, wrap=lambda layer: layer
) -> None:
    """Forward and backward through wrap(layer) (the layer itself, or torch.compile of it), its
    weight in the execution's layout as model.to(memory_format=...) leaves it. api: the
    module's own name (nn.Conv2d, nn.Conv3d, ...) unless given."""
    __tracebackhide__ = True
    config, op = case.config, op_of(case.config)
    x, w, b = case_arrays(case, dtype)
    layer = make_layer(config, dtype, w, b)
    layer.weight.data = execution.arrange_weight(layer.weight.data, op.dims + 2)
    forward = module_forward(config, wrap(layer))
    check_gradients(api or op.module_api, config, dtype, x, grad, execution, forward, layer.weight, layer.bias)


def check_functional_gradients(dtype, case, grad, execution: Execution) -> None:
    """Forward and backward through the functional op under test (F.conv2d or --target, F.conv3d,
    ...), its weight a leaf in the execution's layout."""
    __tracebackhide__ = True
    config, op = case.config, op_of(case.config)
    x, w, b = case_arrays(case, dtype)
    wt = execution.arrange_weight(on_device(w, dtype), op.dims + 2).detach().requires_grad_()
    bt = None if b is None else on_device(b, dtype).requires_grad_()
    forward = lambda xt: functional_call(config, xt, wt, bt)
    check_gradients(api_label(op.functional_api), config, dtype, x, grad, execution, forward, wt, bt)


def check_gradients(
    api: str, config: Conv2dConfig, dtype: str, x: np.ndarray, grad, execution: Execution, forward, weight, bias
) -> None:
    """forward(x) and backward with a drawn grad_output under execution, x a leaf in the
    execution's input layout; x.grad and the grads of the weight and bias leaves each judged
    against reference.conv2d_backward on the values torch held. The whole call runs again under
    poisoned memory (repeats.rerun); gradients that then differ are judged as stale reads or
    nondeterminism."""
    __tracebackhide__ = True
    xt = execution.arrange_input(on_device(x, dtype), op_of(config).dims + 2).detach().requires_grad_()
    held = (as_numpy(xt), as_numpy(weight), as_numpy(bias))  # "expanded" repeats the first image
    g = finite_grad_output(grad, *held, config, dtype)
    calls = f"{api} backward"
    with execution.active():
        execution.require_in_force()
        precision = tolerance.precision_in_force(dtype, xt.device.type)  # the flags in force for this call
        backend = conv_backend(config, xt, weight)
        candidates = known_defects.suspects(calls, config, dtype, held, backend)
        if crashed_as_known(calls, config, dtype, str(xt.device), held, backend, candidates, execution, grad_output=g):
            return
        gt = on_device(g, dtype)
        leaves = (xt, weight, bias)

        def forward_and_backward():
            for leaf in leaves:
                if leaf is not None:
                    leaf.grad = None
            out = forward(xt)
            out.backward(gt)
            return out

        out, ran = run_observed(forward_and_backward, dtype, config, backend, execution, candidates, calls)
        if out is None:
            return
        first = tuple(None if leaf is None else leaf.grad for leaf in leaves)
        regrad = lambda: (forward_and_backward(), tuple(None if leaf is None else leaf.grad for leaf in leaves))[1]
        disagreement = repeats.rerun(regrad, first, execution.deterministic)
    xs, ws, bs, gs = *held, as_numpy(gt)
    op = op_of(config)
    expected = op.backward(gs, xs, ws, bs, **config.conv_kwargs())
    bounds = op.backward_magnitude(gs, xs, ws, bs, **config.conv_kwargs())
    compared = comparison(api, config, dtype, str(xt.device), (xs, ws, bs), backend, execution, ran.kernels)
    compared = dataclasses.replace(compared, grad_output=gs)
    for index, (name, (inner, outer)) in enumerate(config.gradient_sums().items()):
        if first[index] is None:
            continue
        allowance = tolerance.allowance_for(bounds[index], precision, (xs, ws, gs), inner, backend, outer)
        expectation = expect(expected[index], bounds[index], allowance, dtype)
        defect = known_defects.wrong_values_from(candidates, ran, gradient=name)
        judged = dataclasses.replace(compared, gradient=name)
        judge(judged, as_numpy(first[index]), expectation, defect)
        if disagreement is not None and not repeats.same_bits(first[index], disagreement.again[index]):
            again = as_numpy(disagreement.again[index])
            kind, why = disagreement.kind, disagreement.explanation
            judge_repeat(judged, as_numpy(first[index]), again, expectation, kind, why, execution.deterministic, defect)
    records.count_event(f"backend={backend} ({dtype})")
