"""bfloat16 conv2d on oneDNN's x64:gemm:jit kernel: an inf weight gives NaN where inf is right.

Every input is 1 and finite; one weight of the first group is inf, so the outputs of that filter
are exactly inf (a sum of finite products and one inf). Seen with one input channel per group,
grouped or not, on oneDNN ISAs without AMX (AVX512_CORE, AVX512_CORE_BF16, AVX10.1; not with
AMX, where the same kernel name is right): the GEMM seems to pair each channel with a zero pad,
and inf * 0 is NaN. Set ONEDNN_VERBOSE=1 to see which kernel ran. Exits 1 while any case
disagrees with the float64 result, 0 once all agree. torch only.
"""

import sys

import torch
import torch.nn.functional as F

torch.set_num_threads(1)
CASES = {  # input shape, weight shape, groups, padding
    "groups=2, 1 channel per group, kernel 1x1": ((1, 2, 1, 3), (4, 1, 1, 1), 2, 0),
    "groups=2, 1 channel per group, kernel 1x3": ((1, 2, 5, 7), (4, 1, 1, 3), 2, 0),
    "1 channel, 2 filters, kernel 1x1, padding 1": ((1, 1, 3, 3), (2, 1, 1, 1), 1, 1),
}
wrong = False
for name, (input_shape, weight_shape, groups, padding) in CASES.items():
    x, w = torch.ones(input_shape), torch.ones(weight_shape)
    w[0, 0, 0, 0] = float("inf")
    expected = F.conv2d(F.pad(x.double(), (padding,) * 4), w.double(), groups=groups)  # padding zeros written out
    got = F.conv2d(x.bfloat16(), w.bfloat16(), groups=groups, padding=padding).double()
    agree = bool(((got == expected) | (got.isnan() & expected.isnan())).all())
    wrong |= not agree
    print(
        f"{name}: {int(got.isnan().sum())} NaN outputs (float64: {int(expected.isnan().sum())}),"
        f" {int(got.isinf().sum())} infinite (float64: {int(expected.isinf().sum())}){'' if agree else '  WRONG'}"
    )
print("torch", torch.__version__)
sys.exit(1 if wrong else 0)
