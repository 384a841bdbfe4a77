#!/usr/bin/env bash
# Glue kernels (elementwise / moe / sampling) on the GPU machine.
#   device: cd .dev/glue && bash tools/gpu/glue.sh
# Sets up the carried headers as tools/gpu/run.sh does, builds only qinfer_gpu_tests and kbench_glue (the image's GCC 13
# flags -Wdangling-reference in code outside these files, so that warning is off; falls back to QINFER_WERROR=OFF if
# anything else stops the build), runs the CudaElementwise / CudaMoeRouting / CudaSampling tests, a memcheck of the
# routing / elementwise / argmax tests, then the micro-benchmark. Logs in $OUT.
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
out="${OUT:-/tmp/qinfer-out}"; mkdir -p "$out"
rc=0
eval "$(sed -n '/^# ---- dependencies/,/^# ---- build/p' tools/gpu/run.sh)"
ln -sfn "$deps/include" /tmp/include  # nlohmann_jsonTargets.cmake resolves its prefix 3 levels up: /tmp
t0=$(date +%s)
conf() {
  cmake -S . -B build-gpu -DCMAKE_CXX_FLAGS=-Wno-dangling-reference -G Ninja -DCMAKE_BUILD_TYPE=Release -DQINFER_CUDA=ON \
    -DCMAKE_CUDA_ARCHITECTURES=90a -DQINFER_WERROR=$1 -DCMAKE_PREFIX_PATH=$deps/cmake \
    -Dnlohmann_json_DIR=$deps/cmake/nlohmann_json >"$out/configure.log" 2>&1 || { tail -30 "$out/configure.log"; exit 1; }
}
conf ON
if ! ninja -C build-gpu -k 0 -j16 qinfer_gpu_tests kbench_glue >"$out/build.log" 2>&1; then
  echo "build with -Werror failed:"; grep -E "error" "$out/build.log" | sort -u | head -20
  conf OFF
  ninja -C build-gpu -j16 qinfer_gpu_tests kbench_glue >"$out/build2.log" 2>&1 || { grep -E "error" -A3 "$out/build2.log" | head -40; exit 1; }
  echo "built with QINFER_WERROR=OFF"
fi
echo "build: $(( $(date +%s) - t0 )) s"
nvidia-smi --query-gpu=name,clocks.sm,clocks.mem,temperature.gpu --format=csv,noheader
timeout 300 build-gpu/tests/qinfer_gpu_tests --gtest_filter='CudaElementwise*:CudaMoeRouting*:CudaSampling*' >"$out/gpu_tests.log" 2>&1 || rc=1
grep -E "^\[  (FAILED|SKIPPED|PASSED|  OK) |Failure|rel L2|Expected|Which is|non-finite|drawn|outside" "$out/gpu_tests.log" | head -80
if [[ ${GLUE_MEMCHECK:-1} == 1 ]] && command -v compute-sanitizer >/dev/null; then
  timeout 150 compute-sanitizer --tool memcheck --error-exitcode 9 build-gpu/tests/qinfer_gpu_tests \
    --gtest_filter='CudaMoeRouting.*:CudaElementwise.*:CudaSampling.ArgmaxMatchesCpuWithTies:CudaSampling.TopK1EqualsArgmax' \
    >"$out/memcheck.log" 2>&1; mrc=$?
  echo "memcheck: rc $mrc; $(grep -E 'ERROR SUMMARY|PASSED|FAILED' "$out/memcheck.log" | tr '\n' ' ')"
  [[ $mrc == 0 ]] || rc=1
fi
build-gpu/bin/kbench_glue 2>&1 | tee "$out/kbench_glue.txt" || rc=1
exit $rc
