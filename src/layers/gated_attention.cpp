#include "layers/gated_attention.h"

#include <cmath>

#include "ops/activation.h"
#include "ops/attention.h"
#include "ops/norm.h"
#include "ops/rope.h"

namespace qinfer::layers {

GatedAttention::GatedAttention(const ModelConfig& cfg, const ModelWeights& weights, const std::string& prefix)
    : cfg_(cfg),
      qkv_proj_(weights.linear(prefix + "qkv_proj.weight")),
      o_proj_(weights.linear(prefix + "o_proj.weight")),
      q_norm_(weights.tensor(prefix + "q_norm.weight")),
      k_norm_(weights.tensor(prefix + "k_norm.weight")) {}

Tensor GatedAttention::forward(const Tensor& x, std::span<const int64_t> positions, AttentionLayerState& cache,
                               const Taps* taps, const std::string& tap_prefix) const {
    const int64_t T = x.dim(0);
    const int64_t hq = cfg_.num_attention_heads, hkv = cfg_.num_key_value_heads, hd = cfg_.head_dim;
    const Tensor qkv = qkv_proj_.forward(x, Store::Bf16);  // f32 [T, 2*hq*hd + 2*hkv*hd]

    Tensor q({T, hq, hd});      // f32 [T, Hq, hd]
    Tensor gate({T, hq * hd});  // f32 [T, Hq*hd]
    Tensor k({T, hkv, hd});     // f32 [T, Hkv, hd]
    Tensor v({T, hkv, hd});     // f32 [T, Hkv, hd]
    for (int64_t t = 0; t < T; ++t) {
        const float* row = qkv.row(t);
        for (int64_t h = 0; h < hq; ++h) {  // per head: [query (hd) | gate (hd)]
            const float* src = row + h * 2 * hd;
            std::copy(src, src + hd, q.data() + (t * hq + h) * hd);
            std::copy(src + hd, src + 2 * hd, gate.data() + (t * hq + h) * hd);
        }
        const float* ksrc = row + 2 * hq * hd;
        std::copy(ksrc, ksrc + hkv * hd, k.data() + t * hkv * hd);
        std::copy(ksrc + hkv * hd, ksrc + 2 * hkv * hd, v.data() + t * hkv * hd);
    }
    q = ops::rms_norm(q, q_norm_, static_cast<float>(cfg_.rms_norm_eps), /*zero_centered=*/true);
    k = ops::rms_norm(k, k_norm_, static_cast<float>(cfg_.rms_norm_eps), /*zero_centered=*/true);
    ops::rope_inplace(q, positions, cfg_.rotary_dim, cfg_.rope_theta);
    ops::rope_inplace(k, positions, cfg_.rotary_dim, cfg_.rope_theta);
    if (qkv_proj_.emulates_bf16()) {  // a bf16 engine's KV cache, and its query operand of the QK^T product
        round_to_bf16(q);
        round_to_bf16(k);
    }

    const int64_t past = cache.k.dim(0);
    cache.k.vec().insert(cache.k.vec().end(), k.vec().begin(), k.vec().end());
    cache.v.vec().insert(cache.v.vec().end(), v.vec().begin(), v.vec().end());
    cache.k.reshape({past + T, hkv, hd});
    cache.v.reshape({past + T, hkv, hd});

    const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
    Tensor o = ops::attention_causal(q, cache.k, cache.v, past, scale);  // f32 [T, Hq, hd]
    o.reshape({T, hq * hd});
    ops::sigmoid_mul_inplace(o, gate);
    QINFER_TAP(taps, o, tap_prefix, "gated_out");
    return o_proj_.forward(o);
}

}  // namespace qinfer::layers
