"""One judge for every torch-versus-reference check: the mismatch is computed once, recorded as
data, and explained in one message format (the assert_close-style counts, the worst element with
got/expected/allowed, the configuration, a reproducer)."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

from . import records, repro, tolerance
from .strategies import regions
from .tolerance import Allowance

MAX_SNIPPET_LINES_SHOWN = 40


@dataclass(frozen=True)
class Comparison:
    """What was compared: enough to explain a failure and to reproduce it elsewhere."""

    api: str  # "nn.Conv2d", "F.conv2d", "torch.compile(nn.Conv2d)"
    config: object  # config.Conv2dConfig
    dtype: str
    device: str
    backend: str  # the kernel torch selected, e.g. Mkldnn, Slow2d
    torch_version: str
    execution: object  # execution.Execution: threads, kernel flags, layouts
    input: np.ndarray  # the values torch held, as float64
    weight: np.ndarray
    bias: np.ndarray | None
    gradient: str | None = None  # "input", "weight" or "bias" when a gradient is compared
    grad_output: np.ndarray | None = None
    kernels: tuple[str, ...] = ()  # the oneDNN kernels that ran, as oneDNN's log names them

    @property
    def what(self) -> str:
        return self.api if self.gradient is None else f"{self.api} grad_{self.gradient}"

    @property
    def headline(self) -> str:
        ran = self.backend + (f" ({', '.join(self.kernels)})" if self.kernels else "")
        return (
            f"{self.what} {self.dtype} on {self.device}, backend {ran} (torch {self.torch_version}, {self.execution})"
        )


@dataclass(frozen=True)
class Expectation:
    """What the reference says the output should be, its magnitude bound, and the allowance."""

    expected: np.ndarray
    bound: np.ndarray
    allowance: Allowance


def expect(expected: np.ndarray, bound: np.ndarray, allowance: Allowance, dtype: str) -> Expectation:
    """The expectation after torch rounds into the dtype: past its range lies +-inf."""
    expected, allowed = tolerance.with_overflow(expected, allowance.allowed, dtype)
    return Expectation(expected, bound, Allowance(allowance.regime, allowed, allowance.description))


@dataclass(frozen=True)
class Mismatch:
    """The elements outside their allowance, and the worst of them."""

    count: int
    size: int
    index: tuple[int, ...]
    got: float
    expected: float
    difference: float
    relative: float
    allowed: float
    excess: float  # difference / allowed

    def __str__(self) -> str:
        index = "(" + ", ".join(str(i) for i in self.index) + ")"
        return (
            f"Mismatched elements: {self.count} / {self.size} ({self.count / self.size:.1%})\n"
            f"Worst element at index {index}: got {self.got!r}, expected {self.expected!r},"
            f" |difference| {self.difference:.6g}"
            f" (relative {self.relative:.3g}), allowed {self.allowed:.6g} ({self.excess:.3g}x the allowance)"
        )


def mismatch(got: np.ndarray, expected: np.ndarray, allowed: np.ndarray) -> Mismatch | None:
    """None when every element is within its allowance. Where the expected value is NaN or
    infinite, torch must give exactly that; elsewhere a finite result within the allowance."""
    finite = np.isfinite(expected)
    with np.errstate(invalid="ignore"):
        difference = np.abs(got - expected)
        same_special = (got == expected) | (np.isnan(got) & np.isnan(expected))
        bad = ~np.where(finite, difference <= allowed, same_special)
    if not bad.any():
        return None
    with np.errstate(divide="ignore", invalid="ignore"):
        excess = np.where(bad, np.nan_to_num(difference / allowed, nan=np.inf, posinf=np.inf), -1.0)
        relative = difference / np.abs(expected)
    worst = np.unravel_index(np.argmax(excess), got.shape)
    return Mismatch(
        int(bad.sum()),
        int(bad.size),
        tuple(int(i) for i in worst),
        float(got[worst]),
        float(expected[worst]),
        float(difference[worst]),
        float(relative[worst]),
        float(allowed[worst]),
        float(excess[worst]),
    )


def judge(
    comparison: Comparison, got: np.ndarray, expectation: Expectation, tolerated=None, record: bool = True
) -> None:
    """The verdict on one output. Inside a known defect's region (tolerated), recorded as that
    defect's and kept out of the error statistics even where it agrees (a kernel known to read
    wrong memory can land near the answer); else recorded (unless record is False: the meta-tests'
    deliberately wrong outputs) and raised when outside the allowance."""
    __tracebackhide__ = True
    c, e = comparison, expectation
    if got.shape != e.expected.shape:
        raise AssertionError(
            f"{c.headline}: output shape {got.shape}, reference shape {e.expected.shape}\nConfiguration: {c.config!r}"
        )
    found = mismatch(got, e.expected, e.allowance.allowed)
    if tolerated is not None:
        records.count_event(f"known defect, {'wrong as listed' if found else 'agreed this time'}: {tolerated.name}")
        record_error(c, e, got, f"known defect{'' if found else ' region, agreed'}: {tolerated.name}")
        return
    if record:
        record_error(c, e, got, "fail" if found else "pass")
    if found is not None:
        raise AssertionError(failure_message(c, e, found, save=record))


def failure_message(c: Comparison, e: Expectation, found: Mismatch, save: bool) -> str:
    """The message, and (save) the reproducer under <report dir>/repro/ and the failure's record."""
    script = repro.snippet(c, e.expected, e.allowance.allowed)
    path = repro.write(script, records.current_test()) if save else "<script below>"
    if save:
        save_failure(c, e, c.headline, str(found).splitlines()[1], path, "disagrees with the reference")
    short = script.count("\n") <= MAX_SNIPPET_LINES_SHOWN and len(script) < 8000
    shown = (
        script if short or not save else "(too long to show; see the file)\n"
    )  # unsaved: the message is its only copy
    return (
        f"{c.headline} disagrees with the float64 reference.\n{found}\nAllowance: {e.allowance.description}\n"
        f"Configuration: {c.config!r}\nReproduce in a fresh interpreter: python {path}\n{shown}"
    )


