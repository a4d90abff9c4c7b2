"""bfloat16 conv_transpose1d/2d/3d on oneDNN's strided deconvolution kernels without AMX
(conv:any+brgconv_strided:avx512_core_bf16, brg_deconv:avx512_core_bf16+brgconv_strided:
avx512_core_bf16): an inf input pixel gives NaN at outputs it never reaches, when the input
channels per group are odd.

Every weight is 1; one input pixel is inf, so the outputs it reaches are exactly inf and every
other output is finite (or 0 in a stride gap or the output_padding). The kernels give NaN at
some of those other outputs, in the pixel's own channel or, with groups, in another group's
(the bfloat16 dot products take pairs of channels: an odd count is padded with a zero weight that
meets the inf, inf * 0). Seen with 1, 3, 5, 7, 9, 13, 15 and 31 channels per group, never with an
even count. oneDNN picks these kernels natively on AMX CPUs for some shapes (the first case) and
for all strided ones under ONEDNN_MAX_CPU_ISA=AVX512_CORE_BF16 (the second); its AMX kernels are
right on them. Set ONEDNN_VERBOSE=1 to see which kernel ran. Exits 1 while any case disagrees
with the float64 result, 0 once all agree. torch only.
"""

import sys

import torch
import torch.nn.functional as F

torch.set_num_threads(1)
CASES = {  # the function, input shape (unbatched), weight shape, inf input index, keywords
    "conv_transpose1d, 2 groups of 1 channel, kernel 1, stride 2, output_padding 1": (
        F.conv_transpose1d,
        (2, 2),
        (2, 1, 1),
        (0, 1),
        dict(stride=2, output_padding=1, groups=2),
    ),
    "conv_transpose2d, 3 -> 3 channels, kernel 1x1, stride (3, 1)": (
        F.conv_transpose2d,
        (3, 2, 2),
        (3, 3, 1, 1),
        (0, 0, 1),
        dict(stride=(3, 1)),
    ),
}
wrong = False
for name, (function, input_shape, weight_shape, at, kwargs) in CASES.items():
    x, w = torch.ones(input_shape, dtype=torch.float64), torch.ones(weight_shape, dtype=torch.float64)
    x[at] = float("inf")
    expected = function(x, w, **kwargs)
    got = function(x.bfloat16(), w.bfloat16(), **kwargs).double()
    agree = bool(((got == expected) | (got.isnan() & expected.isnan())).all())
    wrong |= not agree
    print(
        f"{name}: {int(got.isnan().sum())} NaN outputs (float64: {int(expected.isnan().sum())}),"
        f" {int(got.isinf().sum())} infinite (float64: {int(expected.isinf().sum())}) of {got.numel()}"
        f"{'' if agree else '  WRONG'}"
    )
print("torch", torch.__version__)
sys.exit(1 if wrong else 0)
