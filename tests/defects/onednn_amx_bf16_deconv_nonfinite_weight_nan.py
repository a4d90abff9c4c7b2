"""bfloat16 conv_transpose1d/2d/3d on oneDNN's AMX deconvolution kernels: an inf weight gives NaN
at outputs that weight never reaches.

Every input is 1 and finite; one weight is inf, so the outputs that weight reaches are exactly inf
and every other output is a finite sum (or 0 in a stride gap). oneDNN's AMX deconvolution kernels
(jit_deconvolution:avx10_1_512_amx, for stride 1 brg_deconv:avx10_1_512_amx+brg_conv_fwd:
avx10_1_512_amx, and for some grouped strided shapes conv:any+brgconv_strided:avx10_1_512_amx, the
last case) give NaN at outputs the inf weight does not reach, as if they multiplied the tap by
zeros there, in the stride gaps and beyond the input's edges (inf * 0): with one input channel or
sixteen, one output channel or sixteen. Seen with a nonfinite weight only: an inf input pixel
gives the right result on these kernels. Capped below AMX (ONEDNN_MAX_CPU_ISA=AVX512_CORE_BF16),
oneDNN runs other kernels on these cases, which are right. Set ONEDNN_VERBOSE=1 to see which
kernel ran. Exits 1 while any case disagrees with the float64 result, 0 once all agree. torch only.
"""

import sys

import torch
import torch.nn.functional as F

torch.set_num_threads(1)
CASES = {  # the function, input shape, weight shape, keywords; weight[0, 0, 0, ...] is inf
    "conv_transpose1d, 1 channel, kernel 2, unbatched": (F.conv_transpose1d, (1, 1), (1, 1, 2), {}),
    "conv_transpose2d, 1 channel, kernel 1x2, stride (1, 3)": (
        F.conv_transpose2d,
        (1, 1, 1, 3),
        (1, 1, 1, 2),
        dict(stride=(1, 3)),
    ),
    "conv_transpose3d, 16 channels, kernel 1x1x2": (F.conv_transpose3d, (1, 16, 1, 1, 2), (16, 16, 1, 1, 2), {}),
    "conv_transpose2d, 16 channels, kernel 3x3": (F.conv_transpose2d, (1, 16, 3, 3), (16, 16, 3, 3), {}),
    "conv_transpose1d, 2 groups of 2 -> 1 channels, kernel 3, stride 2": (
        F.conv_transpose1d,
        (4, 4),
        (4, 1, 3),
        dict(stride=2, groups=2),
    ),
}
wrong = False
for name, (function, input_shape, weight_shape, kwargs) in CASES.items():
    x, w = torch.ones(input_shape, dtype=torch.float64), torch.ones(weight_shape, dtype=torch.float64)
    w[(0,) * w.dim()] = float("inf")
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
