"""float32/float16/bfloat16 conv_transpose1d/2d/3d on oneDNN's strided deconvolution kernel without
AMX (conv:any+brgconv_strided; on torch 2.15 brg_deconv:*+brgconv_strided): an inf weight gives NaN
at an output that weight never reaches.

Every input is 1 and finite; one weight is inf, so the outputs that weight reaches are exactly inf
and every other output is finite (a sum, or 0 in a stride gap or the output_padding). With
stride_w > 1 the kernel gives NaN at output columns where the inf tap would take its input from a
column beyond the input's edges (left or right), as if it multiplied the tap by a zero there
(inf * 0): conv_transpose1d with a kernel of 3 and stride 2 over one input pixel gives
[inf, 1, NaN] where [inf, 1, 1] is right. Only along the width, and
only with stride_w > 1; the stride gaps are right. Seen with conv:any+brgconv_strided:avx512_core
and :avx2 (float32, natively and under ONEDNN_MAX_CPU_ISA=AVX512_CORE or AVX2),
conv:any+brgconv_strided:avx10_1_512 (float16, natively on a CPU with AVX10.1/AVX512-FP16) and
conv:any+brgconv_strided:avx512_core_bf16 (bfloat16: natively where oneDNN picks it, e.g. one
output channel per group, and everywhere under ONEDNN_MAX_CPU_ISA=AVX512_CORE_BF16). torch 2.15's
oneDNN runs these shapes as brg_deconv:*+brgconv_strided, wrong alike; earlier ones run that name
for other shapes, right there. The AMX kernels' nonfinite-weight defect is another entry
(tests/defects/onednn_amx_bf16_deconv_nonfinite_weight_nan.py). Set ONEDNN_VERBOSE=1 to see which
kernel ran. Exits 1 while any case disagrees with the float64 result, 0 once all agree. torch only.
"""

import sys

import torch
import torch.nn.functional as F

torch.set_num_threads(1)
HALF = (torch.float16, torch.bfloat16)
CASES = {  # the function, input shape, weight shape, keywords, dtypes; weight[0, 0, 0, ...] is inf
    "conv_transpose1d, 1 channel, batch 2, kernel 2, stride 2, output_padding 1": (
        F.conv_transpose1d,
        (2, 1, 1),
        (1, 1, 2),
        dict(stride=2, output_padding=1),
        (torch.float32, torch.float16),  # bfloat16 runs AMX kernels here natively
    ),
    "conv_transpose1d, 2 groups of 1 channel, kernel 3, stride 2, unbatched": (
        F.conv_transpose1d,
        (2, 1),
        (2, 1, 3),
        dict(stride=2, groups=2),
        HALF,  # float32 runs jit_dw here
    ),
    "conv_transpose2d, 2 groups of 1 channel, kernel 1x4, stride (1, 3), output_padding (0, 1), unbatched": (
        F.conv_transpose2d,
        (2, 1, 2),
        (2, 1, 1, 4),
        dict(stride=(1, 3), output_padding=(0, 1), groups=2),
        HALF,
    ),
}
wrong = False
for name, (function, input_shape, weight_shape, kwargs, dtypes) in CASES.items():
    for dtype in dtypes:
        x, w = torch.ones(input_shape, dtype=torch.float64), torch.ones(weight_shape, dtype=torch.float64)
        w[(0,) * w.dim()] = float("inf")
        expected = function(x, w, **kwargs)
        try:
            got = function(x.to(dtype), w.to(dtype), **kwargs).double()
        except RuntimeError as error:  # torch 2.0 and 2.1 have no float16 conv_transpose on the CPU
            print(f"{name}, {dtype}: not run, {error}")
            continue
        agree = bool(((got == expected) | (got.isnan() & expected.isnan())).all())
        wrong |= not agree
        print(
            f"{name}, {dtype}: {int(got.isnan().sum())} NaN outputs (float64: {int(expected.isnan().sum())}),"
            f" {int(got.isinf().sum())} infinite (float64: {int(expected.isinf().sum())}) of {got.numel()}"
            f"{'' if agree else '  WRONG'}"
        )
print("torch", torch.__version__)
sys.exit(1 if wrong else 0)
