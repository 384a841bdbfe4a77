#!/usr/bin/env bash
# The README's test command: installs missing build dependencies, configures a build (warnings as errors; the CUDA
# backend too when nvcc is found, so CI compiles every kernel), builds, and runs the whole test suite with CTest (the
# GPU tests skip without a device). Extra arguments go to ctest (e.g. -R Golden). QINFER_CUDA=OFF forces CPU-only.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
bash scripts/install-deps.sh
build="${QINFER_BUILD_DIR:-build}"
cuda="${QINFER_CUDA:-}"
if [[ -z "$cuda" ]]; then
  if command -v nvcc >/dev/null 2>&1 || [[ -x /usr/local/cuda/bin/nvcc ]]; then cuda=ON; else cuda=OFF; fi
fi
[[ -x /usr/local/cuda/bin/nvcc ]] && export PATH="$PATH:/usr/local/cuda/bin"
cmake -S . -B "$build" -G Ninja -DQINFER_CUDA="$cuda" -DQINFER_WERROR=ON -DQINFER_BUILD_TESTS=ON -DQINFER_BUILD_TOOLS=ON -DCMAKE_BUILD_TYPE=Release ${QINFER_CMAKE_ARGS:-}
cmake --build "$build" -j"$(nproc)"
ctest --test-dir "$build" --output-on-failure -j"$(nproc)" "$@"
