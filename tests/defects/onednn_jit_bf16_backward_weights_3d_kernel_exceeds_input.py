"""bfloat16 conv3d backward on oneDNN's jit_bf16 weight-gradient kernel (jit_bf16:avx512_core_bf16,
and the emulated jit_bf16:avx512_core), which serves 16 or more channels on AVX-512 CPUs without
AMX: when the kernel is deeper than the input, or taller than it, its 3-d loops lose track of which
taps and rows they are on. grad_weight comes out wrong (0 or stale memory where the input was read),
and other shapes in the same region hang or write outside the weight buffer (glibc aborts with
"free(): invalid pointer" or "double free or corruption"). conv1d and conv2d are right: the 3-d
depth loop, and the height loop as it runs inside it, are the 3-d kernel's own.

The region, on the convolution as the kernel runs it (a transposed op's adjoint): a kernel deeper
than the input (dilated extent > input depth) with two or more output planes; or a kernel taller
than the input with two or more output planes, or with more rows of top padding per stride than
output rows. Grids on torch 2.13 (conv1d/2d/3d and their transposes, one axis swept at a time over
sizes 1-5, kernels 1-5, padding 0-3, strides 1-3, dilations 1-2, with 1 or 2 threads and images,
plus random 3-d configurations: 58,680 at AVX512_CORE, 43,020 at AVX512_CORE_BF16): of the 1,397
weight gradients jit_bf16 computed in the region at AVX512_CORE, 873 were wrong and 54 crashed or
hung the process; outside it every one was right but for the sibling stride_w > 1 padding-column
defect, conv1d and conv2d included. Rerun one per fresh process under glibc's malloc checks, 195
of 197 wrong shapes ended cleanly; a deeper-kernel one (two threads, two images) hung and a
taller-kernel one aborted. torch 2.1.2 to 2.15.0 get the three cases below wrong; 2.0.1 (oneDNN 2.7)
the taller-kernel one only (its depth trouble is another:
onednn_jit_bf16_backward_weights_3d_strided_depth_padding).

The cases, all ones, sixteen channels, one image:
- conv3d of a 1x1x1 input with a 3x1x1 kernel and depth padding 2: three output planes, each tap
  reads the input once, so grad_weight is 1 at every tap; it comes out 0, stale, 1.
- conv_transpose3d of a 3x1x1 input with the same weight and padding: its grad_weight is the same
  weight gradient, of the convolution of its 1x1x1 output back to the input, computed by the same
  kernel behind oneDNN's deconvolution (conv:any+jit_bf16, backward_weights): wrong alike.
- conv3d of a 1x1x1 input with a 1x5x1 kernel and height padding 2: one output, only the middle
  tap reads the input (0, 0, 1, 0, 0); the tap above it comes out stale (the loop over the
  top-padding rows runs one row past the output).

The script restarts itself with glibc's MALLOC_PERTURB_ set, which fills every new allocation with
0x5a bytes, so the unwritten taps read 1.5e16 every time; and with ONEDNN_MAX_CPU_ISA=AVX512_CORE_BF16
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
CASES = (  # function, input shape, weight shape, padding
    (F.conv3d, (1, 16, 1, 1, 1), (16, 16, 3, 1, 1), (2, 0, 0)),
    (F.conv_transpose3d, (1, 16, 3, 1, 1), (16, 16, 3, 1, 1), (2, 0, 0)),
    (F.conv3d, (1, 16, 1, 1, 1), (16, 16, 1, 5, 1), (0, 2, 0)),
)
wrong = 0
for function, input_shape, weight_shape, padding in CASES:
    grads = []
    for dtype in (torch.float64, torch.bfloat16):
        x = torch.ones(input_shape, dtype=dtype)
        w = torch.ones(weight_shape, dtype=dtype, requires_grad=True)
        torch._C._verbose.mkldnn_set_verbose(0)  # the forward unlogged
        out = function(x, w, padding=padding)
        torch._C._verbose.mkldnn_set_verbose(LOG_LEVEL)
        out.backward(torch.ones_like(out))
        grads.append(w.grad.double())
    expected, got = grads
    taps = int((got != expected).sum())
    wrong += taps
    print(
        f"torch {torch.__version__}, {function.__name__} {tuple(weight_shape[2:])} kernel, padding {padding}:"
        f" grad_weight[0, 0] {got[0, 0].flatten().tolist()}, expected {expected[0, 0].flatten().tolist()};"
        f" {taps} of {got.numel()} taps wrong"
    )
sys.exit(1 if wrong else 0)
