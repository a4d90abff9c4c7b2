"""Faults planted in torch's conv entry point, each where several dimensions meet, to measure
whether the suite kills them (tools/kill_power.py) and to test its classification of repeated
calls (test_meta_repeats.py).

As a pytest plugin (`-p meta_tests.planted_faults`), CONV2D_PLANTED_FAULT names the fault that
replaces torch.nn.functional.conv2d for the whole run (nn.Conv2d calls it too). Each fault
changes one element of the output, or of one gradient, by 2**-4 of its magnitude plus one:
far outside any allowance, invisible to a test that never reaches its combination.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import torch

from conv2d_verify.target import load_target

REAL_CONV2D = torch.nn.functional.conv2d


def nudge(t: torch.Tensor) -> torch.Tensor:
    """t with its first element moved by 2**-4 of its magnitude plus one (out of place, so that
    autograd can still differentiate through t)."""
    delta = torch.zeros(t.shape, dtype=t.dtype, device=t.device)
    if t.numel():
        first = t.detach().reshape(-1)[0]
        delta.view(-1)[0] = first.abs() / 16 + 1
    return t + delta


def is_channels_last(x: torch.Tensor) -> bool:
    return x.dim() == 4 and x.is_contiguous(memory_format=torch.channels_last) and not x.is_contiguous()


def pair(value) -> tuple[int, int]:
    return (value, value) if isinstance(value, int) else tuple(value)


def out_width(x, weight, stride, padding, dilation) -> int:
    if isinstance(padding, str):
        return (
            x.shape[-1]
            if padding == "same"
            else (x.shape[-1] - pair(dilation)[1] * (weight.shape[-1] - 1) - 1) // pair(stride)[1] + 1
        )
    return (x.shape[-1] + 2 * pair(padding)[1] - pair(dilation)[1] * (weight.shape[-1] - 1) - 1) // pair(stride)[1] + 1


class NudgeGradient(torch.autograd.Function):
    """Identity forward; the gradient flowing back through it is nudged."""

    @staticmethod
    def forward(ctx, t):
        return t.view_as(t)

    @staticmethod
    def backward(ctx, grad):
        return nudge(grad)


@dataclass
class Fault:
    name: str
    applies: object  # (x, weight, stride, padding, dilation, groups) -> bool
    target: str = "output"  # "output", "grad_weight" or "grad_input"
    every: int = 1  # fires on every n-th call that matches
    stale: bool = False  # adds an element of freshly allocated, unwritten memory instead
    calls: int = field(default=0)

    def conv2d(self, x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
        if not self.applies(x, weight, stride, padding, dilation, groups):
            return REAL_CONV2D(x, weight, bias, stride, padding, dilation, groups)
        self.calls += 1
        fires = self.calls % self.every == 0
        if fires and self.target == "grad_weight":
            weight = NudgeGradient.apply(weight)
        if fires and self.target == "grad_input":
            x = NudgeGradient.apply(x)
        out = REAL_CONV2D(x, weight, bias, stride, padding, dilation, groups)
        if fires and self.target == "output":
            if self.stale:
                unwritten = torch.empty(1, dtype=out.dtype)
                out = out.clone()
                out.view(-1)[:1] += unwritten.to(out.device)
                return out
            return nudge(out)
        return out


def _depthwise_wide(x, w, s, p, d, g):
    return g >= 16 and w.shape[1] == 1


FAULTS = {
    f.name: f
    for f in (
        Fault(
            "bf16 channels_last, every second call",
            lambda x, w, s, p, d, g: x.dtype == torch.bfloat16 and is_channels_last(x),
            every=2,
        ),
        Fault(
            "f32 grouped, output width 1",
            lambda x, w, s, p, d, g: x.dtype == torch.float32 and g > 1 and out_width(x, w, s, p, d) == 1,
        ),
        Fault(
            "bf16 wide depthwise grad_weight",
            lambda x, w, s, p, d, g: x.dtype == torch.bfloat16 and _depthwise_wide(x, w, s, p, d, g),
            target="grad_weight",
        ),
        Fault(
            "f16 strided grad_input, transposed weight",
            lambda x, w, s, p, d, g: (
                x.dtype == torch.float16
                and max(pair(s)) > 1
                and w.dim() == 4
                and not w.is_contiguous()
                and w.stride(-2) == 1
            ),
            target="grad_input",
        ),
        Fault(
            "f32 wide channels, stale read",
            lambda x, w, s, p, d, g: x.dtype == torch.float32 and w.shape[1] >= 16,
            stale=True,
        ),
        Fault(
            "bf16 single input row, batched",
            lambda x, w, s, p, d, g: x.dtype == torch.bfloat16 and x.dim() == 4 and x.shape[-2] == 1 and x.shape[0] > 1,
        ),
    )
}


def planted(name: str) -> Fault:
    fault = FAULTS[name]
    fault.calls = 0
    torch.nn.functional.conv2d = fault.conv2d
    load_target.cache_clear()  # the functional tests' conv2d is looked up again: the planted one
    return fault


def removed() -> None:
    torch.nn.functional.conv2d = REAL_CONV2D
    load_target.cache_clear()


def pytest_configure(config):
    name = os.environ.get("CONV2D_PLANTED_FAULT")
    if name:
        planted(name)
