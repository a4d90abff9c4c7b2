"""Invalid arguments to conv1d, conv3d and conv_transpose1d/2d/3d: the reference raises
ValueError or TypeError naming the bad argument, its backward raises the same, and
output_padding_for rejects an output_size torch's modules reject. The table of cases, one thing
wrong in each, is shared with tests/test_family_invalid_parity.py, which holds torch to it."""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field, replace

import numpy as np
import pytest

import reference

DIMS = {"conv1d": 1, "conv3d": 3, "conv_transpose1d": 1, "conv_transpose2d": 2, "conv_transpose3d": 3}
OPS = tuple(DIMS)
# (input shape, weight shape) of a valid call; bias (4,) throughout: 4 output channels
VALID = {
    "conv1d": ((2, 3, 7), (4, 3, 3)),
    "conv3d": ((2, 3, 4, 5, 6), (4, 3, 2, 2, 2)),
    "conv_transpose1d": ((2, 3, 7), (3, 4, 3)),
    "conv_transpose2d": ((2, 3, 5, 6), (3, 4, 2, 3)),
    "conv_transpose3d": ((2, 3, 4, 5, 6), (3, 4, 2, 2, 2)),
}


@dataclass(frozen=True)
class Call:
    """A call of `op`, and the word its error message must name (a regex; empty for a valid call)."""

    op: str
    names: str
    input_shape: tuple
    weight_shape: tuple
    bias_shape: tuple | None = (4,)
    kwargs: dict = field(default_factory=dict)
    dtypes: tuple = ("float64", "float64", "float64")  # input, weight, bias

    @property
    def d(self) -> int:
        return DIMS[self.op]

    @property
    def transposed(self) -> bool:
        return self.op.startswith("conv_transpose")

    def arrays(self, seed: int | None = None):
        """Ones (or, given a seed, normal values) in each operand's shape and dtype."""
        rng = None if seed is None else np.random.default_rng(seed)
        shapes = (self.input_shape, self.weight_shape, self.bias_shape)
        return [
            None if shape is None else (np.ones(shape) if rng is None else rng.standard_normal(shape)).astype(dtype)
            for shape, dtype in zip(shapes, self.dtypes)
        ]


def valid(op: str, **changes) -> Call:
    input_shape, weight_shape = VALID[op]
    return replace(Call(op, "", input_shape, weight_shape), **changes)


def last_axis(d: int, value, rest=1) -> tuple:
    return (rest,) * (d - 1) + (value,)


def common_cases(op: str) -> dict[str, Call]:
    d, (x, w) = DIMS[op], VALID[op]
    transposed = op.startswith("conv_transpose")

    def bad(names, **changes):
        return valid(op, names=names, **changes)

    cases = {
        "stride zero": bad("stride", kwargs={"stride": 0}),
        "stride negative on the last axis": bad("stride", kwargs={"stride": last_axis(d, -2)}),
        f"stride of {d + 1} values": bad("stride", kwargs={"stride": (1,) * (d + 1)}),
        "stride not an int": bad("stride", kwargs={"stride": 1.5}),
        "dilation zero": bad("dilation", kwargs={"dilation": 0}),
        "dilation negative on the last axis": bad("dilation", kwargs={"dilation": last_axis(d, -1)}),
        "padding negative": bad("padding", kwargs={"padding": -1}),
        "padding negative on the last axis": bad("padding", kwargs={"padding": last_axis(d, -1, rest=0)}),
        "padding a bool": bad("padding", kwargs={"padding": True}),
        "groups zero": bad("groups", kwargs={"groups": 0}),
        "groups negative": bad("groups", kwargs={"groups": -1}),
        "channel mismatch": bad("channels", input_shape=(2, 2, *x[2:])),
        f"weight rank {d + 1}": bad("weight", weight_shape=w[:-1]),
        f"weight rank {d + 3}": bad("weight", weight_shape=(*w, 1)),
        f"input rank {d}": bad("input", input_shape=x[2:]),
        f"input rank {d + 3}": bad("input", input_shape=(1, *x)),
        "bias wrong length": bad("bias", bias_shape=(3,)),
        "bias of rank 2": bad("bias", bias_shape=(4, 1)),
        "kernel size zero on the last axis": bad("kernel_size", weight_shape=(*w[:-1], 0)),
        "weight float32": bad("weight", dtypes=("float64", "float32", "float64")),
        "input float32": bad("input", dtypes=("float32", "float64", "float64")),
        "bias float32": bad("bias", dtypes=("float64", "float64", "float32")),
    }
    if transposed:  # weight (C_in, C_out/groups, *k): C_in = 3 does not split into 2 groups
        cases["groups not dividing in_channels"] = bad("in_channels", weight_shape=(3, 2, *w[2:]), kwargs={"groups": 2})
        cases["groups larger than in_channels"] = bad(
            "in_channels|groups", weight_shape=(3, 1, *w[2:]), kwargs={"groups": 4}
        )
    else:  # weight (O, C/groups, *k)
        cases["groups not dividing in_channels"] = bad("in_channels", weight_shape=(4, 1, *w[2:]), kwargs={"groups": 2})
        cases["groups not dividing out_channels"] = bad(
            "out_channels",
            input_shape=(2, 4, *x[2:]),
            weight_shape=(3, 2, *w[2:]),
            bias_shape=(3,),
            kwargs={"groups": 2},
        )
    return cases


