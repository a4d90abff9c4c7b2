"""Transposed convolutions in float64, for 1, 2 or 3 spatial axes, as the adjoint of the conv core.

A transposed conv with weight (C_in, C_out/groups, *k) is the gradient, with respect to its
padded input, of the conv whose weight is that same array read as (O, C/groups, *k): O = C_in
output channels, C_out input channels. So its forward pass is the padded input's gradient from
backward.correlate_backward, with grad_output := the input, over the conv's padded size
(in-1)*s + d*(k-1) + 1 per axis; that is then extended by output_padding zeros at the end and
cropped by padding at both ends. output_padding may reach the stride (when below the
dilation): the extension then reaches past every position an input element lands on.

Its own gradients follow from the conv's, through the crop and extension (both only copy):
the output's gradient is zero-padded by padding and cut or zero-extended back to the conv's
padded size; then the input's gradient is that conv's forward pass, and the weight's gradient
is that conv's weight gradient, with the transposed call's input as the conv's grad_output.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import spec
from .backward import correlate_backward
from .forward import batched, correlate


@dataclass(frozen=True)
class TransposedCall:
    input: np.ndarray  # (N, C_in, *in) float64
    weight: np.ndarray  # (C_in, C_out/groups, *k) float64
    bias: np.ndarray | None
    stride: tuple[int, ...]
    padding: tuple[int, ...]
    output_padding: tuple[int, ...]
    dilation: tuple[int, ...]
    groups: int
    out_size: tuple[int, ...]
    unbatched: bool

    @property
    def full_size(self) -> tuple[int, ...]:
        """The conv's padded size: the transposed output before output_padding and the crop."""
        size, kernel = self.input.shape[2:], self.weight.shape[2:]
        return tuple((i - 1) * s + dil * (k - 1) + 1 for i, k, s, dil in zip(size, kernel, self.stride, self.dilation))

    @property
    def out_shape(self) -> tuple[int, ...]:
        return (self.input.shape[0], self.weight.shape[1] * self.groups, *self.out_size)


def prepare_transposed(input, weight, bias, stride, padding, output_padding, groups, dilation, d: int):
    """Check every argument as torch's conv_transpose{d}d would."""
    x, w, b = spec.as_float64_operands(input, weight, bias)
    x, unbatched = batched(x, d)
    groups = spec.check_groups(groups)
    stride = spec.positive_tuple(stride, d, "stride")
    if isinstance(padding, str):
        raise TypeError(f"padding must be an int or a sequence of {d} ints for a transposed conv, got {padding!r}")
    padding = spec.non_negative_tuple(padding, d, "padding")
    output_padding = spec.non_negative_tuple(output_padding, d, "output_padding")
    dilation = spec.positive_tuple(dilation, d, "dilation")
    spec.check_transposed_operands(x, w, b, groups, d)
    spec.check_output_padding(output_padding, stride, dilation)
    out_size = spec.transposed_output_size(x.shape[2:], w.shape[2:], stride, padding, output_padding, dilation)
    # torch lets an empty batch through with an empty output axis, never a negative one
    if min(out_size) < (0 if x.shape[0] == 0 else 1):
        raise ValueError(
            f"padding {padding} is too large: the output size (input-1)*stride - 2*padding"
            f" + dilation*(kernel_size-1) + output_padding + 1 is {out_size} for an input of"
            f" {x.shape[2:]}, kernel_size {w.shape[2:]}, stride {stride}, output_padding {output_padding},"
            f" dilation {dilation}; it must be positive"
        )
    return TransposedCall(x, w, b, stride, padding, output_padding, dilation, groups, out_size, unbatched)


def place(array: np.ndarray, size, offsets) -> np.ndarray:
    """A zero array of spatial size `size` holding `array` from `offsets` on (a negative offset
    drops the array's first entries), cut at the end: padding, cropping and zero-extending at once."""
    result = np.zeros((*array.shape[:2], *size))
    destination, source = [slice(None)] * 2, [slice(None)] * 2
    for length, target, offset in zip(array.shape[2:], size, offsets):
        start, stop = max(offset, 0), min(offset + length, target)
        destination.append(slice(start, max(start, stop)))
        source.append(slice(start - offset, max(start, stop) - offset))
    result[tuple(destination)] = array[tuple(source)]
    return result


def transposed_forward(call: TransposedCall) -> np.ndarray:
    if call.input.shape[0] == 0:
        out = np.zeros(call.out_shape)
    else:
        full, _ = correlate_backward(call.input, call.weight, call.full_size, call.stride, call.dilation, call.groups)
        out = place(full, call.out_size, [-p for p in call.padding])
    if call.bias is not None:
        out += call.bias.reshape(-1, *(1,) * len(call.out_size))
    return out


def conv_transpose(input, weight, bias, stride, padding, output_padding, groups, dilation, d: int) -> np.ndarray:
    """The one transposed-conv core behind conv_transpose1d, 2d and 3d."""
    call = prepare_transposed(input, weight, bias, stride, padding, output_padding, groups, dilation, d)
    out = transposed_forward(call)
    return out[0] if call.unbatched else out


