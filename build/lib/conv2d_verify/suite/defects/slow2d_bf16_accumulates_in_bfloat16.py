"""bfloat16 conv2d on torch's own Slow2d/SlowDilated2d kernels sums in bfloat16, not float32.

A 1x258 kernel of ones over a row of ones gives 258, a bfloat16 number. Summed in float32 (oneDNN,
and Slow2d from torch 2.1) that is exactly 258; summed in bfloat16 the running sum stops at 256,
where adding 1 rounds back to 256. Exits 1 while a kernel gets it wrong, 0 once all are right.
torch only.
"""

import sys

import torch
import torch.nn.functional as F

torch.set_num_threads(1)
wrong = False
for dilation in (1, 2):
    x = torch.ones(1, 1, 1, 258 * dilation, dtype=torch.bfloat16)
    w = torch.ones(1, 1, 1, 258, dtype=torch.bfloat16)
    for mkldnn in (True, False):
        with torch.backends.mkldnn.flags(enabled=mkldnn):
            backend = str(
                torch._C._select_conv_backend(x, w, None, [1, 1], [0, 0], [1, dilation], False, [0, 0], 1)
            ).rsplit(".", 1)[-1]
            got = F.conv2d(x, w, dilation=(1, dilation)).flatten().tolist()
        wrong |= got != [258.0] * len(got)
        print(f"dilation {dilation}, oneDNN {'on ' if mkldnn else 'off'} {backend:14s} got {got}, expected all 258.0")
print("torch", torch.__version__)
sys.exit(1 if wrong else 0)
