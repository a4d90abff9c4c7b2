"""torch float16/bfloat16 conv2d on CPU segfaults when every output column (or row) reads only
zero padding (oneDNN brgemm conv, https://github.com/uxlfoundation/oneDNN/issues/5942).

Each case runs in a child process, so the crash is reported rather than suffered (the child's
output passes through: with ONEDNN_VERBOSE=2 oneDNN names the kernel as it creates it, before the
crash); the right answer is all zeros. Exits 1 while any case crashes or is wrong, 0 once all are
right. torch only.
"""

import subprocess
import sys

CASES = {
    "float16, kernel width 1, every output column in padding":
        "x = torch.randn(1, 1, 4, 1).half(); w = torch.randn(1, 1, 1, 1).half();"
        " y = F.conv2d(x, w, stride=(1, 2), padding=(0, 1), dilation=(1, 2))",
    "bfloat16, kernel height 2, every output row in padding":
        "x = torch.randn(1, 3, 1, 13).bfloat16(); w = torch.randn(1, 3, 2, 2).bfloat16();"
        " y = F.conv2d(x, w, padding=(1, 2), dilation=(2, 2))",
}
failed = False
for name, body in CASES.items():
    code = f"import torch, torch.nn.functional as F; torch.set_num_threads(1); {body}; assert bool((y == 0).all()), y"
    sys.stdout.flush()
    result = subprocess.run([sys.executable, "-c", code], stderr=subprocess.PIPE, text=True)
    unsupported = result.returncode > 0 and "not implemented for" in result.stderr  # no CPU conv for the dtype: nothing to crash
    outcome = "ok" if result.returncode == 0 else f"crashed (signal {-result.returncode})" if result.returncode < 0 else \
        "not implemented in this torch" if unsupported else "wrong result"
    print(f"{name}: {outcome}")
    failed |= result.returncode != 0 and not unsupported
sys.exit(1 if failed else 0)
