"""Run a case through torch, and judge torch's output against the reference."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
import pytest
import torch
from hypothesis import currently_in_test_context, event, target

import reference

from . import capabilities, execution, isolated, knobs, known_defects, observations, onednn, repro, tolerance
from .assertions import Comparison, assert_conv_close, mismatch_report
from .backends import conv_backend
from .strategies import Conv2dCase, Conv2dConfig

TORCH_DTYPES = {"float64": torch.float64, "float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}

# A drawn scale_exponent e multiplies values by 2**(e * step): a wider reach for wider dtypes,
# while float16 gets down into its subnormals (2**-14 and below).
EXPONENT_STEP = {"float64": 8, "float32": 4, "bfloat16": 4, "float16": 1}


def note(text: str) -> None:
    """hypothesis.event() when inside a Hypothesis test, nothing elsewhere."""
    if currently_in_test_context():
        event(text)


def as_numpy(tensor: torch.Tensor | None) -> np.ndarray | None:
    """float64 copy on the host; exact for every dtype checked here."""
    return None if tensor is None else tensor.detach().to("cpu", torch.float64).numpy()


def case_arrays(case: Conv2dCase, dtype: str):
    """The case's input, weight and bias in float64, scaled by powers of two so that every
    value and the magnitude bound stay below 1/16 of the dtype's largest value: finite data,
    no overflow (special values are tested on their own)."""
    config, step = case.config, EXPONENT_STEP[dtype]
    ceiling = tolerance.LARGEST[dtype] / 16
    x = within(case.input.make(config.input_shape, step), ceiling)
    w = within(case.weight.make(config.weight_shape, step), ceiling)
    b = within(case.bias.make((config.out_channels,), step), ceiling) if config.bias else None
    excess = float(reference.conv2d_magnitude(x, w, b, **config.conv_kwargs()).max(initial=0.0)) / ceiling
    if excess > 1:
        halvings = math.ceil(math.log2(excess) / 2)
        x, w = np.ldexp(x, -halvings), np.ldexp(w, -halvings)
        b = None if b is None else np.ldexp(b, -2 * halvings)
    return x, w, b


def within(values: np.ndarray, ceiling: float) -> np.ndarray:
    """values halved as often as needed for every magnitude to be at most ceiling."""
    largest = float(np.abs(values).max(initial=0.0))
    return values if largest <= ceiling else np.ldexp(values, -math.ceil(math.log2(largest / ceiling)))


def on_device(array: np.ndarray | None, dtype: str) -> torch.Tensor | None:
    """The array as a tensor of the dtype on the suite's device (--device)."""
    return None if array is None else torch.from_numpy(array).to(device=knobs.current.device, dtype=TORCH_DTYPES[dtype])


def make_layer(config: Conv2dConfig, dtype: str, weight: np.ndarray, bias: np.ndarray | None) -> torch.nn.Conv2d:
    layer = torch.nn.Conv2d(**config.layer_kwargs(), dtype=TORCH_DTYPES[dtype], device=knobs.current.device)
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
        x = torch.nn.functional.pad(x, config.torch_pad, mode=mode)
        kwargs["padding"] = 0
    return torch.nn.functional.conv2d(x, weight, bias, **kwargs)


@dataclass(frozen=True)
class Expectation:
    """What the reference says one output should be, and how far torch may be from it."""

    comparison: Comparison
    regime: str  # "exact" or "bounded"
    expected: np.ndarray
    bound: np.ndarray
    allowed: np.ndarray


def forward_expectation(api: str, config: Conv2dConfig, dtype: str, device: str, operands, backend: str, ran_kernels=()) -> Expectation:
    """reference.conv2d on the float64 operands torch held, the allowance for the precision in force."""
    xs, ws, bs = operands
    expected = reference.conv2d(xs, ws, bs, **config.conv_kwargs())
    bound = reference.conv2d_magnitude(xs, ws, bs, **config.conv_kwargs())
    if backend in tolerance.TRANSFORM_BACKEND_EPS:
        bound = tolerance.transform_bound(xs, ws, bs, config.groups, expected.shape)
    precision = tolerance.precision_in_force(dtype, torch.device(device).type)
    exact = tolerance.exact_regime((xs, ws, bs), bound, precision, backend)
    reduction_length = int(np.prod(ws.shape[1:]))
    allowed = tolerance.allowance(bound, precision, exact, reduction_length, backend)
    expected, allowed = tolerance.with_overflow(expected, allowed, dtype)
    comparison = Comparison(
        api=api, config=config, dtype=dtype, device=device, backend=backend, torch_version=torch.__version__,
        execution=execution.in_force(), input=xs, weight=ws, bias=bs,
        regime="exact (integer data, every partial sum representable): 0" if exact else tolerance.describe(precision, reduction_length, backend),
        kernels=tuple(str(k) for k in ran_kernels),
    )
    return Expectation(comparison, "exact" if exact else "bounded", expected, bound, allowed)


