"""Invalid-argument parity for conv1d, conv3d and conv_transpose1d/2d/3d: every call that the
reference rejects (tests/test_reference_family_errors.py) torch rejects too, through the
functional and through the nn module (float64, CPU); the valid neighbours at the edges are
accepted by both, with the same result. Where torch deviates (accepts an odd call, or raises
an unexpected kind of error) the test pins what torch does, with the reason."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import reference

from .test_reference_family_errors import CASES, OPS, OUTPUT_SIZES, Call, reference_call, valid

TORCH_REJECTS = (ValueError, TypeError, RuntimeError)  # NotImplementedError is a RuntimeError
MODULES = {
    "conv1d": torch.nn.Conv1d,
    "conv3d": torch.nn.Conv3d,
    "conv_transpose1d": torch.nn.ConvTranspose1d,
    "conv_transpose2d": torch.nn.ConvTranspose2d,
    "conv_transpose3d": torch.nn.ConvTranspose3d,
}
TRANSPOSED = [op for op in OPS if op.startswith("conv_transpose")]

# What torch 2.x does instead of raising ValueError/TypeError/RuntimeError, per (case, route).
# "accepts": torch runs the call (the reference, which wants one dtype for all, rejects it).
PINNED = {
    # F.conv_transpose1d/2d (and their modules) cast a float32 or int64 bias to the float64 of the
    # input and weight; F.conv_transpose3d raises "expected scalar type Double but found Float",
    # F.conv1d/2d/3d "Input type (double) and bias type (float) should be the same".
    **{
        (f"{op}: bias float32", route): "accepts"
        for op in ("conv_transpose1d", "conv_transpose2d")
        for route in ("functional", "module")
    },
}


def tensors(call: Call, seed: int | None = None):
    return [None if a is None else torch.from_numpy(a) for a in call.arrays(seed)]


def functional(call: Call, seed: int | None = None):
    return getattr(F, call.op)(*tensors(call, seed), **call.kwargs)


def module(call: Call, seed: int | None = None, output_size=None):
    """The nn module that this call describes, built as a user would, holding the call's
    weight and bias (copied in under no_grad), applied to the call's input."""
    x, w, b = tensors(call, seed)
    kwargs = {"groups": 1, **call.kwargs}
    groups = kwargs["groups"]
    valid_kernel = VALID_KERNEL[call.op]
    kernel = tuple(w.shape[2:]) if w.dim() == call.d + 2 else valid_kernel
    channels = x.shape[1] if x.dim() == call.d + 2 else x.shape[0]
    if call.transposed:
        per_group = w.shape[1] if w.dim() > 1 else 1
        in_out = (channels, per_group * groups if isinstance(groups, int) and groups > 0 else per_group)
    else:
        in_out = (channels, w.shape[0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zero-element init, even 'same' kernels
        layer = MODULES[call.op](*in_out, kernel, bias=b is not None, **kwargs)
    with torch.no_grad():
        layer.weight = torch.nn.Parameter(w)
        if b is not None:
            layer.bias = torch.nn.Parameter(b)
        return layer(x) if output_size is None else layer(x, output_size=output_size)


VALID_KERNEL = {op: tuple(valid(op).weight_shape[2:]) for op in OPS}
ROUTES = {"functional": functional, "module": module}


def routes(table: dict[str, Call]) -> list[tuple[str, str]]:
    """(name, route) pairs; a call with a padding_mode goes through the module alone (the
    functionals have no padding_mode: they would reject it for that reason only)."""
    return [
        (name, route)
        for name, call in sorted(table.items())
        for route in ROUTES
        if route == "module" or "padding_mode" not in call.kwargs
    ]


@pytest.mark.parametrize("name, route", routes(CASES))
def test_torch_rejects_what_the_reference_rejects(name, route):
    case = CASES[name]
    with pytest.raises((ValueError, TypeError)):
        reference_call(case)
    pinned = PINNED.get((name, route))
    if pinned == "accepts":
        ROUTES[route](case)
    elif pinned is not None:
        with pytest.raises(pinned):
            ROUTES[route](case)
    else:
        with pytest.raises(TORCH_REJECTS):
            ROUTES[route](case)


def test_every_pin_names_a_case():
    assert {name for name, _ in PINNED} <= set(CASES)


def assert_agree(ours, theirs, magnitude):
    __tracebackhide__ = True
    theirs = theirs.detach().numpy()
    assert theirs.dtype == np.float64 and ours.shape == theirs.shape, (ours.shape, theirs.shape)
    excess = np.abs(ours - theirs) - 1e-12 * magnitude
    assert np.all(excess <= 0), f"{np.sum(excess > 0)} / {excess.size} elements off; worst {excess.max():.3g} past"


def last(d: int, value, rest=0) -> tuple:
    return (rest,) * (d - 1) + (value,)


def accepted_edges(op: str) -> dict[str, Call]:
    """Valid calls at the edges, which both must accept."""
    base = valid(op)
    d, x, w = base.d, base.input_shape, base.weight_shape
    edges = {
        "unbatched": valid(op, input_shape=x[1:]),
        "empty batch": valid(op, input_shape=(0, *x[1:])),
        "stride and dilation as one-element lists": valid(op, kwargs={"stride": [2], "dilation": [2]}),
        "stride (2, 1, ...) and dilation (1, ..., 2)": valid(
            op, kwargs={"stride": last(d, 1, 2), "dilation": last(d, 2, 1)}
        ),
    }
    if op.startswith("conv_transpose"):
        edges |= {
            "output_padding >= stride, < dilation": valid(
                op, kwargs={"padding": 1, "output_padding": last(d, 2, 1), "stride": last(d, 1, 2), "dilation": 3}
            ),
            "output_padding as a one-element list": valid(op, kwargs={"stride": [2], "output_padding": [1]}),
            "output_padding past the cropped end": valid(op, kwargs={"stride": 3, "padding": 2, "output_padding": 2}),
            "unbatched, output_padding >= stride": valid(
                op, input_shape=x[1:], kwargs={"output_padding": 1, "dilation": 2}
            ),
            "groups 3, depthwise": valid(op, weight_shape=(3, 2, *w[2:]), bias_shape=(6,), kwargs={"groups": 3}),
            # (2-1) - 2 + 0 + 1 = 0 on the last axis: with no images, torch gives an empty output
            "empty batch, output size zero": valid(
                op, input_shape=(0, *x[1:-1], 2), weight_shape=(*w[:-1], 1), kwargs={"padding": last(d, 1)}
            ),
        }
    else:
        edges |= {
            "same with an even kernel, reflect": valid(
                op, weight_shape=(*w[:-1], 4), kwargs={"padding": "same", "padding_mode": "reflect"}
            ),
            "negative padding crops with replicate": valid(op, kwargs={"padding": -1, "padding_mode": "replicate"}),
            "negative padding on the last axis crops with circular": valid(
                op, kwargs={"padding": last(d, -1), "padding_mode": "circular"}
            ),
            "reflect, strided and dilated": valid(
                op, kwargs={"padding": 1, "padding_mode": "reflect", "stride": last(d, 1, 2), "dilation": last(d, 2, 1)}
            ),
            "circular pad equal to the last axis": valid(
                op, weight_shape=(*w[:-1], 1), kwargs={"padding": last(d, x[-1]), "padding_mode": "circular"}
            ),
            "empty batch, reflect": valid(
                op, input_shape=(0, *x[1:]), kwargs={"padding": 1, "padding_mode": "reflect"}
            ),
            "groups 3, depthwise": valid(op, weight_shape=(6, 1, *w[2:]), bias_shape=(6,), kwargs={"groups": 3}),
        }
        if d == 1:  # one value in a list is the whole padding for conv1d, in every mode
            edges["padding one value in a list, reflect"] = valid(
                op, kwargs={"padding": [1], "padding_mode": "reflect"}
            )
    return edges


EDGES = {f"{op}: {name}": case for op in OPS for name, case in accepted_edges(op).items()}


@pytest.mark.parametrize("name, route", routes(EDGES))
def test_the_valid_neighbours_are_accepted_by_both(name, route):
    case = EDGES[name]
    ours = vars(reference)[case.op](*case.arrays(seed=1), **case.kwargs)
    magnitude = vars(reference)[case.op + "_magnitude"](*case.arrays(seed=1), **case.kwargs)
    assert_agree(ours, ROUTES[route](case, seed=1), magnitude)


# nn.ConvTranspose*d(x, output_size=...) against output_padding_for


@pytest.mark.parametrize(
    "op, input_shape, output_size",
    [
        # kernel 3, stride 2, padding 1: from (n - 1) * 2 - 2 + 3 to one more
        ("conv_transpose1d", (2, 3, 6), (12,)),  # 11 to 12
        ("conv_transpose1d", (3, 6), (4, 11)),  # unbatched, with the channels
        ("conv_transpose2d", (2, 3, 4, 5), (2, 4, 8, 9)),  # 7 to 8, 9 to 10; with batch and channels
        # torch reads only the spatial sizes: leading values that match nothing are ignored
        ("conv_transpose2d", (2, 3, 4, 5), (7, 9, 7, 10)),
        ("conv_transpose3d", (1, 3, 2, 3, 4), (4, 5, 8)),  # 3 to 4, 5 to 6, 7 to 8
    ],
)
def test_output_size_gives_what_output_padding_for_says(op, input_shape, output_size):
    d = len(VALID_KERNEL[op])
    kernel, stride = (3,) * d, (2,) * d
    call = valid(op, input_shape=input_shape, weight_shape=(3, 4, *kernel), kwargs={"stride": stride, "padding": 1})
    output_padding = reference.output_padding_for(input_shape, output_size, kernel, stride, (1,) * d, (1,) * d)
    got = module(call, seed=2, output_size=list(output_size))
    assert tuple(got.shape[-d:]) == tuple(output_size[-d:])
    kwargs = {**call.kwargs, "output_padding": output_padding}
    ours = vars(reference)[op](*call.arrays(seed=2), **kwargs)
    assert_agree(ours, got, vars(reference)[op + "_magnitude"](*call.arrays(seed=2), **kwargs))


@pytest.mark.parametrize("name", sorted(OUTPUT_SIZES))
def test_torch_rejects_the_output_sizes_the_reference_rejects(name):
    case = OUTPUT_SIZES[name]
    d = len(case.kernel_size)
    layer = MODULES[f"conv_transpose{d}d"](
        3, 4, case.kernel_size, stride=case.stride, padding=case.padding, dilation=case.dilation
    ).double()
    with pytest.raises(ValueError, match="output_size"):
        reference.output_padding_for(*case.args())
    with pytest.raises(ValueError, match="output_size|output size"):
        layer(torch.ones(case.input_shape, dtype=torch.float64), output_size=list(case.output_size))


@pytest.mark.parametrize("padding", ["same", "valid"])
@pytest.mark.parametrize("op", TRANSPOSED)
def test_conv_transpose_modules_take_a_padding_string_apart_and_fail_when_called(op, padding):
    # torch's _single/_pair/_triple turn the string into a tuple of its characters: the module is
    # built with padding ('s', 'a', 'm', 'e'), and only the call raises (a TypeError, from F)
    layer = MODULES[op](3, 4, 2, padding=padding).double()
    assert layer.padding == tuple(padding)
    with pytest.raises(TypeError, match="padding"):
        layer(torch.ones(valid(op).input_shape, dtype=torch.float64))


# The module-only rule: nn.ConvTranspose*d takes padding_mode, and only 'zeros'


@pytest.mark.parametrize("padding_mode", ["reflect", "replicate", "circular"])
@pytest.mark.parametrize("op", TRANSPOSED)
def test_conv_transpose_modules_allow_only_zeros_padding(op, padding_mode):
    with pytest.raises(ValueError, match='Only "zeros" padding mode is supported'):
        MODULES[op](3, 4, 2, padding_mode=padding_mode)
    MODULES[op](3, 4, 2, padding_mode="zeros")  # the reference functions have no padding_mode at all
