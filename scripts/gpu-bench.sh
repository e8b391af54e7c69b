#!/usr/bin/env bash
# The whole GPU session of issue 4 in one prepared run on the lent H100 (no Rust toolchain
# there): scripts/gpu-check.sh (parity per precision, Fig. 6 grid throughput, the CLI's
# --device cuda path), then the same-run PyTorch baselines of scripts/torch-grid-baseline.py
# (products-only floor and a full PyTorch training step of the same grid), then, where
# Nsight Systems is installed, a kernel-time breakdown of a short bf16/tf32 grid run (what
# bounds the grid-step: cuBLAS products or the fused element-wise kernels).
#
# Build stripped binaries here first (they travel as carried paths):
#   cargo build --release -p noisyprop-engine --features cuda --example gpu_check
#   cargo build --release -p noisyprop --features cuda
#   mkdir -p target/gpu && strip -o target/gpu/gpu_check target/release/examples/gpu_check \
#       && strip -o target/gpu/noisyprop target/release/noisyprop
# Results: stdout (JSON lines) and, if $OUT is set, $OUT/gpu-bench.jsonl plus the profile.
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-$(mktemp -d)}
export GPU_CHECK_BIN=${GPU_CHECK_BIN:-target/gpu/gpu_check}
export NOISYPROP_BIN=${NOISYPROP_BIN:-target/gpu/noisyprop}
export LD_LIBRARY_PATH="/usr/local/cuda/lib64${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
log="$OUT/gpu-bench.jsonl"
t0=$(date +%s)
stage() { echo "== $1 ($(($(date +%s) - t0)) s)" >&2; }

stage "gpu-check"
bash scripts/gpu-check.sh "$@" | tee "$log"
rc=${PIPESTATUS[0]}

stage "torch baseline"
if python3 -c 'import torch' 2>/dev/null; then
    timeout "${TORCH_TIMEOUT:-150}" python3 scripts/torch-grid-baseline.py --steps 20 | tee -a "$log"
    [[ ${PIPESTATUS[0]} == 124 ]] && echo '{"check":"torch","error":"timeout"}' | tee -a "$log"
else
    echo '{"check":"torch","available":false}' | tee -a "$log"
fi

stage "profile"
NSYS=$(command -v nsys || ls /usr/local/cuda/bin/nsys /opt/nvidia/nsight-systems/*/bin/nsys \
    /usr/local/cuda/nsight-systems*/bin/nsys 2>/dev/null | head -1)
if [[ -n ${NSYS:-} && -x $NSYS ]]; then
    for p in bf16 tf32; do
        timeout 75 "$NSYS" profile -q -t cuda --cuda-graph-trace=node -o "$OUT/grid-$p" -f true \
            "$GPU_CHECK_BIN" --skip-parity --no-graph-compare --precisions "$p" --steps 10 \
            --warmup 3 >/dev/null 2>"$OUT/nsys-$p.err"
        timeout 45 "$NSYS" stats -q -r cuda_gpu_kern_sum -f csv -o "$OUT/kern-$p" \
            "$OUT/grid-$p.nsys-rep" >/dev/null 2>>"$OUT/nsys-$p.err"
        f=$(ls "$OUT"/kern-"$p"*.csv 2>/dev/null | head -1)
        if [[ -n $f ]]; then
            { echo "-- kernel time, $p (top 12 by total; 10 timed + 3 warm-up grid-steps)"
              head -13 "$f" | cut -d, -f1-4,9 | cut -c1-160; } | tee -a "$log"
        else
            echo "{\"check\":\"profile\",\"precision\":\"$p\",\"error\":\"$(head -c 300 "$OUT/nsys-$p.err" | tr -d '\n"\\')\"}" | tee -a "$log"
        fi
        rm -f "$OUT/grid-$p.sqlite" "$OUT/grid-$p.nsys-rep"
    done
else
    echo '{"check":"profile","available":false}' | tee -a "$log"
fi
stage "end"
exit "$rc"
