"""Per op of the conv family: the worst error per output and dtype, and the kernels reached.

    python tools/family_table.py [REPORT_DIR ...] > reports/family.md

(`reports/family.md` is tracked: the README's per-op table comes from it.)

Reads each run's results.json (the examples the suite judged) and merges them: the worst
error / allowance and in eps * magnitude bound per op, output (forward, grad_input, grad_weight,
grad_bias) and dtype, over the examples that were held to the reference (a known defect's are
left out, as in the run's own statistics); then per op, every ATen backend and oneDNN kernel
the examples reached, with how many examples reached it."""

from __future__ import annotations

import json
import re
import sys
from collections import Counter, defaultdict
from pathlib import Path

DTYPES = ("float64", "float32", "float16", "bfloat16")
OUTPUTS = ("forward", "grad_input", "grad_weight", "grad_bias")
OP_OF_API = {
    r"Conv1d|conv1d": "conv1d",
    r"Conv2d|conv2d": "conv2d",
    r"Conv3d|conv3d": "conv3d",
    r"ConvTranspose1d|conv_transpose1d": "conv_transpose1d",
    r"ConvTranspose2d|conv_transpose2d": "conv_transpose2d",
    r"ConvTranspose3d|conv_transpose3d": "conv_transpose3d",
}


def op_and_output(api: str) -> tuple[str, str]:
    output = next((name for name in OUTPUTS[1:] if name in api), "forward")
    op = next((op for pattern, op in OP_OF_API.items() if re.search(pattern, api)), "conv2d")
    return op, output


def main(folders: list[str]) -> None:
    worst = defaultdict(lambda: [0, 0.0, 0.0])  # (op, output, dtype) -> examples, of allowance, in eps
    kernels = defaultdict(Counter)
    for folder in folders:
        examples = json.loads((Path(folder) / "results.json").read_text())["examples"]
        for row in examples:
            op, output = op_and_output(row["api"])
            for kernel in row["kernels"] or []:
                kernels[op][f"oneDNN {kernel}"] += 1
            kernels[op][f"backend {row['backend']}"] += 1
            if row["verdict"] != "pass":
                continue
            entry = worst[(op, output, row["dtype"])]
            entry[0] += 1
            entry[1] = max(entry[1], row["worst_of_allowance"])
            entry[2] = max(entry[2], row["worst_in_eps"])
    ops = sorted({op for op, _, _ in worst})
    print("| op | output | " + " | ".join(DTYPES) + " |")
    print("| --- | --- | " + " | ".join("---" for _ in DTYPES) + " |")
    for op in ops:
        for output in OUTPUTS:
            cells = []
            for dtype in DTYPES:
                examples, of_allowance, in_eps = worst.get((op, output, dtype), (0, 0.0, 0.0))
                cells.append(f"{of_allowance:.2f} ({in_eps:.2f} eps, {examples})" if examples else "-")
            print(f"| {op} | {output} | " + " | ".join(cells) + " |")
    print("\nCells: worst error / allowance (worst error in eps * magnitude bound, examples judged).\n")
    print("Backends and oneDNN kernels each op reached (examples):\n")
    for op in ops:
        onednn = sorted(name for name in kernels[op] if name.startswith("oneDNN "))
        reached = ", ".join(f"{name} ({count})" for name, count in sorted(kernels[op].items()))
        print(f"- {op}, {len(onednn)} oneDNN kernels (implementation and pass): {reached}")


if __name__ == "__main__":
    main(sys.argv[1:] or ["reports"])
