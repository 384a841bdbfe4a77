#pragma once
// defines: qinfer::layers::GatedDeltaNet
//
// Gated DeltaNet linear attention (qwen3_5_architecture.md §3.6–3.10) over the dense runtime layout:
//   in_proj_qkvz = [q (HK*dk) ‖ k (HK*dk) ‖ v (HV*dv) ‖ z (HV*dv)], in_proj_ba = [b (HV) ‖ a (HV)].
// Causal depthwise conv + SiLU on [q‖k‖v] (conv state carried), β = sigmoid(b), g = −exp(A_log)·softplus(a+dt_bias),
// the delta rule (chunked for multi-token calls, recurrent for single-token decode, as transformers dispatches),
// gated RMSNorm with z, out_proj.

#include <string>

#include "core/tensor.h"
#include "debug/taps.h"
#include "io/hf_config.h"
#include "layers/weights.h"
#include "runtime/sequence_state.h"

namespace qinfer::layers {

class GatedDeltaNet {
public:
    GatedDeltaNet(const ModelConfig& cfg, const ModelWeights& weights, const std::string& prefix);

    // x: f32 [T, H]. Returns f32 [T, H]; updates state.
    Tensor forward(const Tensor& x, LinearLayerState& state, const Taps* taps, const std::string& tap_prefix) const;

private:
    const ModelConfig& cfg_;
    Linear in_proj_qkvz_;         // f32 [2*HK*dk + 2*HV*dv, H]
    Linear in_proj_ba_;           // f32 [2*HV, H]
    const Tensor& conv1d_;        // f32 [conv_dim, K]
    const Tensor& dt_bias_;       // f32 [HV]
    const Tensor& a_log_;         // f32 [HV]
    const Tensor& norm_;          // f32 [dv] plain weight
    Linear out_proj_;             // f32 [H, HV*dv]
};

}  // namespace qinfer::layers
