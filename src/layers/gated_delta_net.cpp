#include "layers/gated_delta_net.h"

#include "ops/conv1d.h"
#include "ops/gated_delta_rule.h"
#include "ops/norm.h"

namespace qinfer::layers {

GatedDeltaNet::GatedDeltaNet(const ModelConfig& cfg, const ModelWeights& weights, const std::string& prefix)
    : cfg_(cfg),
      in_proj_qkvz_(weights.linear(prefix + "in_proj_qkvz.weight")),
      in_proj_ba_(weights.linear(prefix + "in_proj_ba.weight")),
      conv1d_(weights.tensor(prefix + "conv1d.weight")),
      dt_bias_(weights.tensor(prefix + "dt_bias")),
      a_log_(weights.tensor(prefix + "A_log")),
      norm_(weights.tensor(prefix + "norm.weight")),
      out_proj_(weights.linear(prefix + "out_proj.weight")) {}

Tensor GatedDeltaNet::forward(const Tensor& x, LinearLayerState& state, const Taps* taps,
                              const std::string& tap_prefix) const {
    const int64_t T = x.dim(0);
    const int64_t hk = cfg_.linear_num_key_heads, hv = cfg_.linear_num_value_heads;
    const int64_t dk = cfg_.linear_key_head_dim, dv = cfg_.linear_value_head_dim;
    const int64_t kd = hk * dk, vd = hv * dv, conv_dim = 2 * kd + vd;

    const Tensor qkvz = in_proj_qkvz_.forward(x, Store::Bf16);                 // f32 [T, conv_dim + vd]
    const Tensor ba = in_proj_ba_.forward(x, Store::Bf16);                     // f32 [T, 2*HV]
    const Tensor mixed_qkv = slice_cols(qkvz, 0, conv_dim);                    // f32 [T, conv_dim]
    const Tensor z = slice_cols(qkvz, conv_dim, conv_dim + vd).reshape({T * hv, dv});  // f32 [T*HV, dv]
    const Tensor b = slice_cols(ba, 0, hv);                                     // f32 [T, HV]
    const Tensor a = slice_cols(ba, hv, 2 * hv);                                // f32 [T, HV]

    const Tensor conv_out = ops::causal_conv1d_silu(mixed_qkv, conv1d_, state.conv);  // f32 [T, conv_dim]
    QINFER_TAP(taps, conv_out, tap_prefix, "conv_out");
    const Tensor q = slice_cols(conv_out, 0, kd).reshape({T, hk, dk});             // f32 [T, HK, dk]
    const Tensor k = slice_cols(conv_out, kd, 2 * kd).reshape({T, hk, dk});        // f32 [T, HK, dk]
    const Tensor v = slice_cols(conv_out, 2 * kd, conv_dim).reshape({T, hv, dv});  // f32 [T, HV, dv]

    Tensor g({T, hv}), beta({T, hv});  // f32 [T, HV] each
    ops::gdn_gates(a, b, a_log_, dt_bias_, g, beta);

    // transformers runs the recurrent form only for a single token with an existing cache; the chunked form
    // otherwise. Both are the same math (tests/ops), so this choice only matters for the last bits.
    Tensor o = (T == 1 && state.started) ? ops::gated_delta_rule_recurrent(q, k, v, g, beta, state.recurrent)
                                         : ops::gated_delta_rule_chunked(q, k, v, g, beta, state.recurrent);
    state.started = true;
    QINFER_TAP(taps, o, tap_prefix, "core_out");  // f32 [T, HV, dv]
    o.reshape({T * hv, dv});
    Tensor normed = ops::rms_norm_gated(o, z, norm_, static_cast<float>(cfg_.rms_norm_eps));
    normed.reshape({T, vd});
    return out_proj_.forward(normed);
}

}  // namespace qinfer::layers
