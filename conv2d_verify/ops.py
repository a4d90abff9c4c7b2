"""The convolution family: each op's torch module and functional, and its reference functions.

conv2d keeps its own configuration (config.Conv2dConfig); the other five share
family_config.ConvConfig. Both name their op, and everything that needs the op's reference
(expectations, bounds, gradients, value scaling) asks here."""

from __future__ import annotations

from dataclasses import dataclass

import reference


@dataclass(frozen=True)
class Op:
    name: str  # "conv1d", "conv_transpose2d", ...: the torch.nn.functional and reference name
    dims: int  # spatial dimensions
    transposed: bool

    @property
    def module(self) -> str:
        """The torch.nn class: Conv1d, ConvTranspose2d, ..."""
        return ("ConvTranspose" if self.transposed else "Conv") + f"{self.dims}d"

    @property
    def module_api(self) -> str:
        return f"nn.{self.module}"

    @property
    def functional_api(self) -> str:
        return f"F.{self.name}"

    @property
    def compiled_api(self) -> str:
        return f"torch.compile(nn.{self.module})"

    def forward(self, *args, **kwargs):
        return getattr(reference, self.name)(*args, **kwargs)

    def magnitude(self, *args, **kwargs):
        return getattr(reference, f"{self.name}_magnitude")(*args, **kwargs)

    def backward(self, *args, **kwargs):
        return getattr(reference, f"{self.name}_backward")(*args, **kwargs)

    def backward_magnitude(self, *args, **kwargs):
        return getattr(reference, f"{self.name}_backward_magnitude")(*args, **kwargs)


OPS = {
    op.name: op
    for op in (
        Op("conv1d", 1, False),
        Op("conv2d", 2, False),
        Op("conv3d", 3, False),
        Op("conv_transpose1d", 1, True),
        Op("conv_transpose2d", 2, True),
        Op("conv_transpose3d", 3, True),
    )
}
FAMILY = ("conv1d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d")  # beside conv2d


def op_of(config) -> Op:
    return OPS[config.op]
