#!/usr/bin/env bash
# The suite on a machine with an NVIDIA GPU, in one go: the ci profile on CUDA (every dtype,
# TF32 on and off, cudnn deterministic and benchmark on and off, channels_last), the same on
# that machine's own CPU, and torch.compile on CUDA. Needs torch with CUDA, pytest,
# pytest-xdist, hypothesis, numpy, scipy and matplotlib; installs nothing.
#
#   bash tools/gpu_check.sh [OUTPUT_DIR]      (default: $OUT, else /tmp/gpu-check)
#
# Writes OUTPUT_DIR/environment.txt, one log per part and reports.tgz (each part's reports/).
set -uo pipefail
export PYTHONUNBUFFERED=1
out=${1:-${OUT:-/tmp/gpu-check}}
workers=${WORKERS:-8}
reports=$(mktemp -d)
mkdir -p "$out"

python3 - <<'PY' | tee "$out/environment.txt"
import platform, torch
print(f"python {platform.python_version()}, torch {torch.__version__}, CUDA {torch.version.cuda}, cuDNN {torch.backends.cudnn.version()}")
print(f"GPU {torch.cuda.get_device_name()} (capability {torch.cuda.get_device_capability()}), host CPU capability {torch.backends.cpu.get_cpu_capability()}")
PY

part() {  # name, time limit in seconds, pytest arguments...
    local name=$1 limit=$2
    shift 2
    timeout "$limit" python3 -m pytest -n "$workers" -p no:cacheprovider --report-dir "$reports/$name" "$@" > "$out/$name.log" 2>&1
    echo "$name: exit $? ($(tail -n 1 "$out/$name.log"))" | tee -a "$out/environment.txt"
}
part cuda 300 --hypothesis-profile=ci --device cuda
part cpu 150 --hypothesis-profile=ci
part compile-cuda 120 -m compile --device cuda --dtypes float32,float16,bfloat16
tar czf "$out/reports.tgz" -C "$reports" .
