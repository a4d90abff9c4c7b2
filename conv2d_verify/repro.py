"""A one-file reproduction of a failed comparison: torch and numpy only, values embedded.

The script rebuilds the same layer (or functional call) under the same threads, kernel flags
and memory layouts, feeds it the exact values torch held, and compares with the reference's
expected output and allowance. It exits 1 while the disagreement exists and 0 once it is fixed.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from . import settings
from .execution import layout_lines
from .ops import op_of
from .repeats import POISON_SOURCE, STALE_READ


def number_literal(value: float) -> str:
    """Source for a float64 that round-trips exactly, NaN and infinities included."""
    return repr(value) if np.isfinite(value) else f"float('{value}')"


def array_literal(array: np.ndarray | None) -> str:
    if array is None:
        return "None"
    flat = ", ".join(number_literal(float(v)) for v in array.ravel())
    return f"np.array([{flat}], dtype=np.float64).reshape({array.shape})"


COMPILED = "torch.compile(nn.Conv2d)"
COMPILE_CALL = "torch.compile(dynamic=False, fullgraph=True)"  # how tests/test_compile.py compiles


def call_lines(api: str, config, dtype: str, execution, device: str = "cpu", leaves: bool = False) -> list[str]:
    """The torch call under test, as source lines that define `got`. leaves: the functional
    call's operands require grad, as x0, w0, b0 (in their layouts, before any padding)."""
    op = op_of(config)
    rank = op.dims + 2
    torch_dtype = f"torch.{dtype}"
    as_tensor = f"torch.from_numpy({{}}).to(device={device!r}, dtype={torch_dtype})"
    output_size = f", output_size={config.output_size_argument!r}" if getattr(config, "via_output_size", False) else ""
    if api == op.compiled_api:
        *build, _ = call_lines(op.module_api, config, dtype, execution, device)
        return [*build, f"got = {COMPILE_CALL}(layer)(xt{output_size})"]
    if api == op.module_api:
        return [
            f"layer = torch.nn.{op.module}(**{config.layer_kwargs()!r}, dtype={torch_dtype}, device={device!r})",
            "with torch.no_grad():",
            f"    layer.weight.copy_({as_tensor.format('w')})",
            f"    if b is not None: layer.bias.copy_({as_tensor.format('b')})",
            *[line.replace("wt", "layer.weight.data") for line in layout_lines("wt", execution.weight_layout, rank)],
            f"xt = {as_tensor.format('x')}",
            *layout_lines("xt", execution.input_layout, rank),
            f"got = layer(xt{output_size})",
        ]
    kwargs = config.conv_kwargs()
    mode = kwargs.pop("padding_mode", "zeros")
    lines = [
        f"xt, wt = {as_tensor.format('x')}, {as_tensor.format('w')}",
        f"bt = None if b is None else {as_tensor.format('b')}",
        *layout_lines("xt", execution.input_layout, rank),
        *layout_lines("wt", execution.weight_layout, rank),
        *(FUNCTIONAL_LEAVES if leaves else []),
    ]
    if mode != "zeros":
        lines.append(f"xt = torch.nn.functional.pad(xt, {config.torch_pad}, mode={mode!r})")
        kwargs["padding"] = 0
    args = ", ".join(f"{k}={v!r}" for k, v in kwargs.items())
    if ":" in api:  # a --target: package.module:function
        module, function = api.split(":", 1)
        lines = [f"from {module} import {function.split('.')[0]}", *lines]
        lines.append(f"got = {function}(xt, wt, bt, {args})")
    else:
        lines.append(f"got = torch.nn.functional.{op.name}(xt, wt, bt, {args})")
    return lines


FUNCTIONAL_LEAVES = [
    "x0, w0, b0 = xt.requires_grad_(), wt.requires_grad_(), None if bt is None else bt.requires_grad_()",
]
GRADIENT_OF = {  # module calls, functional calls
    "input": ("xt.grad", "x0.grad"),
    "weight": ("layer.weight.grad", "w0.grad"),
    "bias": ("layer.bias.grad", "b0.grad"),
}


def is_module(api: str) -> bool:
    return api.startswith(("nn.", "torch.compile("))


