#!/usr/bin/env bash
# Attention kernels on the GPU machine, after tools/gpu/run.sh built and ran the CudaAttention* tests:
# memcheck of the small-head-dim cases (out-of-bounds / uninitialised reads), then the micro-benchmark.
#   device: cd .dev/attention && bash tools/gpu/run.sh --tests 'CudaAttention*' -- tools/gpu/attention.sh
set -uo pipefail
rc=0
if command -v compute-sanitizer >/dev/null; then
  timeout 150 compute-sanitizer --tool memcheck --error-exitcode 9 build-gpu/tests/qinfer_gpu_tests \
    --gtest_filter='CudaAttentionPrefill.HeadDim32TinyModel:CudaAttentionDecode.HeadDim48TinyModel:CudaAttentionDecode.ContinuesAPrefill' \
    >"${OUT:-/tmp}/memcheck.log" 2>&1; mrc=$?
  echo "memcheck: rc $mrc; $(grep -E 'ERROR SUMMARY|PASSED|FAILED' "${OUT:-/tmp}/memcheck.log" | tr '\n' ' ')"
  [[ $mrc == 0 ]] || rc=1
fi
build-gpu/bin/kbench_attention || rc=1
exit $rc
