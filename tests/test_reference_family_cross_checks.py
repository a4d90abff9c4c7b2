"""conv1d, conv3d and conv_transpose1d/2d/3d of the reference checked against each other, on
generated configurations, with no torch anywhere:

(a) the N-d core against the trusted 2-d path: conv1d is conv2d at height 1, conv3d at depth 1
    is conv2d (forward and backward); the transposed ops agree across ranks the same way;
(b) each op against its loop version in reference.slow;
(c) the adjoint identity <conv_transpose(x, w), y> == <x, conv(y, w)>, and conv_transpose
    forward == the conv backward's grad_input;
(d) the transposed backward: grad_input == conv of grad_output, grad_weight[i] == the loss at
    the unit weight e_i (the loss is linear in w), grad_bias == the sum of grad_output.

Everything agrees within 1e-12 of the magnitude bound |x| conv |w| + |b| of the sums compared.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import pytest
from hypothesis import event, given
from hypothesis import strategies as st

import reference
from reference import slow

ROUNDING = 1e-12


@dataclass(frozen=True)
class Case:
    """One call of conv{d}d (transposed=False) or conv_transpose{d}d, and how to fill its operands."""

    d: int
    transposed: bool
    batch: int | None  # None: unbatched
    in_channels: int
    out_channels: int
    groups: int
    size: tuple[int, ...]
    kernel: tuple[int, ...]
    stride: tuple[int, ...]
    padding: tuple[int, ...] | str
    dilation: tuple[int, ...]
    output_padding: tuple[int, ...]  # transposed only
    padding_mode: str  # conv only
    bias: bool
    values: str  # "ones", "integers" or "normal"
    seed: int

    @property
    def op(self) -> str:
        return f"conv_transpose{self.d}d" if self.transposed else f"conv{self.d}d"

    def kwargs(self) -> dict:
        common = {"stride": self.stride, "padding": self.padding, "dilation": self.dilation, "groups": self.groups}
        if self.transposed:
            return {**common, "output_padding": self.output_padding}
        return {**common, "padding_mode": self.padding_mode}

    def shapes(self):
        leading = () if self.batch is None else (self.batch,)
        if self.transposed:
            weight = (self.in_channels, self.out_channels // self.groups, *self.kernel)
        else:
            weight = (self.out_channels, self.in_channels // self.groups, *self.kernel)
        return (*leading, self.in_channels, *self.size), weight, (self.out_channels,) if self.bias else None

    def fill(self, shape, salt: int = 0) -> np.ndarray:
        rng = np.random.default_rng([self.seed, salt])
        if self.values == "ones":
            return np.ones(shape)
        if self.values == "integers":
            return rng.integers(-3, 4, shape).astype(float)
        return rng.standard_normal(shape)

    def arrays(self):
        x_shape, w_shape, b_shape = self.shapes()
        return self.fill(x_shape, 0), self.fill(w_shape, 1), None if b_shape is None else self.fill(b_shape, 2)


def extent(kernel, dilation):
    return [dil * (k - 1) + 1 for k, dil in zip(kernel, dilation)]


@st.composite
def cases(draw, dims=(1, 2, 3), transposed=st.booleans()):
    """Valid by construction, drawn in dependency order: groups, channels as multiples, kernel,
    dilation, stride, padding (and output_padding) and only then the sizes that padding allows."""
    d = draw(st.sampled_from(dims))
    transposed = draw(transposed)
    groups = draw(st.integers(1, 3))
    in_channels, out_channels = groups * draw(st.integers(1, 3)), groups * draw(st.integers(1, 3))
    largest = {1: 4, 2: 3, 3: 2}[d]
    kernel = tuple(draw(st.lists(st.integers(1, largest), min_size=d, max_size=d)))
    dilation = tuple(draw(st.lists(st.integers(1, 3), min_size=d, max_size=d)))
    stride = tuple(draw(st.lists(st.integers(1, 3), min_size=d, max_size=d)))
    spans = extent(kernel, dilation)
    padding_mode, output_padding = "zeros", (0,) * d
    if transposed:
        size = tuple(draw(st.lists(st.integers(1, {1: 6, 2: 4, 3: 3}[d]), min_size=d, max_size=d)))
        # the output (n-1)s - 2p + span + op must keep at least one element with op = 0
        padding = tuple(draw(st.integers(0, ((n - 1) * s + span - 1) // 2)) for n, s, span in zip(size, stride, spans))
        output_padding = tuple(draw(st.integers(0, max(s, dil) - 1)) for s, dil in zip(stride, dilation))
        event(f"output_padding >= stride: {any(op >= s for op, s in zip(output_padding, stride))}")
    else:
        padding_mode = draw(st.sampled_from(reference.PADDING_MODES))
        form = draw(st.sampled_from(["ints", "ints", "same", "valid"]))
        if form == "same":
            stride = (1,) * d
            padding = "same"
            pads = [(span - 1) - (span - 1) // 2 for span in spans]  # the larger half, after
        elif form == "valid":
            padding, pads = "valid", [0] * d
        else:
            padding = tuple(draw(st.integers(0, min(span - 1, 4 - d))) for span in spans)
            pads = padding
        # reflect needs pad < size, circular pad <= size; the padded input must hold the kernel
        size = tuple(
            draw(st.integers(max(1, span - 2 * p, p + 1), max(1, span - 2 * p, p + 1) + {1: 5, 2: 3, 3: 2}[d]))
            for span, p in zip(spans, pads)
        )
        event(f"padding {form}, {padding_mode}")
    return Case(
        d=d,
        transposed=transposed,
        batch=draw(st.none() | st.integers(1, 2)),
        in_channels=in_channels,
        out_channels=out_channels,
        groups=groups,
        size=size,
        kernel=kernel,
        stride=stride,
        padding=padding,
        dilation=dilation,
        output_padding=output_padding,
        padding_mode=padding_mode,
        bias=draw(st.booleans()),
        values=draw(st.sampled_from(["ones", "integers", "normal"])),
        seed=draw(st.integers(0, 2**32 - 1)),
    )


def assert_within(ours, theirs, magnitude, what=""):
    """Same shape, and each element within ROUNDING of its magnitude bound."""
    __tracebackhide__ = True
    assert ours.shape == theirs.shape, f"{what}: shape {ours.shape} != {theirs.shape}"
    excess = np.abs(ours - theirs) - ROUNDING * magnitude
    assert np.all(excess <= 0), (
        f"{what}: {np.sum(excess > 0)} / {excess.size} elements off; worst {excess.max():.3g} past"
    )


def call(name, *args, **kwargs):
    return getattr(reference, name)(*args, **kwargs)


def batch_axes(case: Case):
    return tuple(i for i in range(case.d + 2) if i != 1) if case.batch is not None else tuple(range(1, case.d + 1))


# (a) the N-d core against the 2-d path


def as_conv2d(case: Case, x, w):
    """The conv2d call that the case's conv1d (a height-1 axis put in front of the length) or
    conv3d at depth 1 (the depth axis dropped) equals: operands and keyword arguments."""
    channel_axis = 0 if case.batch is None else 1
    if case.d == 1:
        x2, w2 = np.expand_dims(x, channel_axis + 1), w[:, :, None]

        def planar(values, unit):
            return (unit, *values)
    else:
        x2, w2 = np.take(x, 0, axis=channel_axis + 1), w[:, :, 0]

        def planar(values, unit):
            return tuple(values[1:])

    padding = case.padding if isinstance(case.padding, str) else planar(case.padding, 0)
    kwargs = {"stride": planar(case.stride, 1), "padding": padding, "dilation": planar(case.dilation, 1)}
    return x2, w2, {**kwargs, "groups": case.groups, "padding_mode": case.padding_mode}


@given(case=cases(dims=(1,), transposed=st.just(False)))
def test_conv1d_is_conv2d_at_height_1(case):
    x, w, b = case.arrays()
    x2, w2, kwargs2 = as_conv2d(case, x, w)
    ours = reference.conv1d(x, w, b, **case.kwargs())
    magnitude = reference.conv1d_magnitude(x, w, b, **case.kwargs())
    assert_within(ours, reference.conv2d(x2, w2, b, **kwargs2).squeeze(-2), magnitude, "forward")
    g = case.fill(ours.shape, 3)
    grads = reference.conv1d_backward(g, x, w, b, **case.kwargs())
    grads2 = reference.conv2d_backward(np.expand_dims(g, -2), x2, w2, b, **kwargs2)
    magnitudes = reference.conv1d_backward_magnitude(g, x, w, b, **case.kwargs())
    assert_within(grads[0], grads2[0].squeeze(-2), magnitudes[0], "grad_input")
    assert_within(grads[1], grads2[1][:, :, 0], magnitudes[1], "grad_weight")
    if b is not None:
        assert_within(grads[2], grads2[2], magnitudes[2], "grad_bias")


@given(case=cases(dims=(3,), transposed=st.just(False)))
def test_conv3d_at_depth_1_is_conv2d(case):
    kernel = (1, *case.kernel[1:])
    padding = case.padding if isinstance(case.padding, str) else (0, *case.padding[1:])
    case = dataclasses.replace(case, size=(1, *case.size[1:]), kernel=kernel, padding=padding)
    x, w, b = case.arrays()
    x2, w2, kwargs2 = as_conv2d(case, x, w)
    ours = reference.conv3d(x, w, b, **case.kwargs())
    magnitude = reference.conv3d_magnitude(x, w, b, **case.kwargs())
    assert_within(ours, np.expand_dims(reference.conv2d(x2, w2, b, **kwargs2), -3), magnitude, "forward")
    g = case.fill(ours.shape, 3)
    grads = reference.conv3d_backward(g, x, w, b, **case.kwargs())
    grads2 = reference.conv2d_backward(np.take(g, 0, axis=-3), x2, w2, b, **kwargs2)
    magnitudes = reference.conv3d_backward_magnitude(g, x, w, b, **case.kwargs())
    assert_within(grads[0], np.expand_dims(grads2[0], -3), magnitudes[0], "grad_input")
    assert_within(grads[1], grads2[1][:, :, None], magnitudes[1], "grad_weight")


@given(case=cases(dims=(1,), transposed=st.just(True)))
def test_conv_transpose1d_is_conv_transpose2d_and_3d_with_unit_axes_in_front(case):
    x, w, b = case.arrays()
    ours = reference.conv_transpose1d(x, w, b, **case.kwargs())
    magnitude = reference.conv_transpose1d_magnitude(x, w, b, **case.kwargs())
    channel_axis = 0 if case.batch is None else 1
    for extra in (1, 2):
        unit = (1,) * extra
        x_n = x.reshape(x.shape[: channel_axis + 1] + unit + x.shape[channel_axis + 1 :])
        w_n = w.reshape(w.shape[:2] + unit + w.shape[2:])
        kwargs = {
            "stride": (*unit, *case.stride),
            "padding": ((0,) * extra + case.padding),
            "output_padding": ((0,) * extra + case.output_padding),
            "dilation": (*unit, *case.dilation),
            "groups": case.groups,
        }
        theirs = call(f"conv_transpose{1 + extra}d", x_n, w_n, b, **kwargs)
        assert_within(ours, theirs.reshape(ours.shape), magnitude, f"conv_transpose{1 + extra}d")


# (b) each op against its loop version


@given(case=cases())
def test_matches_the_slow_loop_version(case):
    event(case.op)
    x, w, b = case.arrays()
    ours = call(case.op, x, w, b, **case.kwargs())
    theirs = getattr(slow, f"{case.op}_slow")(x, w, b, **case.kwargs())
    assert_within(ours, theirs, call(f"{case.op}_magnitude", x, w, b, **case.kwargs()), case.op)


# (c) the adjoint identity, and conv_transpose as the conv's input gradient


def conv_of(case: Case, y, w):
    """conv{d}d(y, w) with the transposed case's stride, padding, dilation and groups: the
    transposed weight (C_in, C_out/groups, *k) read as a conv weight (O=C_in, C/groups, *k)."""
    kwargs = {"stride": case.stride, "padding": case.padding, "dilation": case.dilation, "groups": case.groups}
    return call(f"conv{case.d}d", y, w, **kwargs), call(f"conv{case.d}d_magnitude", y, w, **kwargs)


def crop_to(array, spatial):
    """The leading `spatial` positions of each spatial axis: the conv of a transposed output
    has extra positions when output_padding >= stride, which no input element reaches."""
    return array[(..., *(slice(0, n) for n in spatial))]


@given(case=cases(transposed=st.just(True)))
def test_adjoint_identity(case):
    x, w, _ = case.arrays()
    forward = call(case.op, x, w, **case.kwargs())
    y = case.fill(forward.shape, 3)
    conv_y, conv_y_magnitude = conv_of(case, y, w)
    inner_forward = np.sum(forward * y)
    inner_adjoint = np.sum(x * crop_to(conv_y, case.size))
    scale = np.sum(np.abs(y) * call(f"{case.op}_magnitude", x, w, **case.kwargs()))
    assert abs(inner_forward - inner_adjoint) <= 2 * ROUNDING * scale
    # the other way round: each side's magnitude bounds the same sum of |products|
    np.testing.assert_allclose(np.sum(np.abs(x) * crop_to(conv_y_magnitude, case.size)), scale, rtol=ROUNDING)


@given(case=cases(transposed=st.just(True)))
def test_conv_transpose_is_the_conv_input_gradient(case):
    x, w, _ = case.arrays()
    ours = call(case.op, x, w, **case.kwargs())
    zeros = np.zeros(ours.shape)
    conv_out_shape = conv_of(case, zeros, w)[0].shape
    # the conv of an input of the transposed output's size gives x's size, or more with op >= stride
    grad_output = np.zeros(conv_out_shape)
    grad_output[(..., *(slice(0, n) for n in case.size))] = x
    kwargs = {"stride": case.stride, "padding": case.padding, "dilation": case.dilation, "groups": case.groups}
    grad_input, _, _ = call(f"conv{case.d}d_backward", grad_output, zeros, w, **kwargs)
    magnitude = call(f"{case.op}_magnitude", x, w, **case.kwargs())
    assert_within(ours, grad_input, magnitude, "conv_transpose vs conv grad_input")


# (d) the transposed backward


@given(case=cases(transposed=st.just(True)))
def test_transposed_backward(case):
    x, w, b = case.arrays()
    kwargs = case.kwargs()
    g = case.fill(call(case.op, x, w, b, **kwargs).shape, 3)
    grad_x, grad_w, grad_b = call(f"{case.op}_backward", g, x, w, b, **kwargs)
    magnitude_x, magnitude_w, magnitude_b = call(f"{case.op}_backward_magnitude", g, x, w, b, **kwargs)
    # grad_input: the conv of grad_output, cropped to x's size
    conv_g = conv_of(case, g, w)[0]
    assert_within(grad_x, crop_to(conv_g, case.size), magnitude_x, "grad_input")
    # grad_weight: sum(conv_transpose(x, w) * g) is linear in w, so its i-th component is the loss at e_i
    unit_losses = np.empty(w.size)
    for i in range(w.size):
        unit = np.zeros(w.size)
        unit[i] = 1.0
        unit_losses[i] = np.sum(call(case.op, x, unit.reshape(w.shape), **kwargs) * g)
    assert_within(grad_w, unit_losses.reshape(w.shape), magnitude_w, "grad_weight")
    if b is None:
        assert grad_b is None and magnitude_b is None
    else:
        assert_within(grad_b, g.sum(axis=batch_axes(case)), magnitude_b, "grad_bias")


@given(case=cases(transposed=st.just(True)))
def test_output_padding_for_recovers_the_output_padding(case):
    out = call(case.op, *case.arrays(), **case.kwargs())
    spatial = out.shape[-case.d :]
    geometry = (case.kernel, case.stride, case.padding, case.dilation)
    input_shape = case.shapes()[0]
    if all(op < s for op, s in zip(case.output_padding, case.stride)):
        assert reference.output_padding_for(input_shape, spatial, *geometry) == case.output_padding
        # with the leading (batch and) channel dims too, as torch accepts them
        assert reference.output_padding_for(input_shape, out.shape, *geometry) == case.output_padding
    else:  # op >= stride (allowed by dilation) is past torch's [min, min + stride - 1] output_size range
        event("output_size beyond stride - 1: rejected")
        with pytest.raises(ValueError, match="output_size"):
            reference.output_padding_for(input_shape, spatial, *geometry)