def conv_transpose_backward(
    grad_output, input, weight, bias, stride, padding, output_padding, groups, dilation, d: int
):
    """The one gradient core behind conv_transpose{1,2,3}d_backward."""
    call = prepare_transposed(input, weight, bias, stride, padding, output_padding, groups, dilation, d)
    expected = call.out_shape[1:] if call.unbatched else call.out_shape
    g = spec.as_float64(grad_output, "grad_output")
    if g.shape != expected:
        raise ValueError(f"grad_output must have the output's shape {expected}, got {g.shape}")
    g, _ = batched(g, d)
    grad_bias = None if call.bias is None else g.sum(axis=(0, *range(2, 2 + d)))
    if call.input.shape[0] == 0:  # the conv's padded size may be empty or negative here
        return np.zeros(call.input.shape), np.zeros(call.weight.shape), grad_bias
    # the gradient of the conv's padded input, undoing the crop and the output_padding extension
    grad_full = place(g, call.full_size, call.padding)
    grad_input = correlate(grad_full, call.weight, call.stride, call.dilation, call.groups)
    _, grad_weight = correlate_backward(
        call.input, call.weight, grad_full.shape[2:], call.stride, call.dilation, call.groups, grad_full, False
    )
    return (grad_input[0] if call.unbatched else grad_input), grad_weight, grad_bias


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """What torch.nn.functional.conv_transpose1d computes, in float64: input (N, C_in, L) or
    (C_in, L), weight (C_in, C_out/groups, k)."""
    return conv_transpose(input, weight, bias, stride, padding, output_padding, groups, dilation, 1)


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """What torch.nn.functional.conv_transpose2d computes, in float64: input (N, C_in, H, W) or
    (C_in, H, W), weight (C_in, C_out/groups, kh, kw). No padding strings, no padding_mode."""
    return conv_transpose(input, weight, bias, stride, padding, output_padding, groups, dilation, 2)


def conv_transpose3d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """What torch.nn.functional.conv_transpose3d computes, in float64: input (N, C_in, D, H, W)
    or (C_in, D, H, W), weight (C_in, C_out/groups, kd, kh, kw)."""
    return conv_transpose(input, weight, bias, stride, padding, output_padding, groups, dilation, 3)


def conv_transpose1d_backward(
    grad_output, input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1
):
    """(grad_input, grad_weight, grad_bias) of sum(conv_transpose1d(...) * grad_output)."""
    return conv_transpose_backward(
        grad_output, input, weight, bias, stride, padding, output_padding, groups, dilation, 1
    )


def conv_transpose2d_backward(
    grad_output, input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1
):
    """(grad_input, grad_weight, grad_bias) of sum(conv_transpose2d(...) * grad_output); grad_bias
    is None when bias is None."""
    return conv_transpose_backward(
        grad_output, input, weight, bias, stride, padding, output_padding, groups, dilation, 2
    )


def conv_transpose3d_backward(
    grad_output, input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1
):
    """(grad_input, grad_weight, grad_bias) of sum(conv_transpose3d(...) * grad_output)."""
    return conv_transpose_backward(
        grad_output, input, weight, bias, stride, padding, output_padding, groups, dilation, 3
    )


def output_padding_for(input_shape, output_size, kernel_size, stride, padding, dilation) -> tuple[int, ...]:
    """The output_padding nn.ConvTranspose{d}d(...)(x, output_size=output_size) uses, for an x
    of input_shape: output_size less the smallest output, per axis, once it lies within
    [smallest, smallest + stride - 1]. output_size may carry x's leading (batch and) channel
    dims; d is kernel_size's length (or output_size's, when it is spatial only)."""
    input_shape, output_size = tuple(input_shape), list(output_size)
    d = spatial_dims(input_shape, output_size, kernel_size, stride, padding, dilation)
    kernel_size = spec.positive_tuple(kernel_size, d, "kernel_size")
    stride = spec.positive_tuple(stride, d, "stride")
    padding = spec.non_negative_tuple(padding, d, "padding")
    dilation = spec.positive_tuple(dilation, d, "dilation")
    # like torch: the input is batched when it has d + 2 dims; otherwise one leading dim
    leading = 2 if len(input_shape) == d + 2 else 1
    if len(output_size) == leading + d:
        output_size = output_size[leading:]
    if len(output_size) != d:
        raise ValueError(
            f"output_size must have {d} or {leading + d} elements for a {len(input_shape)}-D input, got {output_size}"
        )
    smallest = spec.transposed_output_size(input_shape[leading:], kernel_size, stride, padding, (0,) * d, dilation)
    largest = [size + s - 1 for size, s in zip(smallest, stride)]
    if any(not lo <= size <= hi for size, lo, hi in zip(output_size, smallest, largest)):
        raise ValueError(
            f"output_size {output_size} is out of range: valid sizes run from {list(smallest)} to {largest}"
            f" (for an input of spatial size {input_shape[leading:]})"
        )
    return tuple(size - lo for size, lo in zip(output_size, smallest))


def spatial_dims(input_shape, output_size, kernel_size, *others) -> int:
    """d, from the first of kernel_size, stride, padding, dilation given as a sequence of more
    than one value, else from an output_size shorter than the input's rank."""
    for value in (kernel_size, *others):
        if isinstance(value, (tuple, list)) and len(value) > 1:
            return len(value)
    if len(output_size) < len(input_shape) and len(output_size) in (1, 2, 3):
        return len(output_size)
    if isinstance(kernel_size, (tuple, list)) and len(kernel_size) == 1:
        return 1
    raise TypeError(
        f"kernel_size={kernel_size!r} leaves the number of spatial dims open: give kernel_size as a tuple of d ints"
    )
