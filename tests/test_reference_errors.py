"""Invalid arguments: the reference raises where torch does, naming the bad argument,
and torch rejects each of the same cases (so the two agree on what is invalid)."""

from dataclasses import dataclass, field

import numpy as np
import pytest
import torch

import reference


@dataclass(frozen=True)
class Invalid:
    """A conv2d call with one thing wrong, and the word its error message must name."""

    names: str
    input_shape: tuple = (1, 3, 5, 5)
    weight_shape: tuple = (4, 3, 3, 3)
    bias_shape: tuple | None = (4,)
    kwargs: dict = field(default_factory=dict)


CASES = {
    "groups zero": Invalid("groups", kwargs={"groups": 0}),
    "groups negative": Invalid("groups", kwargs={"groups": -1}),
    "groups not dividing in channels": Invalid("channels", weight_shape=(4, 1, 3, 3), kwargs={"groups": 2}),
    "groups not dividing out channels": Invalid("groups", input_shape=(1, 4, 5, 5), weight_shape=(3, 2, 3, 3), bias_shape=(3,), kwargs={"groups": 2}),
    "channel mismatch": Invalid("channels", input_shape=(1, 2, 5, 5)),
    "kernel larger than input": Invalid("kernel_size", weight_shape=(4, 3, 6, 6)),
    "dilated kernel larger than input": Invalid("kernel_size", kwargs={"dilation": 3}),
    "kernel larger than input on width only": Invalid("kernel_size", input_shape=(1, 3, 7, 2)),
    "stride zero": Invalid("stride", kwargs={"stride": 0}),
    "stride negative": Invalid("stride", kwargs={"stride": (1, -2)}),
    "dilation zero": Invalid("dilation", kwargs={"dilation": 0}),
    "padding negative": Invalid("padding", kwargs={"padding": -1}),
    "padding unknown string": Invalid("padding", kwargs={"padding": "full"}),
    "same with stride 2": Invalid("padding", kwargs={"padding": "same", "stride": 2}),
    "padding_mode unknown": Invalid("padding_mode", kwargs={"padding_mode": "mirror"}),
    "reflect pad equal to height": Invalid("reflect", input_shape=(1, 3, 3, 8), kwargs={"padding": 3, "padding_mode": "reflect"}),
    "circular pad beyond width": Invalid("circular", input_shape=(1, 3, 8, 2), kwargs={"padding": 3, "padding_mode": "circular"}),
    "input rank 2": Invalid("input", input_shape=(5, 5)),
    "input rank 5": Invalid("input", input_shape=(1, 1, 3, 5, 5)),
    "bias wrong length": Invalid("bias", bias_shape=(3,)),
    "stride not an int": Invalid("stride", kwargs={"stride": 1.5}),
    "padding a bool": Invalid("padding", kwargs={"padding": True}),
}


def torch_call(case: Invalid):
    """Build and call the nn.Conv2d that this case describes, as a user would."""
    out_channels, per_group, kh, kw = case.weight_shape
    kwargs = {"padding_mode": "zeros", "groups": 1, **case.kwargs}
    layer = torch.nn.Conv2d(per_group * kwargs["groups"], out_channels, (kh, kw), bias=case.bias_shape is not None, **kwargs)
    with torch.no_grad():
        layer.weight = torch.nn.Parameter(torch.ones(case.weight_shape))
        if case.bias_shape is not None:
            layer.bias = torch.nn.Parameter(torch.ones(case.bias_shape))
    return layer(torch.ones(case.input_shape))


def reference_call(case: Invalid):
    bias = None if case.bias_shape is None else np.ones(case.bias_shape)
    return reference.conv2d(np.ones(case.input_shape), np.ones(case.weight_shape), bias, **case.kwargs)


@pytest.mark.parametrize("name", sorted(CASES))
def test_reference_names_the_bad_argument(name):
    case = CASES[name]
    with pytest.raises((ValueError, TypeError), match=case.names):
        reference_call(case)


@pytest.mark.parametrize("name", sorted(CASES))
def test_torch_rejects_it_too(name):
    with pytest.raises((ValueError, TypeError, RuntimeError)):
        torch_call(CASES[name])


def test_the_valid_neighbour_is_accepted_by_both():
    valid = Invalid("", kwargs={"padding": 1, "padding_mode": "reflect", "stride": (2, 1), "dilation": (1, 2)})
    got = torch_call(valid).detach().double().numpy()
    np.testing.assert_array_equal(got, reference_call(valid))  # all-ones data: exact integers
