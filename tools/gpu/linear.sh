#!/usr/bin/env bash
# GEMM micro-benchmark on the GPU machine (after tools/gpu/run.sh built it): bash tools/gpu/linear.sh [--quick]
set -euo pipefail
kbench_linear "$@"
