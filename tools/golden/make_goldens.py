#!/usr/bin/env python3
"""Generate golden reference data for qinfer from Hugging Face transformers (fp32, CPU).

For every case this script
  1. builds a tiny model from a config (fixed seed), overwrites EVERY parameter with seeded random values at a
     sensible scale (HF's default init leaves norms at 0/1 and logits flat, which hides bugs),
  2. writes the checkpoint with transformers' save_pretrained (storage dtype per case), optionally rewrites the
     safetensors on disk (F32 A_log, fused 3-D experts, extra mtp.* tensors, custom sharding),
  3. reloads the checkpoint FROM DISK with from_pretrained(dtype=float32, attn_implementation="eager"), verifies
     that every loaded parameter equals the on-disk tensor (upcast), and
  4. runs a full prefill (forward hooks capture module outputs) and a prefill(P)+single-token decode loop, and
     writes tests/golden/data/<case>/golden.safetensors.

Usage:  /opt/hfvenv/bin/python tools/golden/make_goldens.py [--out tests/golden/data] [--cases a,b,...]
See tools/golden/README.md for the recorded tensors.
"""
import argparse
import hashlib
import importlib.util
import json
import math
import os
import re
import shutil
import sys
import tempfile
from collections import OrderedDict

import numpy as np
import torch
import transformers
from safetensors import safe_open
from safetensors.torch import save_file

T = 80  # prompt length: crosses the 64-token GDN chunk boundary
P = 67  # decode_logits: prefill P tokens in one call, then T-P single-token steps
MIN_ROUTER_LOGIT_GAP = 1e-3

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))

# --------------------------------------------------------------------------------------------------------------------
# Case definitions
# --------------------------------------------------------------------------------------------------------------------

VISION_TINY = dict(depth=1, hidden_size=16, intermediate_size=32, num_heads=2, patch_size=4, temporal_patch_size=2,
                   spatial_merge_size=2, num_position_embeddings=16)


def _rope(theta, partial, mrope_section=None):
    r = {"rope_type": "default", "rope_theta": float(theta), "partial_rotary_factor": partial}
    if mrope_section is not None:  # as in the real Qwen3.5 configs (no effect for text-only positions)
        r["mrope_section"] = mrope_section
        r["mrope_interleaved"] = True
    return r


CASES = OrderedDict()

CASES["dense_text"] = dict(
    cls="Qwen3_5ForCausalLM", seed=1001, store="bfloat16", post=["a_log_f32", "config_interval_only"],
    desc="Qwen3_5ForCausalLM (qwen3_5_text, flat 'model.' prefix), untied lm_head, config.json rewritten to have NO "
         "layer_types, only full_attention_interval=4 -> [L,L,L,F] must be derived, GDN HK=2 < HV=4 (r=2), dk=16 != dv=24, attention Hq=4/Hkv=2 "
         "hd=32, partial rotary 0.25 (rotary dim 8), rope_theta 1e6; BF16 on disk except A_log F32 "
         "(full-precision fp32 values, not bf16-representable).",
    cfg=dict(vocab_size=256, hidden_size=64, intermediate_size=96, num_hidden_layers=4, full_attention_interval=4,
             num_attention_heads=4, num_key_value_heads=2, head_dim=32,
             linear_num_key_heads=2, linear_num_value_heads=4, linear_key_head_dim=16, linear_value_head_dim=24,
             rope_parameters=_rope(1e6, 0.25, [2, 1, 1]), tie_word_embeddings=False),
)

CASES["dense_mm_tied"] = dict(
    cls="Qwen3_5ForConditionalGeneration", seed=1002, store="float32", post=[],
    desc="Qwen3_5ForConditionalGeneration (multimodal wrapper: text under 'model.language_model.', tiny vision "
         "tower under 'model.visual.'), tie_word_embeddings=True (top level AND text_config; no lm_head.weight in "
         "the file), explicit layer_types [F,L,L,F,L] (first layer full attention), GDN HK=2 HV=6 (r=3), "
         "dk=24 > dv=16, attention Hq=4/Hkv=1 (GQA 4) hd=32; F32 on disk. Reference = CG model on text-only ids.",
    cfg=dict(vocab_size=256, hidden_size=64, intermediate_size=64, num_hidden_layers=5,
             layer_types=["full_attention", "linear_attention", "linear_attention", "full_attention",
                          "linear_attention"],
             num_attention_heads=4, num_key_value_heads=1, head_dim=32,
             linear_num_key_heads=2, linear_num_value_heads=6, linear_key_head_dim=24, linear_value_head_dim=16,
             rope_parameters=_rope(1e7, 0.25, [2, 1, 1]), tie_word_embeddings=True),
    top=dict(tie_word_embeddings=True),
)

