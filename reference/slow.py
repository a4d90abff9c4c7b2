"""Obviously correct convolutions: a loop per output (or input) element, each padded pixel
looked up by hand, for 1, 2 or 3 spatial axes.

Only the reference's own tests use them, on tiny sizes, to cross-check the vectorised versions.
They share argument checking with them (reference.spec, transposed.prepare_transposed) but
none of the arithmetic or padding: the transposed conv is written straight from its scatter
definition, out[n, g*Cog + o, i*s + j*d - p] += x[n, g*Cig + c, i] * w[g*Cig + c, o, j].
"""

from __future__ import annotations

import itertools

import numpy as np

from . import spec
from .transposed import prepare_transposed


def source_position(index: int, size: int, padding_mode: str) -> int | None:
    """The input index a padded position `index` (already shifted by the pad before) reads
    along one axis of length `size`, from the mode's definition; None for a zero."""
    if 0 <= index < size:
        return index
    if padding_mode == "zeros":
        return None
    if padding_mode == "replicate":
        return min(max(index, 0), size - 1)
    if padding_mode == "circular":
        return index % size
    if padding_mode == "reflect":
        return -index if index < 0 else 2 * (size - 1) - index
    raise ValueError(f"unknown padding_mode {padding_mode!r}")


def padded_pixel(volume: np.ndarray, position, pads: spec.Pads, padding_mode: str) -> float:
    """The value at `position` of the padded volume (one channel's spatial axes)."""
    sources = [
        source_position(p - before, size, padding_mode) for p, (before, _), size in zip(position, pads, volume.shape)
    ]
    return 0.0 if None in sources else volume[tuple(sources)]


def conv_slow(input, weight, bias, stride, padding, dilation, groups, padding_mode, d: int):
    """Every output element summed over its taps, each read through padded_pixel."""
    x = spec.as_float64(input, "input")
    w = spec.as_float64(weight, "weight")
    unbatched = x.ndim == d + 1
    if unbatched:
        x = x[np.newaxis]
    groups = spec.check_groups(groups)
    stride, dilation = spec.positive_tuple(stride, d, "stride"), spec.positive_tuple(dilation, d, "dilation")
    padding_mode = spec.check_padding_mode(padding_mode)
    spec.check_operands(x, w, None if bias is None else np.asarray(bias, dtype=float), groups, d)
    n_batch, size = x.shape[0], x.shape[2:]
    out_channels, per_group, *kernel_size = w.shape
    pads = spec.resolve_padding(padding, kernel_size, dilation, stride)
    spec.check_pads_fit(pads, size, padding_mode)
    padded_size = [s + before + after for s, (before, after) in zip(size, pads)]
    spec.check_kernel_fits(padded_size, kernel_size, dilation)
    out_size = [(p - dil * (k - 1) - 1) // s + 1 for p, k, s, dil in zip(padded_size, kernel_size, stride, dilation)]
    out = np.zeros((n_batch, out_channels, *out_size))
    outs_per_group = out_channels // groups
    for n, o, y in itertools.product(range(n_batch), range(out_channels), itertools.product(*map(range, out_size))):
        group = o // outs_per_group
        total = 0.0 if bias is None else float(bias[o])
        for c, tap in itertools.product(range(per_group), itertools.product(*map(range, kernel_size))):
            position = [yi * s + j * dil for yi, j, s, dil in zip(y, tap, stride, dilation)]
            volume = x[n, group * per_group + c]
            total += w[(o, c, *tap)] * padded_pixel(volume, position, pads, padding_mode)
        out[(n, o, *y)] = total
    return out[0] if unbatched else out


def conv1d_slow(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1, padding_mode="zeros"):
    return conv_slow(input, weight, bias, stride, padding, dilation, groups, padding_mode, 1)


def conv2d_slow(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1, padding_mode="zeros"):
    return conv_slow(input, weight, bias, stride, padding, dilation, groups, padding_mode, 2)


def conv3d_slow(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1, padding_mode="zeros"):
    return conv_slow(input, weight, bias, stride, padding, dilation, groups, padding_mode, 3)


def conv_transpose_slow(input, weight, bias, stride, padding, output_padding, groups, dilation, d: int):
    """Every input element scatters, through every kernel tap, onto the output position
    i*s + j*d - p; positions outside the output (cropped by padding) are dropped."""
    call = prepare_transposed(input, weight, bias, stride, padding, output_padding, groups, dilation, d)
    x, w = call.input, call.weight
    in_channels, outs_per_group, *kernel_size = w.shape
    ins_per_group = in_channels // call.groups
    out = np.zeros((x.shape[0], outs_per_group * call.groups, *call.out_size))
    if call.bias is not None:
        for o in range(out.shape[1]):
            out[:, o] = call.bias[o]
    for n, ci, i in itertools.product(
        range(x.shape[0]), range(in_channels), itertools.product(*map(range, x.shape[2:]))
    ):
        group = ci // ins_per_group
        for o, tap in itertools.product(range(outs_per_group), itertools.product(*map(range, kernel_size))):
            position = [
                ii * s + j * dil - p for ii, j, s, dil, p in zip(i, tap, call.stride, call.dilation, call.padding)
            ]
            if all(0 <= q < size for q, size in zip(position, call.out_size)):
                out[(n, group * outs_per_group + o, *position)] += x[(n, ci, *i)] * w[(ci, o, *tap)]
    return out[0] if call.unbatched else out


def conv_transpose1d_slow(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    return conv_transpose_slow(input, weight, bias, stride, padding, output_padding, groups, dilation, 1)


def conv_transpose2d_slow(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    return conv_transpose_slow(input, weight, bias, stride, padding, output_padding, groups, dilation, 2)


def conv_transpose3d_slow(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    return conv_transpose_slow(input, weight, bias, stride, padding, output_padding, groups, dilation, 3)
