#!/usr/bin/env bash
# GDN micro-benchmark on the GPU machine (after tools/gpu/run.sh built everything): decode B = 1, 8, 64 and prefill
# 1k / 8k tokens at Qwen3.5-35B-A3B's shape. Output goes to docs/perf/gdn.md by hand.
set -euo pipefail
nvidia-smi --query-gpu=name,clocks.sm,clocks.mem --format=csv,noheader
kbench_gdn
