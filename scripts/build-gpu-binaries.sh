#!/usr/bin/env bash
# Builds what a GPU machine without a Rust toolchain needs, stripped, into target/gpu/
# (about 11 MB; carry that folder): gpu_check (parity, grid throughput with a per-phase
# profile), the noisyprop CLI with --device cuda, and the engine's unit tests, whose device
# tests then run on the GPU as well as on the emulator. Then, on the GPU machine:
#   bash scripts/gpu-bench.sh
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p target/gpu
cargo build --release -p noisyprop-experiments --features gpu-tools --example gpu_check
cargo build --release -p noisyprop --features cuda
tests=$(cargo test --release -p noisyprop-engine --features gpu-tools --no-run --message-format=json 2>/dev/null \
    | python3 -c 'import json, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m.get("profile", {}).get("test") and m.get("executable"):
        print(m["executable"])' | head -1)
strip -o target/gpu/gpu_check target/release/examples/gpu_check
strip -o target/gpu/noisyprop target/release/noisyprop
strip -o target/gpu/engine-tests "$tests"
ls -la target/gpu
