#!/usr/bin/env bash
# GDN micro-benchmark on the GPU machine (after tools/gpu/run.sh built everything): decode B = 1, 8, 64 and prefill
# 1k / 8k tokens at Qwen3.5-35B-A3B's shape, then the per-kernel split of one 8k prefill (ncu, the 24th prefill call:
# 23 calls at T = 1024 come first). Results go to docs/perf/gdn.md by hand.
set -uo pipefail
nvidia-smi --query-gpu=name,clocks.sm,clocks.mem --format=csv,noheader
kbench_gdn || exit 1
if command -v ncu >/dev/null; then
  timeout 150 ncu --kernel-name regex:'gdn_(front|conv_state|chunk|gated)' --launch-skip 115 --launch-count 5 \
    --metrics gpu__time_duration.sum "$(command -v kbench_gdn)" 2>&1 | grep -E "gdn_|gpu__time_duration" | sed 's/(GridSize.*//' || true
fi
