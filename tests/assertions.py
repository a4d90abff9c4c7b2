"""One comparison helper for every torch-versus-reference check, with one message format."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import repro

MAX_SNIPPET_LINES_SHOWN = 40


@dataclass(frozen=True)
class Comparison:
    """What was compared: enough to explain a failure and to reproduce it elsewhere."""

    api: str  # "nn.Conv2d" or "F.conv2d"
    config: object  # strategies.Conv2dConfig
    dtype: str
    device: str
    backend: str  # the kernel torch selected, e.g. Mkldnn, Slow2d
    torch_version: str
    execution: object  # execution.Execution: threads, kernel flags, layouts
    input: np.ndarray  # the values torch held, as float64
    weight: np.ndarray
    bias: np.ndarray | None
    regime: str  # "exact" or the allowance formula
    gradient: str | None = None  # "input", "weight" or "bias" when a gradient is compared
    grad_output: np.ndarray | None = None
    kernels: tuple[str, ...] = ()  # the oneDNN kernels that ran, as oneDNN's log names them


def _format_index(index) -> str:
    return "(" + ", ".join(str(int(i)) for i in index) + ")"


def mismatch_report(got: np.ndarray, expected: np.ndarray, allowed: np.ndarray) -> tuple[np.ndarray, str] | None:
    """None when every element is within its allowance, else (worst index, description).

    Where the expected value is NaN or infinite, torch must give exactly that (NaN where NaN,
    the same infinity); elsewhere a finite result within the allowance.
    """
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
    text = (
        f"Mismatched elements: {bad.sum()} / {bad.size} ({bad.mean():.1%})\n"
        f"Worst element at index {_format_index(worst)}: got {float(got[worst])!r}, expected {float(expected[worst])!r},"
        f" |difference| {difference[worst]:.6g} (relative {relative[worst]:.3g}), allowed {allowed[worst]:.6g}"
        f" ({excess[worst]:.3g}x the allowance)"
    )
    return worst, text


def assert_conv_close(got: np.ndarray, expected: np.ndarray, allowed: np.ndarray, comparison: Comparison, save_reproduction: bool = True) -> None:
    """Raise an AssertionError that explains itself unless every element is within its allowance.

    The message carries the assert_close-style counts, the worst element, the configuration and a
    reproduction script, also saved under <report dir>/repro/ (unless save_reproduction is False).
    """
    __tracebackhide__ = True
    c = comparison
    what = c.api if c.gradient is None else f"{c.api} grad_{c.gradient}"
    ran = c.backend + (f" ({', '.join(c.kernels)})" if c.kernels else "")
    headline = f"{what} {c.dtype} on {c.device}, backend {ran} (torch {c.torch_version}, {c.execution})"
    if got.shape != expected.shape:
        raise AssertionError(f"{headline}: output shape {got.shape}, reference shape {expected.shape}\nConfiguration: {c.config!r}")
    report = mismatch_report(got, expected, allowed)
    if report is None:
        return
    script = repro.snippet(c, expected, allowed)
    path = repro.write(script) if save_reproduction else "<script below>"
    shown = script if script.count("\n") <= MAX_SNIPPET_LINES_SHOWN and len(script) < 8000 else "(too long to show; see the file)\n"
    raise AssertionError(
        f"{headline} disagrees with the float64 reference.\n{report[1]}\n"
        f"Allowance: {c.regime}\nConfiguration: {c.config!r}\n"
        f"Reproduce in a fresh interpreter: python {path}\n{shown}"
    )
