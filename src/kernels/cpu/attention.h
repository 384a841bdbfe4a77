#pragma once
// defines: qinfer::kernels::cpu::attention_causal

#include <cstdint>

namespace qinfer::kernels::cpu {

// Causal softmax attention with GQA against a key/value history.
// q: f32 [T, Hq, hd]; k, v: f32 [S, Hkv, hd]; out: f32 [T, Hq, hd]. Hq % Hkv == 0; 0 <= past, past + T <= S.
// Query t sits at absolute position past + t and attends keys 0 ..= past + t; query head h reads kv head
// h / (Hq / Hkv).
void attention_causal(const float* q, int64_t T, int64_t Hq, const float* k, const float* v, int64_t S, int64_t Hkv,
                      int64_t hd, int64_t past, float scale, float* out);

}  // namespace qinfer::kernels::cpu