def conv_cases(op: str) -> dict[str, Call]:
    d, (x, w) = DIMS[op], VALID[op]

    def bad(names, **changes):
        return valid(op, names=names, **changes)

    cases = {
        "same with stride 2 on the last axis": bad("padding", kwargs={"padding": "same", "stride": last_axis(d, 2)}),
        "padding unknown string": bad("padding", kwargs={"padding": "full"}),
        "padding_mode unknown": bad("padding_mode", kwargs={"padding_mode": "mirror"}),
        "reflect pad equal to the last axis": bad(
            "padding", kwargs={"padding": last_axis(d, x[-1], rest=0), "padding_mode": "reflect"}
        ),
        "circular pad beyond the last axis": bad(
            "padding", kwargs={"padding": last_axis(d, x[-1] + 1, rest=0), "padding_mode": "circular"}
        ),
        "reflect crop leaving nothing": bad(
            "padding",
            weight_shape=(4, 3) + (1,) * d,
            kwargs={"padding": -(min(x[2:]) // 2 + 1), "padding_mode": "reflect"},
        ),
        "kernel larger than the input": bad("kernel_size", weight_shape=(*w[:-1], x[-1] + 1)),
        "dilated kernel larger than the input": bad("kernel_size", kwargs={"dilation": x[-1]}),
        "out_channels zero": bad("out_channels", weight_shape=(0, *w[1:]), bias_shape=(0,)),
    }
    if d > 1:  # nn.Conv3d hands F.pad the one value twice: it pads the last axis alone (torch raises)
        cases["padding one value in a list, reflect"] = bad(
            "padding", kwargs={"padding": [1], "padding_mode": "reflect"}
        )
    return cases


def transposed_cases(op: str) -> dict[str, Call]:
    d, (x, w) = DIMS[op], VALID[op]

    def bad(names, **changes):
        return valid(op, names=names, **changes)

    return {
        "output_padding equal to stride": bad(
            "output_padding", kwargs={"stride": 2, "output_padding": last_axis(d, 2, 0)}
        ),
        "output_padding equal to stride and dilation": bad(
            "output_padding", kwargs={"stride": 2, "dilation": 2, "output_padding": last_axis(d, 2, 0)}
        ),
        "output_padding beyond both at stride 1": bad("output_padding", kwargs={"output_padding": 1}),
        "output_padding negative": bad("output_padding", kwargs={"stride": 2, "output_padding": -1}),
        f"output_padding of {d + 1} values": bad(
            "output_padding", kwargs={"stride": 2, "output_padding": (1,) * (d + 1)}
        ),
        "output_padding not an int": bad("output_padding", kwargs={"stride": 2, "output_padding": 1.0}),
        # (1 - 1) * 1 - 2 * 1 + 1 * (1 - 1) + 0 + 1 = -1 and (2 - 1) - 2 + 0 + 1 = 0 on the last axis
        "output size negative": bad(
            "padding", input_shape=(*x[:-1], 1), weight_shape=(*w[:-1], 1), kwargs={"padding": last_axis(d, 1, 0)}
        ),
        "output size zero": bad(
            "padding", input_shape=(*x[:-1], 2), weight_shape=(*w[:-1], 1), kwargs={"padding": last_axis(d, 1, 0)}
        ),
        "padding 'same'": bad("padding", kwargs={"padding": "same"}),
        "padding 'valid'": bad("padding", kwargs={"padding": "valid"}),
        "out_channels zero": bad("out_channels", weight_shape=(w[0], 0, *w[2:]), bias_shape=None),
        "in_channels zero": bad("in_channels", input_shape=(2, 0, *x[2:]), weight_shape=(0, *w[1:])),
    }


CASES = {
    f"{op}: {name}": case
    for op in OPS
    for name, case in {
        **common_cases(op),
        **(transposed_cases(op) if op.startswith("conv_t") else conv_cases(op)),
    }.items()
}


def reference_call(case: Call, seed: int | None = None):
    return getattr(reference, case.op)(*case.arrays(seed), **case.kwargs)


@pytest.mark.parametrize("name", sorted(CASES))
def test_reference_names_the_bad_argument(name):
    case = CASES[name]
    with pytest.raises((ValueError, TypeError), match=case.names):
        reference_call(case)


@pytest.mark.parametrize("name", sorted(CASES))
def test_backward_and_magnitude_raise_as_the_forward(name):
    case = CASES[name]
    with pytest.raises((ValueError, TypeError)) as forward:
        reference_call(case)
    for suffix in ("_backward", "_magnitude", "_backward_magnitude"):
        takes_grad = suffix.startswith("_backward")
        function = getattr(reference, case.op + suffix)
        with pytest.raises(forward.type) as other:
            function(*([np.ones(1)] if takes_grad else []), *case.arrays(), **case.kwargs)
        assert str(other.value) == str(forward.value), suffix


@pytest.mark.parametrize("op", OPS)
@pytest.mark.parametrize("axis_change", [-1, 1], ids=["one short", "one long"])
def test_grad_output_of_the_wrong_shape(op, axis_change):
    case = valid(op, kwargs={"stride": 2, "output_padding": 1} if op.startswith("conv_t") else {"stride": 2})
    x, w, b = case.arrays()
    shape = getattr(reference, op)(x, w, b, **case.kwargs).shape
    for axis in range(len(shape)):
        wrong = list(shape)
        wrong[axis] += axis_change
        with pytest.raises(ValueError, match="grad_output"):
            getattr(reference, op + "_backward")(np.ones(wrong), x, w, b, **case.kwargs)
    with pytest.raises(ValueError, match="grad_output"):  # unbatched gradient for a batched input
        getattr(reference, op + "_backward")(np.ones(shape[1:]), x, w, b, **case.kwargs)
    with pytest.raises(TypeError, match="grad_output"):
        getattr(reference, op + "_backward")(np.ones(shape, dtype=bool), x, w, b, **case.kwargs)


@pytest.mark.parametrize("op", [op for op in OPS if op.startswith("conv_t")])
def test_transposed_ops_take_no_padding_mode(op):
    # nn.ConvTranspose*d allows only padding_mode='zeros'; the functionals have no such argument
    assert "padding_mode" not in inspect.signature(getattr(reference, op)).parameters
    case = valid(op)
    with pytest.raises(TypeError, match="padding_mode"):
        getattr(reference, op)(*case.arrays(), padding_mode="zeros")


@dataclass(frozen=True)
class OutputSize:
    """reference.output_padding_for(input_shape, output_size, kernel_size, stride, padding, dilation)."""

    names: str
    input_shape: tuple
    output_size: tuple
    kernel_size: tuple
    stride: tuple
    padding: tuple
    dilation: tuple

    def args(self):
        return self.input_shape, self.output_size, self.kernel_size, self.stride, self.padding, self.dilation


# ConvTranspose2d(3, 4, (3, 2), stride=(2, 3), padding=(1, 0)) on (1, 3, 4, 5): sizes from
# (4-1)*2 - 2 + 3 = 7 to 8 rows and (5-1)*3 + 2 = 14 to 16 columns
SIZE_2D = dict(input_shape=(1, 3, 4, 5), kernel_size=(3, 2), stride=(2, 3), padding=(1, 0), dilation=(1, 1))
OUTPUT_SIZES = {
    "rows above the range": OutputSize("output_size", output_size=(9, 14), **SIZE_2D),
    "columns below the range": OutputSize("output_size", output_size=(7, 13), **SIZE_2D),
    "three values for a batched 2-d input": OutputSize("output_size", output_size=(4, 7, 14), **SIZE_2D),
    "five values": OutputSize("output_size", output_size=(1, 1, 4, 7, 14), **SIZE_2D),
    "four values for an unbatched input": OutputSize(
        "output_size", **{**SIZE_2D, "input_shape": (3, 4, 5)}, output_size=(1, 4, 7, 14)
    ),
    # stride 1, dilation 3: output_padding 1 or 2 is allowed, but torch's range stops at stride - 1
    "beyond stride - 1 though below dilation": OutputSize(
        "output_size",
        input_shape=(1, 3, 6),
        output_size=(13,),
        kernel_size=(3,),
        stride=(1,),
        padding=(0,),
        dilation=(3,),
    ),
    "3-d, depth above the range (4 to 5)": OutputSize(
        "output_size",
        input_shape=(2, 3, 2, 3, 4),
        output_size=(6, 4, 5),
        kernel_size=(2, 2, 2),
        stride=(2, 1, 1),
        padding=(0, 0, 0),
        dilation=(1, 1, 1),
    ),
}


@pytest.mark.parametrize("name", sorted(OUTPUT_SIZES))
def test_output_padding_for_names_output_size(name):
    with pytest.raises(ValueError, match=OUTPUT_SIZES[name].names):
        reference.output_padding_for(*OUTPUT_SIZES[name].args())


@pytest.mark.parametrize(
    "output_size, expected",
    [((7, 14), (0, 0)), ((8, 16), (1, 2)), ((1, 4, 8, 15), (1, 1)), ((9, 4, 7, 16), (0, 2))],
    ids=["smallest", "largest", "with batch and channels", "leading values ignored, as torch"],
)
def test_output_padding_for_in_range(output_size, expected):
    args = {**SIZE_2D, "output_size": output_size}
    assert reference.output_padding_for(**args) == expected
