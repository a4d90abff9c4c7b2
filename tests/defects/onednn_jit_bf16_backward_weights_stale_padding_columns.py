"""bfloat16 conv2d backward on oneDNN's jit_bf16 weight-gradient kernel (jit_bf16:avx512_core_bf16,
and the emulated jit_bf16:avx512_core), which serves 16 or more input channels on AVX-512 CPUs
without AMX: with stride_w > 1, grad_weight at a tap column that reads only zero padding is not
written, so it holds whatever that memory held instead of 0.

Sixteen channels of a 4x1 all-ones input, a 1x3 all-ones kernel, stride (1, 2), padding (0, 1):
the output is 4x1 and only the middle tap column reads the input, so grad_weight is 4 there and
exactly 0 in the two outer columns, which come out stale. conv_transpose2d with the same weight
shape, stride and padding over a 4x1 input has the same grad_weight, computed by the same kernel
behind oneDNN's deconvolution (conv:any+jit_bf16, backward_weights), stale alike. The script
restarts itself with glibc's MALLOC_PERTURB_ set, which fills every new allocation with 0x5a bytes,
so the unwritten taps read 1.5e16 every time; and with ONEDNN_MAX_CPU_ISA=AVX512_CORE_BF16 unless a
cap is set already, so that an AMX CPU runs the same kernel as one without AMX. ONEDNN_VERBOSE=1
names the kernel. Exits 1 while grad_weight is wrong, 0 once it is right. torch only.
"""

import os
import sys

if os.environ.get("MALLOC_PERTURB_") != "165":  # both are read as the process starts: start again with them set
    environment = {**os.environ, "MALLOC_PERTURB_": "165"}
    environment.setdefault("ONEDNN_MAX_CPU_ISA", "AVX512_CORE_BF16")
    os.execve(sys.executable, [sys.executable, *sys.argv], environment)

import torch  # after the restart

torch.set_num_threads(1)
expected = torch.zeros(16, 16, 1, 3)
expected[..., 1] = 4.0
wrong = 0
# conv_transpose2d with the same kernel, stride and padding over a 4x1 input: its grad_weight is oneDNN's
# weight gradient of the convolution of its 4x1 output back to the input (conv:any+jit_bf16, backward_weights)
for function in (torch.nn.functional.conv2d, torch.nn.functional.conv_transpose2d):
    x = torch.ones(1, 16, 4, 1, dtype=torch.bfloat16, requires_grad=True)
    w = torch.ones(16, 16, 1, 3, dtype=torch.bfloat16, requires_grad=True)
    out = function(x, w, stride=(1, 2), padding=(0, 1))
    out.backward(torch.ones_like(out))
    taps = int((w.grad.float() != expected).sum())
    wrong += taps
    print(
        f"torch {torch.__version__}, {function.__name__}: grad_weight[0, 0] {w.grad[0, 0].float().flatten().tolist()},"
        f" expected [0.0, 4.0, 0.0]; {taps} of {w.grad.numel()} taps wrong"
    )
sys.exit(1 if wrong else 0)
