"""torch float16 conv2d on CPU segfaults when every output column reads only zero padding, on
oneDNN's brgemm forward kernel without AMX (brg_conv_fwd:avx10_1_512, CPUs with AVX512-FP16;
https://github.com/uxlfoundation/oneDNN/issues/5942, fixed in oneDNN v3.13 / torch 2.15.0).

The case runs in a child process, so the crash is reported rather than suffered (the child's
output passes through: with ONEDNN_VERBOSE=2 oneDNN names the kernel as it creates it, before the
crash); the right answer is all zeros. Exits 1 while it crashes or is wrong, 0 once right. torch only.
"""

import subprocess
import sys

CASE = (
    "x = torch.randn(1, 1, 4, 1).half(); w = torch.randn(1, 1, 1, 1).half();"
    " y = F.conv2d(x, w, stride=(1, 2), padding=(0, 1), dilation=(1, 2))"
)  # kernel width 1
code = f"import torch, torch.nn.functional as F; torch.set_num_threads(1); {CASE}; assert bool((y == 0).all()), y"
sys.stdout.flush()
result = subprocess.run([sys.executable, "-c", code], stderr=subprocess.PIPE, text=True)
unsupported = result.returncode > 0 and "not implemented for" in result.stderr  # no float16 CPU conv: nothing to crash
print(
    "float16, every output column in padding:",
    "ok"
    if result.returncode == 0
    else "not implemented in this torch"
    if unsupported
    else f"crashed (signal {-result.returncode})"
    if result.returncode < 0
    else f"wrong result\n{result.stderr}",
)
sys.exit(0 if result.returncode == 0 or unsupported else 1)
