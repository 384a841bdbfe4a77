// quant/nvfp4: the E2M1 codec over every code and rounding bound, NVFP4 dequantization of hand-built and
// torch-built tensors, ModelOpt-formula quantization (bit for bit against tests/quant/data/refs.h, error bounds,
// zero/tiny blocks, shared weight_scale_2), W4A4 activation fake-quantization, and the errors.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/check.h"
#include "core/dtype.h"
#include "ops/op_test_util.h"
#include "quant/data/refs.h"
#include "quant/fp8.h"
#include "quant/nvfp4.h"
#include "test_util.h"

namespace qinfer {
namespace {

using namespace qinfer::quant;
namespace refs = qinfer::test::quant_refs;

const float kNaN = std::numeric_limits<float>::quiet_NaN();
const float kInf = std::numeric_limits<float>::infinity();

uint32_t bits(float f) {
    uint32_t b;
    std::memcpy(&b, &f, sizeof b);
    return b;
}

// Bitwise equality of two float arrays (so that -0 vs +0 and last-ulp differences count).
void expect_bitwise(std::span<const float> got, std::span<const float> want, const std::string& what) {
    ASSERT_EQ(got.size(), want.size()) << what;
    int bad = 0;
    for (size_t i = 0; i < got.size() && bad < 5; ++i) {
        if (bits(got[i]) != bits(want[i])) {
            ADD_FAILURE() << what << "[" << i << "]: got " << got[i] << " want " << want[i];
            ++bad;
        }
    }
}

template <class T, size_t N>
std::vector<T> vec(const T (&a)[N]) {
    return std::vector<T>(a, a + N);
}

// ---- E2M1

TEST(E2m1, DecodeTable) {
    const float want[16] = {0, 0.5f, 1, 1.5f, 2, 3, 4, 6, -0.0f, -0.5f, -1, -1.5f, -2, -3, -4, -6};
    for (uint8_t c = 0; c < 16; ++c) EXPECT_EQ(bits(e2m1_decode(c)), bits(want[c])) << int(c);
    EXPECT_TRUE(std::signbit(e2m1_decode(8)));  // nibble 8 is -0
    EXPECT_ERROR_CONTAINS(e2m1_decode(16), "E2M1 code 16");
}

TEST(E2m1, AllCodesRoundTrip) {
    for (uint8_t c = 0; c < 16; ++c) {
        const float v = e2m1_decode(c);
        EXPECT_EQ(e2m1_decode(e2m1_encode(v)), v) << int(c);
        // Every code is its own encoding except -0: ModelOpt sets the sign bit only for x < 0, and -0.0 < 0 is false.
        EXPECT_EQ(e2m1_encode(v), c == 8 ? 0 : c) << int(c);
    }
}

TEST(E2m1, MidpointsGoToTheEvenCode) {
    // Midpoint between magnitude codes c and c+1 -> the even one of the two; a hair either side -> the nearer one.
    for (uint8_t c = 0; c < 7; ++c) {
        const float lo = e2m1_decode(c), hi = e2m1_decode(c + 1);
        const float mid = (lo + hi) / 2;  // exact
        const uint8_t even = (c % 2 == 0) ? c : static_cast<uint8_t>(c + 1);
        EXPECT_EQ(e2m1_encode(mid), even) << mid;
        EXPECT_EQ(e2m1_encode(-mid), even | 8) << -mid;
        EXPECT_EQ(e2m1_encode(std::nextafter(mid, 0.0f)), c) << mid;
        EXPECT_EQ(e2m1_encode(std::nextafter(mid, 10.0f)), c + 1) << mid;
    }
    // The doc's list (§1.5): 0.25→0, 0.75→1, 1.25→1, 1.75→2, 2.5→2, 3.5→4, 5→4.
    const float at[7] = {0.25f, 0.75f, 1.25f, 1.75f, 2.5f, 3.5f, 5.0f};
    const float to[7] = {0.0f, 1.0f, 1.0f, 2.0f, 2.0f, 4.0f, 4.0f};
    for (int i = 0; i < 7; ++i) EXPECT_EQ(e2m1_decode(e2m1_encode(at[i])), to[i]) << at[i];
}

TEST(E2m1, SaturationSignAndNaN) {
    EXPECT_EQ(e2m1_encode(6.0f), 7);
    EXPECT_EQ(e2m1_encode(std::nextafter(5.0f, 6.0f)), 7);
    EXPECT_EQ(e2m1_encode(1e30f), 7);
    EXPECT_EQ(e2m1_encode(-1e30f), 15);
    EXPECT_EQ(e2m1_encode(kInf), 7);
    EXPECT_EQ(e2m1_encode(-kInf), 15);
    EXPECT_EQ(e2m1_encode(kNaN), 7);  // as ModelOpt's _cast_fp4: NaN sorts above every bound, NaN < 0 is false
    EXPECT_EQ(e2m1_encode(-kNaN), 7);
    EXPECT_EQ(e2m1_encode(0.0f), 0);
    EXPECT_EQ(e2m1_encode(-0.0f), 0);  // sign bit iff x < 0
    EXPECT_EQ(e2m1_encode(-0.1f), 8);  // a negative value that rounds to zero keeps its sign: -0
    EXPECT_EQ(e2m1_encode(-1e-30f), 8);
}

TEST(E2m1, MatchesDocReference) {
    ASSERT_EQ(std::size(refs::kE2m1In), std::size(refs::kE2m1Codes));
    for (size_t i = 0; i < std::size(refs::kE2m1In); ++i) {
        EXPECT_EQ(e2m1_encode(refs::kE2m1In[i]), refs::kE2m1Codes[i]) << refs::kE2m1In[i];
    }
}

// ---- dequantization

TEST(Nvfp4, DequantizeHandBuilt) {
    // [2, 32]: row 0 is 0x21 repeated (element 2j = code 1 = 0.5, element 2j+1 = code 2 = 1.0); row 1 counts through
    // all codes. Block scales 2.0 (0x40) and 0.5 (0x30) in row 0, 1.0 (0x38) and 448 (0x7e) in row 1.
    const int64_t N = 2, K = 32;
    std::vector<uint8_t> packed(N * K / 2, 0x21);
    for (int j = 0; j < 16; ++j) packed[16 + j] = static_cast<uint8_t>((2 * j) % 16 | (((2 * j + 1) % 16) << 4));
    const std::vector<uint8_t> scales = {0x40, 0x30, 0x38, 0x7e};
    const float s2 = 0.25f;
    std::vector<float> out(N * K);
    nvfp4_dequantize(packed, scales, s2, N, K, out);
    EXPECT_EQ(out[0], 0.5f * 2.0f * 0.25f);
    EXPECT_EQ(out[1], 1.0f * 2.0f * 0.25f);
    EXPECT_EQ(out[16], 0.5f * 0.5f * 0.25f);
    EXPECT_EQ(out[17], 1.0f * 0.5f * 0.25f);
    for (int64_t n = 0; n < N; ++n) {
        for (int64_t k = 0; k < K; ++k) {
            const uint8_t byte = packed[n * K / 2 + k / 2];
            const uint8_t code = (k % 2 == 0) ? (byte & 0x0f) : (byte >> 4);
            const float want = e2m1_decode(code) * f8e4m3_to_f32(scales[n * 2 + k / 16]) * s2;
            EXPECT_EQ(bits(out[n * K + k]), bits(want)) << n << "," << k;
        }
    }
    EXPECT_EQ(out[32 + 7], 6.0f * 0.25f);
    EXPECT_EQ(out[32 + 16 + 15], -6.0f * 448.0f * 0.25f);
    EXPECT_TRUE(std::signbit(out[32 + 8]));  // code 8: -0
}

TEST(Nvfp4, DequantizeMatchesTorchReference) {
    std::vector<float> out(4 * 32);
    nvfp4_dequantize(vec(refs::kNvfp4Packed), vec(refs::kNvfp4Scales), refs::kNvfp4WeightScale2, 4, 32, out);
    expect_bitwise(out, vec(refs::kNvfp4Dequant), "dequant");
    std::vector<float> out2(4 * 32);
    nvfp4_dequantize(vec(refs::kNvfp4SharedPacked), vec(refs::kNvfp4SharedScales), refs::kNvfp4SharedScale2, 4, 32,
                     out2);
    expect_bitwise(out2, vec(refs::kNvfp4SharedDequant), "dequant (shared scale)");
}

TEST(Nvfp4, DequantizeTensorOverload) {
    Nvfp4Weight w{4, 32, vec(refs::kNvfp4Packed), vec(refs::kNvfp4Scales), refs::kNvfp4WeightScale2};
    const Tensor t = nvfp4_dequantize(w);
    EXPECT_EQ(t.shape(), (Shape{4, 32}));
    expect_bitwise(t.span(), vec(refs::kNvfp4Dequant), "dequant");
}

// ---- quantization

TEST(Nvfp4, QuantizeMatchesModelOptFormulaReference) {
    const Nvfp4Weight q = nvfp4_quantize(vec(refs::kNvfp4W), 4, 32);
    EXPECT_EQ(q.n, 4);
    EXPECT_EQ(q.k, 32);
    EXPECT_EQ(bits(q.weight_scale_2), bits(refs::kNvfp4WeightScale2));
    EXPECT_EQ(q.packed, vec(refs::kNvfp4Packed));
    EXPECT_EQ(q.block_scales, vec(refs::kNvfp4Scales));
}

TEST(Nvfp4, QuantizeFollowsModelOptOrderOfOperations) {
    // Block 0 of this weight gets E4M3 208 from block_amax / (6 · weight_scale_2) but 224 from block_amax / 6 /
    // weight_scale_2.
    const Nvfp4Weight q = nvfp4_quantize(vec(refs::kNvfp4OrderW), 1, 32);
    EXPECT_EQ(q.block_scales, vec(refs::kNvfp4OrderScales));
    EXPECT_EQ(f8e4m3_to_f32(q.block_scales[0]), 208.0f);
    EXPECT_EQ(q.packed, vec(refs::kNvfp4OrderPacked));
}

TEST(Nvfp4, QuantizeUsesGivenSharedScale) {
    const Nvfp4Weight q = nvfp4_quantize(vec(refs::kNvfp4W), 4, 32, refs::kNvfp4SharedScale2);
    EXPECT_EQ(bits(q.weight_scale_2), bits(refs::kNvfp4SharedScale2));
    EXPECT_EQ(q.packed, vec(refs::kNvfp4SharedPacked));
    EXPECT_EQ(q.block_scales, vec(refs::kNvfp4SharedScales));
}

TEST(Nvfp4, WeightScale2Formula) {
    Tensor w = test::random_tensor({8, 64}, 7, -3.0f, 3.0f);
    w.data()[100] = -5.5f;
    EXPECT_EQ(bits(nvfp4_weight_scale_2(w.span())), bits(5.5f / 2688.0f));
    EXPECT_EQ(bits(nvfp4_quantize(w.span(), 8, 64).weight_scale_2), bits(5.5f / 2688.0f));
    // All-zero (and empty) weights use amax = 6, the E2M1 maxbound: 6 / (6·448) = 1/448.
    const std::vector<float> zeros(32, 0.0f);
    EXPECT_EQ(nvfp4_weight_scale_2(zeros), 1.0f / 448.0f);
    EXPECT_EQ(nvfp4_weight_scale_2({}), 1.0f / 448.0f);
    // Fused shards share the largest scale: the max of the per-shard scales is the scale of the max amax.
    const std::vector<float> a(16, 0.5f), b(16, -2.0f);
    EXPECT_EQ(std::max(nvfp4_weight_scale_2(a), nvfp4_weight_scale_2(b)), 2.0f / 2688.0f);
}

TEST(Nvfp4, TiesInTheWeightRoundToTheEvenCode) {
    // Row 3 block 0 of the reference: weight_scale_2 = 2^-10 and block scale 8, so w / (8 · 2^-10) is exactly
    // [6, 0.25, 0.75, 1.25, 1.75, 2.5, 3.5, 5, -0.25, ..., -5, 1].
    const Nvfp4Weight q = nvfp4_quantize(vec(refs::kNvfp4W), 4, 32);
    ASSERT_EQ(q.weight_scale_2, 0x1p-10f);
    ASSERT_EQ(f8e4m3_to_f32(q.block_scales[3 * 2]), 8.0f);
    const float want[16] = {6, 0, 1, 1, 2, 2, 4, 4, -0.0f, -1, -1, -2, -2, -4, -4, 1};
    for (int k = 0; k < 16; ++k) {
        const uint8_t byte = q.packed[3 * 16 + k / 2];
        EXPECT_EQ(bits(e2m1_decode(k % 2 ? byte >> 4 : byte & 0x0f)), bits(want[k])) << k;
    }
}

TEST(Nvfp4, ZeroAndTinyBlocks) {
    const Nvfp4Weight q = nvfp4_quantize(vec(refs::kNvfp4W), 4, 32);
    EXPECT_EQ(q.block_scales[1 * 2 + 0], 0x38);  // all-zero block: scale 1.0, codes 0
    for (int j = 0; j < 8; ++j) EXPECT_EQ(q.packed[16 + j], 0);
    EXPECT_EQ(q.block_scales[2 * 2 + 1], 0x01);  // tiny block: scale clamped up to 2^-9 instead of rounding to 0

    const std::vector<float> zeros(2 * 32, 0.0f);
    const Nvfp4Weight z = nvfp4_quantize(zeros, 2, 32);
    EXPECT_EQ(z.weight_scale_2, 1.0f / 448.0f);
    EXPECT_EQ(z.block_scales, std::vector<uint8_t>(4, 0x38));
    EXPECT_EQ(z.packed, std::vector<uint8_t>(32, 0));
    const Tensor d = nvfp4_dequantize(z);
    for (float v : d.span()) EXPECT_EQ(bits(v), 0u);
}

TEST(Nvfp4, QuantizeDequantizeErrorBoundsPerBlock) {
    // Blocks of very different magnitudes (so that block scales span the E4M3 range), with and without a shared scale.
    const int64_t N = 16, K = 128;
    Tensor w = test::random_tensor({N, K}, 11);
    for (int64_t n = 0; n < N; ++n) {
        for (int64_t k = 0; k < K; ++k) {
            w.data()[n * K + k] *= std::ldexp(1.0f, static_cast<int>((n * 7 + k / 16) % 13) - 6);
        }
    }
    for (const std::optional<float> s2 :
         {std::optional<float>{}, std::optional<float>(1.5f * nvfp4_weight_scale_2(w.span()))}) {
        const Nvfp4Weight q = nvfp4_quantize(w.span(), N, K, s2);
        const Tensor d = nvfp4_dequantize(q);
        for (int64_t n = 0; n < N; ++n) {
            for (int64_t b = 0; b < K / 16; ++b) {
                const float* wb = w.data() + n * K + b * 16;
                const float* db = d.data() + n * K + b * 16;
                float amax = 0.0f;
                for (int j = 0; j < 16; ++j) amax = std::max(amax, std::fabs(wb[j]));
                const float exact_scale = amax / (6.0f * q.weight_scale_2);
                const float sf = f8e4m3_to_f32(q.block_scales[n * (K / 16) + b]);
                // The E4M3 block scale is within half an E4M3 step of block_amax / (6 · weight_scale_2).
                if (exact_scale >= 0x1p-6f) {
                    EXPECT_LE(std::fabs(sf - exact_scale), exact_scale / 16) << n << "," << b;
                }
                const double unit = static_cast<double>(sf) * q.weight_scale_2;  // one E2M1 unit in weight space
                double worst = 0.0;
                for (int j = 0; j < 16; ++j) {
                    // Half the gap between neighbouring E2M1 values around |w| / unit: 0.25 below 2, 0.5 below 4,
                    // 1 above (the scale rounding can push the block max up to 6·16/15 = 6.4, still within 1 of 6).
                    const double v = std::fabs(wb[j]) / unit;
                    const double half_gap = v <= 2.0 ? 0.25 : (v <= 4.0 ? 0.5 : 1.0);
                    const double err = std::fabs(static_cast<double>(db[j]) - wb[j]);
                    EXPECT_LE(err, half_gap * unit * (1 + 1e-6)) << n << "," << b * 16 + j;
                    worst = std::max(worst, err);
                }
                EXPECT_LE(worst, amax / 6.0 * 17.0 / 16.0 * (1 + 1e-6)) << n << "," << b;
            }
        }
    }
}

TEST(Nvfp4, QuantizeIsRowIndependentAndThreadIndependent) {
    const Tensor w = test::random_tensor({6, 48}, 3, -2.0f, 2.0f);
    const float s2 = nvfp4_weight_scale_2(w.span());
    const Nvfp4Weight all = nvfp4_quantize(w.span(), 6, 48);
    for (int64_t n = 0; n < 6; ++n) {
        const Nvfp4Weight row = nvfp4_quantize(std::span<const float>(w.row(n), 48), 1, 48, s2);
        EXPECT_TRUE(std::equal(row.packed.begin(), row.packed.end(), all.packed.begin() + n * 24)) << n;
        EXPECT_TRUE(std::equal(row.block_scales.begin(), row.block_scales.end(), all.block_scales.begin() + n * 3));
    }
}

// ---- activation fake-quantization

// §1.6 spelled out for one element of a block whose elements are blk[0..16).
float act_formula(const float* blk, int j, float input_scale) {
    float amax = 0.0f;
    for (int i = 0; i < 16; ++i) {
        if (!std::isnan(blk[i])) amax = std::max(amax, std::fabs(blk[i]));
    }
    const float g = 1.0f / input_scale;
    const float sf = f8e4m3_to_f32(e4m3_encode(g * (amax / 6.0f)));
    const float out_scale = sf == 0.0f ? 0.0f : 1.0f / (sf * (1.0f / g));
    return e2m1_decode(e2m1_encode(blk[j] * out_scale)) * sf * input_scale;
}

TEST(Nvfp4, ActivationFakeQuantMatchesScalarFormula) {
    const int64_t T = 5, K = 64;
    Tensor x = test::random_tensor({T, K}, 21, -4.0f, 4.0f);
    for (int64_t k = 0; k < 16; ++k) x.data()[1 * K + k] *= 20.0f;  // beyond the calibrated range
    for (int64_t k = 16; k < 32; ++k) x.data()[2 * K + k] = 0.0f;
    const float input_scale = 3.0f / 2688.0f;
    Tensor y = x;
    nvfp4_fake_quantize_activation(y.span(), T, K, input_scale);
    for (int64_t t = 0; t < T; ++t) {
        for (int64_t k = 0; k < K; ++k) {
            const float want = act_formula(x.data() + t * K + (k / 16) * 16, static_cast<int>(k % 16), input_scale);
            EXPECT_EQ(bits(y.data()[t * K + k]), bits(want)) << t << "," << k;
        }
    }
    // Saturated block: its largest element maps to E2M1 6 times a block scale of 448.
    float m = 0.0f;
    for (int64_t k = 0; k < 16; ++k) m = std::max(m, std::fabs(y.data()[K + k]));
    EXPECT_EQ(m, 6.0f * 448.0f * input_scale);
}

TEST(Nvfp4, ActivationFakeQuantMatchesTorchReference) {
    std::vector<float> x = vec(refs::kActX);
    nvfp4_fake_quantize_activation(x, 3, 32, refs::kActInputScale);
    expect_bitwise(x, vec(refs::kActNvfp4), "activation");
    // A block whose scale depends on the order of operations (§1.6's (1/input_scale)·(amax/6) gives E4M3 24 where
    // amax/6/input_scale would give 22).
    std::vector<float> x2 = vec(refs::kAct2X);
    nvfp4_fake_quantize_activation(x2, 1, 32, refs::kAct2InputScale);
    expect_bitwise(x2, vec(refs::kAct2Nvfp4), "activation (order-sensitive block)");
    EXPECT_EQ(x2[5], 6.0f * 24.0f * refs::kAct2InputScale);
}

TEST(Nvfp4, ActivationNaNAndInf) {
    const Tensor x = test::random_tensor({1, 32}, 5, -1.0f, 1.0f);
    const float input_scale = 1.0f / 2688.0f;
    // A NaN stays NaN and leaves its block's other elements as if it were 0.
    Tensor with_nan = x, with_zero = x;
    with_nan.data()[3] = kNaN;
    with_zero.data()[3] = 0.0f;
    nvfp4_fake_quantize_activation(with_nan.span(), 1, 32, input_scale);
    nvfp4_fake_quantize_activation(with_zero.span(), 1, 32, input_scale);
    EXPECT_TRUE(std::isnan(with_nan.data()[3]));
    for (int k = 0; k < 32; ++k) {
        if (k != 3) {
            EXPECT_EQ(bits(with_nan.data()[k]), bits(with_zero.data()[k])) << k;
        }
    }
    // ±inf saturates like cvt.rn.satfinite: block scale 448, code ±6.
    Tensor with_inf = x;
    with_inf.data()[20] = -kInf;
    nvfp4_fake_quantize_activation(with_inf.span(), 1, 32, input_scale);
    EXPECT_EQ(with_inf.data()[20], -6.0f * 448.0f * input_scale);
    for (int k = 0; k < 16; ++k) EXPECT_TRUE(std::isfinite(with_inf.data()[k]));
}

// ---- errors

TEST(Nvfp4, Errors) {
    const std::vector<float> w(4 * 24, 1.0f);
    EXPECT_ERROR_CONTAINS(nvfp4_quantize(w, 4, 24), "K = 24", "multiple of the NVFP4 block size 16");
    EXPECT_ERROR_CONTAINS(nvfp4_quantize(w, 4, 32), "expected 128 values", "got 96");
    std::vector<float> bad(32, 1.0f);
    bad[17] = kNaN;
    EXPECT_ERROR_CONTAINS(nvfp4_quantize(bad, 1, 32), "weight [0, 17] is not finite");
    EXPECT_ERROR_CONTAINS(nvfp4_quantize(std::vector<float>(32, 1.0f), 1, 32, 0.0f), "weight_scale_2 = 0");
    EXPECT_ERROR_CONTAINS(nvfp4_quantize(std::vector<float>(32, 1.0f), 1, 32, -1.0f), "weight_scale_2 = -1");
    EXPECT_ERROR_CONTAINS(nvfp4_quantize(std::vector<float>(32, 1.0f), 1, 32, kInf), "not a finite value > 0");

    std::vector<uint8_t> packed(2 * 16, 0), scales(2 * 2, 0x38);
    std::vector<float> out(2 * 32);
    EXPECT_ERROR_CONTAINS(nvfp4_dequantize(packed, scales, 1.0f, 2, 24, out), "K = 24");
    EXPECT_ERROR_CONTAINS(nvfp4_dequantize(std::vector<uint8_t>(31), scales, 1.0f, 2, 32, out), "31 bytes",
                          "expected 32");
    EXPECT_ERROR_CONTAINS(nvfp4_dequantize(packed, std::vector<uint8_t>(3), 1.0f, 2, 32, out), "3 bytes",
                          "F8_E4M3 [2, 2]");
    // [2, 2] scales padded to the swizzled layout's [128, 4].
    EXPECT_ERROR_CONTAINS(nvfp4_dequantize(packed, std::vector<uint8_t>(128 * 4, 0x38), 1.0f, 2, 32, out),
                          "swizzled 128x4 layout");
    EXPECT_ERROR_CONTAINS(nvfp4_dequantize(packed, scales, 1.0f, 2, 32, std::span<float>(out.data(), 63)),
                          "output has 63");
    EXPECT_ERROR_CONTAINS(nvfp4_dequantize(packed, scales, kNaN, 2, 32, out), "weight_scale_2");
    scales[3] = 0x7f;
    EXPECT_ERROR_CONTAINS(nvfp4_dequantize(packed, scales, 1.0f, 2, 32, out), "block scale [1, 1]", "NaN");
    scales[3] = 0xb8;  // -1.0
    EXPECT_ERROR_CONTAINS(nvfp4_dequantize(packed, scales, 1.0f, 2, 32, out), "block scale [1, 1]", "negative");

    std::vector<float> x(2 * 32, 1.0f);
    EXPECT_ERROR_CONTAINS(nvfp4_fake_quantize_activation(x, 2, 32, 0.0f), "input_scale 0");
    EXPECT_ERROR_CONTAINS(nvfp4_fake_quantize_activation(x, 2, 32, kNaN), "input_scale");
    EXPECT_ERROR_CONTAINS(nvfp4_fake_quantize_activation(x, 2, 32, 1e-40f), "not a normal");
    EXPECT_ERROR_CONTAINS(nvfp4_fake_quantize_activation(x, 4, 16 + 8, 1.0f), "K = 24");
    EXPECT_ERROR_CONTAINS(nvfp4_fake_quantize_activation(x, 3, 32, 1.0f), "expected 96 values");
}

TEST(Nvfp4, CheckShapes) {
    const std::string p = "model.layers.0.mlp.experts.3.up_proj";
    EXPECT_NO_THROW(nvfp4_check_shapes({512, 1024}, {512, 128}, 512, 2048, p));
    EXPECT_ERROR_CONTAINS(nvfp4_check_shapes({512, 1012}, {512, 126}, 512, 2024, p), p, "K = 2024");
    EXPECT_ERROR_CONTAINS(nvfp4_check_shapes({512, 2048}, {512, 128}, 512, 2048, p), p + ".weight", "[512, 2048]",
                          "expected U8 [512, 1024]");
    // 32 rows, K = 32 (2 blocks): padded to [128, 4].
    EXPECT_ERROR_CONTAINS(nvfp4_check_shapes({32, 16}, {128, 4}, 32, 32, p), p + ".weight_scale", "[128, 4]",
                          "swizzled 128x4 layout", "[32, 2]");
    EXPECT_ERROR_CONTAINS(nvfp4_check_shapes({32, 16}, {32, 4}, 32, 32, p), p + ".weight_scale",
                          "expected F8_E4M3 [32, 2]");
    EXPECT_ERROR_CONTAINS(nvfp4_check_shapes({32, 16}, {64}, 32, 32, p), "expected F8_E4M3 [32, 2]");
}

}  // namespace
}  // namespace qinfer
