// Row norms, fp32 elementwise math in the operation order of the HF modules; the row sum of squares is accumulated
// in fp64 (cheap, and the most accurate reference) and rounded to fp32 before eps is added.
//   rms_norm:       y = x · rsqrt(mean(x²) + eps) · (1 + w)      (zero-centred, Qwen3_5RMSNorm)
//                   y = x · rsqrt(mean(x²) + eps) · w            (plain)
//   rms_norm_gated: y = w · (x · rsqrt(mean(x²) + eps)) · silu(z)  (Qwen3_5RMSNormGated)
//   l2norm_rows:    y = x · rsqrt(Σx² + eps)                      (HF l2norm)
// rsqrt(v) is computed as 1 / sqrt(v) with both steps correctly rounded (as torch's CPU rsqrt).

#include "kernels/cpu/norm.h"

#include <cmath>

#include "core/parallel.h"
#include "kernels/cpu/activation.h"

namespace qinfer::kernels::cpu {
namespace {

double sum_squares(const float* x, int64_t D) {
    double s = 0.0;
    for (int64_t i = 0; i < D; ++i) s += static_cast<double>(x[i]) * static_cast<double>(x[i]);
    return s;
}

// rsqrt(mean(x²) + eps) in fp32.
float inv_rms(const float* x, int64_t D, float eps) {
    const float mean = static_cast<float>(sum_squares(x, D) / static_cast<double>(D));
    return 1.0f / std::sqrt(mean + eps);
}

}  // namespace

void rms_norm(const float* x, const float* w, int64_t rows, int64_t D, float eps, bool zero_centered, float* out) {
    parallel_for(0, rows, [&](int64_t r) {
        const float* xr = x + r * D;
        float* yr = out + r * D;
        const float inv = inv_rms(xr, D, eps);
        for (int64_t i = 0; i < D; ++i) {
            const float scale = zero_centered ? 1.0f + w[i] : w[i];
            yr[i] = (xr[i] * inv) * scale;
        }
    }, /*work_per_item=*/4 * D);
}

void rms_norm_gated(const float* x, const float* z, const float* w, int64_t rows, int64_t D, float eps, float* out) {
    parallel_for(0, rows, [&](int64_t r) {
        const float* xr = x + r * D;
        const float* zr = z + r * D;
        float* yr = out + r * D;
        const float inv = inv_rms(xr, D, eps);
        for (int64_t i = 0; i < D; ++i) yr[i] = (w[i] * (xr[i] * inv)) * silu(zr[i]);
    }, /*work_per_item=*/16 * D);
}

void l2norm_row(const float* x, int64_t D, float eps, float* out) {
    const float inv = 1.0f / std::sqrt(static_cast<float>(sum_squares(x, D)) + eps);
    for (int64_t i = 0; i < D; ++i) out[i] = x[i] * inv;
}

void l2norm_rows(const float* x, int64_t rows, int64_t D, float eps, float* out) {
    parallel_for(0, rows, [&](int64_t r) { l2norm_row(x + r * D, D, eps, out + r * D); }, /*work_per_item=*/4 * D);
}

}  // namespace qinfer::kernels::cpu