CASES["moe_text_per_expert"] = dict(
    cls="Qwen3_5MoeForCausalLM", seed=1003, store="bfloat16", post=[],
    desc="Qwen3_5MoeForCausalLM (qwen3_5_moe_text, 'model.' prefix), E=8 top-k=2 (always renormalised), "
         "moe_intermediate 32, shared expert 48 with sigmoid gate, experts as written by save_pretrained "
         "(per-expert 2-D mlp.experts.{e}.{gate,up,down}_proj.weight), layers [L,L,L,F], GDN HK=2 HV=4 dk=dv=16, "
         "attention Hq=4/Hkv=2 hd=32; BF16 on disk.",
    cfg=dict(vocab_size=256, hidden_size=64, num_hidden_layers=4, full_attention_interval=4,
             num_attention_heads=4, num_key_value_heads=2, head_dim=32,
             linear_num_key_heads=2, linear_num_value_heads=4, linear_key_head_dim=16, linear_value_head_dim=16,
             num_experts=8, num_experts_per_tok=2, moe_intermediate_size=32, shared_expert_intermediate_size=48,
             rope_parameters=_rope(1e7, 0.25, [2, 1, 1]), tie_word_embeddings=False),
)

CASES["moe_mm_fused"] = dict(
    cls="Qwen3_5MoeForConditionalGeneration", seed=1004, store="bfloat16", post=["fuse_experts", "add_mtp", "shard3"],
    desc="Qwen3_5MoeForConditionalGeneration, experts rewritten on disk to the fused 3-D layout "
         "mlp.experts.gate_up_proj [E,2I,H] / mlp.experts.down_proj [E,H,I] (no .weight), extra mtp.* tensors "
         "(well-formed fake MTP head incl. fused experts; must be ignored), sharded into 3 files + "
         "model.safetensors.index.json (layers split across shards), untied lm_head, layers [L,F,L,F] "
         "(full_attention_interval=2), GDN HK=HV=2 (r=1) dk=dv=32, E=8 top-k=2 I=32 Is=48; BF16 on disk.",
    cfg=dict(vocab_size=320, hidden_size=64, num_hidden_layers=4, full_attention_interval=2,
             num_attention_heads=4, num_key_value_heads=2, head_dim=32,
             linear_num_key_heads=2, linear_num_value_heads=2, linear_key_head_dim=32, linear_value_head_dim=32,
             num_experts=8, num_experts_per_tok=2, moe_intermediate_size=32, shared_expert_intermediate_size=48,
             rope_parameters=_rope(1e7, 0.25, [2, 1, 1]), tie_word_embeddings=False),
    top=dict(tie_word_embeddings=False),
)

CASES["next"] = dict(
    cls="Qwen3NextForCausalLM", seed=1005, store="bfloat16", post=[],
    desc="Qwen3NextForCausalLM (flat qwen3_next config), layers [L,L,L,F], fused+interleaved GDN projections "
         "in_proj_qkvz / in_proj_ba (per key-head group), HK=2 HV=4 (r=2) dk=16 dv=24, MoE E=8 top-k=2 "
         "norm_topk_prob=False, decoder_sparse_step=1, mlp_only_layers=[1] (layer 1 dense MLP, intermediate 96), "
         "shared expert 48, per-expert tensors on disk, 1-D partial RoPE 0.25 theta 1e6; BF16 on disk.",
    cfg=dict(vocab_size=256, hidden_size=64, intermediate_size=96, num_hidden_layers=4, full_attention_interval=4,
             num_attention_heads=4, num_key_value_heads=2, head_dim=32,
             linear_num_key_heads=2, linear_num_value_heads=4, linear_key_head_dim=16, linear_value_head_dim=24,
             num_experts=8, num_experts_per_tok=2, moe_intermediate_size=32, shared_expert_intermediate_size=48,
             norm_topk_prob=False, decoder_sparse_step=1, mlp_only_layers=[1],
             rope_parameters=_rope(1e6, 0.25), tie_word_embeddings=False),
)

CASES["dense_text_prefix"] = dict(
    cls="Qwen3_5ForCausalLM", seed=1006, store="float16", post=[],
    desc="Qwen3_5ForCausalLM, partial_rotary_factor 0.5 inside rope_parameters (rotary dim 24 of head_dim 48) "
         "while save_pretrained ALSO writes a conflicting top-level partial_rotary_factor 0.25 (HF's BC default); HF "
         "uses rope_parameters' 0.5. rope_theta 10000 in rope_parameters, rms_norm_eps 1e-5, 3 layers [L,F,L], attention Hq=Hkv=2 (no GQA) hd=48, GDN HK=1 HV=3 "
         "(r=3) dk=dv=32, H=80, vocab 264, untied; F16 on disk.",
    cfg=dict(vocab_size=264, hidden_size=80, intermediate_size=64, num_hidden_layers=3,
             layer_types=["linear_attention", "full_attention", "linear_attention"],
             num_attention_heads=2, num_key_value_heads=2, head_dim=48, rms_norm_eps=1e-5,
             linear_num_key_heads=1, linear_num_value_heads=3, linear_key_head_dim=32, linear_value_head_dim=32,
             rope_parameters=_rope(1e4, 0.5, [6, 3, 3]), tie_word_embeddings=False),
)

DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}


