"""float16 conv_transpose2d/3d on oneDNN's stride-1 deconvolution kernel without AMX
(brg_deconv:avx10_1_512+brg_conv_fwd:avx10_1_512): when the input is a single column (width 1, a
kernel width of 1, and for conv_transpose3d a depth of 1 with a kernel depth of 1), an inf weight
gives NaN at an output row that weight never reaches.

Every input is 1 and finite; one weight is inf, so the output rows that weight reaches are exactly
inf and every other row is a finite sum. oneDNN runs a stride-1 deconvolution as a convolution
with flipped weights over the input padded by kernel - 1 - padding; for a single column the kernel
gives NaN in a row where the inf tap meets only that padding (inf * 0), which it skips for wider
inputs. With 8 or more channels here (fewer run conv:any+ref:any, which is right). Seen only in
float16, natively on a CPU with AVX10.1/AVX512-FP16 (bfloat16 runs AMX kernels there, and other
ones under ONEDNN_MAX_CPU_ISA=AVX512_CORE_BF16). Set ONEDNN_VERBOSE=1 to see which kernel ran.
Exits 1 while any case disagrees with the float64 result, 0 once all agree. torch only.
"""

import sys

import torch
import torch.nn.functional as F

torch.set_num_threads(1)
CASES = {  # the function, input shape (unbatched), weight shape, the inf weight's index
    "conv_transpose2d, 16 channels, input 2x1, kernel 3x1": (
        F.conv_transpose2d,
        (16, 2, 1),
        (16, 16, 3, 1),
        (0, 0, 1, 0),
    ),
    "conv_transpose2d, 16 channels, input 1x1, kernel 2x1": (
        F.conv_transpose2d,
        (16, 1, 1),
        (16, 16, 2, 1),
        (0, 0, 0, 0),
    ),
    "conv_transpose3d, 16 channels, input 1x2x1, kernel 1x3x1": (
        F.conv_transpose3d,
        (16, 1, 2, 1),
        (16, 16, 1, 3, 1),
        (0, 0, 0, 1, 0),
    ),
}
wrong = False
for name, (function, input_shape, weight_shape, at) in CASES.items():
    x, w = torch.ones(input_shape, dtype=torch.float64), torch.ones(weight_shape, dtype=torch.float64)
    w[at] = float("inf")
    expected = function(x, w)
    try:
        got = function(x.half(), w.half()).double()
    except RuntimeError as error:  # torch 2.0 and 2.1 have no float16 conv_transpose on the CPU
        print(f"{name}: not run, {error}")
        continue
    agree = bool(((got == expected) | (got.isnan() & expected.isnan())).all())
    wrong |= not agree
    print(
        f"{name}: {int(got.isnan().sum())} NaN outputs (float64: {int(expected.isnan().sum())}),"
        f" {int(got.isinf().sum())} infinite (float64: {int(expected.isinf().sum())}) of {got.numel()}"
        f"{'' if agree else '  WRONG'}"
    )
print("torch", torch.__version__)
sys.exit(1 if wrong else 0)