def save_failure(c: Comparison, e: Expectation, headline: str, worst: str, path, classification: str) -> None:
    """The running test's failure, as the report and the hunt read it."""
    records.record_failure(
        headline=headline,
        worst=worst,
        repro=str(path),
        config=repr(c.config),
        allowance=e.allowance.description,
        dtype=c.dtype,
        api=c.what,
        kernels=list(c.kernels),
        regions=regions(c.config),
        classification=classification,
    )


def record_error(c: Comparison, e: Expectation, got: np.ndarray, verdict: str) -> None:
    """Feed the run's records and error statistics, and steer Hypothesis towards the largest
    relative error. Only finite expectations with finite allowances count towards the errors
    (infinities are matched exactly)."""
    api = (
        c.api if c.gradient is None else f"grad_{c.gradient}" if c.api == "nn.Conv2d" else f"{c.api} grad_{c.gradient}"
    )
    expected, bound, allowed = e.expected, e.bound, e.allowance.allowed
    counted = np.isfinite(expected) & np.isfinite(allowed)
    got, expected, bound, allowed = (np.where(counted, a, 0.0) for a in (got, expected, bound, allowed))
    error = np.abs(got - expected)
    if c.backend in tolerance.TRANSFORM_BACKEND_EPS:
        bound = bound.max(axis=(-2, -1), keepdims=True, initial=0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        in_eps = float(np.max(error / (tolerance.EPS[c.dtype] * bound + tolerance.FLOOR[c.dtype]), initial=0.0))
        of_allowance = float(np.max(np.where(error > 0, error / allowed, 0.0), initial=0.0))
    regime = e.allowance.regime
    records.record_example(
        api=api,
        dtype=c.dtype,
        backend=c.backend,
        kernels=list(c.kernels),
        regime=regime,
        config=asdict(c.config),
        execution=asdict(c.execution),
        worst_in_eps=in_eps,
        worst_of_allowance=of_allowance,
        verdict=verdict,
    )
    if verdict != "pass":
        return
    if regime == "bounded":
        digest = records.case_digest(
            f"{api}|{c.dtype}|{c.config!r}|{c.execution!r}", c.input, c.weight, c.bias, c.grad_output
        )
        records.record_output(digest, got, allowed)
    records.observe(api, c.dtype, c.backend, regime, in_eps, of_allowance)
    records.count_event(f"regime={regime}")
    records.count_event(f"backend={c.backend} ({c.dtype})")
    if regime == "bounded" and math.isfinite(in_eps):
        records.climb(in_eps, label=f"error in eps*bound units ({api}, {c.dtype}, {c.backend})")


def judge_repeat(
    comparison: Comparison,
    first: np.ndarray,
    again: np.ndarray,
    expectation: Expectation,
    kind: str,
    explanation: str,
    strict: bool,
    tolerated=None,
) -> None:
    """The verdict on a later call of the same example whose output has other bits than the
    first call's (repeats.rerun): a failure where torch promises determinism (strict), and
    wherever the later output is outside the allowance; recorded as a known defect's inside its
    region. Both outputs go into the message, the failure's record and the reproducer."""
    __tracebackhide__ = True
    c, e = comparison, expectation
    records.count_event(f"calls disagree ({kind}): {c.what}")
    found = mismatch(again, e.expected, e.allowance.allowed)
    if tolerated is not None:
        records.count_event(f"known defect, {kind} as listed: {tolerated.name}")
        return
    if found is None and not strict:
        return
    with np.errstate(invalid="ignore"):
        differs = ~((first == again) | (np.isnan(first) & np.isnan(again)))
        gap = np.where(differs, np.nan_to_num(np.abs(first - again), nan=np.inf), -1.0)
    index = np.unravel_index(np.argmax(gap), first.shape)
    where = "(" + ", ".join(str(int(i)) for i in index) + ")"
    worst = (
        f"Worst difference at index {where}: first call {float(first[index])!r}, {kind} call"
        f" {float(again[index])!r}, expected {float(e.expected[index])!r},"
        f" allowed {float(e.allowance.allowed[index])!r}"
    )
    script = repro.snippet(c, e.expected, e.allowance.allowed, repeat=kind)
    path = repro.write(script, records.current_test())
    save_failure(c, e, f"{c.headline}: {kind}", worst, path, kind)
    record_error(c, e, again, "fail")
    verdict = "outside the allowance:\n" + str(found) if found is not None else "within the allowance"
    raise AssertionError(
        f"{c.headline}: two calls of the same example disagree ({kind}): {explanation}.\n"
        f"Elements that differ: {int(differs.sum())} / {differs.size}\n{worst}\n"
        f"The {kind} call is {verdict}\nAllowance: {e.allowance.description}\n"
        f"Configuration: {c.config!r}\nReproduce in a fresh interpreter: python {path}\n"
        + (script if script.count("\n") <= MAX_SNIPPET_LINES_SHOWN else "")
    )
