#!/usr/bin/env bash
# The README's main job: builds qinfer (CPU-only) and runs it on a bundled tiny checkpoint: explain the checkpoint,
# then generate token ids greedily. (Text in/out arrives with the tokenizer; trained tiny models with their own
# tokenizer arrive with the bundled-models work.)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
bash scripts/install-deps.sh
cmake -S . -B build -G Ninja -DQINFER_CUDA=OFF -DCMAKE_BUILD_TYPE=Release -DQINFER_BUILD_TESTS=OFF >/dev/null
cmake --build build -j"$(nproc)" --target qinfer_cli
model="${1:-tests/golden/data/moe_mm_fused}"
./build/bin/qinfer inspect "$model"
echo
echo "qinfer generate --model $model --ids 1,2,3,4,5 --max-new-tokens 16"
./build/bin/qinfer generate --model "$model" --ids 1,2,3,4,5 --max-new-tokens 16
