"""One nn.Conv1d, Conv3d or ConvTranspose1d/2d/3d and the input it is called on: the family's
counterpart of config.Conv2dConfig, with one tuple entry per spatial axis (depth, height, width)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from reference.padding import source_indices

from .config import Geometry
from .ops import OPS, Op


def as_tuple(value, dims: int) -> tuple[int, ...]:
    return tuple(value) if isinstance(value, (tuple, list)) else (int(value),) * dims


@dataclass(frozen=True)
class ConvConfig:
    """Its repr is the whole configuration. For a transposed op, padding_mode is 'zeros' (the only
    mode torch has for it), output_padding is the module's, and via_output_size says the module is
    called with the output_size that this output_padding gives (nn.ConvTranspose*d's other way)."""

    op: str
    in_channels: int
    out_channels: int
    kernel_size: int | tuple[int, ...]
    stride: int | tuple[int, ...]
    padding: int | tuple[int, ...] | str
    dilation: int | tuple[int, ...]
    groups: int
    bias: bool
    padding_mode: str
    batch: int | None  # None: unbatched input
    size: tuple[int, ...]  # the input's spatial sizes
    output_padding: int | tuple[int, ...] = 0
    via_output_size: bool = False

    @property
    def spec(self) -> Op:
        return OPS[self.op]

    @property
    def transposed(self) -> bool:
        return self.spec.transposed

    @cached_property
    def kernel(self) -> tuple[int, ...]:
        return as_tuple(self.kernel_size, self.spec.dims)

    @cached_property
    def strides(self) -> tuple[int, ...]:
        return as_tuple(self.stride, self.spec.dims)

    @cached_property
    def dilations(self) -> tuple[int, ...]:
        return as_tuple(self.dilation, self.spec.dims)

    @cached_property
    def output_paddings(self) -> tuple[int, ...]:
        return as_tuple(self.output_padding, self.spec.dims)

    @cached_property
    def extent(self) -> tuple[int, ...]:
        return tuple(d * (k - 1) + 1 for k, d in zip(self.kernel, self.dilations))

    @cached_property
    def pads(self) -> tuple[tuple[int, int], ...]:
        """(before, after) per axis; 'same' puts the odd pixel after, as torch does."""
        if self.padding == "valid":
            return ((0, 0),) * self.spec.dims
        if self.padding == "same":
            return tuple((total // 2, total - total // 2) for total in (e - 1 for e in self.extent))
        return tuple((p, p) for p in as_tuple(self.padding, self.spec.dims))

    def layer_kwargs(self) -> dict:
        kwargs = {
            "in_channels": self.in_channels,
            "out_channels": self.out_channels,
            "kernel_size": self.kernel_size,
            "stride": self.stride,
            "padding": self.padding,
            "dilation": self.dilation,
            "groups": self.groups,
            "bias": self.bias,
            "padding_mode": self.padding_mode,
        }
        if self.transposed and not self.via_output_size:
            kwargs["output_padding"] = self.output_padding
        return kwargs

    def conv_kwargs(self) -> dict:
        """The keyword arguments of the reference function (torch's functional, plus padding_mode
        for the convolutions, which the reference applies as the module does)."""
        if self.transposed:
            names = ("stride", "padding", "output_padding", "groups", "dilation")
        else:
            names = ("stride", "padding", "dilation", "groups", "padding_mode")
        return {name: getattr(self, name) for name in names}

    @property
    def input_shape(self) -> tuple[int, ...]:
        shape = (self.in_channels, *self.size)
        return shape if self.batch is None else (self.batch, *shape)

    @property
    def weight_shape(self) -> tuple[int, ...]:
        if self.transposed:
            return (self.in_channels, self.out_channels // self.groups, *self.kernel)
        return (self.out_channels, self.in_channels // self.groups, *self.kernel)

    @cached_property
    def out_size(self) -> tuple[int, ...]:
        if self.transposed:
            return tuple(
                (n - 1) * s - 2 * p + e + op
                for n, s, (p, _), e, op in zip(self.size, self.strides, self.pads, self.extent, self.output_paddings)
            )
        return self.geometry.out

    @property
    def output_shape(self) -> tuple[int, ...]:
        shape = (self.out_channels, *self.out_size)
        return shape if self.batch is None else (self.batch, *shape)

    @property
    def output_size_argument(self) -> list[int]:
        """What the module is called with when via_output_size: the spatial sizes wanted."""
        return list(self.out_size)

    @cached_property
    def geometry(self) -> Geometry:
        """A convolution's geometry as its kernel runs it (non-zero modes padded beforehand). For a
        transposed op, the adjoint's: the convolution of an output-sized tensor back to the input,
        which oneDNN runs for the op's input and weight gradients (backward_data, backward_weights)."""
        if self.transposed:
            return Geometry(self.out_size, self.pads, self.kernel, self.strides, self.dilations)
        pads, size = self.pads, self.size
        if self.padding_mode != "zeros":
            size, pads = tuple(n + sum(p) for n, p in zip(size, pads)), ((0, 0),) * self.spec.dims
        return Geometry(size, pads, self.kernel, self.strides, self.dilations)

    @property
    def padded_size(self) -> tuple[int, ...]:
        return tuple(n + sum(p) for n, p in zip(self.size, self.pads))

    @property
    def kernel_call(self) -> tuple[tuple[int, ...], tuple[int, ...]]:
        """(spatial sizes, symmetric padding) of the convolution torch's kernel runs."""
        if self.padding_mode != "zeros":
            return self.padded_size, (0,) * self.spec.dims
        return tuple(n + after - before for n, (before, after) in zip(self.size, self.pads)), tuple(
            before for before, _ in self.pads
        )

    @property
    def torch_pad(self) -> tuple[int, ...]:
        """The pads in F.pad's order: the last axis first."""
        return tuple(p for before_after in reversed(self.pads) for p in before_after)

    def taps_reading_pixels(self) -> tuple[np.ndarray, np.ndarray]:
        """Two masks over the kernel: the taps that read an input pixel at every output position,
        and those that read one at some output position (zero padding only counts as padding)."""
        g = self.geometry
        every, some = np.ones((), bool), np.ones((), bool)
        for n, (before, _), k, s, d, out in zip(g.size, g.pads, g.kernel, g.stride, g.dilation, g.out):
            rows = np.arange(out)[:, None] * s + np.arange(k)[None, :] * d
            reads = (rows >= before) & (rows < before + n)
            every, some = np.multiply.outer(every, reads.all(axis=0)), np.multiply.outer(some, reads.any(axis=0))
        return every, some

    def taps_per_position(self) -> list[np.ndarray]:
        """Per axis, how many (input pixel, tap) pairs land on each output position: a transposed
        convolution's reduction length varies with the position, from 0 (gaps where the stride
        outruns the dilated kernel) upwards."""
        counts = []
        for n, s, (p, _), k, d, out in zip(
            self.size, self.strides, self.pads, self.kernel, self.dilations, self.out_size
        ):
            positions = (np.arange(n)[:, None] * s + np.arange(k)[None, :] * d - p).ravel()
            counts.append(np.bincount(positions[(positions >= 0) & (positions < out)], minlength=out))
        return counts

    def transposed_taps(self) -> tuple[int, ...]:
        """Per axis, the most taps that land on one output position."""
        return tuple(int(c.max(initial=0)) for c in self.taps_per_position())

    def has_gaps(self) -> bool:
        """Some output position is reached by no tap: it holds the bias alone."""
        return any(int(c.min(initial=0)) == 0 for c in self.taps_per_position())

    def fold_multiplicity(self) -> int:
        """How many padded positions at most fold back onto one input pixel (1 for zeros)."""
        if self.padding_mode == "zeros":
            return 1
        return int(
            np.prod(
                [
                    np.bincount(source_indices(n, before, after, self.padding_mode)).max()
                    for n, (before, after) in zip(self.size, self.pads)
                ]
            )
        )

    def forward_sums(self) -> tuple[int, int]:
        """(terms summed in the accumulator, partial sums added in the output dtype) per output
        element. A transposed convolution is a convolution's input gradient: its channels are
        summed per tap, then up to transposed_taps() taps per position (col2im)."""
        if self.transposed:
            return self.in_channels // self.groups, int(np.prod(self.transposed_taps()))
        return self.in_channels // self.groups * int(np.prod(self.kernel)), 0

    def gradient_sums(self) -> dict[str, tuple[int, int]]:
        """Per gradient, as forward_sums: grad_input of a convolution is col2im over its taps and
        the padding fold; of a transposed one, a convolution of grad_output. grad_weight and
        grad_bias sum per image, then over the images."""
        images = 1 if self.batch is None else self.batch
        out_pixels = int(np.prod(self.out_size))
        if self.transposed:
            taps = self.out_channels // self.groups * int(np.prod(self.kernel))
            return {"input": (taps, 0), "weight": (int(np.prod(self.size)), images), "bias": (out_pixels, images)}
        per_tap = self.out_channels // self.groups
        return {
            "input": (per_tap, int(np.prod(self.kernel)) + self.fold_multiplicity()),
            "weight": (out_pixels, images),
            "bias": (out_pixels, images),
        }
