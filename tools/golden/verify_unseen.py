#!/usr/bin/env python3
"""End-to-end check of the qinfer CLI on checkpoints the C++ tests never saw.

For each case below (other sizes, seeds and shapes than tests/golden/data, both expert layouts, text-only and
multimodal wrappers, tied and untied heads, Qwen3-Next), this script
  1. makes a fresh random checkpoint with transformers' save_pretrained (make_goldens.make_case, in a temp dir),
     including transformers' fp32 reference logits (full prefill and prefill+decode),
  2. runs `qinfer inspect --json` and checks that every 2-D/3-D linear weight in the checkpoint appears as a module
     with its stored format and a runtime module,
  3. runs `qinfer logits` (full prefill, and --prefill P with single-token decode) and compares with transformers:
     PASS iff max|d| <= 1e-3 * max|ref|.

Usage:  /opt/hfvenv/bin/python tools/golden/verify_unseen.py --qinfer build/bin/qinfer [--keep DIR]
Exit status 0 iff every case passes.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np
import torch
import transformers
from safetensors import safe_open

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_goldens as mg  # noqa: E402

R = mg._rope
UNSEEN = {
    "u_dense_mm_untied": dict(
        cls="Qwen3_5ForConditionalGeneration", seed=2001, store="bfloat16", post=[], desc="unseen",
        cfg=dict(vocab_size=600, hidden_size=128, intermediate_size=200, num_hidden_layers=6, full_attention_interval=3,
                 num_attention_heads=8, num_key_value_heads=2, head_dim=64, linear_num_key_heads=4,
                 linear_num_value_heads=8, linear_key_head_dim=32, linear_value_head_dim=16,
                 rope_parameters=R(1e7, 0.25, [4, 2, 2]), tie_word_embeddings=False),
        top=dict(tie_word_embeddings=False)),
    "u_dense_text_tied": dict(
        cls="Qwen3_5ForCausalLM", seed=2002, store="float32", post=[], desc="unseen",
        cfg=dict(vocab_size=300, hidden_size=96, intermediate_size=160, num_hidden_layers=4,
                 layer_types=["linear_attention", "full_attention", "full_attention", "linear_attention"],
                 num_attention_heads=2, num_key_value_heads=1, head_dim=128, linear_num_key_heads=2,
                 linear_num_value_heads=2, linear_key_head_dim=24, linear_value_head_dim=40,
                 rope_parameters=R(1e6, 0.25, [8, 4, 4]), tie_word_embeddings=True)),
    "u_moe_text_fused": dict(
        cls="Qwen3_5MoeForCausalLM", seed=2003, store="bfloat16", post=["fuse_experts"], desc="unseen",
        cfg=dict(vocab_size=400, hidden_size=96, num_hidden_layers=5, full_attention_interval=5,
                 num_attention_heads=4, num_key_value_heads=2, head_dim=48, linear_num_key_heads=2,
                 linear_num_value_heads=6, linear_key_head_dim=16, linear_value_head_dim=16, num_experts=16,
                 num_experts_per_tok=4, moe_intermediate_size=24, shared_expert_intermediate_size=40,
                 rope_parameters=R(1e7, 0.25, [2, 2, 2]), tie_word_embeddings=False)),
    "u_moe_mm_per_expert_sharded": dict(
        cls="Qwen3_5MoeForConditionalGeneration", seed=2004, store="bfloat16", post=["add_mtp", "shard3"],
        desc="unseen",
        cfg=dict(vocab_size=512, hidden_size=64, num_hidden_layers=4, full_attention_interval=4,
                 num_attention_heads=4, num_key_value_heads=4, head_dim=32, linear_num_key_heads=4,
                 linear_num_value_heads=4, linear_key_head_dim=16, linear_value_head_dim=16, num_experts=6,
                 num_experts_per_tok=3, moe_intermediate_size=16, shared_expert_intermediate_size=32,
                 rope_parameters=R(1e7, 0.25, [2, 1, 1]), tie_word_embeddings=False),
        top=dict(tie_word_embeddings=False)),
    "u_next_sparse_step": dict(
        cls="Qwen3NextForCausalLM", seed=2005, store="bfloat16", post=[], desc="unseen",
        cfg=dict(vocab_size=300, hidden_size=80, intermediate_size=72, num_hidden_layers=4, full_attention_interval=2,
                 num_attention_heads=4, num_key_value_heads=1, head_dim=40, linear_num_key_heads=1,
                 linear_num_value_heads=4, linear_key_head_dim=32, linear_value_head_dim=16, num_experts=8,
                 num_experts_per_tok=2, moe_intermediate_size=24, shared_expert_intermediate_size=32,
                 norm_topk_prob=True, decoder_sparse_step=2, mlp_only_layers=[],
                 rope_parameters=R(1e6, 0.5), tie_word_embeddings=False)),
}


def checkpoint_linear_names(d):
    names = {}
    for fn in sorted(os.listdir(d)):
        if fn.endswith(".safetensors") and fn != "golden.safetensors":
            with safe_open(os.path.join(d, fn), "pt") as f:
                for k in f.keys():
                    names[k] = list(f.get_slice(k).get_shape())
    linear = set()
    for k, shape in names.items():
        if k.startswith(("model.visual.", "mtp.")):
            continue
        is_weight_2d = k.endswith(".weight") and len(shape) == 2 and "norm" not in k and "conv1d" not in k
        is_fused_experts = k.endswith(("experts.gate_up_proj", "experts.down_proj"))
        if is_weight_2d and "embed_tokens" not in k:
            linear.add(k[: -len(".weight")])
        elif is_fused_experts:
            linear.add(k)
    return linear


def run(cmd):
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({p.returncode}): {p.stderr.strip()}")
    return p.stdout


def compare(name, ours, ref):
    d = np.abs(ours.astype(np.float64) - ref.astype(np.float64))
    max_ref = float(np.abs(ref).max())
    ok = bool(d.max() <= 1e-3 * max_ref)
    print(f"    {name}: max|d| {d.max():.3e}  max|ref| {max_ref:.3f}  ratio {d.max() / max_ref:.2e}  "
          f"{'PASS' if ok else 'FAIL'}")
    return ok


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--qinfer", required=True)
    ap.add_argument("--keep", default=None, help="keep the generated checkpoints in this folder")
    ap.add_argument("--cases", default=",".join(UNSEEN))
    a = ap.parse_args()
    torch.set_num_threads(1)
    transformers.logging.set_verbosity_error()
    root = a.keep or tempfile.mkdtemp(prefix="qinfer_unseen_")
    os.makedirs(root, exist_ok=True)
    all_ok = True
    for name in a.cases.split(","):
        mg.make_case(name, UNSEEN[name], root)
        d = os.path.join(root, name)
        with safe_open(os.path.join(d, "golden.safetensors"), "np") as f:
            ids = f.get_tensor("input_ids").tolist()
            ref = f.get_tensor("logits")
            ref_decode = f.get_tensor("decode_logits")
            P = int(f.metadata()["P"])
        report = json.loads(run([a.qinfer, "inspect", "--json", d]))
        modules = {m["module"]: m for m in report["modules"]}
        expected = checkpoint_linear_names(d)
        missing = sorted(expected - set(modules))
        ok = not missing and all(m["format"] and m["runtime"] for m in modules.values())
        print(f"  inspect: {len(modules)} linear modules, {len(expected)} expected, missing {missing[:5]} "
              f"{'PASS' if ok else 'FAIL'}")
        ids_arg = ",".join(map(str, ids))
        out = os.path.join(d, "qinfer_logits.npy")
        run([a.qinfer, "logits", "--model", d, "--ids", ids_arg, "--out", out])
        ok &= compare("full prefill vs transformers", np.load(out), ref)
        run([a.qinfer, "logits", "--model", d, "--ids", ids_arg, "--prefill", str(P), "--out", out])
        ok &= compare(f"prefill {P} + decode vs transformers", np.load(out), ref_decode)
        all_ok &= ok
    if not a.keep:
        shutil.rmtree(root)
    print("ALL PASS" if all_ok else "SOME FAILED")
    return 0 if all_ok else 1


if __name__ == "__main__":
    sys.exit(main())
