"""torch bfloat16 conv2d on CPU segfaults when every output row reads only zero padding, on
oneDNN's AMX brgemm forward kernel (brg_conv_fwd:avx10_1_512_amx). The fix for the same crash in
the non-AMX kernel (https://github.com/uxlfoundation/oneDNN/issues/5942, oneDNN v3.13, torch
2.15.0) does not cover it: torch 2.15.0 still crashes here.

The case runs in a child process, so the crash is reported rather than suffered (the child's
output passes through: with ONEDNN_VERBOSE=2 oneDNN names the kernel as it creates it, before the
crash); the right answer is all zeros. Exits 1 while it crashes or is wrong, 0 once right. torch only.
"""

import subprocess
import sys

CASE = (
    "x = torch.randn(1, 3, 1, 13).bfloat16(); w = torch.randn(1, 3, 2, 2).bfloat16();"
    " y = F.conv2d(x, w, padding=(1, 2), dilation=(2, 2))"
)  # kernel height 2, dilation 2: rows -1 and 1
code = f"import torch, torch.nn.functional as F; torch.set_num_threads(1); {CASE}; assert bool((y == 0).all()), y"
sys.stdout.flush()
result = subprocess.run([sys.executable, "-c", code], stderr=subprocess.PIPE, text=True)
print(
    "bfloat16, every output row in padding:",
    "ok"
    if result.returncode == 0
    else f"crashed (signal {-result.returncode})"
    if result.returncode < 0
    else f"wrong result\n{result.stderr}",
)
sys.exit(0 if result.returncode == 0 else 1)
