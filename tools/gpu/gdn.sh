#!/usr/bin/env bash
# GDN kernels on the GPU machine. Results go to docs/perf/gdn.md by hand.
#   device: cd .dev/gdn && cp -r ../../.gpu-deps . && bash tools/gpu/gdn.sh --full [--baseline DIR]
#     sets up the carried headers as tools/gpu/run.sh does, builds only qinfer_gpu_tests and kbench_gdn (ninja -k 0;
#     the image's GCC 13 flags -Wdangling-reference in code outside the GDN files, so that one warning is off, and the
#     build falls back to QINFER_WERROR=OFF if anything else stops it), runs the CudaGdn* tests, compute-sanitizer
#     (memcheck and racecheck) on small decode cases, the decode micro-benchmark, ncu counters of one decode launch
#     at B = 1 and 64; with --baseline DIR (another checkout, e.g. ../.. = main), also builds that checkout's
#     kbench_gdn and runs it in the same call, for a before/after on one machine.
#   or, after run.sh built everything: bash tools/gpu/run.sh --tests 'CudaGdn*' -- tools/gpu/gdn.sh
#     kbench_gdn (decode B = 1..64 and prefill 1k / 8k), then the per-kernel split of one 8k prefill (ncu, the 24th
#     prefill call: 23 calls at T = 1024 come first).
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
out="${OUT:-/tmp/qinfer-out}"; mkdir -p "$out"
rc=0
full=0; baseline=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --full) full=1; shift ;;
    --baseline) baseline="$(cd "$2" && pwd)"; shift 2 ;;
    *) echo "gdn.sh: unknown option $1" >&2; exit 2 ;;
  esac
done

if [[ $full == 0 ]]; then
  nvidia-smi --query-gpu=name,clocks.sm,clocks.mem --format=csv,noheader
  kbench_gdn || exit 1
  if command -v ncu >/dev/null; then
    timeout 150 ncu --kernel-name regex:'gdn_(front|conv_state|chunk|gated)' --launch-skip 115 --launch-count 5 \
      --metrics gpu__time_duration.sum "$(command -v kbench_gdn)" 2>&1 | grep -E "gdn_|gpu__time_duration" | sed 's/(GridSize.*//' || true
  fi
  exit 0
fi

eval "$(sed -n '/^# ---- dependencies/,/^# ---- build/p' tools/gpu/run.sh)"
conf() {  # conf SRC BUILD WERROR LOG
  cmake -S "$1" -B "$2" -DCMAKE_CXX_FLAGS=-Wno-dangling-reference -G Ninja -DCMAKE_BUILD_TYPE=Release -DQINFER_CUDA=ON \
    -DCMAKE_CUDA_ARCHITECTURES=90a -DQINFER_WERROR=$3 -DCMAKE_PREFIX_PATH=$deps \
    -Dnlohmann_json_DIR=$deps/share/cmake/nlohmann_json >"$4" 2>&1 || { tail -30 "$4"; return 1; }
}
t0=$(date +%s)
conf . build-gpu ON "$out/configure.log" || exit 1
if ! ninja -C build-gpu -k 0 -j16 qinfer_gpu_tests kbench_gdn >"$out/build.log" 2>&1; then
  echo "build with -Werror failed:"; grep -E "error" "$out/build.log" | sort -u | head -20
  conf . build-gpu OFF "$out/configure.log" || exit 1
  ninja -C build-gpu -j16 qinfer_gpu_tests kbench_gdn >"$out/build2.log" 2>&1 || { grep -E "error" -A3 "$out/build2.log" | head -40; exit 1; }
  echo "built with QINFER_WERROR=OFF"
fi
grep -E "warning" "$out/build.log" | grep -iE "gated_delta|gdn" | head -10
echo "build: $(( $(date +%s) - t0 )) s"
nvidia-smi --query-gpu=name,clocks.sm,clocks.mem,temperature.gpu --format=csv,noheader

t0=$(date +%s)
timeout 300 build-gpu/tests/qinfer_gpu_tests --gtest_filter='CudaGdn*' >"$out/gpu_tests.log" 2>&1 || rc=1
grep -E "^\[  (FAILED|SKIPPED|PASSED) |^\[       OK |Failure|Expected|Which is|non-finite" "$out/gpu_tests.log" | head -60
echo "worst: output rel L2 $(grep -oE 'output rel L2 [0-9.e+-]+' "$out/gpu_tests.log" | awk '{print $4}' | sort -g | tail -1)," \
  "state rel L2 $(grep -oE 'state rel L2 [0-9.e+-]+' "$out/gpu_tests.log" | awk '{print $4}' | sort -g | tail -1)" \
  "($(grep -cE 'rel L2' "$out/gpu_tests.log") comparisons, $(( $(date +%s) - t0 )) s)"

echo "==== kbench_gdn (this tree)"
build-gpu/bin/kbench_gdn --decode-only 2>&1 | tee "$out/kbench_gdn.txt" || rc=1

if [[ -n $baseline ]]; then
  echo "==== kbench_gdn (baseline: $baseline, $(git -C "$baseline" log -1 --format=%h 2>/dev/null))"
  t0=$(date +%s)
  if conf "$baseline" /tmp/gdn-base OFF "$out/configure-base.log" &&
     ninja -C /tmp/gdn-base -j16 kbench_gdn >"$out/build-base.log" 2>&1; then
    echo "baseline build: $(( $(date +%s) - t0 )) s"
    /tmp/gdn-base/bin/kbench_gdn 2>&1 | tee "$out/kbench_gdn_base.txt" || rc=1
  else
    grep -E "error" -A3 "$out/build-base.log" | head -20; rc=1
  fi
fi

if command -v compute-sanitizer >/dev/null; then
  small='CudaGdn.DecodeBatchInSlotsTiny:CudaGdn.DecodeBatchInSlotsOdd:CudaGdn.DecodeBatchInSlotsWideGqa:CudaGdn.DecodeBatchInSlotsConv5:CudaGdn.DecodeInCudaGraphWideGqa'
  for tool in memcheck racecheck; do
    timeout 90 compute-sanitizer --tool $tool --error-exitcode 9 build-gpu/tests/qinfer_gpu_tests \
      --gtest_filter="$small" >"$out/$tool.log" 2>&1; mrc=$?
    echo "$tool: rc $mrc; $(grep -E 'ERROR SUMMARY|RACECHECK SUMMARY|PASSED|FAILED' "$out/$tool.log" | sort -u | tr '\n' ' ')"
    [[ $mrc == 0 ]] || rc=1
  done
fi

if command -v ncu >/dev/null; then
  for B in 1 64; do
    echo "==== ncu gdn_decode_kernel B=$B (base clocks)"
    timeout 45 ncu --kernel-name regex:'gdn_decode_kernel' --launch-skip 2 --launch-count 1 \
      --metrics gpu__time_duration.sum,dram__bytes_read.sum,dram__bytes_write.sum,dram__throughput.avg.pct_of_peak_sustained_elapsed,launch__registers_per_thread,launch__occupancy_limit_registers,sm__warps_active.avg.pct_of_peak_sustained_active,launch__grid_size \
      build-gpu/bin/kbench_gdn --profile $B 2>&1 | grep -E "^ +(gpu__|dram__|launch__|sm__)|ERR" | head -12
  done
fi
exit $rc
