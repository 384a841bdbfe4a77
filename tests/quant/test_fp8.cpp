// quant/fp8: the E4M3 encoder over all 256 codes, every rounding midpoint, saturation and specials, bit for bit
// against torch's float8_e4m3fn cast (tests/quant/data/refs.h); FP8 weight dequantization (per tensor / per channel),
// ModelOpt-formula quantization, W8A8 activation fake-quantization, and the errors.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <span>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/check.h"
#include "core/dtype.h"
#include "ops/op_test_util.h"
#include "quant/data/refs.h"
#include "quant/fp8.h"
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

template <class T, size_t N>
std::vector<T> vec(const T (&a)[N]) {
    return std::vector<T>(a, a + N);
}

// ---- E4M3 encoder

TEST(E4m3, AllCodesRoundTrip) {
    // Every one of the 256 codes, NaNs (0x7f, 0xff) and -0 (0x80) included, is its own encoding.
    for (int c = 0; c < 256; ++c) {
        const auto code = static_cast<uint8_t>(c);
        EXPECT_EQ(e4m3_encode(f8e4m3_to_f32(code)), code) << std::hex << c;
        const float v = f8e4m3_to_f32(code);
        if (!std::isnan(v)) {
            EXPECT_EQ(bits(f8e4m3_to_f32(e4m3_encode(v))), bits(v)) << std::hex << c;
        }
    }
}

TEST(E4m3, MidpointsGoToTheEvenCode) {
    // Between every pair of neighbouring finite codes (subnormals, the subnormal/normal seam, every binade, up to
    // 416|448): the midpoint goes to the even code, one fp32 ulp either side to the nearer code.
    for (uint8_t c = 0; c < 0x7e; ++c) {
        const float lo = f8e4m3_to_f32(c), hi = f8e4m3_to_f32(static_cast<uint8_t>(c + 1));
        const float mid = lo + (hi - lo) / 2;  // exact: E4M3 values have 4 significant bits
        const uint8_t even = (c % 2 == 0) ? c : static_cast<uint8_t>(c + 1);
        EXPECT_EQ(e4m3_encode(mid), even) << mid;
        EXPECT_EQ(e4m3_encode(-mid), even | 0x80) << -mid;
        EXPECT_EQ(e4m3_encode(std::nextafter(mid, 0.0f)), c) << mid;
        EXPECT_EQ(e4m3_encode(std::nextafter(mid, 1000.0f)), c + 1) << mid;
    }
}

TEST(E4m3, SaturatesAtMax) {
    EXPECT_EQ(e4m3_encode(448.0f), 0x7e);
    EXPECT_EQ(e4m3_encode(std::nextafter(448.0f, 0.0f)), 0x7e);
    EXPECT_EQ(e4m3_encode(464.0f), 0x7e);  // past the last midpoint: clamped, not NaN
    EXPECT_EQ(e4m3_encode(1e6f), 0x7e);
    EXPECT_EQ(e4m3_encode(std::numeric_limits<float>::max()), 0x7e);
    EXPECT_EQ(e4m3_encode(kInf), 0x7e);
    EXPECT_EQ(e4m3_encode(-kInf), 0xfe);
    EXPECT_EQ(e4m3_encode(-500.0f), 0xfe);
}

