#!/usr/bin/env bash
# Attention kernels on the GPU machine.
#   device: cd .dev/attention && bash tools/gpu/attention.sh --full
#     sets up the carried headers as tools/gpu/run.sh does, builds only qinfer_gpu_tests and kbench_attention
#     (ninja -k 0; the image's GCC 13 flags -Wdangling-reference in code outside the attention files, so that one
#     warning is disabled, and the build falls back to QINFER_WERROR=OFF if anything else stops it), runs the
#     CudaAttention* tests, then the steps below.
#   or, after run.sh built everything: bash tools/gpu/run.sh --tests 'CudaAttention*' -- tools/gpu/attention.sh
# Steps: the micro-benchmark (decode: both kernels, eager and CUDA-graph timings), memcheck of the small-head-dim
# cases (out-of-bounds / uninitialised reads; both decode kernels, the split boundaries), then ncu of the fused decode
# kernel at ctx 4k (B = 64, 8, 1) if ncu is there. Logs go to $OUT (at most 8 files come back from the device tool).
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
out="${OUT:-/tmp/qinfer-out}"; mkdir -p "$out"
rc=0
if [[ ${1:-} == --full ]]; then
  eval "$(sed -n '/^# ---- dependencies/,/^# ---- build/p' tools/gpu/run.sh)"
  ln -sfn "$deps/include" /tmp/include  # nlohmann_jsonTargets.cmake resolves its prefix 3 levels up: /tmp
  t0=$(date +%s)
  conf() {
    cmake -S . -B build-gpu -DCMAKE_CXX_FLAGS=-Wno-dangling-reference -G Ninja -DCMAKE_BUILD_TYPE=Release -DQINFER_CUDA=ON \
      -DCMAKE_CUDA_ARCHITECTURES=90a -DQINFER_WERROR=$1 -DCMAKE_PREFIX_PATH=$deps/cmake \
      -Dnlohmann_json_DIR=$deps/cmake/nlohmann_json >"$out/configure.log" 2>&1 || { tail -30 "$out/configure.log"; exit 1; }
  }
  conf ON
  if ! ninja -C build-gpu -k 0 -j16 qinfer_gpu_tests kbench_attention >"$out/build.log" 2>&1; then
    echo "build with -Werror failed:"; grep -E "error" "$out/build.log" | sort -u | head -20
    conf OFF
    ninja -C build-gpu -j16 qinfer_gpu_tests kbench_attention >"$out/build2.log" 2>&1 || { grep -E "error" -A3 "$out/build2.log" | head -40; exit 1; }
    echo "built with QINFER_WERROR=OFF"
  fi
  grep -E "warning" "$out/build.log" | grep -i "attention" | head -10
  echo "build: $(( $(date +%s) - t0 )) s"
  nvidia-smi --query-gpu=name,clocks.sm,temperature.gpu --format=csv,noheader
  build-gpu/tests/qinfer_gpu_tests --gtest_filter='CudaAttention*' >"$out/gpu_tests.log" 2>&1 || rc=1
  grep -E "^\[  (FAILED|SKIPPED|PASSED|  OK) |\[ attention \]|Failure|rel L2|Expected|Which is|non-finite|test_attention.cpp:[0-9]+: " "$out/gpu_tests.log" | head -120
fi
build-gpu/bin/kbench_attention 2>&1 | tee "$out/kbench.log" || rc=1
if command -v compute-sanitizer >/dev/null; then
  timeout 150 compute-sanitizer --tool memcheck --error-exitcode 9 build-gpu/tests/qinfer_gpu_tests \
    --gtest_filter='CudaAttentionPrefill.HeadDim32TinyModel:CudaAttentionDecode.HeadDim48TinyModel:CudaAttentionDecode.ContinuesAPrefill:CudaAttentionDecode.SplitBoundariesHeadDim32' \
    >"$out/memcheck.log" 2>&1; mrc=$?
  echo "memcheck: rc $mrc; $(grep -E 'ERROR SUMMARY|PASSED|FAILED' "$out/memcheck.log" | tr '\n' ' ')"
  [[ $mrc == 0 ]] || rc=1
fi
if command -v ncu >/dev/null; then  # the fused kernel at B = 64 / 8 / 1, ctx 4k: DRAM throughput, stalls (3rd call)
  for c in "64 4096" "8 4096" "1 4096"; do
    timeout 45 ncu --clock-control none --kernel-name regex:fused_decode --launch-skip 2 --launch-count 1 \
      --section SpeedOfLight --section MemoryWorkloadAnalysis --section Occupancy --section LaunchStats \
      --section WarpStateStats build-gpu/bin/kbench_attention decode $c fused >/tmp/ncu1.txt 2>&1
    { echo "==== B/ctx $c"; cat /tmp/ncu1.txt; } >>"$out/ncu.txt"
    echo "ncu B/ctx $c: $(grep -E 'DRAM Throughput|^ +Duration|Memory Throughput' /tmp/ncu1.txt | tr -s ' ' | tr '\n' ';')"
  done
fi
exit $rc
