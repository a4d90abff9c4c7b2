"""torch bfloat16 conv2d on CPU segfaults when every output row reads only zero padding, on
oneDNN's AMX brgemm forward kernel (brg_conv_fwd:avx10_1_512_amx). The fix for the same crash in
the non-AMX kernel (https://github.com/uxlfoundation/oneDNN/issues/5942, oneDNN v3.13, torch
2.15.0) does not cover it: torch 2.15.0 still crashes here.

conv_transpose2d reaches the same kernel in its forward when no input pixel reaches any output
row, so that the convolution oneDNN runs for it (flipped weights over the input padded by
dilation * (kernel - 1) - padding) reads padding alone in every row: as
brg_deconv:avx10_1_512_amx+brg_conv_fwd:avx10_1_512_amx, and for the grouped case with a bias as
conv:any+brg_conv_bwd:avx10_1_512_amx+brg_conv_fwd:avx10_1_512_amx (torch 2.5.1 to 2.15.0; 2.0.1
and 2.1.2 are right). The right answer there is the bias alone.

Each case runs in a child process, so the crash is reported rather than suffered (the child's
output passes through: with ONEDNN_VERBOSE=2 oneDNN names the kernel as it creates it, before the
crash). Exits 1 while any case crashes or is wrong, 0 once all are right. torch only.
"""

import subprocess
import sys

CASES = {
    "conv2d, every output row in padding": (
        "x = torch.randn(1, 3, 1, 13).bfloat16(); w = torch.randn(1, 3, 2, 2).bfloat16();"
        " y = F.conv2d(x, w, padding=(1, 2), dilation=(2, 2)); assert bool((y == 0).all()), y"
    ),  # kernel height 2, dilation 2: rows -1 and 1
    "conv_transpose2d, no input pixel reaches any output row": (
        "x = torch.ones(2, 3, 1, 1).bfloat16(); w = torch.ones(3, 16, 2, 3).bfloat16();"
        " y = F.conv_transpose2d(x, w, torch.ones(16).bfloat16(), padding=(1, 0), dilation=2);"
        " assert bool((y == 1).all()), y"
    ),  # input row 0 reaches output rows -1 and 1 of 0..0
    "conv_transpose2d, 2 groups, bias, no input pixel reaches any output row": (
        "x = torch.ones(6, 1, 3).bfloat16(); w = torch.ones(6, 1, 2, 1).bfloat16();"
        " y = F.conv_transpose2d(x, w, torch.ones(2).bfloat16(), padding=(1, 0), dilation=(3, 1), groups=2);"
        " assert bool((y == 1).all()), y"
    ),  # input row 0 reaches output rows -1 and 2 of 0..1
}
wrong = False
for name, case in CASES.items():
    code = f"import torch, torch.nn.functional as F; torch.set_num_threads(1); {case}"
    sys.stdout.flush()
    result = subprocess.run([sys.executable, "-c", code], stderr=subprocess.PIPE, text=True)
    wrong |= result.returncode != 0
    print(
        f"bfloat16 {name}:",
        "ok"
        if result.returncode == 0
        else f"crashed (signal {-result.returncode})"
        if result.returncode < 0
        else f"wrong result\n{result.stderr}",
    )
sys.exit(1 if wrong else 0)
