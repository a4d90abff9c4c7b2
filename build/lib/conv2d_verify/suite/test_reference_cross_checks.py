"""The vectorised reference against two independent computations, on generated configurations:
reference.slow (a loop per output element) and scipy.signal.correlate2d on single planes
(padding by np.pad, stride by slicing, dilation by spreading the kernel)."""

from contextlib import contextmanager

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.signal import correlate2d

import reference
from conv2d_verify.strategies import conv2d_cases, conv2d_configs
from reference import forward
from reference.slow import conv2d_slow

NP_PAD_MODE = {"zeros": "constant", "reflect": "reflect", "replicate": "edge", "circular": "wrap"}
tiny_cases = conv2d_cases(
    configs=conv2d_configs(max_groups=3, max_per_group=2, max_extra=4, batches=st.none() | st.integers(1, 2))
)


def arrays(case):
    config = case.config
    b = case.bias.make((config.out_channels,)) if config.bias else None
    return case.input.make(config.input_shape), case.weight.make(config.weight_shape), b


def assert_agree(ours, theirs, x, w, b, config):
    """Equal up to float64 rounding: 1e-12 of each element's magnitude bound."""
    assert ours.shape == theirs.shape
    bound = reference.conv2d_magnitude(x, w, b, **config.conv_kwargs())
    assert np.all(np.abs(ours - theirs) <= 1e-12 * bound), np.max(np.abs(ours - theirs) - 1e-12 * bound)


def dilated(kernel: np.ndarray, dilation: tuple[int, int]) -> np.ndarray:
    dh, dw = dilation
    spread = np.zeros(((kernel.shape[0] - 1) * dh + 1, (kernel.shape[1] - 1) * dw + 1))
    spread[::dh, ::dw] = kernel
    return spread


def conv2d_by_scipy(x, w, b, config) -> np.ndarray:
    batched = x if x.ndim == 4 else x[None]
    (sh, sw), pads = config.stride_pair, config.pads
    per_group, outs_per_group = w.shape[1], w.shape[0] // config.groups
    planes = []
    for n in range(batched.shape[0]):
        for o in range(w.shape[0]):
            first = (o // outs_per_group) * per_group
            total = sum(
                correlate2d(
                    np.pad(batched[n, first + c], pads, mode=NP_PAD_MODE[config.padding_mode]),
                    dilated(w[o, c], config.dilation_pair),
                    mode="valid",
                )
                for c in range(per_group)
            )
            planes.append(total[::sh, ::sw] + (0.0 if b is None else b[o]))
    out = np.stack(planes).reshape(batched.shape[0], w.shape[0], *planes[0].shape)
    return out if x.ndim == 4 else out[0]


@settings(max_examples=60)
@given(case=tiny_cases)
def test_matches_the_slow_loop_version(case):
    x, w, b = arrays(case)
    fast = reference.conv2d(x, w, b, **case.config.conv_kwargs())
    assert_agree(fast, conv2d_slow(x, w, b, **case.config.conv_kwargs()), x, w, b, case.config)


@given(case=conv2d_cases())
def test_matches_scipy_correlate2d(case):
    x, w, b = arrays(case)
    ours = reference.conv2d(x, w, b, **case.config.conv_kwargs())
    assert_agree(ours, conv2d_by_scipy(x, w, b, case.config), x, w, b, case.config)


@given(config=conv2d_configs(), data=st.data())
def test_magnitude_bounds_the_result(config, data):
    case = data.draw(conv2d_cases(configs=st.just(config)))
    x, w, b = arrays(case)
    kwargs = config.conv_kwargs()
    bound = reference.conv2d_magnitude(x, w, b, **kwargs)
    assert np.all(np.abs(reference.conv2d(x, w, b, **kwargs)) <= bound * (1 + 1e-12))
    np.testing.assert_array_equal(
        bound, reference.conv2d(np.abs(x), np.abs(w), None if b is None else np.abs(b), **kwargs)
    )


@contextmanager
def block_budget(nbytes: int):
    saved = forward.BLOCK_BYTES, forward.NARROW_BLOCK_BYTES
    forward.BLOCK_BYTES = forward.NARROW_BLOCK_BYTES = nbytes
    try:
        yield
    finally:
        forward.BLOCK_BYTES, forward.NARROW_BLOCK_BYTES = saved


# Generated cases are small enough to fit one block; these budgets force the other paths.
@pytest.mark.parametrize("nbytes", [1, 600], ids=["one output row per block", "several rows or images per block"])
@settings(max_examples=40)
@given(case=tiny_cases, data=st.data())
def test_blocking_changes_nothing(nbytes, case, data):
    x, w, b = arrays(case)
    kwargs = case.config.conv_kwargs()
    g = data.draw(conv2d_cases(configs=st.just(case.config))).input.make(reference.conv2d(x, w, b, **kwargs).shape)
    with block_budget(nbytes):
        blocked, blocked_grads = reference.conv2d(x, w, b, **kwargs), reference.conv2d_backward(g, x, w, b, **kwargs)
    assert_agree(blocked, conv2d_slow(x, w, b, **kwargs), x, w, b, case.config)
    grads, magnitudes = (
        reference.conv2d_backward(g, x, w, b, **kwargs),
        reference.conv2d_backward_magnitude(g, x, w, b, **kwargs),
    )
    for ours, theirs, magnitude in zip(blocked_grads, grads, magnitudes):
        if magnitude is not None:
            assert np.all(np.abs(ours - theirs) <= 1e-12 * magnitude)
