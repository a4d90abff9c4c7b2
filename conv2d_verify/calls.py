"""Run the conv under test on a case and hand its output to the judge: the layer or functional
call, what torch ran (its backend, the oneDNN kernels), the known defects and capability gaps
that may cover the example, and a child process for calls a listed defect could crash."""

from __future__ import annotations

from dataclasses import asdict

import numpy as np
import pytest
import torch

from . import capabilities, isolated, known_defects, onednn, records, repeats, repro, settings, tolerance
from .backends import UNNAMED_BACKEND, conv_backend
from .config import Conv2dConfig
from .execution import Execution
from .judge import Comparison, Expectation, expect, judge, judge_repeat
from .ops import op_of
from .strategies import regions
from .target import target_conv2d
from .values import TORCH_DTYPES, as_numpy, dtype_name


def make_layer(config, dtype: str, weight: np.ndarray, bias: np.ndarray | None) -> torch.nn.Module:
    """The configuration's module (nn.Conv2d, or the family op's) holding these weight and bias."""
    module = getattr(torch.nn, op_of(config).module)
    layer = module(**config.layer_kwargs(), dtype=TORCH_DTYPES[dtype], device=settings.current().device)
    with torch.no_grad():
        layer.weight.copy_(torch.from_numpy(weight))
        if bias is not None:
            layer.bias.copy_(torch.from_numpy(bias))
    return layer


def functional_conv2d(
    config: Conv2dConfig, x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None
) -> torch.Tensor:
    """The conv2d under test (torch's F.conv2d unless --target names another), after F.pad for
    the padding modes that only nn.Conv2d knows."""
    kwargs = config.conv_kwargs()
    mode = kwargs.pop("padding_mode")
    if mode != "zeros":
        x = torch.nn.functional.pad(x, config.torch_pad, mode=mode)
        kwargs["padding"] = 0
    return target_conv2d()(x, weight, bias, **kwargs)


def module_forward(config, module):
    """x -> module(x), with the output_size argument where a transposed configuration asks for it."""
    if getattr(config, "via_output_size", False):
        return lambda x: module(x, output_size=config.output_size_argument)
    return module


