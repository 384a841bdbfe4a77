#pragma once
// defines: qinfer::kernels::cpu::linear_into

#include <cstdint>

namespace qinfer::kernels::cpu {

// y[t, n] = Σ_k x[t, k] · w[n, k]  (y = x·wᵀ), fp32, each output summed in dot_f32's order (kernels/cpu/dot.h).
// x: f32 [T, K], w: f32 [N, K], y: f32 [T, N] (written, not accumulated). y must not alias x or w.
void linear_into(const float* x, int64_t T, int64_t K, const float* w, int64_t N, float* y);

}  // namespace qinfer::kernels::cpu
