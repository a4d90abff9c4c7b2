"""Padding an (N, C, H, W) array by ((top, bottom), (left, right)) in torch's four modes.

Non-zero modes gather through an index map per axis, written out from the definitions
(reflect excludes the edge pixel, replicate repeats it, circular wraps once), so that the
reference does not rest on np.pad's conventions; the tests cross-check against np.pad.
A negative pad crops, as in torch's F.pad: the index map then simply starts or stops inside
the axis. Zero padding is never negative here (spec.check_pads_fit rejects it, as torch does).
"""

from __future__ import annotations

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
    (top, bottom), (left, right) = pads
    n, c, h, w = x.shape
    if pads == ((0, 0), (0, 0)):
        return x
    if padding_mode == "zeros":
        padded = np.zeros((n, c, h + top + bottom, w + left + right), dtype=x.dtype)
        padded[:, :, top : top + h, left : left + w] = x
        return padded
    rows = source_indices(h, top, bottom, padding_mode)
    cols = source_indices(w, left, right, padding_mode)
    # one gather over flattened planes: unlike x[:, :, rows[:, None], cols], whose result is laid
    # out pixel-major, this is C-contiguous, which the im2col copy reads several times faster
    plane = (rows[:, None] * w + cols[None, :]).ravel()
    return np.take(x.reshape(n * c, h * w), plane, axis=1).reshape(n, c, len(rows), len(cols))


def fold_borders(grad: np.ndarray, size: int, before: int, after: int, padding_mode: str, axis: int) -> None:
    """In place, along one axis of a padded array's gradient (before, after >= 0): add each border
    position onto the middle position that holds the input index it copied."""
    sources = source_indices(size, before, after, padding_mode)
    view = np.moveaxis(grad, axis, 0)
    for position in (*range(before), *range(before + size, before + size + after)):
        view[before + sources[position]] += view[position]
