#!/usr/bin/env bash
# Device check of the CUDA backend (crates/engine/src/cuda), for the H100 box (CUDA 13.0 in
# /usr/local/cuda, no Rust toolchain). Build the binaries on a machine with cargo first:
#
#   cargo build --release -p noisyprop-experiments --features gpu-tools --example gpu_check
#   cargo build --release -p noisyprop --features cuda      # optional: the CLI check below
#
# then copy target/release/examples/gpu_check (and target/release/noisyprop) along and run
# this script from the repository root. It prints one JSON line per result:
#   probe             device name, compute capability, memory
#   parity_engine     CPU engine (Trainer) vs GPU, 4 steps of 784→3×64→784, batch 16,
#                     critical dropout keeps {0.8, 0.5, 1.0}, for fp32 / tf32 / bf16, four
#                     setups: ReLU + SGD (lr 0.2), tanh + SGD, ReLU + Adam (lr 1e-3), and
#                     tanh + momentum 0.9 with softmax cross-entropy over 10 classes.
#                     Bounds on the relative loss and parameter-update errors: smooth
#                     setups 1e-4 / 1e-2 / 5e-2; ReLU or Adam in tf32/bf16 5e-2 (loss) and
#                     0.25 (update), Adam in fp32 1e-3 (update), because ReLU′ flips at
#                     pre-activations within rounding distance of 0 and Adam divides each
#                     gradient by its own size (see noisyprop_engine::cuda::parity_tolerances)
#   parity_reference  ReLU fp32 against the backend's minimal CPU reference
#   throughput        full Fig. 6 grid (10 depths × 10 keeps, width 1000, batch 128):
#                     grid-steps per second after warm-up, per precision (CUDA graphs on),
#                     and the last precision once more with graphs off
#   done              exit status and total time
#   cli_trainable_depth  (only if target/release/noisyprop, or $NOISYPROP_BIN, is there) a tiny
#                     `noisyprop trainable-depth --device cuda --precision tf32` grid (1000
#                     MNIST images of the embedded subset, width 64, depths 2 and 6, keeps 0.5
#                     and 1, 1 epoch of Adam): its exit status, seconds and JSON report
#   cli_train         (same condition) `noisyprop train --task classification` on 2000
#                     MNIST images, depth 4, width 256, dropout 0.9, Adam, 3 epochs, on the
#                     CPU and with --device cuda (fp32): final losses and accuracies side
#                     by side
# Exit status: 0 = all ran and parity passed (or CUDA not available), 1 = a parity check
# failed, 2 = an error (the CLI run failing included). Expected run time on an H100: well
# under a minute (limits 230 s for gpu_check, 90 s for the CLI run).
set -uo pipefail
cd "$(dirname "$0")/.."
BIN=${GPU_CHECK_BIN:-target/release/examples/gpu_check}
if [[ ! -x $BIN ]]; then
    echo "gpu-check: $BIN not found; build it with" >&2
    echo "  cargo build --release -p noisyprop-experiments --features gpu-tools --example gpu_check" >&2
    exit 2
fi
CUDA_ROOT=${CUDA_PATH:-/usr/local/cuda}
export LD_LIBRARY_PATH="$CUDA_ROOT/lib64${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader >&2
timeout 230 "$BIN" --steps "${STEPS:-50}" --warmup "${WARMUP:-3}" "$@"
rc=$?
[[ $rc == 124 ]] && echo '{"check":"timeout","seconds":230}'

# A failed CLI run as one JSON line: "skipped" when CUDA is not available, else the exit
# status and the start of stderr (and the script's status becomes 2).
cli_failure() {  # check exit-status seconds stderr-file [extra JSON fields, ending in ","]
    if grep -q "CUDA not available" "$4"; then
        printf '{"check":"%s",%s"status":"skipped","reason":"%s"}\n' "$1" "${5:-}" \
            "$(head -c 300 "$4" | tr -d '\n"\\')"
    else
        printf '{"check":"%s",%s"status":%d,"seconds":%s,"error":"%s"}\n' "$1" "${5:-}" "$2" \
            "$3" "$(head -c 600 "$4" | tr '\n' ' ' | tr -d '"\\')"
        [[ $rc == 0 ]] && rc=2
    fi
}

# The CLI's GPU path end to end: a tiny trainable-depth grid (one GpuGrid per depth).
CLI=${NOISYPROP_BIN:-target/release/noisyprop}
if [[ -x $CLI ]]; then
    store=$(mktemp -d)
    trap 'rm -rf "$store"' EXIT
    t0=$(date +%s.%N)
    timeout 90 "$CLI" trainable-depth --device cuda --precision tf32 --examples 1000 \
        --width 64 --depths 2,6 --keeps 0.5,1 --epochs 1 --optimizer adam --lr 0.001 \
        --batch 128 --store "$store" --json -q >"$store/out.json" 2>"$store/err.txt"
    cli_rc=$?
    secs=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
    if [[ $cli_rc == 0 ]]; then
        # The pretty-printed report on one line (its strings hold no newlines).
        printf '{"check":"cli_trainable_depth","status":0,"seconds":%s,"result":%s}\n' \
            "$secs" "$(tr -d '\n' <"$store/out.json" | tr -s ' ')"
    else
        cli_failure cli_trainable_depth "$cli_rc" "$secs" "$store/err.txt"
    fi
    # Classification + Adam through `train`, CPU against GPU (fp32).
    for dev in cpu cuda; do
        extra=(); [[ $dev == cuda ]] && extra=(--precision fp32)
        t0=$(date +%s.%N)
        timeout 90 "$CLI" train --device "$dev" "${extra[@]}" --task classification \
            --examples 2000 --depth 4 --width 256 --noise dropout:keep=0.9 --optimizer adam \
            --lr 0.001 --epochs 3 --batch 128 --json -q >"$store/train-$dev.json" \
            2>"$store/train-$dev.err"
        train_rc=$?
        secs=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
        if [[ $train_rc == 0 ]]; then
            python3 - "$store/train-$dev.json" "$dev" "$secs" <<'PY' || echo "{\"check\":\"cli_train\",\"device\":\"$dev\",\"status\":0}"
import json, sys
r = json.load(open(sys.argv[1]))
print(json.dumps({"check": "cli_train", "device": sys.argv[2], "status": 0,
                  "seconds": float(sys.argv[3]), "train_loss": r["train_loss"],
                  "val_loss": r["val_loss"], "val_accuracy": r.get("val_accuracy"),
                  "train_accuracy": r.get("train_accuracy")}))
PY
        else
            cli_failure cli_train "$train_rc" "$secs" "$store/train-$dev.err" "\"device\":\"$dev\","
        fi
    done
else
    echo "gpu-check: $CLI not found; skipping the CLI check (cargo build --release -p noisyprop --features cuda)" >&2
fi
exit $rc
