"""How torch is asked to run a convolution: which kernels it may use, how many threads, the
memory layout of the input and weight, and on CUDA the cuDNN flags (TF32, deterministic,
benchmark). Drawn by Hypothesis so every backend and mode is reached.

Layouts are Python expressions over `t`, evaluated here and pasted into reproduction scripts,
so a failure reproduces under the same layout, flags and threads.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

import torch
from hypothesis import strategies as st

from . import settings

LAYOUTS = {
    "contiguous": "{t}",
    "channels_last": "{t}.contiguous(memory_format=torch.channels_last)",
    "sliced": "torch.stack([{t}, torch.zeros_like({t})], dim=-1).flatten(-2)[..., ::2]",  # every other column
    "transposed": "{t}.transpose(2, 3).contiguous().transpose(2, 3)",  # stored with H and W swapped
    "expanded": "{t}[:1].expand_as({t})",  # the first batch element, repeated
}
WEIGHT_LAYOUTS = ("contiguous", "channels_last", "sliced", "transposed")


# For 1-d and 3-d convolutions (family tests): the same layouts at their tensors' ranks.
CHANNELS_LAST_BY_RANK = {
    3: "{t}.transpose(1, 2).contiguous().transpose(1, 2)",  # (N, L, C) storage: torch names no format for it
    4: LAYOUTS["channels_last"],
    5: "{t}.contiguous(memory_format=torch.channels_last_3d)",
}
TRANSPOSED_BY_RANK = {
    3: "{t}.permute(1, 2, 0).contiguous().permute(2, 0, 1)",  # the batch innermost
    4: LAYOUTS["transposed"],
    5: "{t}.transpose(-2, -1).contiguous().transpose(-2, -1)",  # H and W swapped
}


def layout_expression(layout: str, rank: int) -> str:
    if layout == "channels_last":
        return CHANNELS_LAST_BY_RANK[rank]
    if layout == "transposed":
        return TRANSPOSED_BY_RANK[rank]
    return LAYOUTS[layout]


def layout_lines(name: str, layout: str, rank: int = 4) -> list[str]:
    """Source that puts the tensor `name` into the layout when it has the batched rank (nothing
    for the plain layout, nor for an unbatched input)."""
    if layout == "contiguous":
        return []
    return [f"if {name}.dim() == {rank}: {name} = {layout_expression(layout, rank).format(t=name)}"]


def arranged(t: torch.Tensor, layout: str, rank: int = 4) -> torch.Tensor:
    """t's values in the given memory layout (tensors of the batched rank; others as they are)."""
    return t if t.dim() != rank else eval(layout_expression(layout, rank).format(t="t"), {"torch": torch, "t": t})


def nnpack_flags(enabled: bool):
    """torch.backends.nnpack.flags where this torch has it (2.3 and later), else nothing."""
    nnpack = getattr(torch.backends, "nnpack", None)
    return (
        nnpack.flags(enabled=enabled) if nnpack is not None and hasattr(nnpack, "flags") else contextlib.nullcontext()
    )


def cudnn_tf32() -> bool:
    """Whether cuDNN convolutions may use TF32 now, read from torch: the per-operator
    fp32_precision setting (torch 2.9 and later) where it is set, its parents where it says
    'none', else the older allow_tf32 flag."""
    cudnn = torch.backends.cudnn
    conv = getattr(cudnn, "conv", None)
    if conv is None or not hasattr(conv, "fp32_precision"):
        return bool(cudnn.allow_tf32)
    for level in (
        conv.fp32_precision,
        getattr(cudnn, "fp32_precision", "none"),
        getattr(torch.backends, "fp32_precision", "none"),
    ):
        if level != "none":
            return level == "tf32"
    return False


def has_fp32_precision_api() -> bool:
    return hasattr(getattr(torch.backends.cudnn, "conv", None), "fp32_precision")


def tf32_line(enabled: bool) -> str:
    """Source that allows or forbids TF32 in cuDNN convolutions, with the API this torch has
    (mixing the old and new APIs makes torch raise)."""
    if has_fp32_precision_api():
        return f"torch.backends.cudnn.conv.fp32_precision = {'tf32' if enabled else 'ieee'!r}"
    return f"torch.backends.cudnn.allow_tf32 = {enabled}"


def flag_changes_allowed():
    """torch's own permission to set backend flags while global flags are frozen (the plugin
    freezes them with torch.backends.disable_global_flags(), so that only Execution sets them)."""
    allow = getattr(torch.backends, "__allow_nonbracketed_mutation", None)
    return allow() if allow is not None else contextlib.nullcontext()


@contextlib.contextmanager
def cudnn_settings(tf32: bool | None, deterministic: bool | None, benchmark: bool | None):
    """cuDNN's flags for the duration, each left as it is where None, restored afterwards."""
    if tf32 is None and deterministic is None and benchmark is None:  # every CPU run
        yield
        return
    with flag_changes_allowed():
        saved = set_cudnn_flags(tf32, deterministic, benchmark)
    try:
        yield
    finally:
        with flag_changes_allowed():
            set_cudnn_flags(*saved)


def set_cudnn_flags(tf32: bool | None, deterministic: bool | None, benchmark: bool | None) -> tuple:
    """Set the flags given (None: leave it); the flags as they were, for restoring them."""
    cudnn, new_api = torch.backends.cudnn, has_fp32_precision_api()
    saved = (cudnn_tf32(), cudnn.deterministic, cudnn.benchmark)
    if tf32 is not None and new_api:
        cudnn.conv.fp32_precision = "tf32" if tf32 else "ieee"
    elif tf32 is not None:
        cudnn.allow_tf32 = tf32
    if deterministic is not None:
        cudnn.deterministic = deterministic
    if benchmark is not None:
        cudnn.benchmark = benchmark
    return saved


