#pragma once
// defines: qinfer::ops::Routing, moe_route, moe_experts

#include <cstdint>
#include <vector>

#include "core/tensor.h"

namespace qinfer::ops {

// Top-k routing of T tokens: slot s of token t is expert[t*k + s] with weight weight[t*k + s]; slots are ordered
// by probability, highest first.
struct Routing {
    int64_t T = 0, k = 0;
    std::vector<int32_t> expert;  // [T*k]
    std::vector<float> weight;    // f32 [T*k]
};

// p = softmax(router_logits) over ALL E experts (fp32), keep the top_k largest p. Ties (equal p) go to the lower
// expert index first (torch.topk on CPU has no defined tie order; see kernels/cpu/moe.cpp). With renormalize the
// kept p are divided by their sum (Qwen3.5-MoE always renormalises). Non-finite logits are an error.
Routing moe_route(const Tensor& router_logits,  // f32 [T, E]
                  int64_t top_k, bool renormalize);

// Routed experts (SwiGLU): out[t] = Σ_s w_{t,s} · down_e(silu(gate_e x_t) ⊙ up_e x_t), e = expert of slot s.
// Only selected experts run; tokens are grouped by expert. Each token's terms are added in ascending expert
// order (as HF's eager loop), so results are deterministic and independent of the batch.
Tensor moe_experts(const Tensor& x,        // f32 [T, H]
                   const Routing& r,       // T tokens, k distinct experts each
                   const Tensor& gate_up,  // f32 [E, 2I, H]: rows [0, I) gate, [I, 2I) up
                   const Tensor& down);    // f32 [E, H, I]  -> f32 [T, H]

}  // namespace qinfer::ops
