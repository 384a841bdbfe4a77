#include "layers/mlp.h"

#include "kernels/cpu/linear.h"
#include "ops/activation.h"
#include "ops/moe.h"

namespace qinfer::layers {

SwiGluMlp::SwiGluMlp(const ModelWeights& weights, const std::string& prefix)
    : gate_up_proj_(weights.linear(prefix + "gate_up_proj.weight")), down_proj_(weights.linear(prefix + "down_proj.weight")) {}

Tensor SwiGluMlp::forward(const Tensor& x) const {
    const int64_t f = gate_up_proj_.weight().dim(0) / 2;
    const Tensor gu = gate_up_proj_.forward(x, Store::Bf16);                         // f32 [T, 2F]
    const Tensor h = ops::silu_mul(slice_cols(gu, 0, f), slice_cols(gu, f, 2 * f));  // f32 [T, F]
    return down_proj_.forward(h);
}

SparseMoe::SparseMoe(const ModelConfig& cfg, const ModelWeights& weights, const std::string& prefix)
    : cfg_(cfg),
      router_(weights.linear(prefix + "gate.weight")),
      experts_gate_up_(weights.tensor(prefix + "experts.gate_up_proj")),
      experts_down_(weights.tensor(prefix + "experts.down_proj")),
      gate_up_segments_(weights.segments(prefix + "experts.gate_up_proj")),
      down_segments_(weights.segments(prefix + "experts.down_proj")),
      gate_up_name_(prefix + "experts.gate_up_proj"),
      down_name_(prefix + "experts.down_proj"),
      observer_(&weights.observer),
      bf16_(weights.bf16_activations) {
    if (cfg.shared_expert_intermediate_size > 0) {
        shared_expert_.emplace(weights, prefix + "shared_expert.");
        shared_expert_gate_.emplace(weights.linear(prefix + "shared_expert_gate.weight"));
    }
}

namespace {
// The segment covering flattened row `row`, or nullptr.
const LinearSegment* segment_at(const std::vector<LinearSegment>& segments, int64_t row) {
    for (const auto& s : segments) {
        if (s.row_begin <= row && row < s.row_end) return &s;
    }
    return nullptr;
}
}  // namespace

Tensor SparseMoe::experts_token_by_token(const Tensor& x, const std::vector<int32_t>& expert,
                                         const std::vector<float>& weight) const {
    // Token by token, expert by expert: slow, but it is an emulation of what W4A4 grouped GEMMs do per expert (each
    // expert's own input_scale), and it keeps the per-token sum in ascending expert order like moe_experts.
    const int64_t T = x.dim(0), H = x.dim(1), k = cfg_.num_experts_per_tok, I = experts_down_.dim(2);
    const bool observe = static_cast<bool>(*observer_);
    Tensor out({T, H});
    for (int64_t t = 0; t < T; ++t) {
        std::vector<std::pair<int32_t, float>> picks;
        for (int64_t j = 0; j < k; ++j) picks.emplace_back(expert[t * k + j], weight[t * k + j]);
        std::sort(picks.begin(), picks.end());
        for (const auto& [e, w] : picks) {
            Tensor xi({1, H}, std::vector<float>(x.row(t), x.row(t) + H));
            if (bf16_) round_to_bf16(xi);
            if (observe) (*observer_)(gate_up_name_, e * 2 * I, (e + 1) * 2 * I, xi);
            if (const LinearSegment* s = segment_at(gate_up_segments_, e * 2 * I)) fake_quantize_input(xi, *s);
            Tensor gu({1, 2 * I});
            kernels::cpu::linear_into(xi.data(), 1, H, experts_gate_up_.data() + e * 2 * I * H, 2 * I, gu.data());
            if (bf16_) round_to_bf16(gu);
            Tensor h = ops::silu_mul(slice_cols(gu, 0, I), slice_cols(gu, I, 2 * I));  // f32 [1, I]
            if (bf16_) round_to_bf16(h);
            if (observe) (*observer_)(down_name_, e * H, (e + 1) * H, h);
            if (const LinearSegment* s = segment_at(down_segments_, e * H)) fake_quantize_input(h, *s);
            Tensor y({1, H});
            kernels::cpu::linear_into(h.data(), 1, I, experts_down_.data() + e * H * I, H, y.data());
            for (int64_t i = 0; i < H; ++i) out.data()[t * H + i] += w * y.data()[i];
        }
    }
    return out;
}

Tensor SparseMoe::forward(const Tensor& x, const Taps* taps, const std::string& tap_prefix) const {
    const Tensor logits = router_.forward(x);  // f32 [T, E]
    QINFER_TAP(taps, logits, tap_prefix, "router_logits");
    ops::Routing routing = ops::moe_route(logits, cfg_.num_experts_per_tok, cfg_.norm_topk_prob);
    if (taps != nullptr) taps->route(tap_prefix, logits, routing.expert, routing.weight);
    const bool per_token = !gate_up_segments_.empty() || !down_segments_.empty() || *observer_ || bf16_;
    Tensor out = per_token ? experts_token_by_token(x, routing.expert, routing.weight)
                           : ops::moe_experts(x, routing, experts_gate_up_, experts_down_);  // f32 [T, H]
    if (shared_expert_) {
        Tensor shared = shared_expert_->forward(x);            // f32 [T, H]
        const Tensor gate = shared_expert_gate_->forward(x);   // f32 [T, 1]
        const int64_t T = x.dim(0), H = x.dim(1);
        for (int64_t t = 0; t < T; ++t) {
            const float s = ops::sigmoid(gate.data()[t]);
            for (int64_t i = 0; i < H; ++i) out.data()[t * H + i] += s * shared.data()[t * H + i];
        }
    }
    return out;
}

}  // namespace qinfer::layers
