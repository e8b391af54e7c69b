#!/usr/bin/env bash
# Device check of the CUDA backend (crates/engine/src/cuda), for the H100 box (CUDA 13.0 in
# /usr/local/cuda, no Rust toolchain). Build the binaries on a machine with cargo first:
#
#   cargo build --release -p noisyprop-engine --features cuda --example gpu_check
#   cargo build --release -p noisyprop --features cuda      # optional: the CLI check below
#
# then copy target/release/examples/gpu_check (and target/release/noisyprop) along and run
# this script from the repository root. It prints one JSON line per result:
#   probe             device name, compute capability, memory
#   parity_engine     CPU engine (Trainer: Mlp + MSE + SGD) vs GPU, 4 SGD steps of
#                     784→3×64→784, batch 16, critical dropout keeps {0.8, 0.5, 1.0}, lr 0.2,
#                     with ReLU and with tanh, for fp32 / tf32 / bf16. Bounds on the relative
#                     loss and parameter-update errors: tanh (and ReLU in fp32) 1e-4 / 1e-2 /
#                     5e-2; ReLU in tf32/bf16 5e-2 (loss) and 0.25 (update), because ReLU′
#                     flips at pre-activations within rounding distance of 0 (see
#                     noisyprop_engine::cuda::parity_tolerances)
#   parity_reference  ReLU fp32 against the backend's minimal CPU reference
#   throughput        full Fig. 6 grid (10 depths × 10 keeps, width 1000, batch 128):
#                     grid-steps per second after warm-up, per precision (CUDA graphs on),
#                     and the last precision once more with graphs off
#   done              exit status and total time
#   cli_trainable_depth  (only if target/release/noisyprop, or $NOISYPROP_BIN, is there) a tiny
#                     `noisyprop trainable-depth --device cuda --precision tf32` grid (1000
#                     MNIST images of the embedded subset, width 64, depths 2 and 6, keeps 0.5
#                     and 1, 1 epoch of SGD): its exit status, seconds and JSON report
# Exit status: 0 = all ran and parity passed (or CUDA not available), 1 = a parity check
# failed, 2 = an error (the CLI run failing included). Expected run time on an H100: well
# under a minute (limits 230 s for gpu_check, 90 s for the CLI run).
set -uo pipefail
cd "$(dirname "$0")/.."
BIN=${GPU_CHECK_BIN:-target/release/examples/gpu_check}
if [[ ! -x $BIN ]]; then
    echo "gpu-check: $BIN not found; build it with" >&2
    echo "  cargo build --release -p noisyprop-engine --features cuda --example gpu_check" >&2
    exit 2
fi
CUDA_ROOT=${CUDA_PATH:-/usr/local/cuda}
export LD_LIBRARY_PATH="$CUDA_ROOT/lib64${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader >&2
timeout 230 "$BIN" --steps "${STEPS:-50}" --warmup "${WARMUP:-3}" "$@"
rc=$?
[[ $rc == 124 ]] && echo '{"check":"timeout","seconds":230}'

# The CLI's GPU path end to end: a tiny trainable-depth grid (one GpuGrid per depth).
CLI=${NOISYPROP_BIN:-target/release/noisyprop}
if [[ -x $CLI ]]; then
    store=$(mktemp -d)
    trap 'rm -rf "$store"' EXIT
    t0=$(date +%s.%N)
    timeout 90 "$CLI" trainable-depth --device cuda --precision tf32 --examples 1000 \
        --width 64 --depths 2,6 --keeps 0.5,1 --epochs 1 --optimizer sgd --lr 0.01 \
        --batch 128 --store "$store" --json -q >"$store/out.json" 2>"$store/err.txt"
    cli_rc=$?
    secs=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
    if [[ $cli_rc == 0 ]]; then
        # The pretty-printed report on one line (its strings hold no newlines).
        printf '{"check":"cli_trainable_depth","status":0,"seconds":%s,"result":%s}\n' \
            "$secs" "$(tr -d '\n' <"$store/out.json" | tr -s ' ')"
    elif grep -q "CUDA not available" "$store/err.txt"; then
        reason=$(head -c 300 "$store/err.txt" | tr -d '\n"\\')
        printf '{"check":"cli_trainable_depth","status":"skipped","reason":"%s"}\n' "$reason"
    else
        reason=$(head -c 600 "$store/err.txt" | tr '\n' ' ' | tr -d '"\\')
        printf '{"check":"cli_trainable_depth","status":%d,"seconds":%s,"error":"%s"}\n' \
            "$cli_rc" "$secs" "$reason"
        [[ $rc == 0 ]] && rc=2
    fi
else
    echo "gpu-check: $CLI not found; skipping the CLI check (cargo build --release -p noisyprop --features cuda)" >&2
fi
exit $rc