def check_against_reference(
    api: str, got: torch.Tensor, x: torch.Tensor, weight: torch.Tensor, bias, config: Conv2dConfig, record: bool = True, tolerated=None,
    operands=None, backend: str | None = None, ran_kernels=(),
) -> None:
    """Compare torch's output with reference.conv2d on the values torch itself held.

    record=False keeps deliberately wrong outputs (the meta-tests) out of the error statistics
    and out of reports/repro. tolerated: the known defect this example falls under; a
    disagreement is then recorded as that defect's, not raised. operands (x, w, b as float64)
    and backend, when the caller has them already; ran_kernels: the oneDNN kernels that ran.
    """
    __tracebackhide__ = True
    operands = operands if operands is not None else (as_numpy(x), as_numpy(weight), as_numpy(bias))
    backend = conv_backend(config, x, weight) if backend is None else backend
    dtype = str(got.dtype).removeprefix("torch.")
    e = forward_expectation(api, config, dtype, str(got.device), operands, backend, ran_kernels)
    judge(e.comparison, e.regime, as_numpy(got), e.expected, e.bound, e.allowed, tolerated, record)


def judge(comparison: Comparison, regime: str, got, expected, bound, allowed, tolerated=None, record: bool = True) -> None:
    """The verdict on one output: inside a known defect's region, recorded as that defect's (and
    kept out of the error statistics even where it agrees: a kernel known to read wrong memory
    can land near the answer); else recorded (unless record is False) and asserted."""
    __tracebackhide__ = True
    mismatched = mismatch_report(got, expected, allowed) is not None
    if tolerated is not None:
        note(f"known defect, {'wrong as listed' if mismatched else 'agreed this time'}: {tolerated.name}")
        verdict = "known defect" if mismatched else "known defect region, agreed"
        record_error(comparison, regime, got, expected, bound, allowed, f"{verdict}: {tolerated.name}")
        return
    if record:
        record_error(comparison, regime, got, expected, bound, allowed, "fail" if mismatched else "pass")
    assert_conv_close(got, expected, allowed, comparison, save_reproduction=record)


