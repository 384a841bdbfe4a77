#!/usr/bin/env bash
# Whole-model measurements of one layout on the GPU machine (after tools/gpu/run.sh built qinfer; build-gpu/bin on
# PATH): synthesize the shape once, then
#   1. qinfer bench --batch 1,8,64 --input-len 1024 --output-len 32      (decode roofline, 1k prefill)
#   2. qinfer bench --batch 64 --input-len 4096 --output-len 16          (the B = 64, 4k-context target)   [--full]
#   3. qinfer bench --batch 1 --input-len 8192 --output-len 4            (the 8k-prefill target)           [--full]
#   4. ncu over one eager decode step at B = 1 and one at B = 64, and over one 8k-token prefill, summed per kernel
#      (tools/gpu/step_profile.py)
#
#   device: bash tools/gpu/run.sh --tests '*' -- tools/gpu/model_bench.sh [PRESET] [LAYOUT[,LAYOUT...]] [--full] [--profile]
#   (no flag: step 1; --full: steps 1-3; --profile: adds step 4; --profile-only: step 4 alone)
# Results: $OUT/mb-<layout>-*.json|log and $OUT/profile-<layout>.txt.
set -uo pipefail
preset="${1:-qwen3.5-35b-a3b}"
layouts="${2:-nvfp4-all}"
full=0; profile=0; decode=1
for flag in "${@:3}"; do
  case "$flag" in
    --full) full=1 ;;
    --profile) profile=1 ;;
    --profile-only) profile=1; decode=0 ;;
    *) echo "model_bench.sh: unknown flag $flag" >&2; exit 2 ;;
  esac
done
out="${OUT:-/tmp/qinfer-out}"
rc=0
for layout in ${layouts//,/ }; do
  dir="/tmp/qinfer-synth/$preset-$layout"
  rm -rf "$dir"
  t0=$(date +%s)
  qinfer synth --preset "$preset" --layout "$layout" --out "$dir" --threads 16 >"$out/synth-$layout.log" 2>&1 \
    || { echo "synth failed"; tail -5 "$out/synth-$layout.log"; rc=1; continue; }
  echo "== $preset $layout: synth $(( $(date +%s) - t0 )) s, $(du -sh "$dir" | cut -f1)"
  bench() {  # tag args...
    local tag=$1; shift
    echo "-- qinfer bench $*"
    qinfer bench --model "$dir" "$@" --json "$out/mb-$layout-$tag.json" 2>&1 | tee "$out/mb-$layout-$tag.log" || rc=1
  }
  [[ $decode == 1 ]] && bench decode --batch 1,8,64 --input-len 1024 --output-len 32
  if [[ $full == 1 ]]; then
    bench b64ctx4k --batch 64 --input-len 4096 --output-len 16
    bench prefill8k --batch 1 --input-len 8192 --output-len 4
  fi
  if [[ $profile == 1 ]]; then
    if command -v ncu >/dev/null; then
      echo "-- ncu: one eager decode step at B = 1 and at B = 64"
      timeout 150 ncu --clock-control none --nvtx --nvtx-include "qinfer_decode_step/" \
        --metrics gpu__time_duration.sum --csv --log-file "$out/ncu-$layout.csv" \
        qinfer bench --model "$dir" --batch 1,64 --input-len 16 --output-len 1 --no-graphs >"$out/ncu-$layout.log" 2>&1
      echo "ncu exit $?: $(wc -l <"$out/ncu-$layout.csv" 2>/dev/null) csv lines"; tail -3 "$out/ncu-$layout.log"
      python3 tools/gpu/step_profile.py "$out/ncu-$layout.csv" | tee "$out/profile-$layout.txt" | head -60
      echo "-- ncu: one 8192-token prefill"
      timeout 240 ncu --clock-control none --nvtx --nvtx-include "qinfer_prefill/" \
        --metrics gpu__time_duration.sum --csv --log-file "$out/ncu-$layout-prefill.csv" \
        qinfer bench --model "$dir" --batch 1 --input-len 8192 --output-len 1 --no-graphs >"$out/ncu-$layout-prefill.log" 2>&1
      echo "ncu exit $?: $(wc -l <"$out/ncu-$layout-prefill.csv" 2>/dev/null) csv lines"
      python3 tools/gpu/step_profile.py "$out/ncu-$layout-prefill.csv" | tee "$out/profile-$layout-prefill.txt" | head -40
    fi
  fi
  rm -rf "$dir"
  # The device tool returns at most 8 files: pack this layout's logs and JSON into one archive.
  (cd "$out" && tar czf "mb-$layout.tgz" --remove-files $(ls | grep -E "^(mb-$layout-|synth-$layout|ncu-$layout)") 2>/dev/null)
done
exit $rc
