#!/usr/bin/env python3
"""Quantized golden checkpoints for qinfer: an independent NVFP4 / FP8 quantizer + HF fp32 references.

For every case this script
  1. builds a tiny random model exactly like make_goldens.py (same config builder and seeded randomisation), rounds
     it to BF16 (the "original checkpoint") and reloads that in fp32 with eager attention / eager experts,
  2. quantizes the Linear modules selected by the case layout with the documented producer math
     (docs: /work/shared/docs/quantized_checkpoints.md §1.5-1.7, §2, §3.1, §7-8), written here from the formulas:
       ModelOpt NVFP4:  weight_scale_2 = amax/(6*448); block scale = E4M3(block_amax/(6*weight_scale_2));
                        q = E2M1_RNE_sat(w / (fp32(scale)*weight_scale_2)); even element in the LOW nibble
       compressed-tensors NVFP4: global = 6*448/amax; block scale = E4M3(global*block_amax/6);
                        q = E2M1_RNE_sat(w / (fp32(scale)/global))
       ModelOpt FP8 per-tensor: weight_scale = amax/448; q = E4M3(clamp(w/weight_scale, +-448))
     with the fused-shard scale sharing of the producer (ModelOpt: all quantized Linears fed the same input tensor
     share one amax, found by a hooked forward like ModelOpt's requantize_resmooth_fused_llm_layers; expert gate/up
     pairs share; llm-compressor: q/k/v and gate/up only), and static activation scales calibrated on the case's ids
     (max |x| over the fp32 BF16-original model, forward hooks),
  3. writes the checkpoint in the producer's on-disk format (tensor names/dtypes/shapes, hf_quant_config.json and/or
     config.json quantization_config),
  4. dequantizes every quantized weight back to fp32 (w = E2M1 * fp32(E4M3 scale) * weight_scale_2), loads the same
     architecture in transformers fp32 with those weights (save_pretrained fp32 -> from_pretrained), checks that the
     reload equals (a) the dequantized weights and (b) an independent re-read + dequantization of the written
     quantized files, and checks the config's opinion (exclude globs / quantized_layers / c-t ignore) against the
     tensors' opinion for every Linear,
  5. records logits [T,V] and decode_logits (prefill P + single steps) with WEIGHT-ONLY semantics (activations not
     quantized), plus, for cases with activation-quantized modules (NVFP4 W4A4, FP8), logits_actquant with
     activation fake-quantization on the input of every such Linear / expert projection.

Usage:  /opt/hfvenv/bin/python tools/golden/make_quant_goldens.py [--out tests/golden/quant] [--cases a,b,...]
See tools/golden/README.md ("make_quant_goldens.py") and tests/golden/quant/MANIFEST.md.
"""
import argparse
import copy
import fnmatch
import importlib.util
import json
import os
import re
import shutil
import sys
import tempfile
import types
from collections import OrderedDict

import numpy as np
import torch
import torch.nn.functional as F
import transformers
from safetensors import safe_open
from safetensors.torch import save_file

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_goldens as mg  # noqa: E402

T, P = mg.T, mg.P
FP4_MAX = 6.0
FP8_MAX = 448.0
E4M3_MIN_SUBNORMAL = 2.0 ** -9
F8 = torch.float8_e4m3fn
REPO = mg.REPO

# ====================================================================================================================
# Number formats (from the definitions; no engine code)
# ====================================================================================================================

E2M1_MAG = torch.tensor([0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0], dtype=torch.float32)
E2M1_VALUES = torch.cat([E2M1_MAG, -E2M1_MAG])  # code 0..15; bit 3 = sign (code 8 = -0)
# midpoints between consecutive magnitudes; a tie goes to the code with an even index (even mantissa bit)
E2M1_MIDS = [0.25, 0.75, 1.25, 1.75, 2.5, 3.5, 5.0]


def e2m1_encode(x):
    """fp32 -> 4-bit E2M1 codes (uint8 0..15): round to nearest, ties to even, saturate at +-6; sign bit = x < 0."""
    m = x.abs()
    idx = torch.zeros(x.shape, dtype=torch.uint8)
    for i, b in enumerate(E2M1_MIDS):
        up = (m > b) | ((m == b) & ((i + 1) % 2 == 0))
        idx += up.to(torch.uint8)
    return idx | ((x < 0).to(torch.uint8) << 3)


def e2m1_decode(codes):
    return E2M1_VALUES[codes.long()]


def pack_nibbles(codes):
    """[..., K] codes -> [..., K/2] bytes, element 2j in the LOW nibble, 2j+1 in the high nibble."""
    assert codes.shape[-1] % 2 == 0
    return (codes[..., 0::2] | (codes[..., 1::2] << 4)).contiguous()


def unpack_nibbles(packed):
    lo, hi = packed & 0x0F, packed >> 4
    return torch.stack([lo, hi], dim=-1).reshape(*packed.shape[:-1], packed.shape[-1] * 2)


def to_e4m3(x):
    """fp32 -> float8_e4m3fn, clamped to +-448 first (PyTorch's cast is round-to-nearest-even)."""
    return x.clamp(-FP8_MAX, FP8_MAX).to(F8)


def f32(v):
    return torch.tensor(v, dtype=torch.float32)


# --- weights: ModelOpt NVFP4 -----------------------------------------------------------------------------------------

