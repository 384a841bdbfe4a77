#include "layers/mlp.h"

#include "ops/activation.h"
#include "ops/linear.h"
#include "ops/moe.h"

namespace qinfer::layers {

SwiGluMlp::SwiGluMlp(const ParamMap& params, const std::string& prefix)
    : gate_up_proj_(param(params, prefix + "gate_up_proj.weight")), down_proj_(param(params, prefix + "down_proj.weight")) {}

Tensor SwiGluMlp::forward(const Tensor& x) const {
    const int64_t f = gate_up_proj_.dim(0) / 2;
    const Tensor gu = ops::linear(x, gate_up_proj_);  // f32 [T, 2F]
    const Tensor h = ops::silu_mul(slice_cols(gu, 0, f), slice_cols(gu, f, 2 * f));  // f32 [T, F]
    return ops::linear(h, down_proj_);
}

SparseMoe::SparseMoe(const ModelConfig& cfg, const ParamMap& params, const std::string& prefix)
    : cfg_(cfg),
      router_(param(params, prefix + "gate.weight")),
      experts_gate_up_(param(params, prefix + "experts.gate_up_proj")),
      experts_down_(param(params, prefix + "experts.down_proj")) {
    if (cfg.shared_expert_intermediate_size > 0) {
        shared_expert_.emplace(params, prefix + "shared_expert.");
        shared_expert_gate_ = &param(params, prefix + "shared_expert_gate.weight");
    }
}

Tensor SparseMoe::forward(const Tensor& x, const Taps* taps, const std::string& tap_prefix) const {
    const Tensor logits = ops::linear(x, router_);  // f32 [T, E]
    QINFER_TAP(taps, logits, tap_prefix, "router_logits");
    const ops::Routing routing = ops::moe_route(logits, cfg_.num_experts_per_tok, cfg_.norm_topk_prob);
    Tensor out = ops::moe_experts(x, routing, experts_gate_up_, experts_down_);  // f32 [T, H]
    if (shared_expert_) {
        Tensor shared = shared_expert_->forward(x);                  // f32 [T, H]
        const Tensor gate = ops::linear(x, *shared_expert_gate_);    // f32 [T, 1]
        const int64_t T = x.dim(0), H = x.dim(1);
        for (int64_t t = 0; t < T; ++t) {
            const float s = ops::sigmoid(gate.data()[t]);
            for (int64_t i = 0; i < H; ++i) out.data()[t * H + i] += s * shared.data()[t * H + i];
        }
    }
    return out;
}

}  // namespace qinfer::layers
