#pragma once
// defines: qinfer::layers::SwiGluMlp, qinfer::layers::SparseMoe
//
// SwiGluMlp: down(silu(gate(x)) * up(x)) over the fused gate_up_proj (qwen3_5_architecture.md §3.12).
// SparseMoe (§3.13): router logits → fp32 softmax over all experts → top-k → optional renormalisation → weighted sum
// of the selected experts' SwiGLU outputs, plus the always-on shared expert scaled by sigmoid(shared_expert_gate(x)).

#include <optional>
#include <string>

#include "core/tensor.h"
#include "debug/taps.h"
#include "io/hf_config.h"
#include "layers/params.h"

namespace qinfer::layers {

class SwiGluMlp {
public:
    SwiGluMlp(const ParamMap& params, const std::string& prefix);
    Tensor forward(const Tensor& x) const;  // f32 [T, H] -> [T, H]

private:
    const Tensor& gate_up_proj_;  // f32 [2*F, H]: rows [gate ‖ up]
    const Tensor& down_proj_;     // f32 [H, F]
};

class SparseMoe {
public:
    SparseMoe(const ModelConfig& cfg, const ParamMap& params, const std::string& prefix);
    Tensor forward(const Tensor& x, const Taps* taps, const std::string& tap_prefix) const;  // f32 [T, H] -> [T, H]

private:
    const ModelConfig& cfg_;
    const Tensor& router_;            // f32 [E, H]  (mlp.gate)
    const Tensor& experts_gate_up_;   // f32 [E, 2*I, H]: rows [0, I) gate, [I, 2I) up
    const Tensor& experts_down_;      // f32 [E, H, I]
    std::optional<SwiGluMlp> shared_expert_;
    const Tensor* shared_expert_gate_ = nullptr;  // f32 [1, H]
};

}  // namespace qinfer::layers
