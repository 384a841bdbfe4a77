#pragma once
// defines: qinfer::models::hybrid_spec (weight-spec pieces shared by the Qwen3.5 and Qwen3-Next families)
//
// Both families share the decoder skeleton: embeddings, zero-centred norms, gated attention, dense SwiGLU or sparse
// MoE MLPs, final norm and (optionally tied) lm_head. They differ in how the Gated DeltaNet input projections are
// stored, so each family adds those itself (add_linear_attention_projections).

#include <functional>
#include <string>

#include "io/hf_config.h"
#include "models/weight_spec.h"

namespace qinfer::models {

// Adds the GDN input projections of layer i (runtime in_proj_qkvz / in_proj_ba, dense order) to spec.
using LinearAttentionProjections = std::function<void(const ModelConfig&, int64_t layer, WeightSpec& spec)>;

// Builds the full spec; `projections` supplies the family-specific GDN input projections.
WeightSpec hybrid_spec(const ModelConfig& cfg, const LinearAttentionProjections& projections);

}  // namespace qinfer::models
