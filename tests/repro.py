"""A one-file reproduction of a failed comparison: torch and numpy only, values embedded.

The script rebuilds the same layer (or functional call), feeds it the exact values torch
held, and compares with the reference's expected output and allowance. It exits 1 while
the disagreement exists and 0 once it is fixed.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np

from . import knobs


def array_literal(array: np.ndarray | None) -> str:
    if array is None:
        return "None"
    flat = ", ".join(repr(float(v)) for v in array.ravel())  # repr round-trips every float64 exactly
    return f"np.array([{flat}], dtype=np.float64).reshape({array.shape})"


def call_lines(api: str, config, dtype: str) -> list[str]:
    """The torch call under test, as source lines that define `got`."""
    torch_dtype = f"torch.{dtype}"
    if api == "nn.Conv2d":
        return [
            f"layer = torch.nn.Conv2d(**{config.layer_kwargs()!r}, dtype={torch_dtype})",
            "with torch.no_grad():",
            f"    layer.weight.copy_(torch.from_numpy(w).to({torch_dtype}))",
            f"    if b is not None: layer.bias.copy_(torch.from_numpy(b).to({torch_dtype}))",
            f"got = layer(torch.from_numpy(x).to({torch_dtype}))",
        ]
    kwargs = config.conv_kwargs()
    mode = kwargs.pop("padding_mode")
    lines = [
        f"xt, wt = torch.from_numpy(x).to({torch_dtype}), torch.from_numpy(w).to({torch_dtype})",
        f"bt = None if b is None else torch.from_numpy(b).to({torch_dtype})",
    ]
    if mode != "zeros":
        lines.append(f"xt = torch.nn.functional.pad(xt, {config.torch_pad}, mode={mode!r})")
        kwargs["padding"] = 0
    args = ", ".join(f"{k}={v!r}" for k, v in kwargs.items())
    lines.append(f"got = torch.nn.functional.conv2d(xt, wt, bt, {args})")
    return lines


def snippet(comparison, expected: np.ndarray, allowed: np.ndarray) -> str:
    c = comparison
    lines = [
        f"# {c.api} {c.dtype} on {c.device} (backend {c.backend}) vs the float64 numpy reference of the suite.",
        f"# Seen on torch {c.torch_version}, {c.threads} thread(s). Exits 1 while they disagree.",
        "import sys",
        "import numpy as np",
        "import torch",
        f"torch.set_num_threads({c.threads})",
        f"x = {array_literal(c.input)}",
        f"w = {array_literal(c.weight)}",
        f"b = {array_literal(c.bias)}",
        *call_lines(c.api, c.config, c.dtype),
        "got = got.detach().to(torch.float64).numpy()",
        f"expected = {array_literal(expected)}",
        f"allowed = {array_literal(allowed)}",
        "bad = ~(np.abs(got - expected) <= allowed)",
        "worst = np.unravel_index(np.argmax(np.where(bad, np.abs(got - expected), -1.0)), got.shape)",
        'print(f"torch {torch.__version__}: {bad.sum()} of {bad.size} elements outside the allowance;"',
        '      f" at {worst}: got {got[worst]!r}, expected {expected[worst]!r}, allowed {allowed[worst]!r}")',
        "sys.exit(1 if bad.any() else 0)",
    ]
    return "\n".join(lines) + "\n"


def write(text: str) -> Path:
    """Save the script under <report dir>/repro/, named after the running test."""
    test_id = os.environ.get("PYTEST_CURRENT_TEST", "unknown").split(" ")[0]
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", test_id.split("::", 1)[-1]).strip("_")
    path = Path(knobs.current.report_dir) / "repro" / f"{name}.py"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path
