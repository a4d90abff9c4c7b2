"""bfloat16 conv3d on oneDNN's AMX brgemm forward kernel: with an input one plane deep and padding
in depth, the kernel computes the whole output from a weight buffer it never wrote.

The region (tests/defects grid): input depth 1 and depth padding > 0 (as the kernel sees them),
input channels per group below 16, kernel width > 1, width dilation 1, and either an odd channel
count per group or (channels per group) * (kernel width) > 32: 1, 3, 5, ..., 15 channels with any
kernel width from 2, 12 or 14 with kernel width 3, 10 from width 4, 8 from width 5. Inside it the
output does not depend on the weight at all: it is the input times stale memory. An input two or
more planes deep, no depth padding, 16 or more channels, a kernel width of 1 or a width dilation
of 2 are right; so is conv2d with a height of 1 padded in height (the same kernel, never seen
wrong), and so is oneDNN without AMX (capped at AVX512_CORE_BF16 it runs jit_bf16 or
x64:gemm:jit here). conv_transpose3d reaches the kernel through its backward pass: oneDNN's
deconvolution computes grad_input as a convolution of grad_output (conv:any+brg_conv_fwd:*amx,
backward_data), wrong when grad_output is one plane deep with depth padding and the op's
out_channels per group are in the region above; its forward (brg_deconv:*amx+brg_conv_fwd:*amx)
was right throughout.

The script restarts itself with glibc's MALLOC_PERTURB_ set, which fills every new allocation
with 0x5a bytes, so the stale weights read as 1.5e16 and the outputs as large multiples of it
every time (without it: 0, 3e38, NaN, whatever the memory held). ONEDNN_VERBOSE=1 names the
kernel. Exits 1 while any case disagrees with float64, 0 once all agree. torch only.
"""

import os
import sys

if os.environ.get("MALLOC_PERTURB_") != "165":  # glibc reads it as the process starts: start again with it set
    os.execve(sys.executable, [sys.executable, *sys.argv], {**os.environ, "MALLOC_PERTURB_": "165"})

import torch  # after the restart
import torch.nn.functional as F

torch.set_num_threads(1)
wrong = False


def report(name, got, expected):
    global wrong
    bad = (got - expected).abs() > expected.abs() / 64  # every value below is a small exact integer
    wrong |= bool(bad.any())
    print(
        f"{name}: {int(bad.sum())} of {bad.numel()} elements wrong;"
        f" expected {sorted(set(expected.flatten().tolist()))}, got {sorted(set(got.flatten().tolist()))[:4]}"
    )


CONV3D = {  # input shape, weight shape: depth 1 padded by 1, all ones
    "conv3d, 9 channels (odd), kernel 3x2x2": ((1, 9, 1, 2, 7), (17, 9, 3, 2, 2)),
    "conv3d, 12 channels, kernel 3x2x3 (12 * 3 > 32)": ((1, 12, 1, 2, 7), (16, 12, 3, 2, 3)),
}
for name, (input_shape, weight_shape) in CONV3D.items():
    x, w = torch.ones(input_shape, dtype=torch.float64), torch.ones(weight_shape, dtype=torch.float64)
    expected = F.conv3d(x, w, padding=(1, 0, 0))
    report(name, F.conv3d(x.bfloat16(), w.bfloat16(), padding=(1, 0, 0)).double(), expected)

# conv_transpose3d 17 -> 9 channels: its grad_input is the first conv3d case run on grad_output
grads = []
for dtype in (torch.float64, torch.bfloat16):
    x = torch.ones(1, 17, 1, 1, 6, dtype=dtype, requires_grad=True)
    out = F.conv_transpose3d(x, torch.ones(17, 9, 3, 2, 2, dtype=dtype), padding=(1, 0, 0))
    out.backward(torch.ones_like(out))  # grad_output 1 x 9 x 1 x 2 x 7
    grads.append(x.grad.double())
report("conv_transpose3d 17->9 channels, kernel 3x2x2, grad_input", grads[1], grads[0])
print("torch", torch.__version__)
sys.exit(1 if wrong else 0)
