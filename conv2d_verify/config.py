"""A Conv2d configuration and its geometry: the one place where sizes, pads and output shapes
are worked out (strategies, known defects, special values and invalid configs all ask here)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import ClassVar

import numpy as np

import reference
from reference.padding import source_indices


@dataclass(frozen=True)
class Geometry:
    """Per axis (height, width): input size, pads before/after, kernel, stride, dilation."""

    size: tuple[int, int]
    pads: tuple[tuple[int, int], tuple[int, int]]
    kernel: tuple[int, int]
    stride: tuple[int, int]
    dilation: tuple[int, int]

    @cached_property
    def out(self) -> tuple[int, ...]:
        return tuple(
            (n + sum(p) - d * (k - 1) - 1) // s + 1
            for n, p, k, s, d in zip(self.size, self.pads, self.kernel, self.stride, self.dilation)
        )

    def only_padding(self, axis: int) -> bool:
        """Every output position along the axis reads padding alone, no input pixel."""
        n, (before, _), k, s, d = (
            self.size[axis],
            self.pads[axis],
            self.kernel[axis],
            self.stride[axis],
            self.dilation[axis],
        )
        return all(not (before <= o * s + j * d < before + n) for o in range(self.out[axis]) for j in range(k))


@dataclass(frozen=True)
class Conv2dConfig:
    """One nn.Conv2d and the input it is called on; its repr is the whole configuration."""

    op: ClassVar[str] = "conv2d"  # ops.OPS; the other ops use family_config.ConvConfig
    transposed: ClassVar[bool] = False

    in_channels: int
    out_channels: int
    kernel_size: int | tuple[int, int]
    stride: int | tuple[int, int]
    padding: int | tuple[int, int] | str
    dilation: int | tuple[int, int]
    groups: int
    bias: bool
    padding_mode: str
    batch: int | None  # None: unbatched (C, H, W) input
    height: int
    width: int

    def layer_kwargs(self) -> dict:
        names = (
            "in_channels",
            "out_channels",
            "kernel_size",
            "stride",
            "padding",
            "dilation",
            "groups",
            "bias",
            "padding_mode",
        )
        return {name: getattr(self, name) for name in names}

    def conv_kwargs(self) -> dict:
        """The keyword arguments reference.conv2d shares with nn.Conv2d."""
        names = ("stride", "padding", "dilation", "groups", "padding_mode")
        return {name: getattr(self, name) for name in names}

    def forward_sums(self) -> tuple[int, int]:
        """(terms summed in the accumulator, partial sums added in the output dtype) per output."""
        return self.in_channels // self.groups * self.kernel_pair[0] * self.kernel_pair[1], 0

    def gradient_sums(self) -> dict[str, tuple[int, int]]:
        """Per gradient, as forward_sums: grad_input sums out_channels/groups products per tap in the
        accumulator, then up to kh*kw taps (col2im) and the padding fold; grad_weight and grad_bias
        sum Ho*Wo products per image, then the images."""
        images = 1 if self.batch is None else self.batch
        pixels = self.geometry.out[0] * self.geometry.out[1]
        kh, kw = self.kernel_pair
        return {
            "input": (self.out_channels // self.groups, kh * kw + self.fold_multiplicity()),
            "weight": (pixels, images),
            "bias": (pixels, images),
        }

    def fold_multiplicity(self) -> int:
        """How many padded positions at most fold back onto one input pixel (1 for zeros)."""
        if self.padding_mode == "zeros":
            return 1
        (top, bottom), (left, right) = self.pads
        rows = np.bincount(source_indices(self.height, top, bottom, self.padding_mode)).max()
        cols = np.bincount(source_indices(self.width, left, right, self.padding_mode)).max()
        return int(rows * cols)

    @property
    def input_shape(self) -> tuple[int, ...]:
        spatial = (self.in_channels, self.height, self.width)
        return spatial if self.batch is None else (self.batch, *spatial)

    @property
    def weight_shape(self) -> tuple[int, int, int, int]:
        return (self.out_channels, self.in_channels // self.groups, *self.kernel_pair)

    @cached_property
    def kernel_pair(self) -> tuple[int, int]:
        return reference.spec.as_pair(self.kernel_size, "kernel_size")

    @cached_property
    def stride_pair(self) -> tuple[int, int]:
        return reference.spec.as_pair(self.stride, "stride")

    @cached_property
    def dilation_pair(self) -> tuple[int, int]:
        return reference.spec.as_pair(self.dilation, "dilation")

    @cached_property
    def pads(self) -> tuple[tuple[int, int], tuple[int, int]]:
        """((top, bottom), (left, right)), as the padding mode applies them."""
        return reference.resolve_padding(self.padding, self.kernel_pair, self.dilation_pair, self.stride_pair)

    @cached_property
    def geometry(self) -> Geometry:
        """The zero-padded convolution torch hands its kernel (non-zero modes are padded beforehand)."""
        pads, size = self.pads, (self.height, self.width)
        if self.padding_mode != "zeros":
            size, pads = (size[0] + sum(pads[0]), size[1] + sum(pads[1])), ((0, 0), (0, 0))
        return Geometry(size, pads, self.kernel_pair, self.stride_pair, self.dilation_pair)

    @cached_property
    def output_shape(self) -> tuple[int, ...]:
        spatial = (self.out_channels, *self.geometry.out)
        return spatial if self.batch is None else (self.batch, *spatial)

    @cached_property
    def extent(self) -> tuple[int, int]:
        """Rows and columns one output pixel's window spans: dilation * (kernel - 1) + 1."""
        return tuple(d * (k - 1) + 1 for k, d in zip(self.kernel_pair, self.dilation_pair))

    @cached_property
    def padded_size(self) -> tuple[int, int]:
        return tuple(n + sum(p) for n, p in zip((self.height, self.width), self.pads))

    @cached_property
    def kernel_call(self) -> tuple[tuple[int, int], tuple[int, int]]:
        """(height and width, symmetric padding) of the convolution torch's kernel runs: the
        non-zero modes are padded beforehand, and an asymmetric 'same' has its extra bottom row
        and right column written out first."""
        (top, bottom), (left, right) = self.pads
        if self.padding_mode != "zeros":
            return self.padded_size, (0, 0)
        return (self.height + bottom - top, self.width + right - left), (top, left)

    @property
    def torch_pad(self) -> tuple[int, int, int, int]:
        """The pads in F.pad's order: (left, right, top, bottom)."""
        (top, bottom), (left, right) = self.pads
        return (left, right, top, bottom)

    def taps_reading_pixels(self) -> tuple[np.ndarray, np.ndarray]:
        """Two (kh, kw) masks: the taps that read an input pixel at every output position, and
        those that read one at some output position. Only zero padding counts as padding (the
        other modes pad with copies of input pixels); both parts of an asymmetric 'same' padding
        count, although torch writes the extra row or column as literal zeros before its kernel."""
        g = self.geometry
        every, some = [], []
        for n, (before, _), k, s, d, out in zip(g.size, g.pads, g.kernel, g.stride, g.dilation, g.out):
            rows = np.arange(out)[:, None] * s + np.arange(k)[None, :] * d  # (output position, tap)
            reads = (rows >= before) & (rows < before + n)
            every.append(reads.all(axis=0))
            some.append(reads.any(axis=0))
        return every[0][:, None] & every[1][None, :], some[0][:, None] & some[1][None, :]


def smallest_side(kernel: int, dilation: int, before: int, after: int, padding_mode: str) -> int:
    """The smallest input height or width that the kernel, the pads and the padding mode allow."""
    smallest = max(1, dilation * (kernel - 1) + 1 - before - after)
    if padding_mode == "reflect":
        smallest = max(smallest, before + 1, after + 1)
    elif padding_mode == "circular":
        smallest = max(smallest, before, after)
    return smallest
