#!/usr/bin/env bash
# One call on the GPU machine (device tool): set up headers, build (-j16, CUDA for sm_90a), run the GPU test suite,
# then any benchmark commands given as arguments, and print a short table last.
#
#   here:   bash tools/gpu/pack-deps.sh
#   device: run(command="bash tools/gpu/run.sh [--tests FILTER] [--cpu-tests] [-- BENCH_SCRIPT]", carry=[".gpu-deps"])
#
# Options:
#   --tests FILTER   gtest filter for qinfer_gpu_tests (default '*'); --no-tests skips them
#   --cpu-tests      also run the CPU suite (qinfer_tests) on the GPU machine
#   -- SCRIPT ARGS   afterwards run `bash SCRIPT ARGS` (e.g. tools/gpu/bench.sh) with build/bin on PATH
# Logs go to $OUT (fetched by the device tool) when it is set.
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
filter='*'; run_tests=1; cpu_tests=0; after=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --tests) filter="$2"; shift 2 ;;
    --no-tests) run_tests=0; shift ;;
    --cpu-tests) cpu_tests=1; shift ;;
    --) shift; after=("$@"); break ;;
    *) echo "run.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
out="${OUT:-/tmp/qinfer-out}"; mkdir -p "$out"
summary="$out/summary.txt"; : >"$summary"
note() { echo "$*" | tee -a "$summary"; }

# ---- dependencies: headers carried from Debian, libraries from this machine
deps=/tmp/qdeps
if [[ ! -d $deps/include ]]; then
  [[ -f .gpu-deps/headers.tgz ]] || { echo "run.sh: .gpu-deps/headers.tgz missing: run tools/gpu/pack-deps.sh here and carry .gpu-deps" >&2; exit 2; }
  mkdir -p $deps/lib/pkgconfig && tar -C $deps -xzf .gpu-deps/headers.tgz
  libdir=/lib/x86_64-linux-gnu
  icu_so=$(ls $libdir/libicuuc.so.[0-9]* | head -1); icu_ver=${icu_so##*.so.}
  # The carried ICU headers are Debian's (another ICU version): ICU versions its C symbols (u_foo_74); point the
  # headers at this machine's library version. The C API used (uchar, unorm2, ustring, uset) is stable across them.
  sed -i "s/^#define U_ICU_VERSION_SUFFIX _[0-9]*/#define U_ICU_VERSION_SUFFIX _${icu_ver}/" $deps/include/unicode/uvernum.h
  ln -sf "$icu_so" $deps/lib/libicuuc.so
  ln -sf "$(ls $libdir/libpcre2-8.so.0* | head -1)" $deps/lib/libpcre2-8.so
  printf 'Name: icu-uc\nDescription: ICU\nVersion: %s\nLibs: -L%s/lib -licuuc\nCflags: -I%s/include\n' "$icu_ver" $deps $deps >$deps/lib/pkgconfig/icu-uc.pc
  printf 'Name: libpcre2-8\nDescription: PCRE2\nVersion: 10.42\nLibs: -L%s/lib -lpcre2-8\nCflags: -I%s/include -DPCRE2_CODE_UNIT_WIDTH=8\n' $deps $deps >$deps/lib/pkgconfig/libpcre2-8.pc
fi
export PKG_CONFIG_PATH=$deps/lib/pkgconfig LD_LIBRARY_PATH=$deps/lib:${LD_LIBRARY_PATH:-}

# ---- build
t0=$(date +%s)
# Warnings are not fatal here: this machine's GCC 13 adds diagnostics (-Wdangling-reference, ...) that CI's GCC 12
# -Werror build, the gate, does not have; they are printed in build.log.
cmake -S . -B build-gpu -G Ninja -DCMAKE_BUILD_TYPE=Release -DQINFER_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES=90a \
  -DQINFER_WERROR=OFF -DCMAKE_PREFIX_PATH=$deps -Dnlohmann_json_DIR=$deps/share/cmake/nlohmann_json >"$out/configure.log" 2>&1 \
  || { tail -30 "$out/configure.log"; exit 1; }
if ! cmake --build build-gpu -j16 >"$out/build.log" 2>&1; then
  grep -E "error|Error" -A3 "$out/build.log" | head -60; exit 1
fi
note "build: $(( $(date +%s) - t0 )) s"
export PATH="$root/build-gpu/bin:$PATH"
nvidia-smi --query-gpu=name,memory.used,memory.total,clocks.sm,temperature.gpu --format=csv,noheader | sed 's/^/gpu: /' | tee -a "$summary"

rc=0
if [[ $run_tests == 1 ]]; then
  build-gpu/tests/qinfer_gpu_tests --gtest_filter="$filter" >"$out/gpu_tests.log" 2>&1; trc=$?
  grep -E "^\[  (FAILED|SKIPPED) " "$out/gpu_tests.log" | sort -u | head -40
  grep -E "Failure|error:|rel L2|Expected|Which is" "$out/gpu_tests.log" | head -40
  note "gpu tests: $(grep -E '^\[  PASSED  \]|^\[  FAILED  \] [0-9]+' "$out/gpu_tests.log" | tr '\n' ' ') (rc $trc)"
  [[ $trc == 0 ]] || rc=1
fi
if [[ $cpu_tests == 1 ]]; then
  build-gpu/tests/qinfer_tests >"$out/cpu_tests.log" 2>&1; crc=$?
  note "cpu tests: $(grep -E '^\[  PASSED  \]|^\[  FAILED  \] [0-9]+' "$out/cpu_tests.log" | tr '\n' ' ') (rc $crc)"
  [[ $crc == 0 ]] || rc=1
fi
if [[ ${#after[@]} -gt 0 ]]; then
  bash "${after[@]}" 2>&1 | tee "$out/after.log"; [[ ${PIPESTATUS[0]} == 0 ]] || rc=1
fi
echo "==== summary"; cat "$summary"
exit $rc
