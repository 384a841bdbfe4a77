#!/usr/bin/env bash
# The README's test command: installs missing build dependencies, configures a CPU-only build (warnings as errors),
# builds, and runs the whole test suite with CTest. Extra arguments go to ctest (e.g. -R Golden).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
bash scripts/install-deps.sh
build="${QINFER_BUILD_DIR:-build}"
cmake -S . -B "$build" -G Ninja -DQINFER_CUDA=OFF -DQINFER_WERROR=ON -DQINFER_BUILD_TESTS=ON -DQINFER_BUILD_TOOLS=ON -DCMAKE_BUILD_TYPE=Release ${QINFER_CMAKE_ARGS:-}
cmake --build "$build" -j"$(nproc)"
ctest --test-dir "$build" --output-on-failure -j"$(nproc)" "$@"
