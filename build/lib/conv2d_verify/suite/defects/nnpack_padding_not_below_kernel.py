"""float32 conv2d raises 'NNPACK SpatialConvolution_updateOutput failed' when torch routes a call
with padding >= kernel size to NNPACK, which does not support such padding
(https://github.com/pytorch/pytorch/issues/90142). NNPACK takes batches of 16 or more; oneDNN is
turned off here so that torch picks it. The right answer: 1 at the centre of each 3x3 output, 0
around it. Exits 1 while torch raises or is wrong, 0 once it is right. torch only.
"""

import sys

import torch
import torch.nn.functional as F

torch.set_num_threads(1)
x, w = torch.ones(16, 1, 1, 1), torch.ones(1, 1, 1, 1)
expected = F.pad(torch.ones(16, 1, 1, 1), (1, 1, 1, 1))
with torch.backends.mkldnn.flags(enabled=False):
    backend = str(torch._C._select_conv_backend(x, w, None, [1, 1], [1, 1], [1, 1], False, [0, 0], 1)).rsplit(".", 1)[
        -1
    ]
    try:
        got = F.conv2d(x, w, padding=1)
    except RuntimeError as error:
        print(f"torch {torch.__version__}, backend {backend}: kernel 1x1, padding 1, batch 16 raised {error}")
        sys.exit(1)
print(f"torch {torch.__version__}, backend {backend}: {'right' if torch.equal(got, expected) else 'WRONG'}")
sys.exit(0 if torch.equal(got, expected) else 1)
