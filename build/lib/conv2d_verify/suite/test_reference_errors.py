"""Invalid arguments: the reference raises where torch does, naming the bad argument,
and torch rejects each of the same cases (so the two agree on what is invalid)."""

import warnings

import numpy as np
import pytest
import torch

import reference
from conv2d_verify.invalid_cases import ALL_CASES, Invalid, invalid_arrays


def torch_call(case: Invalid):
    """Build and call the nn.Conv2d that this case describes, as a user would."""
    out_channels, per_group, kh, kw = case.weight_shape
    kwargs = {"padding_mode": "zeros", "groups": 1, **case.kwargs}
    x, weight, bias = (None if array is None else torch.from_numpy(array) for array in invalid_arrays(case))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zero-element init
        layer = torch.nn.Conv2d(per_group * kwargs["groups"], out_channels, (kh, kw), bias=bias is not None, **kwargs)
    with torch.no_grad():
        layer.weight = torch.nn.Parameter(weight)
        if bias is not None:
            layer.bias = torch.nn.Parameter(bias)
        return layer(x)


def reference_call(case: Invalid):
    return reference.conv2d(*invalid_arrays(case), **case.kwargs)


@pytest.mark.parametrize("name", sorted(ALL_CASES))
def test_reference_names_the_bad_argument(name):
    case = ALL_CASES[name]
    with pytest.raises((ValueError, TypeError), match=case.names):
        reference_call(case)


@pytest.mark.parametrize("name", sorted(ALL_CASES))
def test_torch_rejects_it_too(name):
    with pytest.raises((ValueError, TypeError, RuntimeError)):
        torch_call(ALL_CASES[name])


ACCEPTED = {
    "reflect, strided and dilated": Invalid(
        "", kwargs={"padding": 1, "padding_mode": "reflect", "stride": (2, 1), "dilation": (1, 2)}
    ),
    "negative padding crops with reflect": Invalid(
        "", input_shape=(1, 3, 7, 5), kwargs={"padding": -1, "padding_mode": "reflect"}
    ),
    "negative padding on one axis crops with circular": Invalid(
        "", kwargs={"padding": (0, -1), "padding_mode": "circular"}
    ),
    "replicate crop down to the kernel": Invalid(
        "", weight_shape=(4, 3, 1, 1), kwargs={"padding": (-2, 0), "padding_mode": "replicate"}
    ),
    "empty batch": Invalid("", input_shape=(0, 3, 5, 5), kwargs={"padding": 1, "padding_mode": "reflect"}),
    "stride and dilation as one-element lists": Invalid("", kwargs={"stride": [2], "dilation": [2]}),
    "padding one value in a list, zeros": Invalid("", kwargs={"padding": [1]}),
}


@pytest.mark.parametrize("name", sorted(ACCEPTED))
def test_the_valid_neighbours_are_accepted_by_both(name):
    valid = ACCEPTED[name]
    got = torch_call(valid).detach().double().numpy()
    np.testing.assert_array_equal(got, reference_call(valid))  # all-ones data: exact integers