def functional_call(config, x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
    """The configuration's functional call: the conv2d under test, or torch.nn.functional's family
    op (after F.pad for the padding modes only the modules know)."""
    if config.op == "conv2d":
        return functional_conv2d(config, x, weight, bias)
    kwargs = config.conv_kwargs()
    if not config.transposed:
        mode = kwargs.pop("padding_mode")
        if mode != "zeros":
            x, kwargs["padding"] = torch.nn.functional.pad(x, config.torch_pad, mode=mode), 0
    return getattr(torch.nn.functional, config.op)(x, weight, bias, **kwargs)


def api_label(api: str) -> str:
    """The name the records, messages and reproducers give a call: the --target's own for the
    functional conv2d under test when it is not torch's."""
    run = settings.current()
    return run.target if api == "F.conv2d" and not run.judges_torch else api


def forward_expectation(config: Conv2dConfig, dtype: str, device: str, operands, backend: str) -> Expectation:
    """The op's reference on the float64 operands torch held, the allowance for the precision in force."""
    xs, ws, bs = operands
    op = op_of(config)
    expected = op.forward(xs, ws, bs, **config.conv_kwargs())
    bound = op.magnitude(xs, ws, bs, **config.conv_kwargs())
    if backend in tolerance.TRANSFORM_BACKEND_EPS:
        bound = tolerance.transform_bound(xs, ws, bs, config.groups, expected.shape)
    precision = tolerance.precision_in_force(dtype, torch.device(device).type)
    inner, outer = config.forward_sums()
    allowance = tolerance.allowance_for(bound, precision, (xs, ws, bs), inner, backend, outer)
    return expect(expected, bound, allowance, dtype)


def comparison(
    api: str, config: Conv2dConfig, dtype: str, device: str, operands, backend: str, execution: Execution, kernels=()
) -> Comparison:
    xs, ws, bs = operands
    return Comparison(
        api,
        config,
        dtype,
        device,
        backend,
        torch.__version__,
        execution,
        xs,
        ws,
        bs,
        kernels=tuple(str(k) for k in kernels),
    )


def check_against_reference(
    api: str,
    got: torch.Tensor,
    x: torch.Tensor,
    weight: torch.Tensor,
    bias,
    config: Conv2dConfig,
    execution: Execution,
    record: bool = True,
    tolerated=None,
    operands=None,
    backend: str | None = None,
    kernels=(),
) -> None:
    """Judge torch's output against reference.conv2d on the values torch itself held.

    record=False keeps deliberately wrong outputs (the meta-tests) out of the records and out of
    reports/repro. tolerated: the known defect this example falls under. operands (x, w, b as
    float64) and backend, when the caller has them already; kernels: the oneDNN kernels that ran."""
    __tracebackhide__ = True
    api = api_label(api)
    operands = operands if operands is not None else (as_numpy(x), as_numpy(weight), as_numpy(bias))
    backend = conv_backend(config, x, weight) if backend is None else backend
    dtype = dtype_name(got)
    expectation = forward_expectation(config, dtype, str(got.device), operands, backend)
    judge(
        comparison(api, config, dtype, str(got.device), operands, backend, execution, kernels),
        as_numpy(got),
        expectation,
        tolerated,
        record,
    )


def check_call(
    api: str, config: Conv2dConfig, call, x: torch.Tensor, weight: torch.Tensor, bias, execution: Execution
) -> torch.Tensor | None:
    """Run call() (the computation under test, under `execution`) and judge it against the reference.

    call() runs again under poisoned memory (repeats.rerun): a second output with other bits is a
    stale read or nondeterminism, judged as such. Returns the output when it was held to the
    reference; None when a known defect covers the example (a crash or an error it is known for,
    or wrong values, recorded) or a capability gap does. What torch ran (its backend, the oneDNN
    kernels) decides which defect applies."""
    __tracebackhide__ = True
    execution.require_in_force()
    api = api_label(api)
    dtype = dtype_name(x)
    operands, backend = (as_numpy(x), as_numpy(weight), as_numpy(bias)), conv_backend(config, x, weight)
    candidates = known_defects.suspects(api, config, dtype, operands, backend)
    if crashed_as_known(api, config, dtype, str(x.device), operands, backend, candidates, execution):
        return None
    got, ran = run_observed(call, dtype, config, backend, execution, candidates, api)
    if got is None:
        return None
    defect = known_defects.wrong_values_from(candidates, ran)
    check_against_reference(
        api,
        got,
        x,
        weight,
        bias,
        config,
        execution,
        tolerated=defect,
        operands=operands,
        backend=backend,
        kernels=ran.kernels,
    )
    if defect is not None:
        return None
    disagreement = repeats.rerun(lambda: (call(),), (got,), execution.deterministic)
    if disagreement is not None:
        expectation = forward_expectation(config, dtype, str(got.device), operands, backend)
        judge_repeat(
            comparison(api, config, dtype, str(got.device), operands, backend, execution, ran.kernels),
            as_numpy(got),
            as_numpy(disagreement.again[0]),
            expectation,
            disagreement.kind,
            disagreement.explanation,
            strict=execution.deterministic,
        )
    return got


# errors of the generated source itself, never of torch's call
HARNESS_ERRORS = ("NameError", "SyntaxError", "AttributeError", "KeyError", "ImportError")


def crashed_as_known(
    api, config, dtype, device, operands, backend, candidates, execution: Execution, grad_output=None
) -> bool:
    """Where a listed defect could crash torch on this call, run it in a child process first.
    True when it ran the kernel the defect lives in there, crashing or not (recorded as that
    defect's, and not run in the test process); False when that kernel did not run (run it here
    as usual); a crash in any other kernel fails."""
    __tracebackhide__ = True
    if not any(d.effect == known_defects.CRASHES for d in candidates):
        return False
    arrays = dict(zip(("x", "w", "b", "g"), (*operands, grad_output)))
    run = isolated.run(repro.isolation_source(api, config, dtype, execution, device), arrays)
    failure = (run.error or "").strip().splitlines()[-1:] or [""]
    if failure[0].startswith(HARNESS_ERRORS):  # the call never ran: running it here instead could crash
        raise AssertionError(f"the isolated call's source failed before reaching torch (a harness bug):\n{run.error}")
    ran = known_defects.Ran(backend, run.kernels)
    defect = known_defects.crash_from(candidates, ran)
    if not run.crashed and defect is not None:
        # the kernel reads out of bounds: whether that faults depends on the process's memory (a
        # conv1d example ran cleanly in the child, then crashed the test process), so it is not run here
        records.count_event(f"known defect's kernel ran in isolation without crashing: {defect.name}")
        record_unjudged(api, config, dtype, backend, ran, execution, f"known defect (its kernel ran): {defect.name}")
        return True
    if not run.crashed:
        records.count_event(f"isolated first (a listed defect could crash it): no crash, {run.last_kernel}")
        return False
    if defect is not None:
        records.count_event(f"known defect, crashed in {run.last_kernel} (isolated): {defect.name}")
        record_unjudged(api, config, dtype, backend, ran, execution, f"known defect (crashed): {defect.name}")
        return True
    forward_api = api.removesuffix(" backward")
    expectation = forward_expectation(config, dtype, device, operands[:3], backend)
    script = repro.snippet(
        comparison(forward_api, config, dtype, device, operands[:3], backend, execution, run.kernels),
        expectation.expected,
        expectation.allowance.allowed,
    )
    raise AssertionError(
        f"torch {torch.__version__} crashed (signal {run.signal}) on a valid configuration"
        f" ({api}, {dtype}, {execution})"
        f" in oneDNN kernel {run.last_kernel}; no known defect covers that kernel"
        f" (suspected: {', '.join(d.name for d in candidates)}).\nConfiguration: {config!r}\n"
        f"Reproduce in a fresh interpreter: python {repro.write(script, records.current_test())}"
    )


def record_unjudged(api, config, dtype, backend, ran, execution: Execution, verdict: str) -> None:
    """An example that produced no output to judge (a known crash or error): in results.json all the same."""
    records.record_example(
        api=api,
        dtype=dtype,
        backend=backend,
        kernels=[str(k) for k in ran.kernels],
        regime="not compared",
        config=asdict(config),
        execution=asdict(execution),
        worst_in_eps=0.0,
        worst_of_allowance=0.0,
        verdict=verdict,
    )


def run_observed(
    call,
    dtype: str,
    config: Conv2dConfig,
    backend: str,
    execution: Execution,
    candidates=(),
    api: str = "",
    gaps=None,
    skip: bool = False,
):
    """(call(), what torch ran) on a valid configuration; on the CPU oneDNN's log says which kernels.

    torch raising is a failure unless a listed defect (by message, version and what ran) or a
    recorded capability gap covers it: then (None, what ran), or with skip=True (for tests
    that have nothing to check without torch's output) the test is skipped."""
    __tracebackhide__ = True
    kernels: list = []
    # oneDNN's log costs about 0.1 ms a call: read it where oneDNN may run (inductor may call it
    # whatever backend eager selection names)
    observe = backend in ("Mkldnn", "unknown", UNNAMED_BACKEND) or api.startswith("torch.compile(")
    try:
        if observe and settings.current().device_type == "cpu" and torch.backends.mkldnn.is_available():
            with onednn.kernels_logged() as kernels:
                got = call()
        else:
            got = call()
    except Exception as error:
        ran = known_defects.Ran(backend, tuple(kernels))
        defect = known_defects.raised_by(error, candidates, ran)
        if defect is not None:
            records.count_event(f"known defect, raised as listed: {defect.name}")
            record_unjudged(api, config, dtype, backend, ran, execution, f"known defect (raised): {defect.name}")
            return None, ran
        gap = capabilities.gap_for(error, dtype, gaps)
        if gap is None:
            raise AssertionError(
                f"{api or 'torch'} (torch {torch.__version__}) raised on a valid configuration"
                f" ({api} {dtype}, backend {backend}, {execution}):\n"
                f"{type(error).__name__}: {error}\nConfiguration: {config!r}\n"
                "No known defect (conv2d_verify/known_defects.py) or capability gap"
                " (conv2d_verify/capabilities.py) covers it."
            ) from error
        records.count_event(f"capability gap: {gap.name}")
        if skip:
            pytest.skip(f"torch {torch.__version__} lacks this capability (conv2d_verify/capabilities.py): {gap.name}")
        return None, known_defects.Ran(backend, tuple(kernels))
    ran = known_defects.Ran(backend, tuple(kernels))
    reached = [
        *(f"oneDNN kernel ({dtype}): {kernel}" for kernel in ran.kernels),
        f"input layout={execution.input_layout}",
        f"weight layout={execution.weight_layout}",
    ]
    for name in reached:
        records.count_event(name)
    records.climb_to_rare([*reached, *regions(config)])
    return got, ran


def run_valid_call(
    call, dtype: str, config: Conv2dConfig, execution: Execution, gaps=None, skip: bool = False, api: str = "nn.Conv2d"
):
    """call() on a valid configuration, torch's output or None (see run_observed); the listed
    defects that raise on such a call are its suspects."""
    __tracebackhide__ = True
    candidates = known_defects.raising_suspects(api, config, dtype)
    return run_observed(call, dtype, config, "unknown", execution, candidates, api, gaps=gaps, skip=skip)[0]


def assert_deterministic(
    first: torch.Tensor, again: torch.Tensor, execution: Execution, what: str = "the output"
) -> None:
    __tracebackhide__ = True
    assert repeats.same_bits(first, again), (
        f"{what} of two identical calls differs under {execution}:"
        f" max |difference| {(first - again).abs().max().item()}"
    )