def gradient_lines(api: str, config, dtype: str, execution, device: str, gradient: str) -> list[str]:
    """The call, then backward with grad_output g; `got` is the gradient."""
    module = is_module(api)
    call = call_lines(api, config, dtype, execution, device, leaves=not module)
    return [
        *call[:-1],
        *(["xt.requires_grad_()"] if module else []),
        call[-1],
        f"got.backward(torch.from_numpy(g).to(device={device!r}, dtype=torch.{dtype}))",
        f"got = {GRADIENT_OF[gradient][0 if module else 1]}",
    ]


def isolation_source(api: str, config, dtype: str, execution, device: str = "cpu") -> str:
    """The call as source over arrays x, w, b (and g for "<api> backward"), flags set first: what
    tests/isolated.py runs in a child process."""
    if api.endswith(" backward"):
        call = gradient_lines(api.removesuffix(" backward"), config, dtype, execution, device, "input")
    else:
        call = call_lines(api, config, dtype, execution, device)
    return "\n".join([*execution.setup_lines(), *call]) + "\n"


def snippet(comparison, expected: np.ndarray, allowed: np.ndarray, repeat: str | None = None) -> str:
    """The script. repeat: the kind of disagreement between two calls (repeats.STALE_READ or
    NONDETERMINISTIC): the script calls torch twice, the second time under poisoned memory for a
    stale read, and also fails where the two calls differ."""
    c = comparison
    data = [] if c.gradient is None else [f"g = {array_literal(c.grad_output)}"]
    if c.gradient is None:
        call = call_lines(c.api, c.config, c.dtype, c.execution, c.device)
    else:
        call = gradient_lines(c.api, c.config, c.dtype, c.execution, c.device, c.gradient)
    as_array = "got = got.detach().to('cpu', torch.float64).numpy()"
    if repeat is not None:
        poisons = repeat == STALE_READ
        call = [
            *call,
            as_array,
            "first = got",
            *(POISON_SOURCE if poisons else []),
            *(["if poison: poison(-6, 0xA5)  # M_PERTURB on"] if poisons else []),
            *call,
            *(["if poison: poison(-6, 0)"] if poisons else []),
        ]
    lines = [
        f"# {c.api}{'' if c.gradient is None else ' grad_' + c.gradient} {c.dtype} on {c.device} (backend {c.backend})"
        " vs the float64 numpy reference of the suite.",
        f"# Seen on torch {c.torch_version}"
        + (f" ({repeat}: two calls disagree)" if repeat else "")
        + ". Exits 1 while they disagree.",
        "import sys",
        "import numpy as np",
        "import torch",
        *c.execution.setup_lines(),
        f"x = {array_literal(c.input)}",
        f"w = {array_literal(c.weight)}",
        f"b = {array_literal(c.bias)}",
        *data,
        *call,
        as_array,
        f"expected = {array_literal(expected)}",
        f"allowed = {array_literal(allowed)}",
        "finite = np.isfinite(expected)",
        "with np.errstate(invalid='ignore'):",
        "    same_special = (got == expected) | (np.isnan(got) & np.isnan(expected))",
        "    bad = ~np.where(finite, np.abs(got - expected) <= allowed, same_special)",
        *(REPEAT_CHECK if repeat is not None else []),
        "excess = np.where(bad, np.nan_to_num(np.abs(got - expected), nan=np.inf), -1.0)",
        "worst = np.unravel_index(np.argmax(excess), got.shape)",
        'print(f"torch {torch.__version__}: {bad.sum()} of {bad.size} elements outside the allowance;"',
        '      f" at {tuple(map(int, worst))}: got {float(got[worst])!r}, expected {float(expected[worst])!r},"',
        '      f" allowed {float(allowed[worst])!r}")',
        "sys.exit(1 if bad.any() else 0)",
    ]
    return "\n".join(lines) + "\n"


REPEAT_CHECK = [
    "differs = ~((first == got) | (np.isnan(first) & np.isnan(got)))",
    "bad |= differs",
    "for i in list(zip(*np.nonzero(differs)))[:5]:",
    "    print(f'calls differ at {tuple(map(int, i))}: first {float(first[i])!r}, second {float(got[i])!r}')",
]


def write(text: str, test_id: str) -> Path:
    """Save the script under <report dir>/repro/, named after the test that failed."""
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", (test_id or "unknown").split("::", 1)[-1]).strip("_")
    # not test_*.py: a pytest run that collects the report folder must not import (and run) it
    path = Path(settings.current().report_dir) / "repro" / f"repro_{name}.py"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path
