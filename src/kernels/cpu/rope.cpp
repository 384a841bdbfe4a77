// RoPE (NeoX / rotate_half style, partial), fp32, following HF Qwen3_5TextRotaryEmbedding + apply_rotary_pos_emb:
//   inv_freq[i] = 1.0f / powf(float(theta), float(2i) / float(rotary_dim))        (torch: base ** (arange/dim))
//   a           = float(pos) * inv_freq[i]                                        (fp32 product)
//   y_rot       = x_rot * cos(a) + rotate_half(x_rot) * sin(a),  rotate_half(x) = cat(-x[r/2:], x[:r/2])
// For text tokens the M-RoPE T/H/W position components are equal, so this is plain 1-D RoPE.
//
// Rounding notes (matter for large positions, where one ulp of a is ~0.008 rad at pos 1e5):
//  - float(2i)/float(rotary_dim) is an fp32 division, as torch's arange(dtype=float) / dim.
//  - torch evaluates base ** t with its vectorised powf (SLEEF, <= 1 ulp) and glibc's powf is correctly rounded in
//    practice, so inv_freq can differ from torch by 1 ulp for some (theta, dim). For theta = 1e7, dim = 64 (Qwen3.5)
//    all 32 values are bit-identical to torch 2.15 (tests/ops/test_rope.cpp checks them).
//  - cos/sin are fp32 libm calls; torch uses SLEEF (<= 1 ulp), so cos/sin may differ by 1 ulp.

#include "kernels/cpu/rope.h"

#include <cmath>
#include <vector>

#include "core/parallel.h"

namespace qinfer::kernels::cpu {

void rope_inv_freq(int64_t rotary_dim, double theta, float* inv_freq) {
    const float base = static_cast<float>(theta);
    for (int64_t i = 0; i < rotary_dim / 2; ++i) {
        const float exponent = static_cast<float>(2 * i) / static_cast<float>(rotary_dim);
        inv_freq[i] = 1.0f / std::pow(base, exponent);
    }
}

void rope_inplace(float* x, int64_t T, int64_t H, int64_t hd, const int64_t* positions, int64_t rotary_dim,
                  double theta) {
    const int64_t half = rotary_dim / 2;
    std::vector<float> inv_freq(static_cast<size_t>(half));
    rope_inv_freq(rotary_dim, theta, inv_freq.data());
    parallel_for(0, T, [&](int64_t t) {
        std::vector<float> cos_a(static_cast<size_t>(half)), sin_a(static_cast<size_t>(half));
        const float pos = static_cast<float>(positions[t]);
        for (int64_t i = 0; i < half; ++i) {
            const float a = pos * inv_freq[static_cast<size_t>(i)];
            cos_a[static_cast<size_t>(i)] = std::cos(a);
            sin_a[static_cast<size_t>(i)] = std::sin(a);
        }
        for (int64_t h = 0; h < H; ++h) {
            float* xh = x + (t * H + h) * hd;
            for (int64_t i = 0; i < half; ++i) {
                const float c = cos_a[static_cast<size_t>(i)], s = sin_a[static_cast<size_t>(i)];
                const float x1 = xh[i], x2 = xh[i + half];
                xh[i] = x1 * c + (-x2) * s;
                xh[i + half] = x2 * c + x1 * s;
            }
        }
    }, /*work_per_item=*/32 * half);
}

}  // namespace qinfer::kernels::cpu
