#!/usr/bin/env bash
# Benchmarks on the GPU machine (called by tools/gpu/run.sh after the build, with build-gpu/bin on PATH):
# synthesizes a released model's shape in each layout with `qinfer synth`, runs `qinfer bench`, deletes it.
#
#   bash tools/gpu/run.sh --no-tests -- tools/gpu/bench.sh [PRESET] [LAYOUTS] [BATCHES] [INPUT_LEN] [OUTPUT_LEN]
#   defaults: qwen3.5-35b-a3b "nvfp4-all nvidia-nvfp4" 1,8,64 1024 128
# Results: $OUT/bench-<preset>-<layout>.json and a table per layout.
set -uo pipefail
preset="${1:-qwen3.5-35b-a3b}"
layouts="${2:-nvfp4-all nvidia-nvfp4}"
batches="${3:-1,8,64}"
in_len="${4:-1024}"
out_len="${5:-128}"
out="${OUT:-/tmp/qinfer-out}"
work=/tmp/qinfer-synth
rc=0
for layout in $layouts; do
  dir="$work/$preset-$layout"
  rm -rf "$dir"
  t0=$(date +%s)
  if ! qinfer synth --preset "$preset" --layout "$layout" --out "$dir" --threads 16 >"$out/synth-$layout.log" 2>&1; then
    echo "synth $preset $layout failed:"; tail -5 "$out/synth-$layout.log"; rc=1; continue
  fi
  echo "== $preset $layout: synth $(( $(date +%s) - t0 )) s, $(du -sh "$dir" | cut -f1)"
  qinfer bench --model "$dir" --batch "$batches" --input-len "$in_len" --output-len "$out_len" \
    --json "$out/bench-$preset-$layout.json" 2>&1 | tee "$out/bench-$preset-$layout.log" || rc=1
  rm -rf "$dir"
done
exit $rc
