#!/usr/bin/env python3
"""Generates tests/ops/data/torch_refs.h: small fp32 reference cases computed by torch + transformers.

The expected values of the op tests come from the real HF code (transformers 5.x, models/qwen3_5*), never from
qinfer's own output. Run with the project's HF venv and commit the result:

    /opt/hfvenv/bin/python tests/ops/data/gen_torch_refs.py > tests/ops/data/torch_refs.h
"""
import struct
import sys

import torch
import torch.nn.functional as F
import transformers
from transformers.models.qwen3_5 import modeling_qwen3_5 as m
from transformers.models.qwen3_5.configuration_qwen3_5 import Qwen3_5TextConfig
from transformers.models.qwen3_5_moe import modeling_qwen3_5_moe as mm

torch.manual_seed(1234)
torch.set_default_dtype(torch.float32)
out = []


def lit(x):
    x = float(x)
    if x != x or x in (float("inf"), float("-inf")):
        raise ValueError("non-finite reference value")
    r = "%.9g" % x
    if not any(c in r for c in ".en"):
        r += ".0"  # "25" -> "25.0f": a float literal needs a point or an exponent
    return r + "f"


def arr(name, t, ctype="float"):
    t = t.detach().reshape(-1)
    if ctype == "float":
        vals = [lit(v) for v in t.tolist()]
    else:
        vals = [str(int(v)) for v in t.tolist()]
    lines = []
    for i in range(0, len(vals), 8):
        lines.append("    " + ", ".join(vals[i:i + 8]) + ",")
    out.append("inline constexpr %s %s[] = {  // %s\n%s\n};" % (ctype, name, list(t.shape), "\n".join(lines)))


def bits(name, t):
    vals = ["0x%08xu" % struct.unpack("<I", struct.pack("<f", v))[0] for v in t.reshape(-1).tolist()]
    lines = ["    " + ", ".join(vals[i:i + 8]) + "," for i in range(0, len(vals), 8)]
    out.append("inline constexpr uint32_t %s[] = {\n%s\n};" % (name, "\n".join(lines)))


# ---- norms (Qwen3_5RMSNorm, Qwen3_5RMSNormGated, l2norm), fp32
N, D, eps = 3, 8, 1e-6
x = torch.randn(N, D)
x[2] *= 1e-4  # tiny row: l2norm's eps on the SUM (not the mean) is visible here
w = torch.randn(D) * 0.5
z = torch.randn(N, D)
norm = m.Qwen3_5RMSNorm(D, eps=eps)
norm.weight.data.copy_(w)
gnorm = m.Qwen3_5RMSNormGated(D, eps=eps)
gnorm.weight.data.copy_(w)
arr("kNormX", x)
arr("kNormW", w)
arr("kNormZ", z)
arr("kRmsNormZeroCentered", norm(x))
arr("kRmsNormPlain", x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * w)  # same _norm, plain weight
arr("kRmsNormGated", gnorm(x, z))
arr("kL2Norm", m.l2norm(x, dim=-1, eps=1e-6))

# ---- RoPE: Qwen3_5TextRotaryEmbedding + apply_rotary_pos_emb, head_dim 256, partial 0.25, theta 1e7
cfg = Qwen3_5TextConfig(head_dim=256, hidden_size=512, num_attention_heads=2, num_key_value_heads=1,
                        rope_parameters={"rope_type": "default", "rope_theta": 1e7, "partial_rotary_factor": 0.25,
                                         "mrope_section": [11, 11, 10], "mrope_interleaved": True})
rot = m.Qwen3_5TextRotaryEmbedding(cfg)
bits("kRopeInvFreqBits_1e7_64", rot.inv_freq)
positions = torch.tensor([0, 1, 7, 4097, 100000])
P, H, hd = len(positions), 2, 256
xq = torch.randn(1, H, P, hd)  # [B, H, T, hd], as HF applies it
pos3 = positions[None, None, :].expand(3, 1, P)
cos, sin = rot(xq, pos3)
q_embed, _ = m.apply_rotary_pos_emb(xq, xq, cos, sin)
arr("kRopePositions", positions, "int64_t")
arr("kRopeX", xq[0].transpose(0, 1))             # [T, H, hd]
arr("kRopeOut", q_embed[0].transpose(0, 1))      # [T, H, hd]

