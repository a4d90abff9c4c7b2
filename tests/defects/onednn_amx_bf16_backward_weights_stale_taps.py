"""bfloat16 conv2d backward on oneDNN's AMX kernel (brgconv_bwd_w:*amx): grad_weight at a tap
that reads only zero padding is sometimes not written, so it holds whatever that memory held
(heap pointers, NaN, earlier numbers) instead of 0.

One input pixel, a 3x2 all-ones kernel, stride (1, 4), padding 1: the output is one pixel and
only tap (1, 1) reads the input, so grad_weight is 1 there and exactly 0 at the other five taps;
tap (1, 0) comes out stale. What stale memory holds depends on what ran before, so the script
restarts itself with glibc's MALLOC_PERTURB_ set, which fills every new allocation with one byte
pattern (0x5a): the unwritten tap then reads 1.53e16 every time. Without glibc (macOS) the
stale values show or not by chance. ONEDNN_VERBOSE=1 names the kernel.
Exits 1 while grad_weight is wrong, 0 once it is right. torch only.
"""

import os
import sys

if os.environ.get("MALLOC_PERTURB_") != "165":  # glibc reads it as the process starts: start again with it set
    os.execve(sys.executable, [sys.executable, *sys.argv], {**os.environ, "MALLOC_PERTURB_": "165"})

import torch  # after the restart

torch.set_num_threads(1)
x = torch.ones(1, 1, 1, 1, dtype=torch.bfloat16, requires_grad=True)
w = torch.ones(1, 1, 3, 2, dtype=torch.bfloat16, requires_grad=True)
out = torch.nn.functional.conv2d(x, w, stride=(1, 4), padding=1)
out.backward(torch.ones_like(out))
got = w.grad.float().flatten().tolist()
expected = [0.0, 0.0, 0.0, 1.0, 0.0, 0.0]
print(f"torch {torch.__version__}: grad_weight {got}, expected {expected}")
sys.exit(0 if got == expected else 1)
