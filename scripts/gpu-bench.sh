#!/usr/bin/env bash
# The whole GPU session of issue 4 in one prepared run on the lent H100 (no Rust toolchain
# there): scripts/gpu-check.sh (parity per precision, Fig. 6 grid throughput, the CLI's
# --device cuda path), the engine's unit tests (their device tests on the GPU), then the
# same-run PyTorch baselines of scripts/torch-grid-baseline.py
# (products-only floor and a full PyTorch training step of the same grid). gpu_check's
# throughput lines carry the device time per phase of a grid-step (`profile_ms`: what
# bounds it, cuBLAS products or the fused element-wise kernels).
#
# Build the stripped binaries here first (they travel as carried paths: target/gpu):
#   bash scripts/build-gpu-binaries.sh
# Results: stdout (JSON lines) and, if $OUT is set, $OUT/gpu-bench.jsonl.
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

stage "engine unit tests"
if [[ -x target/gpu/engine-tests ]]; then
    # The device tests run on the GPU here (and on the emulator where a C++ compiler is).
    timeout 200 target/gpu/engine-tests --test-threads 2 >"$OUT/engine-tests.txt" 2>&1
    t_rc=$?
    summary=$(grep -E "^test result" "$OUT/engine-tests.txt" | tail -1 | tr -d '"')
    failed=$(grep -E "^test .* FAILED$" "$OUT/engine-tests.txt" | awk '{print $2}' | tr '\n' ' ')
    echo "{\"check\":\"engine_tests\",\"status\":$t_rc,\"summary\":\"$summary\",\"failed\":\"$failed\"}" | tee -a "$log"
    [[ $t_rc != 0 && $rc == 0 ]] && rc=1
fi

stage "torch baseline"
if python3 -c 'import torch' 2>/dev/null; then
    timeout "${TORCH_TIMEOUT:-150}" python3 scripts/torch-grid-baseline.py --steps 20 | tee -a "$log"
    [[ ${PIPESTATUS[0]} == 124 ]] && echo '{"check":"torch","error":"timeout"}' | tee -a "$log"
else
    echo '{"check":"torch","available":false}' | tee -a "$log"
fi

stage "end"
exit "$rc"
