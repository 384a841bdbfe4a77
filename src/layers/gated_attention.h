#pragma once
// defines: qinfer::layers::GatedAttention
//
// Qwen3.5 "gated" full attention (qwen3_5_architecture.md §3.4): q_proj produces a query and an output gate per head
// (interleaved [q | gate] per head), q/k get a zero-centred RMSNorm per head, then partial NeoX RoPE, causal GQA
// softmax attention over the KV cache, and the output is multiplied by sigmoid(gate) before o_proj.

#include <span>
#include <string>

#include "core/tensor.h"
#include "debug/taps.h"
#include "io/hf_config.h"
#include "layers/weights.h"
#include "runtime/sequence_state.h"

namespace qinfer::layers {

class GatedAttention {
public:
    // prefix: runtime prefix of the module, e.g. "layers.3.self_attn."
    GatedAttention(const ModelConfig& cfg, const ModelWeights& weights, const std::string& prefix);

    // x: f32 [T, H]; positions: [T] absolute positions; cache grows by T rows. Returns f32 [T, H].
    Tensor forward(const Tensor& x, std::span<const int64_t> positions, AttentionLayerState& cache,
                   const Taps* taps, const std::string& tap_prefix) const;

private:
    const ModelConfig& cfg_;
    Linear qkv_proj_;         // f32 [Hq*hd*2 + 2*Hkv*hd, H]: rows [q_proj (per head q|gate) ‖ k_proj ‖ v_proj]
    Linear o_proj_;           // f32 [H, Hq*hd]
    const Tensor& q_norm_;    // f32 [hd] zero-centred
    const Tensor& k_norm_;    // f32 [hd] zero-centred
};

}  // namespace qinfer::layers
