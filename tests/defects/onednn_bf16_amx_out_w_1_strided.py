"""torch bfloat16 conv2d on CPU: wrong result when the output width is 1 and stride_w > 1.

On CPUs with AMX (oneDNN brg_conv_fwd:avx10_1_512_amx). All-ones input (1, 1, 6, 10) and all-ones
kernel (2, 4) with stride (1, 2), dilation (1, 3): every output element is exactly 8.
Exits 1 while torch gets it wrong, 0 once it is right. torch only.
"""

import sys

import torch

torch.set_num_threads(1)
x = torch.ones(1, 1, 6, 10, dtype=torch.bfloat16)
w = torch.ones(1, 1, 2, 4, dtype=torch.bfloat16)
got = torch.nn.functional.conv2d(x, w, stride=(1, 2), dilation=(1, 3))  # shape (1, 1, 5, 1)
print(f"torch {torch.__version__}: got {got.flatten().tolist()}, expected all 8.0")
sys.exit(0 if bool((got == 8).all()) else 1)
