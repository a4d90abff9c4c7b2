"""How torch is asked to run a convolution: which kernels it may use, how many threads, and the
memory layout of the input and weight. Drawn by Hypothesis so every CPU backend is reached.

Layouts are Python expressions over `t`, evaluated here and pasted into reproduction scripts,
so a failure reproduces under the same layout, flags and threads.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

import torch
from hypothesis import strategies as st

from . import knobs

LAYOUTS = {
    "contiguous": "{t}",
    "channels_last": "{t}.contiguous(memory_format=torch.channels_last)",
    "sliced": "torch.stack([{t}, torch.zeros_like({t})], dim=-1).flatten(-2)[..., ::2]",  # every other column
    "transposed": "{t}.transpose(2, 3).contiguous().transpose(2, 3)",  # stored with H and W swapped
    "expanded": "{t}[:1].expand_as({t})",  # the first batch element, repeated
}
WEIGHT_LAYOUTS = ("contiguous", "channels_last", "sliced", "transposed")


def layout_lines(name: str, layout: str) -> list[str]:
    """Source that puts the 4-D tensor `name` into the layout (nothing for the plain one)."""
    if layout == "contiguous":
        return []
    return [f"if {name}.dim() == 4: {name} = {LAYOUTS[layout].format(t=name)}"]


def arranged(t: torch.Tensor, layout: str) -> torch.Tensor:
    """t's values in the given memory layout (4-D tensors; others are returned as they are)."""
    return t if t.dim() != 4 else eval(LAYOUTS[layout].format(t="t"), {"torch": torch, "t": t})


def nnpack_flags(enabled: bool):
    """torch.backends.nnpack.flags where this torch has it (2.3 and later), else nothing."""
    nnpack = getattr(torch.backends, "nnpack", None)
    return nnpack.flags(enabled=enabled) if nnpack is not None and hasattr(nnpack, "flags") else contextlib.nullcontext()


@dataclass(frozen=True)
class Execution:
    mkldnn: bool
    nnpack: bool
    threads: int
    input_layout: str
    weight_layout: str

    @contextlib.contextmanager
    def active(self):
        global current
        before, current = current, self
        threads_before = torch.get_num_threads()
        torch.set_num_threads(self.threads)
        try:
            with torch.backends.mkldnn.flags(enabled=self.mkldnn), nnpack_flags(self.nnpack):
                yield
        finally:
            torch.set_num_threads(threads_before)
            current = before

    def arrange_input(self, x: torch.Tensor) -> torch.Tensor:
        return arranged(x, self.input_layout)

    def arrange_weight(self, w: torch.Tensor) -> torch.Tensor:
        return arranged(w, self.weight_layout)

    def setup_lines(self) -> list[str]:
        return [
            f"torch.set_num_threads({self.threads})",
            f"torch.backends.mkldnn.enabled = {self.mkldnn}",
            f"if hasattr(torch.backends, 'nnpack'): torch.backends.nnpack.set_flags({self.nnpack})",
        ]


def default_execution() -> Execution:
    """What runs outside any Execution.active(): torch's defaults, the suite's thread count."""
    return Execution(mkldnn=True, nnpack=True, threads=knobs.current.threads, input_layout="contiguous", weight_layout="contiguous")


current: Execution | None = None  # the Execution active now, read by the reproduction scripts


def executions(mkldnn=st.booleans(), nnpack=st.booleans(), thread_counts=(1, 2), input_layout=None, weight_layout=None):
    return st.builds(
        Execution,
        mkldnn=mkldnn,
        nnpack=nnpack,
        threads=st.sampled_from(thread_counts),
        input_layout=st.sampled_from(tuple(LAYOUTS)) if input_layout is None else input_layout,
        weight_layout=st.sampled_from(WEIGHT_LAYOUTS) if weight_layout is None else weight_layout,
    )
