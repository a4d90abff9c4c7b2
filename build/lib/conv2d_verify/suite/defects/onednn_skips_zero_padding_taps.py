"""An inf weight tap that meets only zero padding: NaN (inf * 0) or not, depending on the kernel.

Zero padding means 'pad the input with zeros, then correlate'. Under that definition the output
below is NaN: its corner tap (inf) multiplies a padding zero. torch's Slow2d computes that, and so
does every backend when the same zeros are written explicitly with F.pad; oneDNN's kernels skip
the padding taps instead and return a finite number: all of them but x64:gemm:jit (im2col writes
the zeros out), the AMX ones only for some shapes (larger padding, strides, dilation). Set
ONEDNN_VERBOSE=1 to see which kernel ran. Exits 1 while implicit and explicit zero padding
disagree for some dtype and case.
"""

import sys

import torch
import torch.nn.functional as F

torch.set_num_threads(1)


def has_cpu_conv(dtype) -> bool:
    """False for a dtype this torch has no CPU convolution for (older releases lack float16)."""
    try:
        F.conv2d(torch.ones(1, 1, 1, 1, dtype=dtype), torch.ones(1, 1, 1, 1, dtype=dtype))
        return True
    except RuntimeError as error:
        print(f"{str(dtype):15s} no CPU conv in this torch: {error}")
        return False


disagree = False
for dtype in filter(has_cpu_conv, (torch.float64, torch.float32, torch.float16, torch.bfloat16)):
    for channels, size in ((1, 1), (16, 6)):  # the second moves float32 onto oneDNN
        x = torch.ones(2, channels, size, size, dtype=dtype)
        w = torch.ones(channels, channels, 3, 3, dtype=dtype)
        w[0, 0, 0, 0] = float("inf")  # at output (0, 0) this top-left tap reads padding
        for mkldnn in (True, False):
            with torch.backends.mkldnn.flags(enabled=mkldnn):
                backend = str(
                    torch._C._select_conv_backend(x, w, None, [1, 1], [1, 1], [1, 1], False, [0, 0], 1)
                ).rsplit(".", 1)[-1]
                implicit = F.conv2d(x, w, padding=1)[0, 0, 0, 0].item()
                explicit = F.conv2d(F.pad(x, (1, 1, 1, 1)), w)[0, 0, 0, 0].item()
            same = str(implicit) == str(explicit)
            disagree |= not same
            print(
                f"{str(dtype):15s} C={channels:<2d} {size}x{size} {backend:8s} padding=1: {implicit!r:6}"
                f"  F.pad then padding=0: {explicit!r:6}  {'' if same else 'DISAGREE'}"
            )

# The AMX kernel (brg_conv_fwd:avx10_1_512_amx): padding (3, 2), a 4x2 kernel, stride (1, 3).
if has_cpu_conv(torch.bfloat16):
    x = torch.ones(1, 3, 1, 2, dtype=torch.bfloat16)
    w = torch.ones(1, 3, 4, 2, dtype=torch.bfloat16)
    w[0, 0, 0, 0] = float("inf")
    implicit = F.conv2d(x, w, stride=(1, 3), padding=(3, 2))[0, 0, :, 0]
    explicit = F.conv2d(F.pad(x, (2, 2, 3, 3)), w, stride=(1, 3))[0, 0, :, 0]
    same = str(implicit.tolist()) == str(explicit.tolist())
    disagree |= not same
    print(
        f"torch.bfloat16  C=3  1x2 padding=(3, 2) stride=(1, 3), output column 0: {implicit.tolist()}"
        f"  F.pad then padding=0: {explicit.tolist()}  {'' if same else 'DISAGREE'}"
    )

# One call, both conventions: padding='same' with an even kernel pads the extra bottom row with
# literal zeros (F.pad) and the rest inside the kernel. The inf tap (3, 1) meets the explicit row at
# output row 2 (NaN) and the kernel's own padding at output row 3 (finite on oneDNN, NaN on Slow2d).
x = torch.ones(2, 1, 4, 4, dtype=torch.float16)
w = torch.ones(1, 1, 4, 4, dtype=torch.float16)
w[0, 0, 3, 1] = float("inf")
if has_cpu_conv(torch.float16):
    print(
        "padding='same', float16, oneDNN: rows 2 and 3 of the output:",
        F.conv2d(x, w, padding="same")[0, 0, 2:].tolist(),
    )
print(
    "torch",
    torch.__version__,
    "cpu capability",
    getattr(getattr(torch.backends, "cpu", None), "get_cpu_capability", lambda: "unknown")(),
)
sys.exit(1 if disagree else 0)
