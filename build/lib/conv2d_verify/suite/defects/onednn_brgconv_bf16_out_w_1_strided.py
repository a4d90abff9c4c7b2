"""torch bfloat16 conv2d on CPU: wrong result when the output width is 1 and stride_w > 1.

oneDNN's brgemm forward kernels get it wrong, with AMX (brg_conv_fwd:avx10_1_512_amx) and
without (brg_conv_fwd:avx512_core_bf16, channels_last input). All-ones data: every output
element of each case is exactly the number of kernel taps per group (8). Set ONEDNN_VERBOSE=1
to see which kernel ran. Exits 1 while torch gets any case wrong, 0 once all are right. torch only.
"""

import sys

import torch

torch.set_num_threads(1)
CASES = {  # input shape, weight shape, conv2d keywords, channels_last input
    "1 channel, kernel 2x4, stride (1, 2), dilation (1, 3)": (
        (1, 1, 6, 10),
        (1, 1, 2, 4),
        dict(stride=(1, 2), dilation=(1, 3)),
        False,
    ),
    "2 channels, groups=2, kernel 2x4, stride (1, 2), channels_last": (
        (1, 2, 5, 4),
        (4, 1, 2, 4),
        dict(stride=(1, 2), groups=2),
        True,
    ),
}
wrong = False
for name, (input_shape, weight_shape, kwargs, channels_last) in CASES.items():
    x = torch.ones(input_shape, dtype=torch.bfloat16)
    if channels_last:
        x = x.contiguous(memory_format=torch.channels_last)
    w = torch.ones(weight_shape, dtype=torch.bfloat16)
    got = torch.nn.functional.conv2d(x, w, **kwargs)  # output width 1
    right = bool((got == 8).all())
    wrong |= not right
    print(f"{name}: got {got.flatten().tolist()}, expected all 8.0{'' if right else '  WRONG'}")
print("torch", torch.__version__)
sys.exit(1 if wrong else 0)
