"""bfloat16 conv3d backward on the jit_bf16 weight-gradient kernel of oneDNN 2.7 (torch 2.0:
jit_bf16:avx512_core_bf16 and the emulated jit_bf16:avx512_core, 16 or more channels on AVX-512 CPUs
without AMX): with a depth stride above 1, depth padding and two or more output planes, grad_weight
comes out wrong, stale memory at some taps. oneDNN 3.1 (torch 2.1.2) and later get these cases right
(their own 3-d defect, onednn_jit_bf16_backward_weights_3d_kernel_exceeds_input, needs a kernel
deeper or taller than the input).

The region, on the convolution as the kernel runs it (a transposed op's adjoint): a depth stride
above 1, depth padding and two or more output planes. Grid on torch 2.0.1 at AVX512_CORE (17,560
conv3d and conv_transpose3d configurations, depth and height swept): outside the kernel-exceeds-input
region, 198 of the 940 jit_bf16 weight gradients in this one were wrong (stale) and none elsewhere;
a depth stride of 1 was right. torch 2.1.2 got all 940 right.

The case, all ones, sixteen channels, one image: conv3d of a 2x1x1 input with a 2x1x1 kernel, depth
stride 2 and depth padding 1: two output planes, each tap reads the input once (the first plane
reads padding and the first input plane, the second the second input plane and padding), so
grad_weight is 1 at both taps. conv_transpose3d of a 2x1x1 input with the same weight, stride and
padding has the same weight gradient (of the convolution of its 2x1x1 output back to the input),
computed by the same kernel behind oneDNN's deconvolution (backward_weights): wrong alike.

The script restarts itself with glibc's MALLOC_PERTURB_ set, which fills every new allocation with
0x5a bytes, so unwritten taps read 1.5e16 every time; and with ONEDNN_MAX_CPU_ISA=AVX512_CORE_BF16
unless a cap is set already, so that an AMX CPU runs the same kernel as one without AMX.
ONEDNN_VERBOSE=1 names the kernel; the forward passes run unlogged, so the log names the gradient
kernels alone (under a cap with AMX the forward runs jit_bf16 while AMX computes grad_weight).
Exits 1 while grad_weight is wrong, 0 once it is right. torch only.
"""

import os
import sys

if os.environ.get("MALLOC_PERTURB_") != "165":  # both are read as the process starts: start again with them set
    environment = {**os.environ, "MALLOC_PERTURB_": "165"}
    environment.setdefault("ONEDNN_MAX_CPU_ISA", "AVX512_CORE_BF16")
    os.execve(sys.executable, [sys.executable, *sys.argv], environment)

import torch  # after the restart
import torch.nn.functional as F

torch.set_num_threads(1)
level = os.environ.get("ONEDNN_VERBOSE", os.environ.get("DNNL_VERBOSE", "0"))
LOG_LEVEL = int(level) if level.isdigit() else 2  # the log level asked for, restored for the backward passes
wrong = 0
for function in (F.conv3d, F.conv_transpose3d):
    grads = []
    for dtype in (torch.float64, torch.bfloat16):
        x = torch.ones(1, 16, 2, 1, 1, dtype=dtype)
        w = torch.ones(16, 16, 2, 1, 1, dtype=dtype, requires_grad=True)
        torch._C._verbose.mkldnn_set_verbose(0)  # the forward unlogged
        out = function(x, w, stride=(2, 1, 1), padding=(1, 0, 0))
        torch._C._verbose.mkldnn_set_verbose(LOG_LEVEL)
        out.backward(torch.ones_like(out))
        grads.append(w.grad.double())
    expected, got = grads
    taps = int((got != expected).sum())
    wrong += taps
    print(
        f"torch {torch.__version__}, {function.__name__}: grad_weight[0, 0] {got[0, 0].flatten().tolist()},"
        f" expected {expected[0, 0].flatten().tolist()}; {taps} of {got.numel()} taps wrong"
    )
sys.exit(1 if wrong else 0)