def nvfp4_modelopt_quantize(w, ws2):
    """w fp32 [N,K], ws2 fp32 0-d. Returns (packed U8 [N,K/2], scale F8 [N,K/16]). ModelOpt NVFP4QTensor math, with
    the newer exporter's clamp of the block scale to [2^-9, 448] (an all-zero block gets scale 1.0)."""
    N, K = w.shape
    assert K % 16 == 0, (N, K)
    blocks = w.reshape(N, K // 16, 16)
    s = blocks.abs().amax(-1) / (6.0 * ws2)
    s = torch.where(s == 0, torch.ones_like(s), s).clamp(E4M3_MIN_SUBNORMAL, FP8_MAX)
    s8 = to_e4m3(s)
    div = s8.float() * ws2
    codes = e2m1_encode(blocks / div[..., None]).reshape(N, K)
    return pack_nibbles(codes), s8


def nvfp4_dequant(packed, scale8, ws2):
    """w = E2M1 * fp32(scale) * weight_scale_2 (E2M1*scale is exact in fp32: one rounding, the correctly rounded
    product)."""
    N = packed.shape[0]
    v = e2m1_decode(unpack_nibbles(packed)).reshape(N, -1, 16)
    return ((v * scale8.float()[..., None]) * ws2).reshape(N, -1)


# --- weights: compressed-tensors NVFP4 -------------------------------------------------------------------------------

def nvfp4_ct_quantize(w, gs):
    """compressed-tensors tensor_group math: gs = 6*448/amax (fp32, stored as weight_global_scale);
    scale = E4M3(gs * block_amax / 6) (zero -> FP8 eps); q = E2M1(w / (fp32(scale) / gs))."""
    N, K = w.shape
    assert K % 16 == 0
    blocks = w.reshape(N, K // 16, 16)
    s8 = to_e4m3(gs * (blocks.abs().amax(-1) / FP4_MAX))
    eps = torch.finfo(F8).eps
    s8 = torch.where(s8.float() == 0, torch.full_like(s8.float(), eps), s8.float()).to(F8)
    div = s8.float() / gs
    codes = e2m1_encode(blocks / div[..., None]).reshape(N, K)
    return pack_nibbles(codes), s8


def nvfp4_ct_dequant(packed, scale8, gs):
    """compressed-tensors dequantize: q * (scale / global_scale)."""
    N = packed.shape[0]
    v = e2m1_decode(unpack_nibbles(packed)).reshape(N, -1, 16)
    return (v * (scale8.float() / gs)[..., None]).reshape(N, -1)


# --- weights: FP8 per-tensor ----------------------------------------------------------------------------------------

def fp8_quantize(w, ws):
    return to_e4m3(w / ws)


def fp8_dequant(q, ws):
    return q.float() * ws


# --- activations: fake quantization (the W4A4 / W8A8 emulation used for logits_actquant) ----------------------------

def fq_nvfp4_act(x, input_scale):
    """The runtime activation quantization of quantized_checkpoints.md §1.6 (flashinfer/TRT-LLM
    cvt_warp_fp16_to_fp4), in fp32 with exact reciprocals, per 16 elements along K:
        SFScaleVal = 1/input_scale;  SF = E4M3(SFScaleVal * (block_amax/6));  outputScale = 1/(SF * (1/SFScaleVal))
        q = E2M1_RNE(x * outputScale);  returns (E2M1(q) * SF) * input_scale   (the GEMM's alpha carries input_scale)
    A block whose SF is 0 (all-zero block) stays zero. The order of operations matters: a different but
    mathematically equal order moves a few values by one ulp, which can flip an E2M1 code downstream."""
    K = x.shape[-1]
    s = torch.as_tensor(input_scale, dtype=torch.float32)
    g = f32(1.0) / s
    xb = x.reshape(-1, K // 16, 16)
    sf = to_e4m3(g * (xb.abs().amax(-1) / FP4_MAX)).float()
    out_scale = torch.where(sf != 0, f32(1.0) / (sf * (f32(1.0) / g)), torch.zeros_like(sf))
    q = e2m1_decode(e2m1_encode(xb * out_scale[..., None]))
    return ((q * sf[..., None]) * s).reshape(x.shape)


def fq_fp8_act(x, input_scale):
    return to_e4m3(x / input_scale).float() * input_scale


# ====================================================================================================================
# Cases
# ====================================================================================================================

R = mg._rope

QCASES = OrderedDict()

QCASES["nvfp4_nvidia_moe"] = dict(
    cls="Qwen3_5MoeForConditionalGeneration", seed=2001, producer="modelopt", producer_version="0.0.1.dev538",
    files=("hf_quant_config",), mixed=False, top_algo="NVFP4", exclude="nvidia", mtp="moe", shards=2,
    algo=lambda n: "NVFP4" if re.search(r"\.mlp\.experts\.\d+\.(gate|up|down)_proj$", n) else None,
    desc="NVIDIA Qwen3.5-397B-A17B-NVFP4 layout on Qwen3_5MoeForConditionalGeneration ('model.language_model.' "
         "prefix, tiny BF16 vision tower): ONLY the routed experts are NVFP4 W4A4 (per-expert ModelOpt tensors incl. "
         "input_scale); everything else BF16 and excluded like NVIDIA's list (linear_attn*, self_attn*, "
         "shared_expert*, shared_expert_gate, lm_head, model.visual*, mtp*; the router mlp.gate is NOT listed). "
         "hf_quant_config.json only (config.json has no quantization_config). Extra BF16 mtp.* tensors (ignored). "
         "2 shards + index, split so that one expert's .weight and .weight_scale live in different files. "
         "Layers [L,L,L,F], E=8 top-2, I=32, shared 48.",
    cfg=dict(vocab_size=256, hidden_size=64, num_hidden_layers=4, full_attention_interval=4,
             num_attention_heads=4, num_key_value_heads=2, head_dim=32,
             linear_num_key_heads=2, linear_num_value_heads=4, linear_key_head_dim=16, linear_value_head_dim=16,
             num_experts=8, num_experts_per_tok=2, moe_intermediate_size=32, shared_expert_intermediate_size=48,
             rope_parameters=R(1e7, 0.25, [2, 1, 1]), tie_word_embeddings=False),
    top=dict(tie_word_embeddings=False),
)

QCASES["nvfp4_all_dense"] = dict(
    cls="Qwen3_5ForCausalLM", seed=2002, producer="modelopt", producer_version="0.45.0",
    files=("config_json",), mixed=False, top_algo="W4A16_NVFP4", exclude="summarise", mtp=None, shards=1,
    algo=lambda n: None if n == "lm_head" else "W4A16_NVFP4",
    desc="Qwen3_5ForCausalLM, EVERY Linear W4A16_NVFP4 (weight-only, no input_scale) except lm_head: GDN "
         "in_proj_qkv/in_proj_z/in_proj_b/in_proj_a/out_proj (in_proj_b/a have N=HV=4), attention q(+gate)/k/v/o, "
         "MLP gate/up/down. config.json quantization_config only (no hf_quant_config.json). Shared weight_scale_2 "
         "per same-input group as ModelOpt's hook-based fusion gives: {q,k,v}, {gate,up} and ALL FOUR GDN input "
         "projections {in_proj_qkv,in_proj_z,in_proj_b,in_proj_a}. Layers [L,L,L,F], GDN HK=2 HV=4 dk=16 dv=24, "
         "attention Hq=4 Hkv=2 hd=32, I=96.",
    cfg=dict(vocab_size=256, hidden_size=64, intermediate_size=96, num_hidden_layers=4, full_attention_interval=4,
             num_attention_heads=4, num_key_value_heads=2, head_dim=32,
             linear_num_key_heads=2, linear_num_value_heads=4, linear_key_head_dim=16, linear_value_head_dim=24,
             rope_parameters=R(1e6, 0.25, [2, 1, 1]), tie_word_embeddings=False),
)

QCASES["fp8_dense"] = dict(
    cls="Qwen3_5ForCausalLM", seed=2003, producer="modelopt", producer_version="0.45.0",
    files=("hf_quant_config", "config_json"), mixed=False, top_algo="FP8", exclude="summarise", mtp=None, shards=1,
    algo=lambda n: None if n == "lm_head" or re.search(r"linear_attn\.in_proj_[ab]$", n) else "FP8",
    desc="Qwen3_5ForCausalLM, FP8 W8A8 per-tensor (weight F8_E4M3 + F32 scalar weight_scale + F32 scalar "
         "input_scale) on every Linear except lm_head and linear_attn.in_proj_a / in_proj_b, which are excluded BY "
         "EXACT NAME (ModelOpt's prefix-wildcard summary cannot use 'linear_attn*' because siblings are quantized). "
         "hf_quant_config.json AND config.json quantization_config, agreeing. Shared weight_scale over {q,k,v}, "
         "{gate,up}, {in_proj_qkv,in_proj_z}. Layers [L,F,L,F], GDN HK=1 HV=2 dk=dv=32, attention Hq=4 Hkv=1 "
         "hd=32, I=64.",
    cfg=dict(vocab_size=256, hidden_size=64, intermediate_size=64, num_hidden_layers=4, full_attention_interval=2,
             num_attention_heads=4, num_key_value_heads=1, head_dim=32,
             linear_num_key_heads=1, linear_num_value_heads=2, linear_key_head_dim=32, linear_value_head_dim=32,
             rope_parameters=R(1e7, 0.25, [2, 1, 1]), tie_word_embeddings=False),
)


def _algo_qwen36(n):
    if n.startswith("model.visual."):
        return None
    if n == "lm_head" or re.search(r"\.mlp\.(gate|up|down)_proj$", n):
        return "W4A16_NVFP4"
    if re.search(r"\.self_attn\.[qkvo]_proj$", n) or re.search(r"\.linear_attn\.(in_proj_qkv|in_proj_z|out_proj)$", n):
        return "FP8"
    return None


QCASES["mixed_qwen36"] = dict(
    cls="Qwen3_5ForConditionalGeneration", seed=2004, producer="modelopt", producer_version="0.45.0",
    files=("hf_quant_config", "config_json"), mixed=True, top_algo="MIXED_PRECISION", exclude="qwen36", mtp="dense",
    shards=1, algo=_algo_qwen36, ct_trap=True,
    desc="Qwen3.6-27B-style MIXED_PRECISION on dense Qwen3_5ForConditionalGeneration: W4A16_NVFP4 on MLP "
         "gate/up/down and lm_head; FP8 (W8A8, with input_scale) on self_attn q/k/v/o and linear_attn in_proj_qkv, "
         "in_proj_z, out_proj; in_proj_a/in_proj_b BF16 and NOT listed in quantized_layers; vision tower BF16 (not "
         "listed). exclude_modules ['mtp*','mtp.layers.0*'] as published, with extra BF16 mtp.* tensors. "
         "hf_quant_config.json + config.json; the config.json W4A16_NVFP4 config_group deliberately carries "
         "input_activations num_bits 4 exactly like the published Qwen3.6 file (trap: trust quantized_layers). "
         "Layers [L,L,L,F], GDN HK=2 HV=4 dk=16 dv=32, attention Hq=4 Hkv=2 hd=32, I=96.",
    cfg=dict(vocab_size=256, hidden_size=64, intermediate_size=96, num_hidden_layers=4, full_attention_interval=4,
             num_attention_heads=4, num_key_value_heads=2, head_dim=32,
             linear_num_key_heads=2, linear_num_value_heads=4, linear_key_head_dim=16, linear_value_head_dim=32,
             rope_parameters=R(1e7, 0.25, [2, 1, 1]), tie_word_embeddings=False),
    top=dict(tie_word_embeddings=False),
)

# mixed_shards: per-layer table (layers [L,L,F,L]); anything not listed is BF16
_SHARDS_TABLE = {
    0: {"linear_attn.in_proj_qkv": "NVFP4", "linear_attn.out_proj": "FP8",
        "mlp.gate_proj": "W4A16_NVFP4", "mlp.up_proj": "W4A16_NVFP4", "mlp.down_proj": "W4A16_NVFP4"},
    1: {"linear_attn.in_proj_z": "NVFP4", "linear_attn.out_proj": "W4A16_NVFP4",
        "mlp.gate_proj": "W4A16_NVFP4", "mlp.up_proj": "W4A16_NVFP4", "mlp.down_proj": "FP8"},
    2: {"self_attn.k_proj": "FP8", "self_attn.v_proj": "FP8", "self_attn.o_proj": "W4A16_NVFP4",
        "mlp.gate_proj": "W4A16_NVFP4", "mlp.up_proj": "W4A16_NVFP4", "mlp.down_proj": "W4A16_NVFP4"},
    3: {"linear_attn.in_proj_qkv": "NVFP4", "linear_attn.out_proj": "FP8",
        "mlp.gate_proj": "W4A16_NVFP4", "mlp.up_proj": "W4A16_NVFP4", "mlp.down_proj": "W4A16_NVFP4"},
}


def _algo_shards(n):
    m = re.match(r"model\.layers\.(\d+)\.(.*)$", n)
    return _SHARDS_TABLE.get(int(m.group(1)), {}).get(m.group(2)) if m else None


QCASES["mixed_shards"] = dict(
    cls="Qwen3_5ForCausalLM", seed=2005, producer="modelopt", producer_version="0.45.0",
    files=("config_json",), mixed=True, top_algo="MIXED_PRECISION", exclude="none", mtp=None, shards=1,
    algo=_algo_shards, unshared=[r"\.mlp\.(gate|up)_proj$"], pre_scale={r"\.mlp\.up_proj\.weight$": 2.5},
    desc="Qwen3_5ForCausalLM MIXED_PRECISION where fused runtime groups have shards of DIFFERENT precision, so the "
         "engine must run them as separate GEMMs: layers 0 and 3 in_proj_qkv NVFP4 (W4A4) but in_proj_z BF16; "
         "layer 1 the reverse (in_proj_qkv BF16, in_proj_z NVFP4); in_proj_b/a BF16; out_proj FP8 / W4A16_NVFP4 "
         "per layer; attention layer 2: q_proj BF16 while k_proj/v_proj FP8, o_proj W4A16_NVFP4; MLP gate/up "
         "W4A16_NVFP4 with DELIBERATELY DIFFERENT weight_scale_2 (up_proj weights were scaled x2.5 before "
         "quantization, so ws2(up)/ws2(gate) is about 2.5: a fused gate_up GEMM needs per-shard alpha), down_proj "
         "W4A16_NVFP4 except FP8 in layer 1; lm_head BF16. config.json quantization_config only, exclude []. "
         "Layers [L,L,F,L], GDN HK=2 HV=4 dk=16 dv=24, attention Hq=4 Hkv=2 hd=32, I=64.",
    cfg=dict(vocab_size=256, hidden_size=64, intermediate_size=64, num_hidden_layers=4,
             layer_types=["linear_attention", "linear_attention", "full_attention", "linear_attention"],
             num_attention_heads=4, num_key_value_heads=2, head_dim=32,
             linear_num_key_heads=2, linear_num_value_heads=4, linear_key_head_dim=16, linear_value_head_dim=24,
             rope_parameters=R(1e6, 0.25, [2, 1, 1]), tie_word_embeddings=False),
)

CT_IGNORE = ["lm_head", "re:.*mlp.gate$", "re:.*shared_expert_gate$", "re:.*linear_attn.in_proj_[ab]$"]

QCASES["ct_nvfp4_moe"] = dict(
    cls="Qwen3_5MoeForCausalLM", seed=2006, producer="ct", producer_version="0.12.2",
    files=("config_json",), mixed=False, top_algo="NVFP4", exclude="ct", mtp=None, shards=1,
    algo=None,  # derived from CT_IGNORE (every Linear not ignored)
    desc="compressed-tensors nvfp4-pack-quantized (llm-compressor NVFP4 W4A4 preset) on Qwen3_5MoeForCausalLM: "
         "every Linear except ignore " + json.dumps(CT_IGNORE) + " -> GDN in_proj_qkv/in_proj_z/out_proj, attention "
         "q/k/v/o, per-expert experts.{e}.{gate,up,down}_proj and shared_expert.{gate,up,down}_proj are NVFP4 as "
         "weight_packed U8 / weight_scale F8_E4M3 / weight_global_scale F32[1] (= 1/weight_scale_2) / "
         "input_global_scale F32[1] (= 1/input_scale). Global scales shared only where llm-compressor shares them "
         "(q/k/v, gate/up of each expert and of the shared expert): in_proj_qkv and in_proj_z have DIFFERENT "
         "global scales. Input global scales per module, per expert (all-token expert calibration). Layers "
         "[L,L,L,F], E=8 top-2, I=32, shared 48, GDN HK=2 HV=4 dk=dv=16.",
    cfg=dict(vocab_size=256, hidden_size=64, num_hidden_layers=4, full_attention_interval=4,
             num_attention_heads=4, num_key_value_heads=2, head_dim=32,
             linear_num_key_heads=2, linear_num_value_heads=4, linear_key_head_dim=16, linear_value_head_dim=16,
             num_experts=8, num_experts_per_tok=2, moe_intermediate_size=32, shared_expert_intermediate_size=48,
             rope_parameters=R(1e7, 0.25, [2, 1, 1]), tie_word_embeddings=False),
)


def _algo_next(n):
    if re.search(r"\.mlp\.experts\.\d+\.(gate|up|down)_proj$", n):
        return "NVFP4"
    if n.endswith(".linear_attn.in_proj_qkvz"):
        return "FP8"
    return None


QCASES["nvfp4_next"] = dict(
    cls="Qwen3NextForCausalLM", seed=2007, producer="modelopt", producer_version="0.45.0",
    files=("hf_quant_config",), mixed=True, top_algo="MIXED_PRECISION", exclude="none", mtp=None, shards=1,
    algo=_algo_next,
    desc="Qwen3NextForCausalLM MIXED_PRECISION (legacy hf_quant_config.json only): routed experts NVFP4 W4A4 "
         "(per-expert tensors, quantized_layers key '...mlp.experts' per MoE layer), linear_attn.in_proj_qkvz FP8 "
         "(a fused-ON-DISK module: one tensor, one weight_scale, one input_scale), in_proj_ba / out_proj / "
         "attention / shared expert / router / the dense MLP of layer 1 (mlp_only_layers=[1]) / lm_head BF16. "
         "Layers [L,L,L,F], HK=2 HV=4 dk=16 dv=24, E=8 top-2 norm_topk_prob=False, I=32, shared 48.",
    cfg=dict(vocab_size=256, hidden_size=64, intermediate_size=96, num_hidden_layers=4, full_attention_interval=4,
             num_attention_heads=4, num_key_value_heads=2, head_dim=32,
             linear_num_key_heads=2, linear_num_value_heads=4, linear_key_head_dim=16, linear_value_head_dim=24,
             num_experts=8, num_experts_per_tok=2, moe_intermediate_size=32, shared_expert_intermediate_size=48,
             norm_topk_prob=False, decoder_sparse_step=1, mlp_only_layers=[1],
             rope_parameters=R(1e6, 0.25), tie_word_embeddings=False),
)

ACT_QUANT = {"NVFP4": "nvfp4", "FP8": "fp8", "W4A16_NVFP4": None}
NVFP4_ALGOS = ("NVFP4", "W4A16_NVFP4")

# ====================================================================================================================
# Module enumeration (Linear + per-expert virtual Linears), named as on disk
# ====================================================================================================================


def is_fused_experts(m):
    return isinstance(getattr(m, "gate_up_proj", None), torch.nn.Parameter) and \
        isinstance(getattr(m, "down_proj", None), torch.nn.Parameter) and m.gate_up_proj.dim() == 3


def quant_units(model):
    """OrderedDict name -> unit. Linear units: nn.Linear modules. Expert units: '<experts>.<e>.{gate,up,down}_proj'
    views into the fused 3-D HF parameters (gate_up_proj [E,2I,H] rows 0..I-1 = gate, I..2I-1 = up)."""
    units = OrderedDict()
    for name, m in model.named_modules():
        if isinstance(m, torch.nn.Linear):
            units[name] = dict(kind="linear", module=m, parent=name.rsplit(".", 1)[0] if "." in name else "")
        elif is_fused_experts(m):
            E, I2, _ = m.gate_up_proj.shape
            for e in range(E):
                for proj in ("gate_proj", "up_proj", "down_proj"):
                    units[f"{name}.{e}.{proj}"] = dict(kind="expert", module=m, experts=name, e=e, proj=proj,
                                                       I=I2 // 2, parent=f"{name}.{e}")
    return units


def unit_weight(u):
    if u["kind"] == "linear":
        return u["module"].weight
    m, e, I = u["module"], u["e"], u["I"]
    if u["proj"] == "gate_proj":
        return m.gate_up_proj[e, :I]
    if u["proj"] == "up_proj":
        return m.gate_up_proj[e, I:]
    return m.down_proj[e]


# ====================================================================================================================
# Config writers (ModelOpt legacy + config.json, compressed-tensors)
# ====================================================================================================================


def summarise_exclude(unquantized, quantized):
    """ModelOpt's prefix-wildcard summary of unquantized module names (doc §3.1): for each unquantized name try, at
    every '.', the pattern 'prefix*' then the pair {prefix, prefix.*}, finally the exact name; a pattern is rejected
    when it is a prefix wildcard (or the exact name) of some quantized module; a name already covered adds nothing."""
    negative = set()
    for q in quantized:
        negative.add(q)
        negative.update(q[:i] + "*" for i in range(len(q) + 1))
    out = set()
    for name in unquantized:
        cands = []
        for i, ch in enumerate(name):
            if ch == ".":
                cands.append([name[:i] + "*"])
                cands.append([name[:i], name[:i] + ".*"])
        cands.append([name])
        chosen = []
        for c in cands:
            if any(w in negative for w in c):
                continue
            if all(w in out for w in c):
                chosen = []
                break
            chosen = c
            break
        out.update(chosen)
    return sorted(out)


def modelopt_layer_cfg(algo):
    return {"quant_algo": algo, "group_size": 16} if algo in NVFP4_ALGOS else {"quant_algo": algo}


def modelopt_group_details(algo, gs=16):
    if algo == "FP8":
        return {"input_activations": {"dynamic": False, "num_bits": 8, "type": "float"},
                "weights": {"dynamic": False, "num_bits": 8, "type": "float"}}
    if algo == "NVFP4":
        return {"input_activations": {"dynamic": False, "num_bits": 4, "type": "float", "group_size": gs},
                "weights": {"dynamic": False, "num_bits": 4, "type": "float", "group_size": gs}}
    if algo == "W4A16_NVFP4":
        return {"weights": {"dynamic": False, "num_bits": 4, "type": "float", "group_size": gs}}
    raise ValueError(algo)


def modelopt_config_json_block(hfq, ct_trap=False):
    """config.json quantization_config from hf_quant_config.json, in ModelOpt's convert_hf_quant_config_format shape.
    ct_trap: the W4A16_NVFP4 group also declares input_activations (as in the published Qwen3.6 config.json)."""
    q = hfq["quantization"]
    algo = q["quant_algo"]
    out = OrderedDict()
    if algo == "MIXED_PRECISION":
        by_cfg = OrderedDict()
        for name, lc in q["quantized_layers"].items():
            by_cfg.setdefault(tuple(sorted(lc.items())), []).append(name)
        groups = OrderedDict()
        for i, (key, names) in enumerate(by_cfg.items()):
            lc = dict(key)
            g = modelopt_group_details(lc["quant_algo"], lc.get("group_size", 16))
            if ct_trap and lc["quant_algo"] == "W4A16_NVFP4":
                g = modelopt_group_details("NVFP4", lc.get("group_size", 16))
            g["targets"] = sorted(names)
            groups[f"group_{i}"] = g
        out["config_groups"] = groups
        out["quantized_layers"] = q["quantized_layers"]
    else:
        g = modelopt_group_details(algo, q.get("group_size", 16))
        g["targets"] = ["Linear"]
        out["config_groups"] = {"group_0": g}
    out["ignore"] = list(q.get("exclude_modules") or [])
    out["quant_algo"] = algo
    if q.get("kv_cache_quant_algo"):
        out["kv_cache_scheme"] = {"dynamic": False, "num_bits": 8, "type": "float"}
    out["producer"] = hfq["producer"]
    out["quant_method"] = "modelopt"
    return out


def ct_config_block(ignore, version):
    def args(dynamic, observer):
        return OrderedDict([("actorder", None), ("block_structure", None), ("dynamic", dynamic), ("group_size", 16),
                            ("num_bits", 4), ("observer", observer), ("observer_kwargs", {}),
                            ("scale_dtype", "torch.float8_e4m3fn"), ("strategy", "tensor_group"), ("symmetric", True),
                            ("type", "float"), ("zp_dtype", None)])
    return OrderedDict([
        ("config_groups", {"group_0": OrderedDict([
            ("format", "nvfp4-pack-quantized"),
            ("input_activations", args("local", "static_minmax")),
            ("output_activations", None),
            ("targets", ["Linear"]),
            ("weights", args(False, "memoryless_minmax"))])}),
        ("format", "nvfp4-pack-quantized"),
        ("global_compression_ratio", None),
        ("ignore", list(ignore)),
        ("kv_cache_scheme", None),
        ("quant_method", "compressed-tensors"),
        ("quantization_status", "compressed"),
        ("sparsity_config", {}),
        ("transform_config", {}),
        ("version", version),
    ])


def ct_match(name, pat):
    return re.match(pat[3:], name) is not None if pat.startswith("re:") else name == pat


# --- the config's opinion, evaluated like a loader would (doc §3.2 / §11 step 3) ------------------------------------

def config_opinion(case, qcfg, unit_names):
    """name -> algo or None, from the written config alone."""
    out = {}
    if case["producer"] == "ct":
        for n in unit_names:
            out[n] = None if any(ct_match(n, p) for p in qcfg["ignore"]) else "NVFP4"
        return out
    q = qcfg["quantization"]
    if q["quant_algo"] == "MIXED_PRECISION":
        ql = q["quantized_layers"]
        for n in unit_names:
            m = re.match(r"^(.*\.experts)\.\d+\.(gate|up|down)_proj$", n)
            lc = ql.get(n) or (ql.get(m.group(1)) if m else None)
            if lc and any(fnmatch.fnmatchcase(n, p) for p in q.get("exclude_modules", [])):
                lc = None
            out[n] = lc["quant_algo"] if lc else None
        return out
    for n in unit_names:
        out[n] = None if any(fnmatch.fnmatchcase(n, p) for p in q["exclude_modules"]) else q["quant_algo"]
    return out


# ====================================================================================================================
# Independent re-reader of the written checkpoint (tensor opinion + dequantization)
# ====================================================================================================================

def read_checkpoint(d):
    idx = os.path.join(d, "model.safetensors.index.json")
    files = sorted(set(json.load(open(idx))["weight_map"].values())) if os.path.exists(idx) else ["model.safetensors"]
    t = OrderedDict()
    for fn in files:
        with safe_open(os.path.join(d, fn), "pt") as f:
            for k in f.keys():
                t[k] = f.get_tensor(k)
    return t


def dequantize_checkpoint(t):
    """Detect the format of every '<p>.weight'/'<p>.weight_packed' from dtypes/shapes/scale tensors alone, and return
    (fp32 tensors under plain '<p>.weight' names, {prefix: format})."""
    out, fmt = OrderedDict(), OrderedDict()
    used = set()
    for k, v in t.items():
        if k.endswith(".weight_packed"):
            p = k[:-len(".weight_packed")]
            s8, gs = t[p + ".weight_scale"], t[p + ".weight_global_scale"]
            assert v.dtype == torch.uint8 and s8.dtype == F8 and gs.dtype == torch.float32 and list(gs.shape) == [1]
            assert s8.shape[0] == v.shape[0] and s8.shape[1] * 8 == v.shape[1]
            out[p + ".weight"] = nvfp4_ct_dequant(v, s8, gs.reshape(()))
            fmt[p] = "ct-NVFP4" + ("(W4A4)" if p + ".input_global_scale" in t else "(W4A16)")
            used.update([k, p + ".weight_scale", p + ".weight_global_scale", p + ".input_global_scale"])
        elif k.endswith(".weight") and v.dtype == torch.uint8:
            p = k[:-len(".weight")]
            s8, ws2 = t[p + ".weight_scale"], t[p + ".weight_scale_2"]
            assert s8.dtype == F8 and s8.shape[0] == v.shape[0] and s8.shape[1] * 8 == v.shape[1]
            assert ws2.dtype == torch.float32 and ws2.dim() == 0
            out[k] = nvfp4_dequant(v, s8, ws2)
            fmt[p] = "NVFP4" if p + ".input_scale" in t else "W4A16_NVFP4"
            used.update([k, p + ".weight_scale", p + ".weight_scale_2", p + ".input_scale"])
        elif k.endswith(".weight") and v.dtype == F8:
            p = k[:-len(".weight")]
            ws = t[p + ".weight_scale"]
            assert ws.dtype == torch.float32 and ws.dim() == 0 and (p + ".input_scale") in t
            out[k] = fp8_dequant(v, ws)
            fmt[p] = "FP8"
            used.update([k, p + ".weight_scale", p + ".input_scale"])
    for k, v in t.items():
        if k in used:
            continue
        assert v.dtype in (torch.bfloat16, torch.float32), (k, v.dtype)
        out[k] = v.float()
        if k.endswith(".weight") and v.dim() == 2:
            fmt[k[:-len(".weight")]] = "BF16"
    return out, fmt


# ====================================================================================================================
# Calibration, grouping, actquant hooks
# ====================================================================================================================

def same_input_groups(model, ids):
    """ModelOpt's fusion grouping: nn.Linear modules that receive the same input tensor object in a forward."""
    seen, keep, hooks = OrderedDict(), [], []
    names = {m: n for n, m in model.named_modules() if isinstance(m, torch.nn.Linear)}

    def pre(m, args):
        keep.append(args[0])  # keep alive so id() stays unique
        seen.setdefault(id(args[0]), []).append(names[m])
    for m in names:
        hooks.append(m.register_forward_pre_hook(pre))
    with torch.no_grad():
        model(input_ids=torch.tensor(ids)[None], use_cache=False)
    for h in hooks:
        h.remove()
    return [g for g in seen.values() if len(g) > 1]


def calibrate(model, units, ids, ct):
    """Activation amax per unit name over the prefill of ids (fp32 BF16-original model).
    Experts (ModelOpt): gate/up amax over the tokens routed to any expert of the layer, down amax over the routed
    tokens of every expert, both shared by all experts of the layer. Experts (compressed-tensors,
    calibrate-all-experts): per expert, over ALL tokens."""
    amax, hooks = {}, []
    lin = {u["module"]: n for n, u in units.items() if u["kind"] == "linear"}
    experts = {}
    for n, u in units.items():
        if u["kind"] == "expert":
            experts.setdefault(u["module"], u["experts"])

    def upd(n, v):
        amax[n] = max(amax.get(n, 0.0), float(v))

    def lin_pre(m, args):
        upd(lin[m], args[0].detach().abs().max())

    def exp_pre(m, args):
        x, top_k_index = args[0], args[1]
        name = experts[m]
        E, I = m.gate_up_proj.shape[0], m.gate_up_proj.shape[1] // 2
        for e in range(E):
            if ct:
                xe = x
            else:
                rows = (top_k_index == e).any(-1)
                xe = x[rows]
                if xe.shape[0] == 0:
                    continue
            gu = F.linear(xe, m.gate_up_proj[e])
            h = m.act_fn(gu[:, :I]) * gu[:, I:]
            if ct:
                upd(f"{name}.{e}.gate_proj", xe.abs().max())
                upd(f"{name}.{e}.up_proj", xe.abs().max())
                upd(f"{name}.{e}.down_proj", h.abs().max())
            else:
                for ee in range(E):
                    upd(f"{name}.{ee}.gate_proj", xe.abs().max())
                    upd(f"{name}.{ee}.up_proj", xe.abs().max())
                    upd(f"{name}.{ee}.down_proj", h.abs().max())
    for m in lin:
        hooks.append(m.register_forward_pre_hook(lin_pre))
    for m in experts:
        hooks.append(m.register_forward_pre_hook(exp_pre))
    with torch.no_grad():
        model(input_ids=torch.tensor(ids)[None], use_cache=False)
    for h in hooks:
        h.remove()
    return amax


def experts_forward_with(pre_in, pre_down):
    """A copy of HF's eager fused-experts forward with activation hooks on the expert inputs (bit-identical to HF's
    eager path when the hooks are the identity; checked)."""
    def forward(self, hidden_states, top_k_index, top_k_weights):
        final = torch.zeros_like(hidden_states)
        with torch.no_grad():
            mask = torch.nn.functional.one_hot(top_k_index, num_classes=self.num_experts).permute(2, 1, 0)
            hit = torch.greater(mask.sum(dim=(-1, -2)), 0).nonzero()
        for ei in hit:
            e = ei[0]
            if e == self.num_experts:
                continue
            top_k_pos, token_idx = torch.where(mask[e])
            x = pre_in(int(e), hidden_states[token_idx])
            gate, up = torch.nn.functional.linear(x, self.gate_up_proj[e]).chunk(2, dim=-1)
            h = pre_down(int(e), self.act_fn(gate) * up)
            h = torch.nn.functional.linear(h, self.down_proj[e])
            h = h * top_k_weights[token_idx, top_k_pos, None]
            final.index_add_(0, token_idx, h.to(final.dtype))
        return final
    return forward


def install_actquant(model, units, algos, in_scales, identity=False, jitter=0.0):
    """Fake-quantize the input of every activation-quantized unit. Returns an undo function.
    jitter > 0: multiply each quantizer input by (1 + jitter*u), u ~ U(-1,1) seeded, before quantizing (used only to
    measure how sensitive logits_actquant is to ulp-level differences in the activations)."""
    hooks, patched = [], []
    ref_units = quant_units(model)
    g = torch.Generator().manual_seed(12345)

    def jit(f):
        if not jitter:
            return f
        return lambda x, s: f(x * (1 + jitter * (2 * torch.rand(x.shape, generator=g) - 1)), s)
    fq = {"nvfp4": jit(fq_nvfp4_act), "fp8": jit(fq_fp8_act)}
    for n, u in ref_units.items():
        a = algos.get(n)
        if u["kind"] != "linear" or not a or not ACT_QUANT[a]:
            continue
        f, s = fq[ACT_QUANT[a]], in_scales[n]
        hooks.append(u["module"].register_forward_pre_hook(
            (lambda f, s: lambda m, args: (args[0] if identity else f(args[0], s),) + tuple(args[1:]))(f, s)))
    exps = OrderedDict()
    for n, u in ref_units.items():
        if u["kind"] == "expert":
            exps.setdefault(u["experts"], u["module"])
    for ename, m in exps.items():
        def mk(proj_names, ename=ename):  # bind this layer's name now (a closure would see the last one)
            def hook(e, x):
                a = algos.get(f"{ename}.{e}.{proj_names[0]}")
                if identity or not a or not ACT_QUANT[a]:
                    return x
                ss = {in_scales[f"{ename}.{e}.{p}"].item() for p in proj_names}
                assert len(ss) == 1, f"{ename}.{e}: {proj_names} input scales differ"
                return fq[ACT_QUANT[a]](x, in_scales[f"{ename}.{e}.{proj_names[0]}"])
            return hook
        if not identity and not any(algos.get(f"{ename}.0.{p}") for p in ("gate_proj", "up_proj", "down_proj")):
            continue
        m.forward = types.MethodType(experts_forward_with(mk(("gate_proj", "up_proj")), mk(("down_proj",))), m)
        patched.append(m)

    def undo():
        for h in hooks:
            h.remove()
        for m in patched:
            del m.forward
    return undo


# ====================================================================================================================
# Checkpoint writing helpers
# ====================================================================================================================

def fake_mtp_dense(tc, dtype, seed):
    """A well-formed random dense MTP head (BF16), as the Qwen3.6 checkpoints carry; HF ignores mtp.*."""
    g = torch.Generator().manual_seed(seed)
    H, hd, Hq, Hkv, I = tc.hidden_size, tc.head_dim, tc.num_attention_heads, tc.num_key_value_heads, \
        tc.intermediate_size
    shapes = OrderedDict([
        ("mtp.fc.weight", (H, 2 * H)), ("mtp.pre_fc_norm_embedding.weight", (H,)),
        ("mtp.pre_fc_norm_hidden.weight", (H,)), ("mtp.norm.weight", (H,)),
        ("mtp.layers.0.input_layernorm.weight", (H,)), ("mtp.layers.0.post_attention_layernorm.weight", (H,)),
        ("mtp.layers.0.self_attn.q_proj.weight", (Hq * hd * 2, H)),
        ("mtp.layers.0.self_attn.k_proj.weight", (Hkv * hd, H)),
        ("mtp.layers.0.self_attn.v_proj.weight", (Hkv * hd, H)), ("mtp.layers.0.self_attn.o_proj.weight", (H, Hq * hd)),
        ("mtp.layers.0.self_attn.q_norm.weight", (hd,)), ("mtp.layers.0.self_attn.k_norm.weight", (hd,)),
        ("mtp.layers.0.mlp.gate_proj.weight", (I, H)), ("mtp.layers.0.mlp.up_proj.weight", (I, H)),
        ("mtp.layers.0.mlp.down_proj.weight", (H, I)),
    ])
    return OrderedDict((k, mg.init_value(k, s, H, g).to(dtype).contiguous()) for k, s in shapes.items())


def write_two_shards_straddling(tensors, d, straddle_prefix):
    """2 shards + index; the split point is between '<straddle_prefix>.weight' and '<straddle_prefix>.weight_scale'
    (sorted key order), so one quantized module's tensors are spread over both files."""
    keys = sorted(tensors)
    cut = keys.index(straddle_prefix + ".weight") + 1
    assert keys[cut] == straddle_prefix + ".weight_scale"
    shards = [keys[:cut], keys[cut:]]
    wm = {}
    for i, ks in enumerate(shards):
        fn = f"model-{i + 1:05d}-of-00002.safetensors"
        save_file({k: tensors[k].contiguous() for k in ks}, os.path.join(d, fn), metadata={"format": "pt"})
        wm.update({k: fn for k in ks})
    total = sum(v.numel() * v.element_size() for v in tensors.values())
    with open(os.path.join(d, "model.safetensors.index.json"), "w") as f:
        json.dump({"metadata": {"total_size": total}, "weight_map": dict(sorted(wm.items()))}, f, indent=2)
        f.write("\n")


def dump_json(path, obj, indent):
    with open(path, "w") as f:
        json.dump(obj, f, indent=indent)
        f.write("\n")


# ====================================================================================================================
# One case
# ====================================================================================================================

def make_case(name, case, out_root):
    d = os.path.join(out_root, name)
    if os.path.isdir(d):
        shutil.rmtree(d)
    os.makedirs(d)
    seed, cls_name = case["seed"], case["cls"]
    moe = "Moe" in cls_name or "Next" in cls_name
    ct = case["producer"] == "ct"
    notes = []
    tmp = tempfile.mkdtemp(prefix="qgolden_")
    try:
        # ---- 1. the BF16 original -------------------------------------------------------------------------------
        torch.manual_seed(seed)
        config = mg.build_config(case)
        model = getattr(transformers, cls_name)(config)
        mg.randomize(model, seed)
        with torch.no_grad():
            for pat, fac in case.get("pre_scale", {}).items():
                k = 0
                for pn, p in model.named_parameters():
                    if re.search(pat, pn):
                        p.mul_(fac)
                        k += 1
                notes.append(f"scaled {k} original tensors matching /{pat}/ by {fac} before BF16 rounding")
        model.to(torch.bfloat16)
        bf16_dir = os.path.join(tmp, "bf16")
        model.save_pretrained(bf16_dir)
        del model
        orig, info = mg.load_model(cls_name, bf16_dir, moe)
        assert not any(info.get(k) for k in ("missing_keys", "unexpected_keys", "mismatched_keys")), info
        tc = mg.text_config_of(orig.config)
        saved, _ = mg.read_dir_tensors(bf16_dir)

        # ---- 2. layout ------------------------------------------------------------------------------------------
        units = quant_units(orig)
        if ct:
            algos = {n: (None if any(ct_match(n, p) for p in CT_IGNORE) else "NVFP4") for n in units}
        else:
            algos = {n: case["algo"](n) for n in units}
        qnames = [n for n in units if algos[n]]
        for n in qnames:
            assert (n + ".weight") in saved, n

        # ---- 3. fused-shard groups ------------------------------------------------------------------------------
        ids0 = np.random.default_rng(seed).integers(0, tc.vocab_size, size=T).tolist()
        if ct:  # llm-compressor FUSED_LAYER_NAMES: (q,k,v) and (gate,up) under one parent
            groups = []
            parents = OrderedDict()
            for n in qnames:
                parents.setdefault(units[n]["parent"], []).append(n)
            for par, ns in parents.items():
                for fam in (("q_proj", "k_proj", "v_proj"), ("gate_proj", "up_proj")):
                    g = [x for x in ns if x.rsplit(".", 1)[1] in fam]
                    if len(g) > 1:
                        groups.append(g)
        else:
            groups = []
            for g in same_input_groups(orig, ids0):
                gq = [n for n in g if algos[n]]
                if len(gq) > 1:
                    groups.append(gq)
            for n in qnames:  # one fused quantizer per expert gate_up (ModelOpt)
                if units[n]["kind"] == "expert" and units[n]["proj"] == "gate_proj":
                    groups.append([n, n.replace(".gate_proj", ".up_proj")])
            for pat in case.get("unshared", []):
                broken = [g for g in groups if all(re.search(pat, n) for n in g)]
                groups = [g for g in groups if g not in broken]
                notes.append(f"deliberately NOT sharing weight_scale_2 in {len(broken)} groups matching /{pat}/")
        for g in groups:
            assert len({algos[n] for n in g}) == 1, f"mixed formats in fused group {g}"
        group_of = {n: tuple(g) for g in groups for n in g}

        # ---- 4. weight quantization -----------------------------------------------------------------------------
        W = {n: unit_weight(units[n]).detach().float().clone() for n in qnames}
        wamax = {n: W[n].abs().max() for n in qnames}
        qt, deq, wscal = OrderedDict(), OrderedDict(), {}
        for n in qnames:
            a = algos[n]
            amax = max((wamax[x] for x in group_of.get(n, (n,))), key=float)
            if a in NVFP4_ALGOS and not ct:
                ws2 = amax / (6.0 * 448.0)
                packed, s8 = nvfp4_modelopt_quantize(W[n], ws2)
                qt[n] = {"weight": packed, "weight_scale": s8, "weight_scale_2": ws2.reshape(())}
                deq[n] = nvfp4_dequant(packed, s8, ws2)
                wscal[n] = ws2.item()
            elif a in NVFP4_ALGOS and ct:
                gs = f32(6.0 * 448.0) / amax
                packed, s8 = nvfp4_ct_quantize(W[n], gs)
                qt[n] = {"weight_packed": packed, "weight_scale": s8, "weight_global_scale": gs.reshape(1)}
                deq[n] = nvfp4_ct_dequant(packed, s8, gs)
                wscal[n] = gs.item()
            elif a == "FP8":
                ws = amax / 448.0
                q8 = fp8_quantize(W[n], ws)
                qt[n] = {"weight": q8, "weight_scale": ws.reshape(())}
                deq[n] = fp8_dequant(q8, ws)
                wscal[n] = ws.item()
            else:
                raise ValueError(a)
        qerr = OrderedDict()
        for n in qnames:
            key = ("ct-" if ct else "") + algos[n]
            r = ((deq[n] - W[n]).norm() / W[n].norm()).item()
            qerr.setdefault(key, []).append(r)

        # ---- 5. dequantized fp32 reference model: set weights, save fp32, reload -----------------------------------
        ref_mem = copy.deepcopy(orig)
        ru = quant_units(ref_mem)
        with torch.no_grad():
            for n in qnames:
                unit_weight(ru[n]).copy_(deq[n])
        ref_dir = os.path.join(tmp, "ref_fp32")
        ref_mem.save_pretrained(ref_dir)
        ref, info = mg.load_model(cls_name, ref_dir, moe)
        assert not any(info.get(k) for k in ("missing_keys", "unexpected_keys", "mismatched_keys")), info
        mg.verify_loaded(ref, ref_dir)  # reload == what was saved
        rru = quant_units(ref)
        for n in qnames:
            assert torch.equal(unit_weight(rru[n]).detach(), deq[n]), n

        # ---- 6. ids (router-gap redraw), calibration, actquant -----------------------------------------------------
        act_units = [n for n in qnames if ACT_QUANT[algos[n]]]
        for attempt in range(100):
            ids_seed = seed + 7919 * attempt
            ids = np.random.default_rng(ids_seed).integers(0, tc.vocab_size, size=T).tolist()
            logits, decode_logits, taps, states, state_diff, gap = mg.run_reference(ref, ids)
            if gap is not None and gap < mg.MIN_ROUTER_LOGIT_GAP:
                continue
            amax_in = calibrate(orig, units, ids, ct)
            in_scales = {}
            for n in act_units:
                a = algos[n]
                am = f32(max(amax_in[x] for x in (group_of.get(n, (n,)) if not ct else (n,))))
                if a == "FP8":
                    in_scales[n] = am / 448.0
                elif ct:
                    in_scales[n] = 1.0 / (f32(6.0 * 448.0) / am)  # consumer view of input_global_scale
                else:
                    in_scales[n] = am / (6.0 * 448.0)
            logits_aq, gap_aq = None, None
            if act_units:
                undo = install_actquant(ref, units, algos, in_scales)
                logits_aq, dec_aq, _, _, _, gap_aq = mg.run_reference(ref, ids)
                undo()
                if gap_aq is not None and gap_aq < mg.MIN_ROUTER_LOGIT_GAP:
                    continue
            break
        else:
            raise AssertionError(f"{name}: could not avoid MoE routing near-ties")
        # input scale tensors as stored
        for n in act_units:
            am = f32(max(amax_in[x] for x in (group_of.get(n, (n,)) if not ct else (n,))))
            if ct:
                qt[n]["input_global_scale"] = (f32(6.0 * 448.0) / am).reshape(1)
            elif algos[n] == "FP8":
                qt[n]["input_scale"] = (am / 448.0).reshape(())
            else:
                qt[n]["input_scale"] = (am / (6.0 * 448.0)).reshape(())

        stats = OrderedDict(logits_std=logits.std().item(), logits_max_abs=logits.abs().max().item(),
                            hidden_max_abs=max(v.abs().max().item() for v in taps.values()),
                            prefill_vs_decode_max_diff=(logits - decode_logits).abs().max().item(),
                            decode_state_vs_prefill_state_max_diff=state_diff)
        if gap is not None:
            stats["router_min_topk_logit_gap"] = gap
        # in-memory dequantized model vs the from_pretrained reload: must be identical
        with torch.no_grad():
            lm = ref_mem(input_ids=torch.tensor(ids)[None]).logits[0]
        stats["inmemory_vs_reloaded_max_diff"] = (lm - logits).abs().max().item()
        with torch.no_grad():
            lo = orig(input_ids=torch.tensor(ids)[None]).logits[0]
        stats["vs_unquantized_bf16_max_diff"] = (lo - logits).abs().max().item()
        stats["vs_unquantized_bf16_argmax_agree"] = (lo.argmax(-1) == logits.argmax(-1)).float().mean().item()
        if act_units:
            dq = (logits_aq - logits).abs()
            stats["actquant_vs_weightonly_max_diff"] = dq.max().item()
            stats["actquant_vs_weightonly_rms_diff"] = dq.pow(2).mean().sqrt().item()
            stats["actquant_vs_weightonly_rel_max"] = dq.max().item() / logits.abs().max().item()
            stats["actquant_vs_weightonly_argmax_agree"] = \
                (logits_aq.argmax(-1) == logits.argmax(-1)).float().mean().item()
            stats["actquant_prefill_vs_decode_max_diff"] = (logits_aq - dec_aq).abs().max().item()
            # sensitivity: activations perturbed by ~2 ulp (relative 2.4e-7) before the fake quantizers
            # and by 2^-14 relative (a BF16-like perturbation)
            for key, jt in (("actquant_2ulp_jitter_max_diff", 2.0 ** -22),
                            ("actquant_2e-14_jitter_max_diff", 2.0 ** -14)):
                undo = install_actquant(ref, units, algos, in_scales, jitter=jt)
                with torch.no_grad():
                    lj = ref(input_ids=torch.tensor(ids)[None]).logits[0]
                undo()
                stats[key] = (lj - logits_aq).abs().max().item()
            if gap_aq is not None:
                stats["actquant_router_min_topk_logit_gap"] = gap_aq
        if moe:  # the patched experts forward (used for actquant) is bit-identical to HF's eager forward
            undo = install_actquant(ref, units, algos, in_scales, identity=True)
            with torch.no_grad():
                li = ref(input_ids=torch.tensor(ids)[None]).logits[0]
            undo()
            stats["patched_experts_identity_max_diff"] = (li - logits).abs().max().item()
            assert stats["patched_experts_identity_max_diff"] == 0.0
        stats["weight_rel_rms_error"] = {k: float(np.mean(v)) for k, v in qerr.items()}
        # tolerance guide: the same model with the dequantized weights rounded to BF16 (what a "dequantize to BF16 +
        # BF16 GEMM" engine path would hold), fp32 compute
        ref_b = copy.deepcopy(ref)
        rbu = quant_units(ref_b)
        with torch.no_grad():
            for n in qnames:
                w_ = unit_weight(rbu[n])
                w_.copy_(w_.bfloat16().float())
            lb = ref_b(input_ids=torch.tensor(ids)[None]).logits[0]
        del ref_b
        stats["dequant_weights_rounded_to_bf16_max_diff"] = (lb - logits).abs().max().item()
        stats["dequant_weights_rounded_to_bf16_argmax_agree"] = \
            (lb.argmax(-1) == logits.argmax(-1)).float().mean().item()
        # scale ratios inside groups that are NOT uniform (deliberate, or llm-compressor's unfused GDN projections)
        if ct:
            for n in qnames:
                if n.endswith("layers.0.linear_attn.in_proj_qkv"):
                    z = n.replace("in_proj_qkv", "in_proj_z")
                    notes.append(f"layer 0 weight_global_scale in_proj_qkv {wscal[n]:.6g} vs in_proj_z {wscal[z]:.6g} "
                                 "(not shared, as llm-compressor does not fuse GDN projections)")
        for pat in case.get("unshared", []):
            for n in qnames:
                if re.search(pat, n) and n.endswith("gate_proj"):
                    u_ = n.replace("gate_proj", "up_proj")
                    notes.append(f"{n.rsplit('.', 2)[0]}: weight_scale_2 gate {wscal[n]:.6g}, up {wscal[u_]:.6g} "
                                 f"(ratio {wscal[u_] / wscal[n]:.4f})")
                    break

        # ---- 7. write the quantized checkpoint --------------------------------------------------------------------
        tensors = OrderedDict(saved)
        for n in qnames:
            del tensors[n + ".weight"]
            for suf, v in qt[n].items():
                tensors[f"{n}.{suf}"] = v.contiguous()
        if case["mtp"] == "moe":
            tensors.update(mg.fake_mtp(tc, torch.bfloat16, seed + 7))
        elif case["mtp"] == "dense":
            tensors.update(fake_mtp_dense(tc, torch.bfloat16, seed + 7))
        if case["mtp"]:
            notes.append(f"added BF16 mtp.* tensors ({case['mtp']} MTP head; HF ignores them)")
        if case["shards"] == 2:
            straddle = next(n for n in sorted(qnames) if n.endswith("experts.3.down_proj"))
            write_two_shards_straddling(tensors, d, straddle)
            notes.append(f"2 shards: {straddle}.weight is in shard 1, its weight_scale/_2 in shard 2")
        else:
            save_file(dict(tensors), os.path.join(d, "model.safetensors"), metadata={"format": "pt"})
        for fn in os.listdir(bf16_dir):
            if fn.endswith(".json") and not fn.endswith("index.json"):
                shutil.copy(os.path.join(bf16_dir, fn), os.path.join(d, fn))

        # ---- 8. configs ---------------------------------------------------------------------------------------------
        cfg_path = os.path.join(d, "config.json")
        cj = json.load(open(cfg_path))
        written = OrderedDict()
        if ct:
            block = ct_config_block(CT_IGNORE, case["producer_version"])
            cj["quantization_config"] = block
            written["config.json quantization_config"] = block
            opinion_cfg = block
        else:
            quantizable = [n for n in units]  # modules that carry quantizers in ModelOpt (all Linear + experts)
            qmods = sorted({re.sub(r"\.\d+\.(gate|up|down)_proj$", "", n) if units[n]["kind"] == "expert" else n
                            for n in qnames})
            if case["mixed"]:
                ql = OrderedDict()
                for n in sorted(qnames):
                    key = re.sub(r"\.\d+\.(gate|up|down)_proj$", "", n) if units[n]["kind"] == "expert" else n
                    lc = modelopt_layer_cfg(algos[n])
                    assert ql.get(key, lc) == lc, f"experts of {key} disagree"
                    ql[key] = lc
                exclude = ["mtp*", "mtp.layers.0*"] if case["exclude"] == "qwen36" else []
                q = OrderedDict([("quant_algo", "MIXED_PRECISION"), ("kv_cache_quant_algo", None), ("group_size", 16),
                                 ("quantized_layers", OrderedDict(sorted(ql.items()))), ("exclude_modules", exclude)])
            else:
                unq = [n for n in quantizable if not algos[n]]
                exclude = summarise_exclude(unq, qmods)
                if case["exclude"] == "nvidia":
                    exclude = sorted(set(exclude) | {"*.mlp.shared_expert.*", "mtp.layers.0*", "mtp*"})
                q = OrderedDict([("quant_algo", case["top_algo"]), ("kv_cache_quant_algo", None)])
                if case["top_algo"] in NVFP4_ALGOS:
                    q["group_size"] = 16
                q["exclude_modules"] = exclude
            hfq = OrderedDict([("producer", {"name": "modelopt", "version": case["producer_version"]}),
                               ("quantization", q)])
            if "hf_quant_config" in case["files"]:
                dump_json(os.path.join(d, "hf_quant_config.json"), hfq, 4)
                written["hf_quant_config.json"] = hfq
            if "config_json" in case["files"]:
                block = modelopt_config_json_block(hfq, ct_trap=case.get("ct_trap", False))
                cj["quantization_config"] = block
                written["config.json quantization_config"] = block
            opinion_cfg = hfq
        with open(cfg_path, "w") as f:
            json.dump(cj, f, indent=2, sort_keys=True)
            f.write("\n")

        # ---- 9. independent checks of what was written --------------------------------------------------------------
        disk = read_checkpoint(d)
        deq_disk, fmt_disk = dequantize_checkpoint(disk)
        chk_dir = os.path.join(tmp, "from_disk")
        os.makedirs(chk_dir)
        save_file({k: v.contiguous() for k, v in deq_disk.items()}, os.path.join(chk_dir, "model.safetensors"))
        unused, _ = mg.verify_loaded(ref, chk_dir)  # every reference parameter == dequantized on-disk tensors
        assert all(u.startswith("mtp.") for u in unused), unused
        cop = config_opinion(case, opinion_cfg, list(units))
        top = case["top_algo"]
        for n in units:
            want = algos[n]
            tens = fmt_disk.get(n)
            exp_t = {None: "BF16", "NVFP4": "ct-NVFP4(W4A4)" if ct else "NVFP4", "W4A16_NVFP4": "W4A16_NVFP4",
                     "FP8": "FP8"}[want]
            if units[n]["kind"] == "linear" or want:
                assert tens == exp_t, f"{n}: tensors say {tens}, layout {want}"
            got = cop[n]
            if not case["mixed"] and got is not None:
                got = top if not ct else "NVFP4"
            assert got == want, f"{n}: config says {got}, layout {want}"
        if case["files"] == ("hf_quant_config", "config_json"):
            blk = cj["quantization_config"]
            assert blk["ignore"] == opinion_cfg["quantization"]["exclude_modules"]
            assert blk["quant_algo"] == opinion_cfg["quantization"]["quant_algo"]
            if case["mixed"]:
                assert blk["quantized_layers"] == opinion_cfg["quantization"]["quantized_layers"]
        notes.append("re-read of the written files: formats detected from tensors == layout == config opinion for "
                     f"all {len(units)} Linear/expert units; dequantized on-disk weights == reference parameters "
                     "(bit-exact)")

        # ---- 10. does transformers load the quantized folder? --------------------------------------------------------
        import warnings
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                kw = dict(dtype=torch.float32, output_loading_info=True)
                _m, li = transformers.AutoModelForCausalLM.from_pretrained(d, **kw)
            hf_load = (f"loaded WITHOUT error as {type(_m).__name__}: {len(li.get('missing_keys', []))} missing, "
                       f"{len(li.get('unexpected_keys', []))} unexpected, {len(li.get('mismatched_keys', []))} "
                       "mismatched keys: 'Unknown quantization type modelopt ... skip the quantization'; the F8 "
                       "weights are upcast WITHOUT their scales (garbage model, no error)")
            del _m
        except Exception as ex:  # noqa: BLE001
            hf_load = f"{type(ex).__name__}: {str(ex).strip().splitlines()[0][:200]}"
            if "ignore_mismatched_sizes" in str(ex):
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    _m, li = transformers.AutoModelForCausalLM.from_pretrained(
                        d, dtype=torch.float32, output_loading_info=True, ignore_mismatched_sizes=True)
                hf_load += (f" (size mismatch U8 [N,K/2] vs [N,K]); with ignore_mismatched_sizes=True it loads "
                            f"{type(_m).__name__} with {len(li.get('mismatched_keys', []))} mismatched weights "
                            f"re-initialised randomly and {len(li.get('unexpected_keys', []))} unexpected scale keys")
                del _m
        stats_hf = hf_load

        # ---- 11. golden file --------------------------------------------------------------------------------------
        gt = OrderedDict()
        gt["input_ids"] = torch.tensor(ids, dtype=torch.int64)
        gt["logits"] = logits
        gt["decode_logits"] = decode_logits
        if act_units:
            gt["logits_actquant"] = logits_aq.float().contiguous()
        gt.update(taps)
        gt.update(states)
        module_formats = OrderedDict((n, algos[n] or "BF16") for n in units)
        meta = {
            "case": name, "description": case["desc"], "hf_class": cls_name,
            "transformers_version": transformers.__version__, "torch_version": torch.__version__,
            "dtype": "float32", "checkpoint_dtype": "bfloat16 + quantized", "seed": str(seed),
            "ids_seed": str(ids_seed), "T": str(T), "P": str(P),
            "attn_implementation": "eager", "experts_implementation": "eager" if moe else "n/a",
            "layer_types": json.dumps(tc.layer_types),
            "quant_producer": "compressed-tensors" if ct else "modelopt",
            "quant_algo": top, "module_formats": json.dumps(module_formats),
            "reference_semantics": "weight-only: every quantized weight dequantized to fp32 "
                                   + ("(E2M1 * (fp32(scale) / weight_global_scale))" if ct else
                                      "(E2M1 * fp32(weight_scale) * weight_scale_2; FP8: fp32(weight) * weight_scale)")
                                   + ", activations NOT quantized",
            "actquant_semantics": ("logits_actquant: input of every NVFP4-W4A4 / FP8 Linear and expert projection "
                                   "fake-quantized: NVFP4 per 16 along K: s=E4M3(block_amax/6/input_scale), "
                                   "x'=E2M1_RNE(x/(s*input_scale))*s*input_scale; FP8: E4M3(clamp(x/input_scale))"
                                   "*input_scale" + ("; input_scale = 1/input_global_scale" if ct else ""))
                                  if act_units else "n/a (no activation-quantized module)",
            "conv_state_layout": "[conv_dim, K]: last K raw in_proj_qkv outputs, column K-1 = newest token",
            "recurrent_state_layout": "[HV, dk, dv] fp32 (S[k][v])",
            "stats": json.dumps(stats),
        }
        mg.write_golden(os.path.join(d, "golden.safetensors"), gt, meta)
        with safe_open(os.path.join(d, "golden.safetensors"), "pt") as f:
            assert all(torch.equal(f.get_tensor(k), v) for k, v in gt.items())
        files, layout = mg.layout_summary(d)
        size = sum(os.path.getsize(os.path.join(d, f)) for f in os.listdir(d))
        print(f"[{name}] {cls_name} {top} size={size} B logits std={stats['logits_std']:.3f} "
              f"prefill-vs-decode={stats['prefill_vs_decode_max_diff']:.2e} "
              f"vs-unquantized max|d|={stats['vs_unquantized_bf16_max_diff']:.3f}"
              + (f" actquant max|d|={stats['actquant_vs_weightonly_max_diff']:.3f} "
                 f"(argmax agree {stats['actquant_vs_weightonly_argmax_agree']:.3f})" if act_units else "")
              + (f" router gap={gap:.2e}" if gap is not None else "")
              + f" bf16-rounded-dequant max|d|={stats['dequant_weights_rounded_to_bf16_max_diff']:.3f}", flush=True)
        for nt in notes:
            print("    note:", nt)
        print("    transformers on the quantized folder:", stats_hf)
        if not stats["logits_std"] > 0.5:
            raise AssertionError(f"{name}: logits look flat")
        if not stats["prefill_vs_decode_max_diff"] <= 1e-4 * max(1.0, stats["logits_max_abs"]):
            raise AssertionError(f"{name}: prefill vs decode mismatch")
        assert stats["inmemory_vs_reloaded_max_diff"] == 0.0

        # a representative module of each kind, for the manifest
        examples = OrderedDict()
        for n in qnames:
            kind = ("ct-" if ct else "") + algos[n] + (" expert" if units[n]["kind"] == "expert" else "")
            if kind not in examples:
                examples[kind] = [(f"{n}.{s}", str(v.dtype).replace("torch.", ""), list(v.shape),
                                   (v.item() if v.numel() == 1 else None)) for s, v in qt[n].items()]
        share_info = []
        for g in groups[:200]:
            vals = sorted({wscal[n] for n in g})
            share_info.append((g, vals))
        return dict(name=name, case=case, config=tc, ids_seed=ids_seed, stats=stats, notes=notes, files=files,
                    layout=layout, size=size, written=written, hf_load=stats_hf, examples=examples,
                    groups=groups, wscal=wscal, module_formats=module_formats, in_scales=in_scales,
                    golden_keys=[(k, str(v.dtype).replace("torch.", ""), list(v.shape)) for k, v in gt.items()])
    finally:
        shutil.rmtree(tmp)


# ====================================================================================================================
# Manifest
# ====================================================================================================================

def short_groups(r):
    """Compact description of the shared-scale groups of one layer (layer 0 / expert 0 where present)."""
    out = []
    for g in r["groups"]:
        if re.search(r"layers\.0\.", g[0]) or (re.search(r"layers\.\d+\.", g[0]) is None):
            if re.search(r"experts\.\d+\.", g[0]) and not re.search(r"experts\.0\.", g[0]):
                continue
            vals = sorted({r["wscal"][n] for n in g})
            out.append("{" + ", ".join(n.rsplit(".", 1)[1] if "experts" not in n else n.split("mlp.")[1] for n in g)
                       + "}" + f" -> {len(vals)} distinct scale(s)")
    return out


def write_manifest(out_root, results):
    L = ["# Quantized golden data manifest", "",
         "Generated by `tools/golden/make_quant_goldens.py` (see `tools/golden/README.md`, section "
         "\"make_quant_goldens.py\"). Do not edit by hand.", "",
         f"- transformers {transformers.__version__}, torch {torch.__version__}, numpy {np.__version__}, CPU, "
         "float32, eager attention, eager experts, torch fallback GDN",
         f"- T = {T} ids, P = {P} for `decode_logits`; MoE ids redrawn until the k-th vs (k+1)-th router-logit gap "
         "is >= 1e-3 in BOTH the weight-only and the actquant run",
         "- Non-quantized tensors are BF16 (the random model is rounded to BF16 first; quantization starts from "
         "those BF16 values). Reference = transformers fp32 on the DEQUANTIZED weights; activations unquantized "
         "(`logits`, `decode_logits`, taps, states). `logits_actquant` (where present) adds activation "
         "fake-quantization on the input of every NVFP4-W4A4 / FP8 Linear or expert projection.",
         "- Dequantization: ModelOpt NVFP4 `E2M1(nibble) * fp32(weight_scale) * weight_scale_2` (nibble of element "
         "2j = low nibble of byte j); compressed-tensors `E2M1 * (fp32(weight_scale) / weight_global_scale)`; FP8 "
         "`fp32(weight) * weight_scale`. An engine that computes `1/weight_global_scale` first or multiplies in "
         "another order differs by ~1 ulp of fp32 per weight.",
         "", "| case | HF class | producer / quant_algo | config files | folder bytes | logit std | "
         "actquant max abs diff (argmax agree) |", "|---|---|---|---|---|---|---|"]
    for r in results:
        c, s = r["case"], r["stats"]
        aq = (f"{s['actquant_vs_weightonly_max_diff']:.3f} ({s['actquant_vs_weightonly_argmax_agree']:.3f})"
              if "actquant_vs_weightonly_max_diff" in s else "n/a")
        L.append(f"| {r['name']} | {c['cls']} | {'compressed-tensors' if c['producer'] == 'ct' else 'modelopt'} "
                 f"{c['top_algo']} | {', '.join(r['written'])} | {r['size']} | {s['logits_std']:.3f} | {aq} |")
    L.append("")
    total = 0
    for r in results:
        total += r["size"]
        c, s = r["case"], r["stats"]
        counts = OrderedDict()
        for n, f in r["module_formats"].items():
            counts[f] = counts.get(f, 0) + 1
        L += [f"## {r['name']}", "", c["desc"], "",
              f"- class `{c['cls']}`, seed {c['seed']}, layer_types {r['config'].layer_types}, "
              f"input ids numpy default_rng({r['ids_seed']}).integers(0, vocab, {T})",
              f"- files: {', '.join(r['files'])} + config.json, generation_config.json"
              + (", hf_quant_config.json" if "hf_quant_config.json" in r["written"] else "")
              + (", model.safetensors.index.json" if len(r["files"]) > 1 else "") + f"; folder {r['size']} B",
              "- Linear/expert units by format: " + ", ".join(f"{k} {v}" for k, v in counts.items()),
              f"- logits std {s['logits_std']:.4f}, max|logit| {s['logits_max_abs']:.3f}, max|hidden| "
              f"{s['hidden_max_abs']:.3f}, prefill-vs-decode max|d| {s['prefill_vs_decode_max_diff']:.3e}, "
              f"GDN state decode-vs-prefill max|d| {s['decode_state_vs_prefill_state_max_diff']:.3e}"
              + (f", router min top-k gap {s['router_min_topk_logit_gap']:.2e}" if "router_min_topk_logit_gap" in s
                 else ""),
              f"- dequantized vs unquantized BF16 model: max|d logits| {s['vs_unquantized_bf16_max_diff']:.3f}, "
              f"argmax agreement {s['vs_unquantized_bf16_argmax_agree']:.3f}; weight relative RMS error "
              + ", ".join(f"{k} {v:.3f}" for k, v in s["weight_rel_rms_error"].items()),
              f"- tolerance guide: the dequantized weights rounded to BF16 move the logits by max|d| "
              f"{s['dequant_weights_rounded_to_bf16_max_diff']:.4f} (argmax agreement "
              f"{s['dequant_weights_rounded_to_bf16_argmax_agree']:.3f})"]
        if "actquant_vs_weightonly_max_diff" in s:
            L.append(f"- logits_actquant vs logits: max|d| {s['actquant_vs_weightonly_max_diff']:.4f} "
                     f"({100 * s['actquant_vs_weightonly_rel_max']:.2f}% of max|logit|), rms "
                     f"{s['actquant_vs_weightonly_rms_diff']:.4f}, argmax agreement "
                     f"{s['actquant_vs_weightonly_argmax_agree']:.3f}; actquant prefill-vs-decode "
                     f"{s['actquant_prefill_vs_decode_max_diff']:.2e}; perturbing every quantizer input by ~2 ulp "
                     f"changes logits_actquant by max|d| {s['actquant_2ulp_jitter_max_diff']:.3e}, by 2^-14 relative: "
                     f"{s['actquant_2e-14_jitter_max_diff']:.3e}"
                     + (f", actquant router gap {s['actquant_router_min_topk_logit_gap']:.2e}"
                        if "actquant_router_min_topk_logit_gap" in s else ""))
        L.append(f"- transformers {transformers.__version__} `AutoModelForCausalLM.from_pretrained` on this "
                 f"quantized folder: {r['hf_load']}")
        sg = short_groups(r)
        if sg:
            L.append("- shared-scale groups (layer 0 / expert 0 shown): " + "; ".join(sg))
        L += ["- notes: " + "; ".join(r["notes"]), "", "One quantized module of each kind (name dtype shape [value]):",
              "", "```"]
        for kind, rows in r["examples"].items():
            L.append(f"# {kind}")
            for k, dt, sh, v in rows:
                L.append(f"{k} {dt} {sh}" + (f" = {v:.9g}" if v is not None else ""))
        L += ["```", ""]
        for fn, obj in r["written"].items():
            L += [f"{fn}:", "", "```json", json.dumps(obj, indent=2), "```", ""]
        L += ["Checkpoint tensors (`{i}` = layer, `{e}` = expert):", "", "```"] + r["layout"]
        L += ["```", "", "golden.safetensors:", "", "```"]
        L += [f"{k} {dt} {sh}" for k, dt, sh in r["golden_keys"]] + ["```", ""]
    L.append(f"Total size of all case folders: {total} B")
    with open(os.path.join(out_root, "MANIFEST.md"), "w") as f:
        f.write("\n".join(L) + "\n")
    return total


def self_test():
    """Spot checks of the number formats against hand-computed values."""
    x = torch.tensor([0.0, 0.25, 0.26, 0.75, 1.25, 1.75, 2.5, 3.5, 5.0, 5.01, 7.0, -0.1, -0.75, -6.0, 1e9])
    want = [0.0, 0.0, 0.5, 1.0, 1.0, 2.0, 2.0, 4.0, 4.0, 6.0, 6.0, -0.0, -1.0, -6.0, 6.0]
    got = e2m1_decode(e2m1_encode(x)).tolist()
    assert got == want, (got, want)
    assert e2m1_encode(torch.tensor([-0.1])).item() == 8  # sign kept on -0
    codes = torch.tensor([[1, 2, 3, 4]], dtype=torch.uint8)
    assert pack_nibbles(codes).tolist() == [[0x21, 0x43]] and torch.equal(unpack_nibbles(pack_nibbles(codes)), codes)
    assert to_e4m3(torch.tensor([1000.0, 0.3, 2.0 ** -10])).float().tolist() == [448.0, 0.3125, 0.0]
    # nvfp4 round trip on grid values is exact
    w = torch.tensor([[6.0, -4.0, 3.0, 2.0, 1.5, 1.0, 0.5, 0.0] * 2]) * 1.75
    ws2 = f32(2.0 ** -8)  # block scale 10.5/(6*2^-8) = 448 exactly, divisor 1.75 exactly
    pk, s8 = nvfp4_modelopt_quantize(w, ws2)
    assert torch.equal(nvfp4_dequant(pk, s8, ws2), w), nvfp4_dequant(pk, s8, ws2)
    assert pk[0, 0].item() == (0x7 | (0xE << 4))  # 6.0 low nibble 0x7, -4.0 high nibble 0xE


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=os.path.join(REPO, "tests", "golden", "quant"))
    ap.add_argument("--cases", default=",".join(QCASES))
    args = ap.parse_args()
    for pkg in ("fla", "causal_conv1d", "kernels"):
        if importlib.util.find_spec(pkg) is not None:
            sys.exit(f"error: package '{pkg}' is installed; it would replace the torch fallback GDN/conv path")
    torch.set_num_threads(1)
    transformers.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()
    self_test()
    os.makedirs(args.out, exist_ok=True)
    names = [c for c in args.cases.split(",") if c]
    results = [make_case(n, QCASES[n], args.out) for n in names]
    total = write_manifest(args.out, results) if len(names) == len(QCASES) else sum(r["size"] for r in results)
    print(f"total bytes: {total}")


if __name__ == "__main__":
    sys.exit(main())
