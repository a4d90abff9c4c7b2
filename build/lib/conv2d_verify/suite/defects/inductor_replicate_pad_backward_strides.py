"""torch.compile (inductor, CPU) of a Conv2d with padding_mode='replicate' fails in backward: the
compiled graph asserts that replication_pad2d_backward returns a channels_last gradient
(stride 1 along channels) while the kernel returns a contiguous one, and raises
"AssertionError: expected size 4==4, stride 1==4 at dim=1". Every dtype; forward is fine, and
so is padding_mode='reflect'. Exits 1 while it fails (or its gradient differs from eager
beyond float32 rounding), 0 once fixed. torch only; inductor needs a C++ compiler.
"""

import sys

import torch

torch.manual_seed(0)
layer = torch.nn.Conv2d(4, 2, 3, padding=1, padding_mode="replicate", bias=False)
x = torch.randn(1, 4, 5, 5, requires_grad=True)
eager = torch.autograd.grad(layer(x), x, torch.ones(1, 2, 5, 5))[0]
try:
    out = torch.compile(layer, dynamic=False, fullgraph=True)(x)
    out.backward(torch.ones_like(out))
except AssertionError as error:
    print("torch", torch.__version__, "compiled backward raised:", str(error).splitlines()[0])
    sys.exit(1)
difference = (x.grad - eager).abs().max().item()
print("torch", torch.__version__, "compiled backward ran; max |compiled - eager| grad_input:", difference)
sys.exit(0 if difference <= 1e-5 else 1)
