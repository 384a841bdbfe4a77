#pragma once
// defines: qinfer::layers::SwiGluMlp, qinfer::layers::SparseMoe
//
// SwiGluMlp: down(silu(gate(x)) * up(x)) over the fused gate_up_proj (qwen3_5_architecture.md §3.12).
// SparseMoe (§3.13): router logits → fp32 softmax over all experts → top-k → optional renormalisation → weighted sum
// of the selected experts' SwiGLU outputs, plus the always-on shared expert scaled by sigmoid(shared_expert_gate(x)).

#include <optional>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "debug/taps.h"
#include "io/hf_config.h"
#include "layers/weights.h"

namespace qinfer::layers {

class SwiGluMlp {
public:
    SwiGluMlp(const ModelWeights& weights, const std::string& prefix);
    Tensor forward(const Tensor& x) const;  // f32 [T, H] -> [T, H]

private:
    Linear gate_up_proj_;  // f32 [2*F, H]: rows [gate ‖ up]
    Linear down_proj_;     // f32 [H, F]
};

class SparseMoe {
public:
    SparseMoe(const ModelConfig& cfg, const ModelWeights& weights, const std::string& prefix);
    Tensor forward(const Tensor& x, const Taps* taps, const std::string& tap_prefix) const;  // f32 [T, H] -> [T, H]

private:
    // Routed experts token by token: each expert's input quantized the way its checkpoint shards say
    // (--activation-quant), and reported to the input observer when one is set (calibration).
    Tensor experts_token_by_token(const Tensor& x, const std::vector<int32_t>& expert,
                                  const std::vector<float>& weight) const;

    const ModelConfig& cfg_;
    Linear router_;                   // f32 [E, H]  (mlp.gate)
    const Tensor& experts_gate_up_;   // f32 [E, 2*I, H]: rows [0, I) gate, [I, 2I) up
    const Tensor& experts_down_;      // f32 [E, H, I]
    std::vector<LinearSegment> gate_up_segments_, down_segments_;  // non-empty only when emulating activation quant
    std::string gate_up_name_, down_name_;                         // runtime names, for the observer
    const InputObserver* observer_;                                // ModelWeights::observer
    bool bf16_ = false;                                            // emulating a bf16 engine (layers/weights.h)
    std::optional<SwiGluMlp> shared_expert_;
    std::optional<Linear> shared_expert_gate_;  // f32 [1, H]
};

}  // namespace qinfer::layers
