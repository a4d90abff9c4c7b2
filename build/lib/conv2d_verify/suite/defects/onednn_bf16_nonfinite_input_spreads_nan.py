"""bfloat16 conv2d on oneDNN: one inf input pixel turns outputs whose windows never read it into NaN.

The float64 result (and torch's float32, float16, and bfloat16 with oneDNN off) has inf exactly at
the outputs whose window contains the inf pixel, and finite values elsewhere. oneDNN's bfloat16
kernels for few input channels per group (jit_bf16:avx512_core_bf16 for 1 channel,
brg_conv_fwd:avx10_1_512_amx for 3, and others seen for 5, 8, 12) pad the reduction with zero weights that are
paired with neighbouring input pixels: inf * 0 = NaN leaks into neighbouring outputs.
Exits 1 while any case disagrees.
"""

import sys

import torch
import torch.nn.functional as F

torch.set_num_threads(1)
wrong = False
for channels, kernel in ((1, (1, 3)), (3, (3, 3))):
    x = torch.ones(1, channels, 7, 9)
    x[0, 0, 3, 4] = float("inf")
    w = torch.ones(4, channels, *kernel)
    reads_inf = F.conv2d((x == float("inf")).float(), torch.ones_like(w)) > 0  # outputs whose window holds the pixel
    for mkldnn in (True, False):
        with torch.backends.mkldnn.flags(enabled=mkldnn):
            got = F.conv2d(x.bfloat16(), w.bfloat16()).float()
            backend = str(
                torch._C._select_conv_backend(
                    x.bfloat16(), w.bfloat16(), None, [1, 1], [0, 0], [1, 1], False, [0, 0], 1
                )
            ).rsplit(".", 1)[-1]
        nan_elsewhere = int((got.isnan() & ~reads_inf).sum())
        not_inf = int((~got.isinf() & reads_inf).sum())
        wrong |= bool(nan_elsewhere or not_inf)
        print(
            f"C={channels} kernel={kernel} bfloat16 {backend:8s}:"
            f" {nan_elsewhere:3d} NaN outputs that never read the inf pixel,"
            f" {not_inf:3d} outputs reading it that are not inf (of {got.numel()})"
        )
print("torch", torch.__version__)
sys.exit(1 if wrong else 0)
