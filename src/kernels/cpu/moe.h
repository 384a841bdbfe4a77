#pragma once
// defines: qinfer::kernels::cpu::moe_route, moe_experts

#include <cstdint>

namespace qinfer::kernels::cpu {

// logits: f32 [T, E]; expert: [T, k] (written); weight: f32 [T, k] (written). 1 <= k <= E.
//   p = softmax(logits) over all E (fp32); pick the k largest p, sorted by p descending, ties broken by the lower
//   expert index; weight = p, divided by the sum of the k selected p when renormalize.
void moe_route(const float* logits, int64_t T, int64_t E, int64_t k, bool renormalize, int32_t* expert, float* weight);

// x: f32 [T, H]; expert, weight: [T, k] (every expert id in [0, E)); gate_up: f32 [E, 2I, H] (rows [0, I) gate,
// [I, 2I) up); down: f32 [E, H, I]; out: f32 [T, H] (written).
//   out[t] = Σ_s weight[t, s] · down_e (silu(gate_e x_t) ⊙ up_e x_t),  e = expert[t, s]
void moe_experts(const float* x, int64_t T, int64_t H, int64_t k, const int32_t* expert, const float* weight,
                 const float* gate_up, const float* down, int64_t E, int64_t I, float* out);

}  // namespace qinfer::kernels::cpu
