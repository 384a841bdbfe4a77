#pragma once
// defines: qinfer::kernels::cpu::causal_conv1d_silu

#include <cstdint>

namespace qinfer::kernels::cpu {

// Depthwise causal conv over time + SiLU, continuing from a state of the previous K-1 inputs.
// x: f32 [T, C]; w: f32 [C, K]; state: f32 [C, K-1] (in/out: the K-1 inputs before x, oldest first);
// y: f32 [T, C].
//   x_ext = concat(state, x) along time (x_ext[i] = state[:, i] for i < K-1, else x[i - (K-1)])
//   y[t, c] = silu(Σ_{j<K} w[c, j] · x_ext[t + j, c])        (tap K-1 multiplies the current input x[t])
//   state  <- x_ext[T .. T+K-2]  (the last K-1 inputs; for T < K-1 part of the old state shifts down)
void causal_conv1d_silu(const float* x, int64_t T, int64_t C, const float* w, int64_t K, float* state, float* y);

}  // namespace qinfer::kernels::cpu
