#!/usr/bin/env bash
# The README's main job: builds qinfer (CPU-only) and runs it on the bundled, really trained tiny model
# (models/tiny-qwen35-dense: Qwen3.5 architecture, trained on the Python standard library): explain the checkpoint,
# then generate a continuation of a Python prompt, streamed as text, with tokens/s on stderr.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
bash scripts/install-deps.sh
cmake -S . -B build -G Ninja -DQINFER_CUDA=OFF -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)" --target qinfer_cli
model="${1:-models/tiny-qwen35-dense}"
prompt="${2:-def fibonacci(}"
./build/bin/qinfer inspect "$model" | sed -n '1,16p'
echo
echo "qinfer generate --model $model --prompt \"$prompt\" --max-new-tokens 80"
./build/bin/qinfer generate --model "$model" --prompt "$prompt" --max-new-tokens 80