def build_config(case):
    cls = case["cls"]
    if cls in ("Qwen3_5ForCausalLM",):
        return transformers.Qwen3_5TextConfig(**case["cfg"])
    if cls in ("Qwen3_5MoeForCausalLM",):
        return transformers.Qwen3_5MoeTextConfig(**case["cfg"])
    if cls == "Qwen3NextForCausalLM":
        return transformers.Qwen3NextConfig(**case["cfg"])
    vis = dict(VISION_TINY, out_hidden_size=case["cfg"]["hidden_size"])
    if cls == "Qwen3_5ForConditionalGeneration":
        return transformers.Qwen3_5Config(text_config=dict(case["cfg"]), vision_config=vis, **case.get("top", {}))
    if cls == "Qwen3_5MoeForConditionalGeneration":
        return transformers.Qwen3_5MoeConfig(text_config=dict(case["cfg"]), vision_config=vis, **case.get("top", {}))
    raise ValueError(cls)


def text_config_of(config):
    return config.text_config if hasattr(config, "text_config") and config.text_config is not None else config


# --------------------------------------------------------------------------------------------------------------------
# Random parameters
# --------------------------------------------------------------------------------------------------------------------

def init_value(name, shape, H, g):
    """Seeded random value for parameter `name` (fp32)."""
    n = lambda *s: torch.randn(*s, generator=g)  # noqa: E731
    u = lambda lo, hi: lo + (hi - lo) * torch.rand(*shape, generator=g)  # noqa: E731
    if name.startswith("model.visual.") or name.startswith("visual."):
        if name.endswith(".bias"):
            return 0.02 * n(*shape)
        if "norm" in name:  # nn.LayerNorm weight (not zero-centred)
            return 1.0 + 0.1 * n(*shape)
        if name.endswith("pos_embed.weight"):
            return 0.02 * n(*shape)
        fan_in = int(np.prod(shape[1:]))
        return n(*shape) / math.sqrt(fan_in)
    if name.endswith("embed_tokens.weight"):
        return n(*shape)
    if name == "lm_head.weight":
        return 2.0 * n(*shape) / math.sqrt(shape[1])
    if name.endswith("linear_attn.norm.weight"):  # gated RMSNorm: plain weight, init 1
        return 1.0 + 0.2 * n(*shape)
    if name.endswith("norm.weight") or ".pre_fc_norm_" in name:  # zero-centred RMSNorms: used as 1+w
        return 0.2 * n(*shape)
    if name.endswith("A_log"):
        return torch.log(u(1.0, 16.0))
    if name.endswith("dt_bias"):
        # softplus(dt_bias) spans 0.018..1.3 -> per-step decay exp(g) from ~0.98 (long memory, so the state really
        # carries across the 64-token chunk boundary) down to ~1e-9.
        return u(-4.0, 1.0)
    if name.endswith("conv1d.weight"):
        return 0.5 * n(*shape)
    if name.endswith("mlp.gate.weight"):  # MoE router: larger so routing is decisive
        return 3.0 * n(*shape) / math.sqrt(H)
    if name.endswith("experts.gate_up_proj"):  # [E, 2I, H]
        return n(*shape) / math.sqrt(shape[2])
    if name.endswith("experts.down_proj"):  # [E, H, I]
        return n(*shape) / math.sqrt(shape[2])
    if len(shape) == 2:  # nn.Linear [out, in]
        return n(*shape) / math.sqrt(shape[1])
    raise ValueError(f"no init rule for {name} {tuple(shape)}")


def randomize(model, seed):
    g = torch.Generator().manual_seed(seed)
    H = text_config_of(model.config).hidden_size
    count = 0
    with torch.no_grad():
        for name, p in model.named_parameters():  # tied parameters appear once
            p.copy_(init_value(name, tuple(p.shape), H, g))
            count += 1
    return count


# --------------------------------------------------------------------------------------------------------------------
# Checkpoint writing / on-disk rewrites
# --------------------------------------------------------------------------------------------------------------------

def read_dir_tensors(d):
    out = OrderedDict()
    files = sorted(f for f in os.listdir(d) if f.endswith(".safetensors"))
    for fn in files:
        with safe_open(os.path.join(d, fn), "pt") as f:
            for k in f.keys():
                out[k] = f.get_tensor(k)
    return out, files


