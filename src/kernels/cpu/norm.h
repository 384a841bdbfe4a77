#pragma once
// defines: qinfer::kernels::cpu::rms_norm, rms_norm_gated, l2norm_rows, l2norm_row

#include <cstdint>

namespace qinfer::kernels::cpu {

// Row-wise over rows × D (x, z, out: f32 [rows, D]; w: f32 [D]). out may alias x.

// out = x · rsqrt(mean(x²) + eps) · (zero_centered ? 1 + w : w)
void rms_norm(const float* x, const float* w, int64_t rows, int64_t D, float eps, bool zero_centered, float* out);

// out = (x · rsqrt(mean(x²) + eps)) · w · silu(z)   (Qwen3_5RMSNormGated, norm before gate, plain w)
void rms_norm_gated(const float* x, const float* z, const float* w, int64_t rows, int64_t D, float eps, float* out);

// out = x · rsqrt(Σx² + eps)   (HF/FLA l2norm: eps is added to the SUM, not the mean)
void l2norm_rows(const float* x, int64_t rows, int64_t D, float eps, float* out);
// One row of l2norm_rows, serial (for use inside other kernels' parallel loops).
void l2norm_row(const float* x, int64_t D, float eps, float* out);

}  // namespace qinfer::kernels::cpu