TEST(E4m3, ZerosNaNsAndSubnormals) {
    EXPECT_EQ(e4m3_encode(0.0f), 0x00);
    EXPECT_EQ(e4m3_encode(-0.0f), 0x80);
    EXPECT_EQ(e4m3_encode(1e-30f), 0x00);
    EXPECT_EQ(e4m3_encode(-1e-30f), 0x80);
    EXPECT_EQ(e4m3_encode(std::numeric_limits<float>::denorm_min()), 0x00);
    EXPECT_EQ(e4m3_encode(kNaN), 0x7f);
    EXPECT_EQ(e4m3_encode(-kNaN), 0xff);
    EXPECT_EQ(e4m3_encode(0x1p-10f), 0x00);  // half the smallest subnormal: tie, to even (0)
    EXPECT_EQ(e4m3_encode(std::nextafter(0x1p-10f, 1.0f)), 0x01);
    EXPECT_EQ(e4m3_encode(0x1p-9f), 0x01);
    EXPECT_EQ(e4m3_encode(3 * 0x1p-10f), 0x02);   // tie between codes 1 and 2
    EXPECT_EQ(e4m3_encode(15 * 0x1p-10f), 0x08);  // tie between 7·2^-9 and 2^-6: rounds up into the normals
    EXPECT_EQ(e4m3_encode(0x1p-6f), 0x08);
    EXPECT_EQ(e4m3_encode(1.0f), 0x38);
    EXPECT_EQ(e4m3_encode(232.0f), 0x76);  // tie between 224 (0x76) and 240 (0x77): to the even code
    EXPECT_EQ(e4m3_encode(248.0f), 0x78);  // tie between 240 (0x77) and 256 (0x78), across a binade
}

TEST(E4m3, MatchesTorchCast) {
    ASSERT_EQ(std::size(refs::kE4m3In), std::size(refs::kE4m3Codes));
    for (size_t i = 0; i < std::size(refs::kE4m3In); ++i) {
        EXPECT_EQ(e4m3_encode(refs::kE4m3In[i]), refs::kE4m3Codes[i]) << i << ": " << refs::kE4m3In[i];
    }
}

// ---- FP8 weights

TEST(Fp8, DequantizePerTensorAndPerChannel) {
    const int64_t N = 3, K = 4;
    const std::vector<uint8_t> w = {0x38, 0xb8, 0x7e, 0x01, 0x40, 0x00, 0x80, 0x30, 0x08, 0x44, 0xc4, 0xfe};
    std::vector<float> out(N * K);
    const std::vector<float> one = {0.5f};
    fp8_dequantize(w, one, ScaleKind::PerTensor, N, K, out);
    for (int64_t i = 0; i < N * K; ++i) EXPECT_EQ(bits(out[i]), bits(f8e4m3_to_f32(w[i]) * 0.5f)) << i;
    EXPECT_EQ(out[2], 224.0f);
    const std::vector<float> per_row = {1.0f, 0.25f, 3.0f};
    fp8_dequantize(w, per_row, ScaleKind::PerChannel, N, K, out);
    for (int64_t i = 0; i < N * K; ++i) EXPECT_EQ(bits(out[i]), bits(f8e4m3_to_f32(w[i]) * per_row[i / K])) << i;
    EXPECT_EQ(out[11], -448.0f * 3.0f);
}

TEST(Fp8, QuantizeMatchesModelOptReference) {
    const Fp8Weight q = fp8_quantize(vec(refs::kFp8W), 4, 16);
    EXPECT_EQ(q.n, 4);
    EXPECT_EQ(q.k, 16);
    EXPECT_EQ(bits(q.scale), bits(refs::kFp8Scale));
    EXPECT_EQ(q.values, vec(refs::kFp8Codes));
    // Element 1 of this weight gets E4M3 224 from w / scale but 208 from w · (1 / scale): ModelOpt divides.
    const Fp8Weight o = fp8_quantize(vec(refs::kFp8OrderW), 1, 16);
    EXPECT_EQ(o.values, vec(refs::kFp8OrderCodes));
    EXPECT_EQ(f8e4m3_to_f32(o.values[1]), 224.0f);
}

TEST(Fp8, QuantizeDequantizeErrorBound) {
    Tensor w = test::random_tensor({8, 40}, 9, -2.0f, 2.0f);
    for (int64_t i = 0; i < w.numel(); ++i) w.data()[i] *= std::ldexp(1.0f, -static_cast<int>(i % 12));
    const Fp8Weight q = fp8_quantize(w.span(), 8, 40);
    float amax = 0.0f;
    for (float v : w.span()) amax = std::max(amax, std::fabs(v));
    EXPECT_EQ(bits(q.scale), bits(amax / 448.0f));
    const Tensor d = fp8_dequantize(q);
    for (int64_t i = 0; i < w.numel(); ++i) {
        // Half an E4M3 step: 2^-4 relative for normals, 2^-10 · scale absolute for subnormals.
        const double lim = std::max(std::fabs(w.data()[i]) / 16.0, 0x1p-10 * q.scale) * (1 + 1e-6);
        EXPECT_LE(std::fabs(static_cast<double>(d.data()[i]) - w.data()[i]), lim) << i;
    }
    const Fp8Weight z = fp8_quantize(std::vector<float>(12, 0.0f), 3, 4);
    EXPECT_EQ(z.scale, 1.0f);  // amax 0 -> 448 (export_amax), scale 1 rather than 0
    EXPECT_EQ(z.values, std::vector<uint8_t>(12, 0));
}

