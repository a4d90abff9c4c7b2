"""Hand-made invalid conv2d calls, one thing wrong in each, and the word the reference's error
must name: what the reference's argument checks, and its backward's, are held to."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class Invalid:
    """A conv2d call with one thing wrong, and the word its error message must name."""

    names: str
    input_shape: tuple = (1, 3, 5, 5)
    weight_shape: tuple = (4, 3, 3, 3)
    bias_shape: tuple | None = (4,)
    kwargs: dict = field(default_factory=dict)
    dtypes: tuple = ("float64", "float64", "float64")  # input, weight, bias


CASES = {
    "groups zero": Invalid("groups", kwargs={"groups": 0}),
    "groups negative": Invalid("groups", kwargs={"groups": -1}),
    "groups not dividing in channels": Invalid("channels", weight_shape=(4, 1, 3, 3), kwargs={"groups": 2}),
    "groups not dividing out channels": Invalid(
        "groups", input_shape=(1, 4, 5, 5), weight_shape=(3, 2, 3, 3), bias_shape=(3,), kwargs={"groups": 2}
    ),
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
    "reflect pad equal to height": Invalid(
        "reflect", input_shape=(1, 3, 3, 8), kwargs={"padding": 3, "padding_mode": "reflect"}
    ),
    "circular pad beyond width": Invalid(
        "circular", input_shape=(1, 3, 8, 2), kwargs={"padding": 3, "padding_mode": "circular"}
    ),
    "input rank 2": Invalid("input", input_shape=(5, 5)),
    "input rank 5": Invalid("input", input_shape=(1, 1, 3, 5, 5)),
    "bias wrong length": Invalid("bias", bias_shape=(3,)),
    "stride not an int": Invalid("stride", kwargs={"stride": 1.5}),
    "padding a bool": Invalid("padding", kwargs={"padding": True}),
    "padding negative on one axis": Invalid("padding", kwargs={"padding": (0, -1)}),
    "reflect crop leaving nothing": Invalid(
        "padding", weight_shape=(4, 3, 1, 1), kwargs={"padding": -3, "padding_mode": "reflect"}
    ),
    "replicate crop too deep for the kernel": Invalid(
        "kernel_size", kwargs={"padding": -2, "padding_mode": "replicate"}
    ),
    "padding one value in a list, reflect": Invalid("padding", kwargs={"padding": [1], "padding_mode": "reflect"}),
    "stride of three values": Invalid("stride", kwargs={"stride": (1, 1, 1)}),
    "groups larger than channels": Invalid("groups", weight_shape=(6, 1, 3, 3), bias_shape=(6,), kwargs={"groups": 6}),
    "out_channels zero": Invalid("out_channels", weight_shape=(0, 3, 3, 3), bias_shape=(0,)),
    "kernel height zero": Invalid("kernel_size", weight_shape=(4, 3, 0, 3)),
    "reflect on no channels": Invalid(
        "channels", input_shape=(1, 0, 5, 5), weight_shape=(4, 0, 3, 3), kwargs={"padding_mode": "reflect"}
    ),
}
# Kept out of CASES, whose users build float64 operands from the shapes alone.
MISMATCHED_DTYPES = {
    "weight float32, input float64": Invalid("weight has dtype float32", dtypes=("float64", "float32", "float64")),
    "bias float32, input float64": Invalid("bias has dtype float32", dtypes=("float64", "float64", "float32")),
    "input float32, weight float64": Invalid("input has dtype float32", dtypes=("float32", "float64", "float64")),
}
ALL_CASES = {**CASES, **MISMATCHED_DTYPES}


def invalid_arrays(case: Invalid):
    """Ones in each operand's shape and dtype."""
    shapes = (case.input_shape, case.weight_shape, case.bias_shape)
    return [None if shape is None else np.ones(shape, dtype) for shape, dtype in zip(shapes, case.dtypes)]
