"""bfloat16 conv_transpose2d/3d backward on oneDNN's AMX kernel: when the input is one pixel wide
and stride_w > 1, grad_input is right in the first row of each depth plane only; later rows hold
wrong values (computed from the wrong grad_output columns) or are never written at all.

oneDNN computes a deconvolution's grad_input as a convolution forward over grad_output (its
backward_data pass: conv:any+brg_conv_fwd:avx10_1_512_amx here). With an input width of 1 that
convolution's output is one pixel wide with stride_w > 1, the shape on which oneDNN's brgemm
forward kernel also gets conv2d wrong (tests/defects/onednn_brgconv_bf16_out_w_1_strided.py). The
deconvolution reaches that kernel on AMX only: capped below AMX, oneDNN picks other kernels for
its backward_data (jit_bf16, x64:gemm:jit), which are right. All-ones data, so every element of
grad_input is the same small integer (data that vary also show the rows read from the wrong
columns) and the unwritten rows stand out. The script restarts itself with glibc's
MALLOC_PERTURB_ set, which fills every new allocation with 0x5a bytes, so those rows read 6.1e16
or 7.4e17 every time instead of whatever the memory held. ONEDNN_VERBOSE=1 names the kernel.
Exits 1 while grad_input is wrong in any case, 0 once it agrees with float64 everywhere. torch only.
"""

import os
import sys

if os.environ.get("MALLOC_PERTURB_") != "165":  # glibc reads it as the process starts: start again with it set
    os.execve(sys.executable, [sys.executable, *sys.argv], {**os.environ, "MALLOC_PERTURB_": "165"})

import torch  # after the restart
import torch.nn.functional as F

torch.set_num_threads(1)
CASES = {  # the function, input shape (unbatched), weight shape, keywords: every input width is 1
    "conv_transpose3d, groups=16, 16->32 channels, kernel (1, 1, 2), stride (1, 1, 2), input 2x3x1": (
        F.conv_transpose3d,
        (16, 2, 3, 1),
        (16, 2, 1, 1, 2),
        dict(stride=(1, 1, 2), groups=16),
    ),
    "conv_transpose2d, 16->16 channels, kernel (1, 3), stride (1, 3), input 6x1": (
        F.conv_transpose2d,
        (16, 6, 1),
        (16, 16, 1, 3),
        dict(stride=(1, 3)),
    ),
}
wrong = False
for name, (function, input_shape, weight_shape, kwargs) in CASES.items():
    grads = []
    for dtype in (torch.float64, torch.bfloat16):
        x = torch.ones(input_shape, dtype=dtype, requires_grad=True)
        out = function(x, torch.ones(weight_shape, dtype=dtype), **kwargs)
        out.backward(torch.ones_like(out))
        grads.append(x.grad.double())
    expected, got = grads
    bad = got != expected
    wrong |= bool(bad.any())
    rows = bad.any(0)[..., 0]  # over the channels, at the one column: ([depth,] row)
    print(
        f"{name}: {int(bad.sum())} of {bad.numel()} grad_input elements wrong, expected all"
        f" {expected.flatten()[0].item()}; got {sorted(set(got.flatten().tolist()))};"
        f" wrong ([depth,] row)s {[tuple(i) for i in rows.nonzero().tolist()]}"
    )
print("torch", torch.__version__)
sys.exit(1 if wrong else 0)
