#pragma once
// defines: qinfer::ops::rms_norm, rms_norm_gated, l2norm_rows

#include "core/tensor.h"

namespace qinfer::ops {

// RMSNorm over the last dimension: out = x · rsqrt(mean(x²) + eps) · (zero_centered ? 1 + w : w).
// zero_centered = true is Qwen3_5RMSNorm (layer norms, q/k norms, final norm).
Tensor rms_norm(const Tensor& x,                 // f32 [..., D]
                const Tensor& w,                 // f32 [D]
                float eps, bool zero_centered);  // -> f32 [..., D]

// Gated RMSNorm (Qwen3_5RMSNormGated, norm before gate): out = rmsnorm(x) · w · silu(z), plain w, all fp32.
Tensor rms_norm_gated(const Tensor& x,  // f32 [N, D]
                      const Tensor& z,  // f32 [N, D]
                      const Tensor& w,  // f32 [D]
                      float eps);       // -> f32 [N, D]

// out = x · rsqrt(Σx² + eps) over the last dimension (HF l2norm: eps on the SUM of squares).
Tensor l2norm_rows(const Tensor& x,  // f32 [..., D]
                   float eps);       // -> f32 [..., D]

}  // namespace qinfer::ops
