"""The report's plots, as base64 PNGs: error / allowance per dtype and per backend, and the
examples per region of the configuration space."""

from __future__ import annotations

import base64
import io
from collections import Counter

COVERAGE = {  # region -> how to read it from an example record
    "dtype": lambda row: row["dtype"],
    "backend": lambda row: row["backend"],
    "padding_mode": lambda row: row["config"]["padding_mode"],
    "padding": lambda row: row["config"]["padding"] if isinstance(row["config"]["padding"], str) else "explicit",
    "groups": lambda row: (
        "1"
        if row["config"]["groups"] == 1
        else "depthwise"
        if row["config"]["in_channels"] == row["config"]["groups"]
        else "grouped"
    ),
    "dilated": lambda row: str(row["config"]["dilation"] not in (1, [1, 1], (1, 1))),
    "strided": lambda row: str(row["config"]["stride"] not in (1, [1, 1], (1, 1))),
    "layout": lambda row: row["execution"]["input_layout"],
}


def plot_pngs(examples: list[dict]) -> dict[str, str]:
    if not examples:
        return {}
    import matplotlib  # noqa: PLC0415 - only the controller that writes the summary needs it

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    def encoded(figure) -> str:
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=80, bbox_inches="tight")
        plt.close(figure)
        return base64.b64encode(buffer.getvalue()).decode()

    plots = {}
    judged = [row for row in examples if row["regime"] == "bounded" and row["verdict"] in ("pass", "fail")]
    for key in ("dtype", "backend"):
        groups = sorted({row[key] for row in judged})
        if not groups:
            continue
        figure, axis = plt.subplots(figsize=(7, 3))
        axis.hist(
            [[min(row["worst_of_allowance"], 1.5) for row in judged if row[key] == group] for group in groups],
            bins=30,
            label=groups,
            stacked=True,
        )
        axis.axvline(1.0, color="red", linestyle="--", label="allowance")
        axis.set_xlabel("worst error / allowance per example (bounded regime; clipped at 1.5)")
        axis.set_ylabel("examples")
        axis.legend(fontsize=7)
        plots[f"error / allowance per {key}"] = encoded(figure)
    figure, axes = plt.subplots(2, 4, figsize=(14, 5))
    for axis, (region, read) in zip(axes.ravel(), COVERAGE.items()):
        counted = Counter(read(row) for row in examples)
        axis.bar([str(key) for key in counted], list(counted.values()))
        axis.set_title(region, fontsize=9)
        axis.tick_params(axis="x", labelrotation=45, labelsize=7)
    figure.tight_layout()
    plots["coverage"] = encoded(figure)
    return plots
