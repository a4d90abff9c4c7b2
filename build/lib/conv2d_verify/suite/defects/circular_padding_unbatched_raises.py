"""nn.Conv2d(padding_mode='circular') raises on an unbatched (C, H, W) input, which nn.Conv2d
accepts in every other padding mode and documents as valid
(https://github.com/pytorch/pytorch/issues/104860): "Invalid padding size, expected 2 but got 4".
The right answer is the circularly padded convolution of the input as one image. Exits 1 while
torch raises or is wrong, 0 once it is right. torch only.
"""

import sys

import torch

torch.manual_seed(0)
layer = torch.nn.Conv2d(2, 3, 3, padding=1, padding_mode="circular")
x = torch.randn(2, 5, 6)
expected = layer(x[None])[0]  # the same input as a batch of one: accepted
try:
    got = layer(x)
except RuntimeError as error:
    print(f"torch {torch.__version__}: unbatched circular conv raised: {error}")
    sys.exit(1)
same = torch.equal(got, expected)
print(
    f"torch {torch.__version__}: unbatched circular conv"
    f" {'matches' if same else 'DIFFERS FROM'} the batch-of-one result"
)
sys.exit(0 if same else 1)
