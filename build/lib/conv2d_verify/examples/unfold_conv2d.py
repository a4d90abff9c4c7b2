"""A conv2d written with torch.nn.functional.unfold and one matmul per group: a small stand-in
for "a conv2d that is not torch's own", to show --target on. It takes F.conv2d's arguments,
'same' and 'valid' included (the odd 'same' pixel goes bottom/right, as in torch), and sums
float16/bfloat16 in float32 (a bfloat16 matmul on the CPU may flush subnormals to zero).

    python -m pytest --target conv2d_verify.examples.unfold_conv2d:conv2d
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def pair(value) -> tuple[int, int]:
    return (value, value) if isinstance(value, int) else tuple(value)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    unbatched = input.dim() == 3
    x = input[None] if unbatched else input
    (kh, kw), (sh, sw), (dh, dw) = weight.shape[-2:], pair(stride), pair(dilation)
    if padding == "valid":
        padding = 0
    if padding == "same":
        total_h, total_w = dh * (kh - 1), dw * (kw - 1)
        x = F.pad(x, (total_w // 2, total_w - total_w // 2, total_h // 2, total_h - total_h // 2))
        padding = 0
    ph, pw = pair(padding)
    n, _, h, w = x.shape
    out_h = (h + 2 * ph - dh * (kh - 1) - 1) // sh + 1
    out_w = (w + 2 * pw - dw * (kw - 1) - 1) // sw + 1
    dtype = x.dtype
    if dtype in (torch.float16, torch.bfloat16):
        x, weight, bias = x.float(), weight.float(), None if bias is None else bias.float()
    columns = F.unfold(x, (kh, kw), dilation=(dh, dw), padding=(ph, pw), stride=(sh, sw))  # (N, C*kh*kw, L)
    columns = columns.view(n, groups, x.shape[1] // groups * kh * kw, columns.shape[-1])
    filters = weight.reshape(groups, weight.shape[0] // groups, -1)  # (groups, O/groups, C/groups*kh*kw)
    out = torch.matmul(filters[None], columns).reshape(n, weight.shape[0], out_h, out_w)
    if bias is not None:
        out = out + bias[None, :, None, None]
    out = out.to(dtype)
    return out[0] if unbatched else out