def write_golden(path, tensors, metadata):
    """Byte-reproducible safetensors writer (safetensors' own writer emits __metadata__ in random hash order).
    Header: __metadata__ first (sorted keys), then tensors in insertion order; header padded with spaces to 8."""
    codes = {torch.float32: "F32", torch.int64: "I64"}
    header, blobs, off = OrderedDict(), [], 0
    header["__metadata__"] = dict(sorted(metadata.items()))
    for k, v in tensors.items():
        b = v.detach().contiguous().cpu().numpy().tobytes()
        header[k] = {"dtype": codes[v.dtype], "shape": list(v.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(len(h).to_bytes(8, "little"))
        f.write(h)
        for b in blobs:
            f.write(b)


def write_single(tensors, d):
    save_file(dict(tensors), os.path.join(d, "model.safetensors"), metadata={"format": "pt"})


def write_sharded(tensors, d, n_shards):
    keys = sorted(tensors.keys())
    total = sum(tensors[k].numel() * tensors[k].element_size() for k in keys)
    target = total / n_shards
    shards, cur, acc = [], [], 0
    for k in keys:
        cur.append(k)
        acc += tensors[k].numel() * tensors[k].element_size()
        if acc >= target * (len(shards) + 1) and len(shards) < n_shards - 1:
            shards.append(cur)
            cur = []
    shards.append(cur)
    assert len(shards) == n_shards and all(shards)
    weight_map = {}
    for i, ks in enumerate(shards):
        fn = f"model-{i + 1:05d}-of-{n_shards:05d}.safetensors"
        save_file({k: tensors[k].contiguous() for k in ks}, os.path.join(d, fn), metadata={"format": "pt"})
        for k in ks:
            weight_map[k] = fn
    index = {"metadata": {"total_parameters": sum(tensors[k].numel() for k in keys), "total_size": total},
             "weight_map": dict(sorted(weight_map.items()))}
    with open(os.path.join(d, "model.safetensors.index.json"), "w") as f:
        json.dump(index, f, indent=2)
        f.write("\n")


def fuse_experts(tensors):
    """per-expert mlp.experts.{e}.{gate,up,down}_proj.weight -> gate_up_proj [E,2I,H] and down_proj [E,H,I]."""
    pat = re.compile(r"^(.*\.mlp\.experts)\.(\d+)\.(gate_proj|up_proj|down_proj)\.weight$")
    groups = OrderedDict()
    for k in list(tensors.keys()):
        m = pat.match(k)
        if m:
            groups.setdefault(m.group(1), {}).setdefault(int(m.group(2)), {})[m.group(3)] = tensors.pop(k)
    for prefix, experts in groups.items():
        E = len(experts)
        assert sorted(experts) == list(range(E))
        tensors[prefix + ".gate_up_proj"] = torch.stack(
            [torch.cat([experts[e]["gate_proj"], experts[e]["up_proj"]], dim=0) for e in range(E)]).contiguous()
        tensors[prefix + ".down_proj"] = torch.stack([experts[e]["down_proj"] for e in range(E)]).contiguous()
    return len(groups)


def fake_mtp(tc, dtype, seed):
    """A well-formed (but random) MTP head as in the released MoE checkpoints; HF must ignore it."""
    g = torch.Generator().manual_seed(seed)
    H, hd, Hq, Hkv = tc.hidden_size, tc.head_dim, tc.num_attention_heads, tc.num_key_value_heads
    E, I, Is = tc.num_experts, tc.moe_intermediate_size, tc.shared_expert_intermediate_size
    shapes = OrderedDict([
        ("mtp.fc.weight", (H, 2 * H)),
        ("mtp.pre_fc_norm_embedding.weight", (H,)),
        ("mtp.pre_fc_norm_hidden.weight", (H,)),
        ("mtp.norm.weight", (H,)),
        ("mtp.layers.0.input_layernorm.weight", (H,)),
        ("mtp.layers.0.post_attention_layernorm.weight", (H,)),
        ("mtp.layers.0.self_attn.q_proj.weight", (Hq * hd * 2, H)),
        ("mtp.layers.0.self_attn.k_proj.weight", (Hkv * hd, H)),
        ("mtp.layers.0.self_attn.v_proj.weight", (Hkv * hd, H)),
        ("mtp.layers.0.self_attn.o_proj.weight", (H, Hq * hd)),
        ("mtp.layers.0.self_attn.q_norm.weight", (hd,)),
        ("mtp.layers.0.self_attn.k_norm.weight", (hd,)),
        ("mtp.layers.0.mlp.gate.weight", (E, H)),
        ("mtp.layers.0.mlp.experts.gate_up_proj", (E, 2 * I, H)),
        ("mtp.layers.0.mlp.experts.down_proj", (E, H, I)),
        ("mtp.layers.0.mlp.shared_expert.gate_proj.weight", (Is, H)),
        ("mtp.layers.0.mlp.shared_expert.up_proj.weight", (Is, H)),
        ("mtp.layers.0.mlp.shared_expert.down_proj.weight", (H, Is)),
        ("mtp.layers.0.mlp.shared_expert_gate.weight", (1, H)),
    ])
    return OrderedDict((k, init_value(k, s, H, g).to(dtype).contiguous()) for k, s in shapes.items())


def write_checkpoint(case, model, out_dir):
    """save_pretrained in the storage dtype, then apply the case's on-disk rewrites. Returns notes."""
    notes = []
    fp32_sd = {k: v.detach().clone() for k, v in model.state_dict().items()}
    model.to(DTYPES[case["store"]])
    post = case["post"]
    tmp = tempfile.mkdtemp(prefix="golden_")
    try:
        model.save_pretrained(tmp)
        saved, files = read_dir_tensors(tmp)
        notes.append(f"save_pretrained wrote {files} with {len(saved)} tensors")
        if "lm_head.weight" not in saved:
            notes.append("save_pretrained omitted lm_head.weight (tied)")
        n_per_expert = sum(1 for k in saved if re.search(r"experts\.\d+\.", k))
        n_fused = sum(1 for k in saved if re.search(r"experts\.(gate_up_proj|down_proj)$", k))
        if n_per_expert or n_fused:
            notes.append(f"save_pretrained expert layout: {n_per_expert} per-expert 2-D tensors, {n_fused} fused 3-D")
        for fn in os.listdir(tmp):
            if not fn.endswith(".safetensors") and not fn.endswith(".index.json"):
                shutil.copy(os.path.join(tmp, fn), os.path.join(out_dir, fn))
        if "config_interval_only" in post:  # older-style config: layer_types derived from the interval
            cpath = os.path.join(out_dir, "config.json")
            cj = json.load(open(cpath))
            lt = cj.pop("layer_types")
            cj["full_attention_interval"] = case["cfg"]["full_attention_interval"]
            with open(cpath, "w") as f:
                json.dump(cj, f, indent=2, sort_keys=True)
                f.write("\n")
            notes.append(f"config.json: removed layer_types {lt}, kept full_attention_interval only")
        if not post:
            for fn in files + [f for f in os.listdir(tmp) if f.endswith(".index.json")]:
                shutil.copy(os.path.join(tmp, fn), os.path.join(out_dir, fn))
            return notes
        tensors = saved
        if "a_log_f32" in post:
            n = 0
            for k in tensors:
                if k.endswith("A_log"):
                    tensors[k] = fp32_sd[k].float().contiguous()
                    n += 1
            notes.append(f"rewrote {n} A_log tensors as F32 (original fp32 values)")
        if "fuse_experts" in post:
            n = fuse_experts(tensors)
            notes.append(f"rewrote experts of {n} layers to fused gate_up_proj/down_proj")
        if "add_mtp" in post:
            mtp = fake_mtp(text_config_of(model.config), DTYPES[case["store"]], case["seed"] + 7)
            tensors.update(mtp)
            notes.append(f"added {len(mtp)} mtp.* tensors")
        if "shard3" in post:
            write_sharded(tensors, out_dir, 3)
            notes.append("wrote 3 shards + model.safetensors.index.json")
        else:
            write_single(tensors, out_dir)
        return notes
    finally:
        shutil.rmtree(tmp)


# --------------------------------------------------------------------------------------------------------------------
# Reload + verification
# --------------------------------------------------------------------------------------------------------------------

def load_model(cls_name, d, moe):
    cls = getattr(transformers, cls_name)
    kw = dict(dtype=torch.float32, attn_implementation="eager", output_loading_info=True)
    if moe:
        kw["experts_implementation"] = "eager"
    model, info = cls.from_pretrained(d, **kw)
    model.eval()
    return model, info


def verify_loaded(model, d):
    """Every loaded parameter must equal the on-disk tensor upcast to fp32 (checks fused/per-expert mapping)."""
    disk, _ = read_dir_tensors(d)
    used = set()
    prefix_alias = []
    for pname, p in model.state_dict().items():
        cands = [pname]
        if pname.startswith("model.") and not pname.startswith("model.language_model.") \
                and not pname.startswith("model.visual."):
            cands.append("model.language_model." + pname[len("model."):])
        key = next((c for c in cands if c in disk), None)
        if key is not None:
            ref = disk[key].float()
            used.add(key)
        elif pname.endswith("experts.gate_up_proj") or pname.endswith("experts.down_proj"):
            base = pname.rsplit(".", 1)[0]
            bases = [base] + (["model.language_model." + base[len("model."):]] if base.startswith("model.") else [])
            base = next(b for b in bases if f"{b}.0.down_proj.weight" in disk)
            E = p.shape[0]
            if pname.endswith("gate_up_proj"):
                ks = [(f"{base}.{e}.gate_proj.weight", f"{base}.{e}.up_proj.weight") for e in range(E)]
                ref = torch.stack([torch.cat([disk[a], disk[b]], 0) for a, b in ks]).float()
                used.update(x for pair in ks for x in pair)
            else:
                ks = [f"{base}.{e}.down_proj.weight" for e in range(E)]
                ref = torch.stack([disk[k] for k in ks]).float()
                used.update(ks)
        elif pname == "lm_head.weight":
            emb = next(k for k in ("model.embed_tokens.weight", "model.language_model.embed_tokens.weight") if k in disk)
            ref = disk[emb].float()
            prefix_alias.append("lm_head.weight <- tied to " + emb)
        else:
            raise AssertionError(f"parameter {pname} not found on disk")
        if ref.shape != p.shape or not torch.equal(ref, p.float()):
            raise AssertionError(f"loaded {pname} differs from disk")
    unused = sorted(set(disk) - used)
    return unused, prefix_alias


# --------------------------------------------------------------------------------------------------------------------
# Reference run
# --------------------------------------------------------------------------------------------------------------------

def text_model_of(model):
    inner = model.model
    return inner.language_model if hasattr(inner, "language_model") else inner


def run_reference(model, ids):
    tm = text_model_of(model)
    tc = text_config_of(model.config)
    taps = OrderedDict()
    hooks = []

    def tap(module, name):
        def fn(_m, _inp, out):
            o = out[0] if isinstance(out, tuple) else out
            assert o.shape[0] == 1
            taps[name] = o[0].detach().float().contiguous().clone()
        hooks.append(module.register_forward_hook(fn))

    tap(tm.embed_tokens, "hidden.model.embed_tokens.out")
    for i, layer in enumerate(tm.layers):
        if tc.layer_types[i] == "linear_attention":
            tap(layer.linear_attn, f"hidden.model.layers.{i}.linear_attn.out")
        else:
            tap(layer.self_attn, f"hidden.model.layers.{i}.self_attn.out")
        tap(layer.mlp, f"hidden.model.layers.{i}.mlp.out")
        tap(layer, f"hidden.model.layers.{i}.out")
    tap(tm.norm, "hidden.model.norm.out")

    gaps = []  # routing margin: min over tokens of logit[k-th] - logit[(k+1)-th] (router logits, fp32)

    def router_fn(m, _inp, out):
        lg = out[0].float().sort(dim=-1, descending=True).values
        gaps.append((lg[:, m.top_k - 1] - lg[:, m.top_k]).min().item())

    for layer in tm.layers:
        if hasattr(layer.mlp, "gate") and not isinstance(layer.mlp.gate, torch.nn.Linear):
            hooks.append(layer.mlp.gate.register_forward_hook(router_fn))

    x = torch.tensor(ids, dtype=torch.long)[None]
    with torch.no_grad():
        out = model(input_ids=x, use_cache=True)
    for h in hooks:
        h.remove()
    logits = out.logits[0].float().contiguous().clone()
    cache = out.past_key_values
    states = OrderedDict()
    for i in range(tc.num_hidden_layers):
        lay = cache.layers[i]
        if tc.layer_types[i] == "linear_attention":
            states[f"state.model.layers.{i}.linear_attn.recurrent"] = lay.recurrent_states[0][0].float().contiguous()
            states[f"state.model.layers.{i}.linear_attn.conv"] = lay.conv_states[0][0].float().contiguous()

    # decode path: prefill P tokens, then T-P single-token steps with the cache
    with torch.no_grad():
        o = model(input_ids=x[:, :P], use_cache=True)
        rows = [o.logits[0].float()]
        cache_d = o.past_key_values
        for t in range(P, len(ids)):
            o = model(input_ids=x[:, t:t + 1], past_key_values=cache_d, use_cache=True)
            cache_d = o.past_key_values
            rows.append(o.logits[0].float())
    decode_logits = torch.cat(rows, 0).contiguous()
    state_diff = 0.0
    for i in range(tc.num_hidden_layers):
        if tc.layer_types[i] == "linear_attention":
            a = cache_d.layers[i].recurrent_states[0][0]
            state_diff = max(state_diff, (a - states[f"state.model.layers.{i}.linear_attn.recurrent"]).abs().max().item())
            c = cache_d.layers[i].conv_states[0][0]
            state_diff = max(state_diff, (c - states[f"state.model.layers.{i}.linear_attn.conv"]).abs().max().item())
    return logits, decode_logits, taps, states, state_diff, (min(gaps) if gaps else None)


# --------------------------------------------------------------------------------------------------------------------
# Layout summary for the manifest
# --------------------------------------------------------------------------------------------------------------------

def layout_summary(d):
    files = sorted(f for f in os.listdir(d) if f.endswith(".safetensors") and f != "golden.safetensors")
    groups = OrderedDict()
    for fn in files:
        with safe_open(os.path.join(d, fn), "pt") as f:
            for k in f.keys():
                sl = f.get_slice(k)
                m = re.search(r"layers\.(\d+)\.", k)
                pat = re.sub(r"layers\.\d+\.", "layers.{i}.", k)
                mm = re.search(r"experts\.(\d+)\.", pat)
                pat = re.sub(r"experts\.\d+\.", "experts.{e}.", pat)
                g = groups.setdefault(pat, {"shape": sl.get_shape(), "dtype": sl.get_dtype(), "layers": set(),
                                            "experts": set(), "files": set()})
                if m:
                    g["layers"].add(int(m.group(1)))
                if mm:
                    g["experts"].add(int(mm.group(1)))
                g["files"].add(fn)
    lines = []
    for pat in sorted(groups):
        g = groups[pat]
        extra = ""
        if g["layers"]:
            extra += " layers=" + ",".join(map(str, sorted(g["layers"])))
        if g["experts"]:
            extra += f" e=0..{max(g['experts'])}"
        if len(files) > 1:
            extra += " in " + ",".join(sorted(f.split("-")[1] for f in g["files"]))
        lines.append(f"{pat} {g['dtype']} {list(g['shape'])}{extra}")
    return files, lines


# --------------------------------------------------------------------------------------------------------------------

def make_case(name, case, out_root):
    d = os.path.join(out_root, name)
    if os.path.isdir(d):
        shutil.rmtree(d)
    os.makedirs(d)
    seed = case["seed"]
    torch.manual_seed(seed)
    config = build_config(case)
    cls = getattr(transformers, case["cls"])
    model = cls(config)
    n = randomize(model, seed)
    notes = [f"randomised {n} parameter tensors"]
    notes += write_checkpoint(case, model, d)
    del model

    moe = "Moe" in case["cls"] or "Next" in case["cls"]
    model, info = load_model(case["cls"], d, moe)
    for k in ("missing_keys", "unexpected_keys", "mismatched_keys"):
        if info.get(k):
            raise AssertionError(f"{name}: {k} = {info[k]}")
    unused, alias = verify_loaded(model, d)
    notes += alias
    if unused:
        notes.append(f"{len(unused)} on-disk tensors ignored by HF (prefixes: "
                     + ", ".join(sorted({u.split('.')[0] + '.*' for u in unused})) + ")")
    tc = text_config_of(model.config)
    assert list(tc.layer_types) == list(text_config_of(build_config(case)).layer_types), "layer_types changed on reload"
    # MoE: redraw the ids (not the weights) until no token has a near-tie between the k-th and (k+1)-th router
    # logit, so that an fp32 engine with different rounding cannot flip an expert choice.
    for attempt in range(100):
        ids_seed = seed + 7919 * attempt
        ids = np.random.default_rng(ids_seed).integers(0, tc.vocab_size, size=T).tolist()
        logits, decode_logits, taps, states, state_diff, router_gap = run_reference(model, ids)
        if router_gap is None or router_gap >= MIN_ROUTER_LOGIT_GAP:
            break
    else:
        raise AssertionError(f"{name}: could not avoid MoE routing near-ties")
    diff = (logits - decode_logits).abs().max().item()
    stats = dict(logits_std=logits.std().item(), logits_max_abs=logits.abs().max().item(),
                 hidden_max_abs=max(v.abs().max().item() for v in taps.values()),
                 prefill_vs_decode_max_diff=diff, decode_state_vs_prefill_state_max_diff=state_diff)
    if router_gap is not None:
        stats["router_min_topk_logit_gap"] = router_gap

    # text-only consistency check for multimodal wrappers: AutoModelForCausalLM on the same folder
    if "ConditionalGeneration" in case["cls"]:
        kw = dict(dtype=torch.float32, attn_implementation="eager")
        if moe:
            kw["experts_implementation"] = "eager"
        tm = transformers.AutoModelForCausalLM.from_pretrained(d, **kw).eval()
        with torch.no_grad():
            lg = tm(input_ids=torch.tensor(ids)[None]).logits[0].float()
        stats["text_only_causallm_class"] = type(tm).__name__
        stats["text_only_causallm_vs_cg_max_diff"] = (lg - logits).abs().max().item()
        del tm

    tensors = OrderedDict()
    tensors["input_ids"] = torch.tensor(ids, dtype=torch.int64)
    tensors["logits"] = logits
    tensors["decode_logits"] = decode_logits
    tensors.update(taps)
    tensors.update(states)
    meta = {
        "case": name, "description": case["desc"], "hf_class": case["cls"],
        "transformers_version": transformers.__version__, "torch_version": torch.__version__,
        "dtype": "float32", "checkpoint_dtype": case["store"], "seed": str(seed), "ids_seed": str(ids_seed), "T": str(T), "P": str(P),
        "attn_implementation": "eager", "experts_implementation": "eager" if moe else "n/a",
        "fla_installed": str(importlib.util.find_spec("fla") is not None),
        "causal_conv1d_installed": str(importlib.util.find_spec("causal_conv1d") is not None),
        "layer_types": json.dumps(tc.layer_types),
        "conv_state_layout": "[conv_dim, K]: last K raw (pre-conv, pre-SiLU) in_proj_qkv outputs, channel order "
                             "[q|k|v], column K-1 = newest token",
        "recurrent_state_layout": "[HV, dk, dv] fp32 (S[k][v])",
        "stats": json.dumps(stats),
    }
    write_golden(os.path.join(d, "golden.safetensors"), tensors, meta)
    with safe_open(os.path.join(d, "golden.safetensors"), "pt") as f:  # round-trip check
        assert list(f.keys()) and all(torch.equal(f.get_tensor(k), v) for k, v in tensors.items())
    files, layout = layout_summary(d)
    size = sum(os.path.getsize(os.path.join(d, f)) for f in os.listdir(d))
    print(f"[{name}] {case['cls']} size={size} B  logits std={stats['logits_std']:.3f}  "
          f"hidden max|x|={stats['hidden_max_abs']:.2f}  prefill-vs-decode max|d|={diff:.3e}  "
          f"state diff={state_diff:.3e}"
          + (f"  router min logit gap={router_gap:.2e} (ids_seed {ids_seed})" if router_gap is not None else ""), flush=True)
    for nt in notes:
        print(f"    note: {nt}")
    if "text_only_causallm_vs_cg_max_diff" in stats:
        print(f"    text-only {stats['text_only_causallm_class']} vs CG max|d| = "
              f"{stats['text_only_causallm_vs_cg_max_diff']:.3e}")
    if not stats["logits_std"] > 0.5:
        raise AssertionError(f"{name}: logits look flat")
    if not diff <= 1e-4 * max(1.0, stats["logits_max_abs"]):
        raise AssertionError(f"{name}: prefill vs decode mismatch {diff}")
    return dict(name=name, case=case, ids_seed=ids_seed, config=tc, stats=stats, notes=notes, files=files, layout=layout, size=size,
                golden_keys=[(k, str(v.dtype).replace("torch.", ""), list(v.shape)) for k, v in tensors.items()])


def write_manifest(out_root, results):
    L = ["# Golden data manifest", "",
         "Generated by `tools/golden/make_goldens.py` (see `tools/golden/README.md`). Do not edit by hand.", "",
         f"- transformers {transformers.__version__}, torch {torch.__version__}, numpy {np.__version__}, CPU, float32,"
         f" eager attention, eager experts, torch fallback GDN (fla installed: "
         f"{importlib.util.find_spec('fla') is not None}, causal_conv1d installed: "
         f"{importlib.util.find_spec('causal_conv1d') is not None})",
         f"- T = {T} random ids in [0, vocab) (numpy default_rng(ids_seed)); P = {P} for `decode_logits`",
         "- Tap names use the canonical `model.` prefix even when the checkpoint stores `model.language_model.`.",
         "", "| case | HF class | on-disk dtype | shards | folder bytes | logit std | prefill vs decode max abs diff |",
         "|---|---|---|---|---|---|---|"]
    for r in results:
        L.append(f"| {r['name']} | {r['case']['cls']} | {r['case']['store']} | {len(r['files'])} | {r['size']} | "
                 f"{r['stats']['logits_std']:.3f} | {r['stats']['prefill_vs_decode_max_diff']:.2e} |")
    L.append("")
    total = 0
    for r in results:
        total += r["size"]
        c, s = r["case"], r["stats"]
        L += [f"## {r['name']}", "", c["desc"], "",
              f"- class `{c['cls']}`, seed {c['seed']}, checkpoint dtype {c['store']}, layer_types "
              f"{r['config'].layer_types}",
              f"- files: {', '.join(r['files'])} (+ config.json, generation_config.json"
              + (", model.safetensors.index.json" if len(r['files']) > 1 else "") + f"); folder size {r['size']} B",
              f"- logits std {s['logits_std']:.4f}, max|logit| {s['logits_max_abs']:.3f}, max|hidden| "
              f"{s['hidden_max_abs']:.3f}, prefill-vs-decode max|d| {s['prefill_vs_decode_max_diff']:.3e}, "
              f"decode-vs-prefill final GDN state max|d| {s['decode_state_vs_prefill_state_max_diff']:.3e}"
              + (f", min router logit gap k-th vs (k+1)-th {s['router_min_topk_logit_gap']:.2e}"
                 if "router_min_topk_logit_gap" in s else ""),
              f"- input ids: numpy default_rng({r['ids_seed']}).integers(0, vocab, {T})"]
        if "text_only_causallm_vs_cg_max_diff" in s:
            L.append(f"- text-only `{s['text_only_causallm_class']}` (AutoModelForCausalLM on this folder) vs the "
                     f"ConditionalGeneration logits: max|d| {s['text_only_causallm_vs_cg_max_diff']:.3e}")
        L += ["- notes: " + "; ".join(r["notes"]), "", "Checkpoint tensors (`{i}` = layer, `{e}` = expert):", "",
              "```"] + r["layout"] + ["```", "", "golden.safetensors:", "", "```"]
        L += [f"{k} {dt} {sh}" for k, dt, sh in r["golden_keys"]] + ["```", ""]
    L.append(f"Total size of all case folders: {total} B")
    with open(os.path.join(out_root, "MANIFEST.md"), "w") as f:
        f.write("\n".join(L) + "\n")
    return total


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=os.path.join(REPO, "tests", "golden", "data"))
    ap.add_argument("--cases", default=",".join(CASES))
    args = ap.parse_args()
    for pkg in ("fla", "causal_conv1d", "kernels"):  # the reference must be the pure-torch fp32 path
        if importlib.util.find_spec(pkg) is not None:
            sys.exit(f"error: package '{pkg}' is installed; it would replace the torch fallback GDN/conv path")
    torch.set_num_threads(1)  # fixed reduction order -> reproducible low bits
    transformers.logging.set_verbosity_error()
    os.makedirs(args.out, exist_ok=True)
    names = [c for c in args.cases.split(",") if c]
    results = [make_case(n, CASES[n], args.out) for n in names]
    if len(names) == len(CASES):
        total = write_manifest(args.out, results)
    else:
        total = sum(r["size"] for r in results)
    print(f"total bytes: {total}")


if __name__ == "__main__":
    sys.exit(main())