@dataclass(frozen=True)
class Execution:
    mkldnn: bool
    nnpack: bool
    threads: int
    input_layout: str
    weight_layout: str
    tf32: bool | None = None  # cuDNN flags (CUDA runs); None leaves torch's setting
    cudnn_deterministic: bool | None = None
    cudnn_benchmark: bool | None = None

    @contextlib.contextmanager
    def active(self):
        """torch's flags and threads set to these for the duration, restored afterwards."""
        threads_before = torch.get_num_threads()
        torch.set_num_threads(self.threads)
        try:
            with (
                torch.backends.mkldnn.flags(enabled=self.mkldnn),
                nnpack_flags(self.nnpack),
                cudnn_settings(self.tf32, self.cudnn_deterministic, self.cudnn_benchmark),
            ):
                yield
        finally:
            torch.set_num_threads(threads_before)

    def differences_from_torch(self) -> list[str]:
        """Where torch's flags now differ from these settings (cuDNN flags only where set here)."""
        live = {
            "threads": torch.get_num_threads(),
            "mkldnn": bool(torch.backends.mkldnn.enabled),
            "nnpack": nnpack_enabled(),
        }
        if self.tf32 is not None:
            live["tf32"] = cudnn_tf32()
        if self.cudnn_deterministic is not None:
            live["cudnn_deterministic"] = bool(torch.backends.cudnn.deterministic)
        if self.cudnn_benchmark is not None:
            live["cudnn_benchmark"] = bool(torch.backends.cudnn.benchmark)
        return [
            f"{name}={getattr(self, name)} here, {value} in torch"
            for name, value in live.items()
            if getattr(self, name) != value
        ]

    def require_in_force(self) -> None:
        """The settings a failure message and its reproducer will state must be torch's own."""
        __tracebackhide__ = True
        differences = self.differences_from_torch()
        if differences:
            raise AssertionError(
                f"torch's flags are not the Execution this check was given ({'; '.join(differences)}): set them"
                " through Execution.active() and pass that Execution, so that the verdict and the reproducer"
                " say what ran"
            )

    def arrange_input(self, x: torch.Tensor, rank: int = 4) -> torch.Tensor:
        return arranged(x, self.input_layout, rank)

    def arrange_weight(self, w: torch.Tensor, rank: int = 4) -> torch.Tensor:
        return arranged(w, self.weight_layout, rank)

    @property
    def deterministic(self) -> bool:
        """Whether repeated calls must agree bit for bit: always on the CPU; on CUDA only with
        cudnn.deterministic (otherwise cuDNN may use atomics or pick another algorithm)."""
        return settings.current().device_type != "cuda" or bool(self.cudnn_deterministic)

    def setup_lines(self) -> list[str]:
        lines = [
            f"torch.set_num_threads({self.threads})",
            f"torch.backends.mkldnn.enabled = {self.mkldnn}",
            f"if hasattr(torch.backends, 'nnpack'): torch.backends.nnpack.set_flags({self.nnpack})",
        ]
        if self.tf32 is not None:
            lines.append(tf32_line(self.tf32))
        if self.cudnn_deterministic is not None:
            lines.append(f"torch.backends.cudnn.deterministic = {self.cudnn_deterministic}")
        if self.cudnn_benchmark is not None:
            lines.append(f"torch.backends.cudnn.benchmark = {self.cudnn_benchmark}")
        return lines


def default_execution() -> Execution:
    """What runs outside any Execution.active(): torch's defaults, the suite's thread count."""
    return Execution(
        mkldnn=True,
        nnpack=True,
        threads=settings.current().threads,
        input_layout="contiguous",
        weight_layout="contiguous",
    )


def nnpack_enabled() -> bool:
    """torch's NNPACK flag (torch 2.3 and later can turn NNPACK off; earlier, it is always on)."""
    get = getattr(torch._C, "_get_nnpack_enabled", None)
    return bool(get()) if get is not None else True


def nnpack_switchable() -> bool:
    return hasattr(getattr(torch.backends, "nnpack", None), "flags")


def executions(mkldnn=st.booleans(), nnpack=st.booleans(), thread_counts=(1, 2), input_layout=None, weight_layout=None):
    """Executions to draw from; the cuDNN flags are drawn on CUDA runs only, NNPACK off only
    where this torch can turn it off."""
    nnpack = nnpack if nnpack_switchable() else st.just(True)
    on_cuda = settings.current().device_type == "cuda"
    cudnn_flag = st.booleans() if on_cuda else st.none()
    return st.builds(
        Execution,
        mkldnn=mkldnn,
        nnpack=nnpack,
        threads=st.sampled_from(thread_counts),
        input_layout=st.sampled_from(tuple(LAYOUTS)) if input_layout is None else input_layout,
        weight_layout=st.sampled_from(WEIGHT_LAYOUTS) if weight_layout is None else weight_layout,
        tf32=cudnn_flag,
        cudnn_deterministic=cudnn_flag,
        cudnn_benchmark=cudnn_flag,
    )


def layouts_only():
    """Executions under torch's default kernel flags and the suite's threads, the input and
    weight layouts drawn."""
    return executions(mkldnn=st.just(True), nnpack=st.just(True), thread_counts=(settings.current().threads,))
