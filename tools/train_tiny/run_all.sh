#!/usr/bin/env bash
# Train the tokenizer once, then tiny-qwen35-dense and tiny-qwen35-moe; print a summary table; optionally pack each
# model folder (and the tokenizer, and the logs) into ONE tar file each.
#
#   bash tools/train_tiny/run_all.sh [--work DIR] [--pack DIR] [--smoke] [--stdlib DIR] [--seed S]
#                                    [--dense-steps N] [--moe-steps N] [--minutes M] [--batch-size B] [--python PY]
#
#   --work DIR     where everything is written (default /tmp/tiny-qwen35):
#                    DIR/tokenizer/             tokenizer.json, tokenizer_config.json, corpus_manifest.json
#                    DIR/corpus/                train.txt, heldout.txt, heldout_sample.txt, manifest.json
#                    DIR/tiny-qwen35-dense/     HF checkpoint + tokenizer + README.md + train_log.jsonl + results
#                    DIR/tiny-qwen35-moe/       likewise
#                    DIR/logs/                  stdout/stderr of each stage; DIR/summary.md
#   --pack DIR     also write DIR/tiny-qwen35-dense.tar, DIR/tiny-qwen35-moe.tar, DIR/tokenizer.tar (tokenizer +
#                  heldout_sample.txt + manifest.json), DIR/logs.tar and DIR/summary.md (5 files, none nested)
#   --minutes M    wall-clock cap of EACH model's training loop (default 3); --*-steps bind first if smaller
#   --smoke        CPU-sized end-to-end check: tokenizer on 120 files (vocab 1024), 6 steps per model
set -euo pipefail
export PYTHONUNBUFFERED=1
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PY=python3
WORK=/tmp/tiny-qwen35
PACK=""
SMOKE=""
STDLIB=""
SEED=1234
DENSE_STEPS=900
MOE_STEPS=900
MINUTES=3
BATCH=64
EVAL_EVERY=100
while [[ $# -gt 0 ]]; do
  case "$1" in
    --work) WORK="$2"; shift 2;;
    --pack) PACK="$2"; shift 2;;
    --smoke) SMOKE="--smoke"; shift;;
    --stdlib) STDLIB="$2"; shift 2;;
    --seed) SEED="$2"; shift 2;;
    --dense-steps) DENSE_STEPS="$2"; shift 2;;
    --moe-steps) MOE_STEPS="$2"; shift 2;;
    --minutes) MINUTES="$2"; shift 2;;
    --batch-size) BATCH="$2"; shift 2;;
    --eval-every) EVAL_EVERY="$2"; shift 2;;
    --python) PY="$2"; shift 2;;
    *) echo "unknown argument $1" >&2; exit 2;;
  esac
done
T0=$(date +%s)
mkdir -p "$WORK/logs"
STDLIB_ARG=()
[[ -n "$STDLIB" ]] && STDLIB_ARG=(--stdlib "$STDLIB")

echo "== environment"
"$PY" - <<'EOF' 2>&1 | tee "$WORK/logs/env.log"
import sys, sysconfig, torch, transformers, tokenizers
print("python", sys.version.split()[0], "stdlib", sysconfig.get_paths()["stdlib"])
print("torch", torch.__version__, "cuda", torch.version.cuda, "device",
      torch.cuda.get_device_name(0) if torch.cuda.is_available() else "cpu")
print("transformers", transformers.__version__, "tokenizers", tokenizers.__version__)
for mod in ("fla", "causal_conv1d"):
    try:
        __import__(mod); print(mod, "present")
    except Exception:
        print(mod, "absent (torch fallback)")
EOF

echo "== tokenizer"
"$PY" "$HERE/train_tokenizer.py" --out "$WORK/tokenizer" --corpus-out "$WORK/corpus" "${STDLIB_ARG[@]}" $SMOKE \
  2>&1 | tee "$WORK/logs/tokenizer.log"

train_one() {  # variant steps
  echo "== $1"
  "$PY" "$HERE/train.py" --variant "$1" --out "$WORK/tiny-qwen35-$1" --tokenizer "$WORK/tokenizer" \
    --corpus "$WORK/corpus" --steps "$2" --minutes "$MINUTES" --seed "$SEED" --batch-size "$BATCH" --eval-every "$EVAL_EVERY" $SMOKE \
    2>&1 | grep --line-buffered -v -e "Writing model shards" -e "Loading weights" | tee "$WORK/logs/$1.log"
}
train_one dense "$DENSE_STEPS"
train_one moe "$MOE_STEPS"

echo "== summary"
"$PY" - "$WORK" "$(( $(date +%s) - T0 ))" <<'EOF' | tee "$WORK/summary.md"
import json, os, sys
work, total = sys.argv[1], sys.argv[2]
rows = []
for v in ("dense", "moe"):
    p = os.path.join(work, f"tiny-qwen35-{v}", "train_results.json")
    if os.path.isfile(p):
        rows.append(json.load(open(p)))
m = json.load(open(os.path.join(work, "corpus", "manifest.json")))
print(f"Corpus: {m['stdlib_dir']} (Python {m['python_version_of_this_interpreter']}), train {m['train']['files']} files"
      f" / {m['train']['tokens']} tokens, held-out {m['heldout']['files']} files / {m['heldout']['tokens']} tokens;"
      f" tokenizer vocab {m['tokenizer']['vocab_size']}\n")
hdr = ["model", "params", "bf16 MB", "steps", "tokens", "train loss", "held-out loss", "held-out ppl",
       "sample loss", "sample ppl", "train s", "wall s", "hardware"]
print("| " + " | ".join(hdr) + " |")
print("|" + "---|" * len(hdr))
for r in rows:
    print("| " + " | ".join(str(x) for x in [
        r["name"], f"{r['params']['total']:,}", f"{r['params']['bf16_bytes'] / 1e6:.2f}", r["steps"],
        f"{r['tokens_seen']:,}", f"{r['final_train_loss']:.4f}", f"{r['heldout_loss']:.4f}", f"{r['heldout_ppl']:.2f}",
        f"{r['heldout_sample_loss']:.4f}", f"{r['heldout_sample_ppl']:.2f}", r["train_time_s"], r["wall_time_s"],
        r["hardware"]]) + " |")
print(f"\nTotal wall time of run_all.sh: {total} s")
EOF

if [[ -n "$PACK" ]]; then
  echo "== pack -> $PACK"
  mkdir -p "$PACK"
  for v in dense moe; do
    tar -C "$WORK" -cf "$PACK/tiny-qwen35-$v.tar" "tiny-qwen35-$v"
  done
  tar -C "$WORK" -cf "$PACK/tokenizer.tar" tokenizer corpus/heldout_sample.txt corpus/manifest.json
  tar -C "$WORK" -cf "$PACK/logs.tar" logs summary.md tiny-qwen35-dense/train_log.jsonl \
    tiny-qwen35-moe/train_log.jsonl
  cp "$WORK/summary.md" "$PACK/summary.md"
  for f in "$PACK"/*; do
    sz=$(stat -c %s "$f")
    flag=""; [[ $sz -gt 16777216 ]] && flag="  WARNING: over 16 MiB"
    printf '%-40s %10d bytes%s\n' "$f" "$sz" "$flag"
  done
fi
echo "== done in $(( $(date +%s) - T0 )) s"
