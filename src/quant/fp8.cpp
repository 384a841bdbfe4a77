#include "quant/fp8.h"

#include <cmath>
#include <cstring>

#include "core/check.h"
#include "core/dtype.h"
#include "core/parallel.h"

namespace qinfer::quant {

uint8_t e4m3_encode(float x) {
    uint32_t bits;
    std::memcpy(&bits, &x, sizeof bits);
    const uint8_t sign = static_cast<uint8_t>((bits >> 24) & 0x80u);
    if (std::isnan(x)) return static_cast<uint8_t>(sign | 0x7fu);
    const float a = std::fabs(x);
    if (a >= kE4m3Max) return static_cast<uint8_t>(sign | 0x7eu);  // clamp to ±448, then the cast is exact
    if (a < 0x1p-6f) {
        // Subnormal range: codes 0..8 are multiples of 2^-9 (code 8 is the smallest normal, 2^-6, so rounding up
        // into it needs no special case). a · 2^9 is exact; round it to an integer, ties to even.
        const float q = a * 512.0f;
        float r = std::floor(q);
        const float frac = q - r;
        if (frac > 0.5f || (frac == 0.5f && std::fmod(r, 2.0f) != 0.0f)) r += 1.0f;
        return static_cast<uint8_t>(sign | static_cast<uint8_t>(r));
    }
    // Normal range [2^-6, 448): keep 3 of fp32's 23 mantissa bits, rounding the 20 dropped bits to nearest, ties to
    // even (a carry into the exponent is the right answer). The top 9 bits of what is left are fp32's biased
    // exponent and mantissa; E4M3's bias is 7 instead of 127, so subtract 120 from the exponent field.
    uint32_t abits;
    std::memcpy(&abits, &a, sizeof abits);
    const uint32_t rounded = (abits + 0x7ffffu + ((abits >> 20) & 1u)) >> 20;
    return static_cast<uint8_t>(sign | (rounded - (120u << 3)));
}

void fp8_dequantize(std::span<const uint8_t> w, std::span<const float> scale, ScaleKind kind, int64_t N, int64_t K,
                    std::span<float> out) {
    QINFER_CHECK(N >= 0 && K >= 0, "FP8 weight: invalid shape [", N, ", ", K, "]");
    QINFER_CHECK(static_cast<int64_t>(w.size()) == N * K, "FP8 weight: expected ", N * K, " F8_E4M3 values for [", N,
                 ", ", K, "], got ", w.size());
    QINFER_CHECK(static_cast<int64_t>(out.size()) == N * K, "FP8 weight: output has ", out.size(),
                 " elements, expected ", N * K);
    int64_t n_scales = 0;
    switch (kind) {
        case ScaleKind::PerTensor:
            n_scales = 1;
            break;
        case ScaleKind::PerChannel:
            n_scales = N;
            break;
    }
    QINFER_CHECK(static_cast<int64_t>(scale.size()) == n_scales, "FP8 weight [", N, ", ", K, "]: expected ", n_scales,
                 kind == ScaleKind::PerTensor ? " per-tensor" : " per-channel", " scale(s), got ", scale.size());
    for (size_t i = 0; i < scale.size(); ++i) {
        QINFER_CHECK(std::isfinite(scale[i]) && scale[i] >= 0.0f, "FP8 weight: scale[", i, "] = ", scale[i],
                     " is not a finite value >= 0");
    }
    parallel_for(0, N, [&](int64_t n) {
        const float s = scale[kind == ScaleKind::PerTensor ? 0 : static_cast<size_t>(n)];
        for (int64_t k = 0; k < K; ++k) {
            const uint8_t c = w[static_cast<size_t>(n * K + k)];
            QINFER_CHECK((c & 0x7fu) != 0x7fu, "FP8 weight: element [", n, ", ", k, "] is NaN (0x", std::hex,
                         static_cast<int>(c), ")");
            out[static_cast<size_t>(n * K + k)] = f8e4m3_to_f32(c) * s;
        }
    });
}

Tensor fp8_dequantize(const Fp8Weight& w) {
    Tensor out({w.n, w.k});
    fp8_dequantize(w.values, std::span<const float>(&w.scale, 1), ScaleKind::PerTensor, w.n, w.k, out.span());
    return out;
}

float fp8_weight_scale(std::span<const float> w) {
    float amax = 0.0f;
    for (size_t i = 0; i < w.size(); ++i) {
        QINFER_CHECK(std::isfinite(w[i]), "FP8 quantize: weight element ", i, " is not finite (", w[i], ")");
        amax = std::fmax(amax, std::fabs(w[i]));
    }
    return (amax == 0.0f ? kE4m3Max : amax) / kE4m3Max;
}

Fp8Weight fp8_quantize(std::span<const float> w, int64_t N, int64_t K, std::optional<float> scale) {
    QINFER_CHECK(N >= 0 && K >= 0, "FP8 quantize: invalid shape [", N, ", ", K, "]");
    QINFER_CHECK(static_cast<int64_t>(w.size()) == N * K, "FP8 quantize: expected ", N * K, " values for [", N, ", ", K,
                 "], got ", w.size());
    for (size_t i = 0; i < w.size(); ++i) {
        QINFER_CHECK(std::isfinite(w[i]), "FP8 quantize: weight [", static_cast<int64_t>(i) / K, ", ",
                     static_cast<int64_t>(i) % K, "] is not finite (", w[i], ")");
    }
    Fp8Weight q;
    q.n = N;
    q.k = K;
    q.scale = scale ? *scale : fp8_weight_scale(w);
    QINFER_CHECK(std::isfinite(q.scale) && q.scale > 0.0f, "FP8 quantize: the given scale = ", q.scale,
                 " is not a finite value > 0");
    q.values.resize(w.size());
    parallel_for(0, N, [&](int64_t n) {
        for (int64_t k = 0; k < K; ++k) {
            const auto i = static_cast<size_t>(n * K + k);
            q.values[i] = e4m3_encode(w[i] / q.scale);
        }
    });
    return q;
}

void fp8_fake_quantize_activation(std::span<float> x, float input_scale) {
    QINFER_CHECK(std::isfinite(input_scale) && input_scale > 0.0f, "FP8 activation quantization: input_scale ",
                 input_scale, " is not a finite value > 0");
    parallel_for(0, static_cast<int64_t>(x.size()), [&](int64_t i) {
        float& v = x[static_cast<size_t>(i)];
        v = f8e4m3_to_f32(e4m3_encode(v / input_scale)) * input_scale;
    });
}

}  // namespace qinfer::quant
