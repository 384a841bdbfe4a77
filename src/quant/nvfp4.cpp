#include "quant/nvfp4.h"

#include <algorithm>
#include <array>
#include <cmath>

#include "core/check.h"
#include "core/dtype.h"
#include "core/parallel.h"
#include "quant/fp8.h"

namespace qinfer::quant {
namespace {

constexpr std::array<float, 16> kE2m1Values = {0.0f,  0.5f,  1.0f,  1.5f,  2.0f,  3.0f,  4.0f,  6.0f,
                                               -0.0f, -0.5f, -1.0f, -1.5f, -2.0f, -3.0f, -4.0f, -6.0f};

// ModelOpt's e2m1_bounds: the midpoints between consecutive E2M1 magnitudes.
constexpr std::array<float, 7> kE2m1Bounds = {0.25f, 0.75f, 1.25f, 1.75f, 2.5f, 3.5f, 5.0f};

// Smallest block scale ModelOpt lets through (the smallest E4M3 subnormal), so tiny blocks do not become 0.
constexpr float kMinBlockScale = 0x1p-9f;

int64_t round_up(int64_t v, int64_t m) {
    return (v + m - 1) / m * m;
}

void check_k(int64_t N, int64_t K, const char* what) {
    QINFER_CHECK(N >= 0 && K >= 0, what, ": invalid shape [", N, ", ", K, "]");
    QINFER_CHECK(K % kNvfp4BlockSize == 0, what, ": K = ", K, " is not a multiple of the NVFP4 block size ",
                 kNvfp4BlockSize);
}

}  // namespace

float e2m1_decode(uint8_t nibble) {
    QINFER_CHECK(nibble < 16, "E2M1 code ", static_cast<int>(nibble), " is not a 4-bit value");
    return kE2m1Values[nibble];
}

uint8_t e2m1_encode(float x) {
    if (std::isnan(x)) return 7;
    const uint8_t sign = x < 0.0f ? 8 : 0;
    const float a = std::fabs(x);
    // torch.searchsorted(bounds, a) with right=False: how many bounds lie strictly below a. A value exactly on a
    // bound therefore gets the lower code ...
    uint8_t code = 0;
    for (float b : kE2m1Bounds) code = static_cast<uint8_t>(code + (a > b ? 1 : 0));
    // ... which is the even one except on the bounds above odd codes (0.5|1, 1.5|2, 3|4), where ModelOpt adds 1.
    if (a == 0.75f || a == 1.75f || a == 3.5f) ++code;
    return static_cast<uint8_t>(sign | code);
}

void nvfp4_check_shapes(const Shape& weight, const Shape& weight_scale, int64_t N, int64_t K, const std::string& name) {
    QINFER_CHECK(N >= 0 && K >= 0, name, ": invalid NVFP4 shape [", N, ", ", K, "]");
    QINFER_CHECK(K % kNvfp4BlockSize == 0, name, ": K = ", K, " is not a multiple of the NVFP4 block size ",
                 kNvfp4BlockSize);
    const Shape want_w{N, K / 2};
    const Shape want_s{N, K / kNvfp4BlockSize};
    QINFER_CHECK(weight == want_w, name, ".weight: NVFP4 packed weight has shape ", shape_str(weight), ", expected U8 ",
                 shape_str(want_w), " for a [", N, ", ", K, "] weight (two E2M1 values per byte along K)");
    if (weight_scale == want_s) return;
    const Shape padded{round_up(N, 128), round_up(K / kNvfp4BlockSize, 4)};
    QINFER_CHECK(weight_scale != padded, name, ".weight_scale: block scales have shape ", shape_str(weight_scale),
                 ", which is [N, K/16] = ", shape_str(want_s),
                 " padded for the swizzled 128x4 layout (rows to 128, columns to 4); qinfer reads only the "
                 "row-major, unpadded, unswizzled [N, K/16] scales that ModelOpt writes");
    QINFER_FAIL(name, ".weight_scale: block scales have shape ", shape_str(weight_scale), ", expected F8_E4M3 ",
                shape_str(want_s), " (one per 16 elements of each row of a [", N, ", ", K, "] weight)");
}

void nvfp4_dequantize(std::span<const uint8_t> packed, std::span<const uint8_t> block_scales, float weight_scale_2,
                      int64_t N, int64_t K, std::span<float> out) {
    check_k(N, K, "NVFP4 dequantize");
    const int64_t KB = K / kNvfp4BlockSize;
    QINFER_CHECK(static_cast<int64_t>(packed.size()) == N * (K / 2), "NVFP4 dequantize: packed weight has ",
                 packed.size(), " bytes, expected ", N * (K / 2), " (U8 [", N, ", ", K / 2, "])");
    if (static_cast<int64_t>(block_scales.size()) != N * KB) {
        const int64_t padded = round_up(N, 128) * round_up(KB, 4);
        QINFER_FAIL("NVFP4 dequantize: block scales have ", block_scales.size(), " bytes, expected ", N * KB,
                    " (F8_E4M3 [", N, ", ", KB, "])",
                    static_cast<int64_t>(block_scales.size()) == padded
                        ? "; that is the size padded for the swizzled 128x4 layout, which qinfer does not read"
                        : "");
    }
    QINFER_CHECK(static_cast<int64_t>(out.size()) == N * K, "NVFP4 dequantize: output has ", out.size(),
                 " elements, expected ", N * K);
    QINFER_CHECK(std::isfinite(weight_scale_2) && weight_scale_2 >= 0.0f,
                 "NVFP4 dequantize: weight_scale_2 = ", weight_scale_2, " is not a finite value >= 0");
    parallel_for(0, N, [&](int64_t n) {
        for (int64_t b = 0; b < KB; ++b) {
            const uint8_t sc = block_scales[static_cast<size_t>(n * KB + b)];
            const float s = f8e4m3_to_f32(sc);
            // No producer writes NaN or negative block scales (Marlin even assumes s >= 0, §9.2): one means the bytes
            // were misread, and a NaN would silently poison 16 weights.
            QINFER_CHECK(s >= 0.0f, "NVFP4 dequantize: block scale [", n, ", ", b, "] = ", s, " (E4M3 code ",
                         static_cast<int>(sc), ") is NaN or negative");
            const uint8_t* src = packed.data() + n * (K / 2) + b * (kNvfp4BlockSize / 2);
            float* dst = out.data() + n * K + b * kNvfp4BlockSize;
            for (int64_t j = 0; j < kNvfp4BlockSize / 2; ++j) {
                dst[2 * j] = (kE2m1Values[src[j] & 0x0fu] * s) * weight_scale_2;
                dst[2 * j + 1] = (kE2m1Values[src[j] >> 4] * s) * weight_scale_2;
            }
        }
    });
}

Tensor nvfp4_dequantize(const Nvfp4Weight& w) {
    Tensor out({w.n, w.k});
    nvfp4_dequantize(w.packed, w.block_scales, w.weight_scale_2, w.n, w.k, out.span());
    return out;
}

float nvfp4_weight_scale_2(std::span<const float> w) {
    float amax = 0.0f;
    for (size_t i = 0; i < w.size(); ++i) {
        QINFER_CHECK(std::isfinite(w[i]), "NVFP4 quantize: weight element ", i, " is not finite (", w[i], ")");
        amax = std::fmax(amax, std::fabs(w[i]));
    }
    if (amax == 0.0f) amax = kE2m1Max;
    return amax / (kE2m1Max * kE4m3Max);
}

Nvfp4Weight nvfp4_quantize(std::span<const float> w, int64_t N, int64_t K, std::optional<float> weight_scale_2) {
    check_k(N, K, "NVFP4 quantize");
    QINFER_CHECK(static_cast<int64_t>(w.size()) == N * K, "NVFP4 quantize: expected ", N * K, " values for [", N, ", ",
                 K, "], got ", w.size());
    for (size_t i = 0; i < w.size(); ++i) {
        QINFER_CHECK(std::isfinite(w[i]), "NVFP4 quantize: weight [", static_cast<int64_t>(i) / K, ", ",
                     static_cast<int64_t>(i) % K, "] is not finite (", w[i], ")");
    }
    const float s2 = weight_scale_2 ? *weight_scale_2 : nvfp4_weight_scale_2(w);
    QINFER_CHECK(std::isfinite(s2) && s2 > 0.0f, "NVFP4 quantize: the given weight_scale_2 = ", s2,
                 " is not a finite value > 0");
    const int64_t KB = K / kNvfp4BlockSize;
    Nvfp4Weight q;
    q.n = N;
    q.k = K;
    q.weight_scale_2 = s2;
    q.packed.resize(static_cast<size_t>(N * (K / 2)));
    q.block_scales.resize(static_cast<size_t>(N * KB));
    const float scale_denom = kE2m1Max * s2;  // ModelOpt: per_block_amax / (6.0 * weights_scaling_factor_2)
    parallel_for(0, N, [&](int64_t n) {
        for (int64_t b = 0; b < KB; ++b) {
            const float* src = w.data() + n * K + b * kNvfp4BlockSize;
            float block_amax = 0.0f;
            for (int64_t j = 0; j < kNvfp4BlockSize; ++j) block_amax = std::fmax(block_amax, std::fabs(src[j]));
            float s = block_amax / scale_denom;
            if (s == 0.0f) s = 1.0f;
            s = std::clamp(s, kMinBlockScale, kE4m3Max);
            const uint8_t sc = e4m3_encode(s);
            q.block_scales[static_cast<size_t>(n * KB + b)] = sc;
            const float denom = f8e4m3_to_f32(sc) * s2;
            uint8_t* dst = q.packed.data() + n * (K / 2) + b * (kNvfp4BlockSize / 2);
            for (int64_t j = 0; j < kNvfp4BlockSize / 2; ++j) {
                const uint8_t lo = e2m1_encode(src[2 * j] / denom);
                const uint8_t hi = e2m1_encode(src[2 * j + 1] / denom);
                dst[j] = static_cast<uint8_t>(lo | (hi << 4));
            }
        }
    });
    return q;
}

void nvfp4_fake_quantize_activation(std::span<float> x, int64_t T, int64_t K, float input_scale) {
    check_k(T, K, "NVFP4 activation quantization");
    QINFER_CHECK(static_cast<int64_t>(x.size()) == T * K, "NVFP4 activation quantization: expected ", T * K,
                 " values for [", T, ", ", K, "], got ", x.size());
    QINFER_CHECK(std::isnormal(input_scale) && input_scale > 0.0f, "NVFP4 activation quantization: input_scale ",
                 input_scale, " is not a normal fp32 value > 0");
    const float g = 1.0f / input_scale;
    const float g_inv = 1.0f / g;  // the kernels divide by the reciprocal of their global scale, not by input_scale
    const int64_t KB = K / kNvfp4BlockSize;
    parallel_for(0, T, [&](int64_t t) {
        for (int64_t b = 0; b < KB; ++b) {
            float* v = x.data() + t * K + b * kNvfp4BlockSize;
            float block_amax = 0.0f;
            // fmax skips a NaN operand, so a NaN element does not change its neighbours' scale.
            for (int64_t j = 0; j < kNvfp4BlockSize; ++j) block_amax = std::fmax(block_amax, std::fabs(v[j]));
            const float sf = f8e4m3_to_f32(e4m3_encode(g * (block_amax / kE2m1Max)));
            const float out_scale = sf != 0.0f ? 1.0f / (sf * g_inv) : 0.0f;
            for (int64_t j = 0; j < kNvfp4BlockSize; ++j) {
                if (std::isnan(v[j])) continue;
                v[j] = (kE2m1Values[e2m1_encode(v[j] * out_scale)] * sf) * input_scale;
            }
        }
    });
}

}  // namespace qinfer::quant
