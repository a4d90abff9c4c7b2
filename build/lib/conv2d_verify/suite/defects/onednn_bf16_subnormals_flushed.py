"""bfloat16 conv2d on oneDNN treats subnormal operands as zero (and flushes subnormal products);
torch's own Slow2d kernel and the float64 result keep them. Exits 1 while oneDNN flushes."""

import sys

import torch

torch.set_num_threads(1)
tiny = torch.finfo(torch.bfloat16).tiny  # 2**-126, the smallest normal bfloat16
cases = {
    "subnormal input, weight 1": (torch.full((1, 1, 1, 1), tiny / 2), torch.ones(1, 1, 1, 1)),
    "input 1, subnormal weight": (torch.ones(1, 1, 1, 1), torch.full((1, 1, 1, 1), tiny / 2)),
    "normal input * normal weight = subnormal product": (
        torch.full((1, 1, 1, 1), 2.0**-63),
        torch.full((1, 1, 1, 1), 2.0**-64),
    ),
}
flushed = False
for name, (x, w) in cases.items():
    x, w = x.bfloat16(), w.bfloat16()
    exact = (x.double() * w.double()).item()  # 2**-127, a bfloat16 subnormal: representable exactly
    for mkldnn in (True, False):
        with torch.backends.mkldnn.flags(enabled=mkldnn):
            backend = str(torch._C._select_conv_backend(x, w, None, [1, 1], [0, 0], [1, 1], False, [0, 0], 1)).rsplit(
                ".", 1
            )[-1]
            got = torch.nn.functional.conv2d(x, w).item()
        print(f"{name:50s} {backend:8s} got {got!r:24} exact {exact!r}")
        flushed |= got != exact
print(
    "torch",
    torch.__version__,
    "cpu capability",
    getattr(getattr(torch.backends, "cpu", None), "get_cpu_capability", lambda: "unknown")(),
)
sys.exit(1 if flushed else 0)