# ---- gated delta rule: HF torch_recurrent_gated_delta_rule / torch_chunk_gated_delta_rule, fp32
def gdn_case(prefix, T, HK, HV, dk, dv, with_state):
    q = torch.randn(1, T, HK, dk)
    k = torch.randn(1, T, HK, dk)
    v = torch.randn(1, T, HV, dv)
    g = -F.softplus(torch.randn(1, T, HV)) * 0.7
    beta = torch.sigmoid(torch.randn(1, T, HV))
    s0 = torch.randn(1, HV, dk, dv) * 0.3 if with_state else torch.zeros(1, HV, dk, dv)
    rep = HV // HK
    qr, kr = q.repeat_interleave(rep, dim=2), k.repeat_interleave(rep, dim=2)  # as Qwen3_5GatedDeltaNet.forward
    o, s = m.torch_recurrent_gated_delta_rule(qr, kr, v, g, beta, initial_state=s0.clone(), output_final_state=True,
                                              use_qk_l2norm_in_kernel=True)
    oc, sc = m.torch_chunk_gated_delta_rule(qr, kr, v, g, beta, chunk_size=4, initial_state=s0.clone(),
                                            output_final_state=True, use_qk_l2norm_in_kernel=True)
    out.append("// %s: T=%d HK=%d HV=%d dk=%d dv=%d; HF chunk (C=4) vs recurrent max |do| = %.3g, |ds| = %.3g"
               % (prefix, T, HK, HV, dk, dv, (o - oc).abs().max(), (s - sc).abs().max()))
    for name, t in (("Q", q), ("K", k), ("V", v), ("G", g), ("Beta", beta), ("S0", s0), ("O", o), ("S", s),
                    ("OChunk4", oc), ("SChunk4", sc)):
        arr("k%s%s" % (prefix, name), t[0])


gdn_case("Gdn1", T=5, HK=1, HV=1, dk=4, dv=3, with_state=False)
gdn_case("Gdn2", T=7, HK=1, HV=2, dk=4, dv=3, with_state=True)

# ---- GDN gates: g = -exp(A_log) * softplus(a + dt_bias), beta = sigmoid(b) (Qwen3_5GatedDeltaNet.forward)
Tg, HVg = 2, 4
a = torch.randn(Tg, HVg) * 3
a[1, 2] = 25.0  # a + dt_bias > 20: softplus threshold branch
b = torch.randn(Tg, HVg) * 2
A_log = torch.randn(HVg)
dt_bias = torch.randn(HVg)
arr("kGatesA", a)
arr("kGatesB", b)
arr("kGatesALog", A_log)
arr("kGatesDtBias", dt_bias)
arr("kGatesG", -A_log.float().exp() * F.softplus(a.float() + dt_bias))
arr("kGatesBeta", b.sigmoid())

# ---- causal conv1d + SiLU: HF causal_conv1d_fn (torch fallback), x [B, C, T], weight [C, K]
C, Tc, K = 3, 6, 4
xc = torch.randn(1, C, Tc)
wc = torch.randn(C, K)
yc = m.causal_conv1d_fn(xc, wc, None, activation="silu")
arr("kConvX", xc[0].transpose(0, 1))  # [T, C]
arr("kConvW", wc)                     # [C, K]
arr("kConvY", yc[0].transpose(0, 1))  # [T, C]

# ---- attention: HF eager_attention_forward (repeat_kv GQA, fp32 softmax), causal, past = S - T
T, S, Hq, Hkv, hd = 3, 5, 4, 2, 8
q = torch.randn(1, Hq, T, hd)
k = torch.randn(1, Hkv, S, hd)
v = torch.randn(1, Hkv, S, hd)
past = S - T
mask = torch.full((T, S), float("-inf"))
for t in range(T):
    mask[t, : past + t + 1] = 0.0


class _Mod:
    num_key_value_groups = Hq // Hkv
    training = False


o, _ = m.eager_attention_forward(_Mod(), q, k, v, mask[None, None], scaling=hd ** -0.5)
arr("kAttnQ", q[0].transpose(0, 1))  # [T, Hq, hd]
arr("kAttnK", k[0].transpose(0, 1))  # [S, Hkv, hd]
arr("kAttnV", v[0].transpose(0, 1))
arr("kAttnO", o[0])                  # eager output is already [T, Hq, hd]

# ---- MoE router: Qwen3_5MoeTopKRouter (softmax over all E in fp32, topk, renormalise)
Tm, E, H = 3, 8, 6
cfgm = type("Cfg", (), {"num_experts_per_tok": 2, "num_experts": E, "hidden_size": H})()
router = mm.Qwen3_5MoeTopKRouter(cfgm)
router.weight.data.copy_(torch.randn(E, H))
hm = torch.randn(Tm, H)
logits, scores, idx = router(hm)
arr("kRouteLogits", logits)
arr("kRouteWeights", scores)
arr("kRouteExperts", idx, "int64_t")

print("#pragma once")
print("// Generated by tests/ops/data/gen_torch_refs.py (torch %s, transformers %s). Do not edit by hand."
      % (torch.__version__, transformers.__version__))
print("#include <cstdint>\n")
print("namespace qinfer::test::torch_refs {\n")
print("\n\n".join(out))
print("\n}  // namespace qinfer::test::torch_refs")