// ---- activations

TEST(Fp8, ActivationFakeQuant) {
    const Tensor x = test::random_tensor({64}, 13, -10.0f, 10.0f);
    const float s = 2.0f / 448.0f;
    std::vector<float> y(x.span().begin(), x.span().end());
    y[5] = 1e4f;
    y[6] = -kInf;
    y[7] = kNaN;
    fp8_fake_quantize_activation(y, s);
    for (int i = 0; i < 64; ++i) {
        if (i >= 5 && i <= 7) continue;
        EXPECT_EQ(bits(y[i]), bits(f8e4m3_to_f32(e4m3_encode(x.data()[i] / s)) * s)) << i;
    }
    EXPECT_EQ(y[5], 448.0f * s);  // saturates
    EXPECT_EQ(y[6], -448.0f * s);
    EXPECT_TRUE(std::isnan(y[7]));

    std::vector<float> r = vec(refs::kFp8ActX);
    fp8_fake_quantize_activation(r, refs::kFp8ActInputScale);
    for (size_t i = 0; i < r.size(); ++i) EXPECT_EQ(bits(r[i]), bits(refs::kFp8Act[i])) << i;
}

// ---- errors

TEST(Fp8, Errors) {
    std::vector<uint8_t> w(6, 0x38);
    std::vector<float> out(6);
    const std::vector<float> one = {1.0f}, two = {1.0f, 2.0f};
    EXPECT_ERROR_CONTAINS(fp8_dequantize(std::vector<uint8_t>(5), one, ScaleKind::PerTensor, 2, 3, out),
                          "expected 6 F8_E4M3 values", "got 5");
    EXPECT_ERROR_CONTAINS(fp8_dequantize(w, one, ScaleKind::PerTensor, 2, 3, std::span<float>(out.data(), 4)),
                          "output has 4");
    EXPECT_ERROR_CONTAINS(fp8_dequantize(w, two, ScaleKind::PerTensor, 2, 3, out), "expected 1 per-tensor", "got 2");
    EXPECT_ERROR_CONTAINS(fp8_dequantize(w, one, ScaleKind::PerChannel, 2, 3, out), "expected 2 per-channel", "got 1");
    EXPECT_ERROR_CONTAINS(fp8_dequantize(w, std::vector<float>{kNaN}, ScaleKind::PerTensor, 2, 3, out), "scale[0]",
                          "not a finite value >= 0");
    EXPECT_ERROR_CONTAINS(fp8_dequantize(w, std::vector<float>{1.0f, -2.0f}, ScaleKind::PerChannel, 2, 3, out),
                          "scale[1] = -2");
    w[4] = 0xff;
    EXPECT_ERROR_CONTAINS(fp8_dequantize(w, one, ScaleKind::PerTensor, 2, 3, out), "element [1, 1] is NaN");

    EXPECT_ERROR_CONTAINS(fp8_quantize(std::vector<float>(5), 2, 3), "expected 6 values", "got 5");
    std::vector<float> bad(6, 1.0f);
    bad[5] = kInf;
    EXPECT_ERROR_CONTAINS(fp8_quantize(bad, 2, 3), "weight [1, 2] is not finite");

    std::vector<float> x(4, 1.0f);
    EXPECT_ERROR_CONTAINS(fp8_fake_quantize_activation(x, 0.0f), "input_scale 0");
    EXPECT_ERROR_CONTAINS(fp8_fake_quantize_activation(x, -kInf), "input_scale -inf");
}

}  // namespace
}  // namespace qinfer
