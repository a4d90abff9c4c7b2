"""Padding an (N, C, *spatial) array by ((before, after), ...), one pair per spatial axis, in
torch's four modes.

Non-zero modes gather through an index map per axis, written out from the definitions
(reflect excludes the edge pixel, replicate repeats it, circular wraps once), so that the
reference does not rest on np.pad's conventions; the tests cross-check against np.pad.
A negative pad crops, as in torch's F.pad: the index map then simply starts or stops inside
the axis. Zero padding is never negative here (spec.check_pads_fit rejects it, as torch does).
"""

from __future__ import annotations

import math

import numpy as np

from .spec import Pads


def source_indices(size: int, before: int, after: int, padding_mode: str) -> np.ndarray:
    """For each position of the padded axis, the input index it copies."""
    positions = np.arange(-before, size + after)
    if padding_mode == "reflect":
        mirrored = np.where(positions < 0, -positions, positions)
        return np.where(mirrored >= size, 2 * (size - 1) - mirrored, mirrored)
    if padding_mode == "replicate":
        return np.clip(positions, 0, size - 1)
    if padding_mode == "circular":
        return positions % size
    raise ValueError(f"no index map for padding_mode={padding_mode!r}")


def pad_input(x: np.ndarray, pads: Pads, padding_mode: str) -> np.ndarray:
    """x padded by pads; x itself when there is nothing to pad."""
    if all(pair == (0, 0) for pair in pads):
        return x
    n, c, *size = x.shape
    if padding_mode == "zeros":
        shape, middle = [n, c], [slice(None), slice(None)]
        for length, (before, after) in zip(size, pads):
            shape.append(length + before + after)
            middle.append(slice(before, before + length))
        padded = np.zeros(shape, dtype=x.dtype)
        padded[tuple(middle)] = x
        return padded
    sources = [source_indices(s, before, after, padding_mode) for s, (before, after) in zip(size, pads)]
    # one gather over flattened volumes: unlike fancy indexing per axis, whose result is laid
    # out pixel-major, this is C-contiguous, which the im2col copy reads several times faster
    volume = np.zeros((), dtype=np.intp)  # the flat input index of each padded position
    for axis_size, source in zip(size, sources):
        volume = volume[..., None] * axis_size + source
    gathered = np.take(x.reshape(n * c, math.prod(size)), volume.ravel(), axis=1)
    return gathered.reshape(n, c, *(len(source) for source in sources))


def fold_borders(grad: np.ndarray, size: int, before: int, after: int, padding_mode: str, axis: int) -> None:
    """In place, along one axis of a padded array's gradient (before, after >= 0): add each border
    position onto the middle position that holds the input index it copied."""
    sources = source_indices(size, before, after, padding_mode)
    view = np.moveaxis(grad, axis, 0)
    for position in (*range(before), *range(before + size, before + size + after)):
        view[before + sources[position]] += view[position]