def record_error(comparison: Comparison, regime: str, got, expected, bound, allowed, verdict: str) -> None:
    """Feed the run's results and error statistics, and steer Hypothesis towards the largest
    relative error. Only finite expectations with finite allowances count towards the errors
    (infinities are matched exactly)."""
    c = comparison
    api = c.api if c.gradient is None else f"grad_{c.gradient}" if c.api == "nn.Conv2d" else f"{c.api} grad_{c.gradient}"
    counted = np.isfinite(expected) & np.isfinite(allowed)
    got, expected, bound, allowed = (np.where(counted, a, 0.0) for a in (got, expected, bound, allowed))
    error = np.abs(got - expected)
    if c.backend in tolerance.TRANSFORM_BACKEND_EPS:
        bound = bound.max(axis=(-2, -1), keepdims=True, initial=0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        in_eps = float(np.max(error / (tolerance.EPS[c.dtype] * bound + tolerance.FLOOR[c.dtype]), initial=0.0))
        of_allowance = float(np.max(np.where(error > 0, error / allowed, 0.0), initial=0.0))
    observations.record_example(
        api=api, dtype=c.dtype, backend=c.backend, kernels=list(c.kernels), regime=regime, config=asdict(c.config),
        execution=repr(c.execution), worst_in_eps=in_eps, worst_of_allowance=of_allowance, verdict=verdict,
    )
    if verdict != "pass":
        return
    if regime == "bounded":
        digest = observations.case_digest(f"{api}|{c.dtype}|{c.config!r}|{c.execution!r}", c.input, c.weight, c.bias, c.grad_output)
        observations.record_output(digest, got, allowed)
    observations.observe(api, c.dtype, c.backend, regime, in_eps, of_allowance)
    if currently_in_test_context():
        event(f"regime={regime}")
        event(f"backend={c.backend} ({c.dtype})")
        if regime == "bounded" and math.isfinite(in_eps):
            target(in_eps, label=f"error in eps*bound units ({api}, {c.dtype}, {c.backend})")


def check_call(api: str, config: Conv2dConfig, call, x: torch.Tensor, weight: torch.Tensor, bias) -> torch.Tensor | None:
    """Run call() (the torch computation under test) and check it against the reference.

    Returns torch's output when it was held to the reference; None when a known defect covers
    the example (a crash or an error it is known for, or wrong values, recorded) or a capability
    gap does. What torch ran (its backend, the oneDNN kernels) decides which defect applies."""
    __tracebackhide__ = True
    dtype = str(x.dtype).removeprefix("torch.")
    operands, backend = (as_numpy(x), as_numpy(weight), as_numpy(bias)), conv_backend(config, x, weight)
    candidates = known_defects.suspects(api, config, dtype, operands, backend)
    if crashed_as_known(api, config, dtype, str(x.device), operands, backend, candidates):
        return None
    got, ran = run_observed(call, dtype, config, backend, candidates, api)
    if got is None:
        return None
    defect = known_defects.wrong_values_from(candidates, ran)
    check_against_reference(api, got, x, weight, bias, config, tolerated=defect, operands=operands, backend=backend, ran_kernels=ran.kernels)
    return got if defect is None else None


def crashed_as_known(api, config, dtype, device, operands, backend, candidates, grad_output=None) -> bool:
    """Where a listed defect could crash torch on this call, run it in a child process first.
    True when it crashed there in the kernel the defect lives in (recorded as that defect's);
    False when it did not crash (run it here as usual); a crash in any other kernel fails."""
    __tracebackhide__ = True
    if not any(d.effect == known_defects.CRASHES for d in candidates):
        return False
    settings = execution.in_force()
    arrays = dict(zip(("x", "w", "b", "g"), (*operands, grad_output)))
    run = isolated.run(repro.isolation_source(api, config, dtype, settings, device), arrays)
    if not run.crashed:
        note(f"isolated first (a listed defect could crash it): no crash, {run.last_kernel}")
        return False
    ran = known_defects.Ran(backend, run.kernels)
    defect = known_defects.crash_from(candidates, ran)
    if defect is not None:
        note(f"known defect, crashed in {run.last_kernel} (isolated): {defect.name}")
        record_unjudged(api, config, dtype, backend, ran, settings, f"known defect (crashed): {defect.name}")
        return True
    e = forward_expectation(api.removesuffix(" backward"), config, dtype, device, operands[:3], backend, run.kernels)
    script = repro.snippet(e.comparison, e.expected, e.allowed)
    raise AssertionError(
        f"torch {torch.__version__} crashed (signal {run.signal}) on a valid configuration ({api}, {dtype}, {settings})"
        f" in oneDNN kernel {run.last_kernel}; no known defect covers that kernel"
        f" (suspected: {', '.join(d.name for d in candidates)}).\nConfiguration: {config!r}\n"
        f"Reproduce in a fresh interpreter: python {repro.write(script)}"
    )


def record_unjudged(api, config, dtype, backend, ran, settings, verdict: str) -> None:
    """An example that produced no output to judge (a known crash or error): in results.json all the same."""
    observations.record_example(
        api=api, dtype=dtype, backend=backend, kernels=[str(k) for k in ran.kernels], regime="not compared", config=asdict(config),
        execution=repr(settings), worst_in_eps=0.0, worst_of_allowance=0.0, verdict=verdict,
    )


def run_observed(call, dtype: str, config: Conv2dConfig, backend: str, candidates=(), api: str = "", gaps=None, skip: bool = False):
    """(call(), what torch ran) on a valid configuration; on the CPU oneDNN's log says which kernels.

    torch raising is a failure unless a listed defect (by message, version and what ran) or a
    recorded capability gap covers it: then (None, what ran), or with skip=True (for tests
    that have nothing to check without torch's output) the test is skipped."""
    __tracebackhide__ = True
    kernels: list = []
    # oneDNN's log costs about 0.1 ms a call: read it where oneDNN may run (inductor may call it
    # whatever backend eager selection names)
    observe = backend in ("Mkldnn", "unknown") or repro.COMPILED in api
    try:
        if observe and knobs.current.device_type == "cpu" and torch.backends.mkldnn.is_available():
            with onednn.kernels_logged() as kernels:
                got = call()
        else:
            got = call()
    except Exception as error:  # noqa: BLE001 - every exception is judged below, none swallowed blindly
        ran = known_defects.Ran(backend, tuple(kernels))
        defect = known_defects.raised_by(error, candidates, ran)
        if defect is not None:
            note(f"known defect, raised as listed: {defect.name}")
            record_unjudged(api, config, dtype, backend, ran, execution.in_force(), f"known defect (raised): {defect.name}")
            return None, ran
        gap = capabilities.gap_for(error, dtype, gaps)
        if gap is None:
            raise AssertionError(
                f"torch {torch.__version__} raised on a valid configuration ({api} {dtype}, backend {backend},"
                f" {execution.in_force()}):\n{type(error).__name__}: {error}\n"
                f"Configuration: {config!r}\nNo known defect (tests/known_defects.py) or capability gap"
                f" (tests/capabilities.py) covers it."
            ) from error
        note(f"capability gap: {gap.name}")
        if skip:
            pytest.skip(f"torch {torch.__version__} lacks this capability (tests/capabilities.py): {gap.name}")
        return None, known_defects.Ran(backend, tuple(kernels))
    ran = known_defects.Ran(backend, tuple(kernels))
    for kernel in ran.kernels:
        note(f"oneDNN kernel ({dtype}): {kernel}")
    return got, ran


def run_valid_call(call, dtype: str, config: Conv2dConfig, gaps=None, skip: bool = False, api: str = "nn.Conv2d"):
    """call() on a valid configuration, torch's output or None (see run_observed); the listed
    defects that raise on such a call are its suspects."""
    __tracebackhide__ = True
    candidates = known_defects.raising_suspects(api, config, dtype)
    return run_observed(call, dtype, config, "unknown", candidates, api, gaps=gaps, skip=skip)[0]
