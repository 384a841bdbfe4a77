// Tests for core/dtype: the dtype table and the scalar / bulk conversions to and from fp32, with hand-computed values
// at the edges (rounding ties, NaN, subnormals, infinities, FP8 saturation points).

#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "core/check.h"
#include "core/dtype.h"
#include "test_util.h"

namespace qinfer {
namespace {

float from_bits(uint32_t b) {
    float f;
    std::memcpy(&f, &b, sizeof f);
    return f;
}

uint32_t to_bits(float f) {
    uint32_t b;
    std::memcpy(&b, &f, sizeof b);
    return b;
}

const float kInf = std::numeric_limits<float>::infinity();

TEST(DType, TableRoundTrips) {
    const std::vector<std::pair<DType, size_t>> all = {
        {DType::BF16, 2}, {DType::F16, 2}, {DType::F32, 4}, {DType::F64, 8},  {DType::F8E4M3, 1}, {DType::F8E5M2, 1},
        {DType::U8, 1},   {DType::I8, 1},  {DType::I16, 2}, {DType::I32, 4}, {DType::I64, 8},    {DType::Bool, 1}};
    const std::string supported(dtype_supported_names());
    for (const auto& [t, size] : all) {
        const std::string name(dtype_name(t));
        EXPECT_EQ(dtype_size(t), size) << name;
        EXPECT_EQ(dtype_from_name(name), t) << name;
        EXPECT_NE(supported.find(name), std::string::npos) << name;
    }
    EXPECT_EQ(dtype_name(DType::F8E4M3), "F8_E4M3");
    EXPECT_EQ(dtype_name(DType::Bool), "BOOL");
    EXPECT_FALSE(dtype_from_name("F4"));
    EXPECT_FALSE(dtype_from_name("bf16"));  // names are case-sensitive, as in safetensors headers
    EXPECT_FALSE(dtype_from_name(""));
    EXPECT_TRUE(dtype_is_float(DType::F8E5M2));
    EXPECT_FALSE(dtype_is_float(DType::I32));
}

TEST(DType, Bf16RoundsToNearestEven) {
    EXPECT_EQ(f32_to_bf16(1.0f), 0x3f80);
    EXPECT_EQ(f32_to_bf16(-2.0f), 0xc000);
    EXPECT_EQ(f32_to_bf16(from_bits(0x3f807fffu)), 0x3f80);  // below half: down
    EXPECT_EQ(f32_to_bf16(from_bits(0x3f808000u)), 0x3f80);  // tie, even below: down
    EXPECT_EQ(f32_to_bf16(from_bits(0x3f808001u)), 0x3f81);  // above half: up
    EXPECT_EQ(f32_to_bf16(from_bits(0x3f818000u)), 0x3f82);  // tie, odd below: up to even
    EXPECT_EQ(f32_to_bf16(from_bits(0xbf818000u)), 0xbf82);  // same for negatives
    EXPECT_EQ(f32_to_bf16(from_bits(0x3fff8000u)), 0x4000);  // carry into the exponent
    EXPECT_EQ(f32_to_bf16(-0.0f), 0x8000);
    EXPECT_EQ(f32_to_bf16(kInf), 0x7f80);
    EXPECT_EQ(f32_to_bf16(-kInf), 0xff80);
    EXPECT_EQ(f32_to_bf16(std::numeric_limits<float>::max()), 0x7f80);  // rounds up past the largest bf16
    EXPECT_EQ(f32_to_bf16(from_bits(0x00010000u)), 0x0001);             // fp32 subnormals round like the rest
    EXPECT_EQ(f32_to_bf16(from_bits(0x00008000u)), 0x0000);
    EXPECT_EQ(round_bf16(1.00390625f), 1.0f);  // 1 + 2^-8 is a tie between 1 and 1 + 2^-7
    EXPECT_EQ(round_bf16(3.14159265f), 3.140625f);
}

TEST(DType, Bf16NaNStaysNaN) {
    // A NaN whose payload is only in the low 16 bits would become infinity under plain rounding/truncation.
    for (uint32_t bits : {0x7fc00000u, 0x7f800001u, 0xff800001u, 0x7fffffffu, 0x7f80ffffu}) {
        const uint16_t h = f32_to_bf16(from_bits(bits));
        EXPECT_TRUE(std::isnan(bf16_to_f32(h))) << std::hex << bits;
        EXPECT_TRUE(h & 0x0040u) << "quiet bit, " << std::hex << bits;
    }
}

TEST(DType, Bf16AllValuesRoundTrip) {
    for (uint32_t v = 0; v < 0x10000; ++v) {
        const auto h = static_cast<uint16_t>(v);
        const float f = bf16_to_f32(h);
        EXPECT_EQ(to_bits(f), v << 16);
        if (!std::isnan(f)) {
            ASSERT_EQ(f32_to_bf16(f), h) << std::hex << v;
        }
    }
}

TEST(DType, F16Values) {
    EXPECT_EQ(f16_to_f32(0x3c00), 1.0f);
    EXPECT_EQ(f16_to_f32(0xc000), -2.0f);
    EXPECT_EQ(f16_to_f32(0x3555), 0.333251953125f);
    EXPECT_EQ(f16_to_f32(0x7bff), 65504.0f);
    EXPECT_EQ(f16_to_f32(0x0400), std::ldexp(1.0f, -14));         // smallest normal
    EXPECT_EQ(f16_to_f32(0x0001), std::ldexp(1.0f, -24));         // smallest subnormal
    EXPECT_EQ(f16_to_f32(0x03ff), 1023 * std::ldexp(1.0f, -24));  // largest subnormal
    EXPECT_EQ(f16_to_f32(0x8001), -std::ldexp(1.0f, -24));
    EXPECT_EQ(f16_to_f32(0x7c00), kInf);
    EXPECT_EQ(f16_to_f32(0xfc00), -kInf);
    EXPECT_TRUE(std::isnan(f16_to_f32(0x7e00)));
    EXPECT_TRUE(std::isnan(f16_to_f32(0x7c01)));
    EXPECT_TRUE(std::isnan(f16_to_f32(0xfe00)));
    EXPECT_EQ(f16_to_f32(0x0000), 0.0f);
    EXPECT_TRUE(std::signbit(f16_to_f32(0x8000)));
}

TEST(DType, F16MatchesBitLevelDefinition) {
    // Every finite half: sign * 2^(e-15) * (1 + m/1024), or 2^-14 * m/1024 for e == 0.
    for (uint32_t v = 0; v < 0x10000; ++v) {
        const uint32_t e = (v >> 10) & 0x1fu;
        const uint32_t m = v & 0x3ffu;
        if (e == 31) continue;
        const double mag = e == 0 ? std::ldexp(static_cast<double>(m), -24)
                                  : std::ldexp(1.0 + static_cast<double>(m) / 1024.0, static_cast<int>(e) - 15);
        const double expect = (v & 0x8000u) ? -mag : mag;
        ASSERT_EQ(static_cast<double>(f16_to_f32(static_cast<uint16_t>(v))), expect) << std::hex << v;
    }
}

TEST(DType, F8E4M3Values) {
    EXPECT_EQ(f8e4m3_to_f32(0x38), 1.0f);
    EXPECT_EQ(f8e4m3_to_f32(0xb8), -1.0f);
    EXPECT_EQ(f8e4m3_to_f32(0x7e), 448.0f);  // largest finite: no infinities in E4M3fn
    EXPECT_EQ(f8e4m3_to_f32(0xfe), -448.0f);
    EXPECT_EQ(f8e4m3_to_f32(0x78), 256.0f);  // exponent 15 is an ordinary exponent
    EXPECT_EQ(f8e4m3_to_f32(0x08), std::ldexp(1.0f, -6));      // smallest normal
    EXPECT_EQ(f8e4m3_to_f32(0x01), std::ldexp(1.0f, -9));      // smallest subnormal
    EXPECT_EQ(f8e4m3_to_f32(0x07), 7 * std::ldexp(1.0f, -9));  // largest subnormal
    EXPECT_EQ(f8e4m3_to_f32(0x3c), 1.5f);
    EXPECT_EQ(f8e4m3_to_f32(0x00), 0.0f);
    EXPECT_TRUE(std::signbit(f8e4m3_to_f32(0x80)));
    EXPECT_TRUE(std::isnan(f8e4m3_to_f32(0x7f)));
    EXPECT_TRUE(std::isnan(f8e4m3_to_f32(0xff)));
    int nans = 0;
    for (int v = 0; v < 256; ++v) {
        const float f = f8e4m3_to_f32(static_cast<uint8_t>(v));
        nans += std::isnan(f);
        EXPECT_FALSE(std::isinf(f)) << v;
    }
    EXPECT_EQ(nans, 2);
}

TEST(DType, F8E5M2Values) {
    EXPECT_EQ(f8e5m2_to_f32(0x3c), 1.0f);
    EXPECT_EQ(f8e5m2_to_f32(0xc0), -2.0f);
    EXPECT_EQ(f8e5m2_to_f32(0x7b), 57344.0f);  // largest finite
    EXPECT_EQ(f8e5m2_to_f32(0x04), std::ldexp(1.0f, -14));
    EXPECT_EQ(f8e5m2_to_f32(0x01), std::ldexp(1.0f, -16));
    EXPECT_EQ(f8e5m2_to_f32(0x7c), kInf);
    EXPECT_EQ(f8e5m2_to_f32(0xfc), -kInf);
    for (uint8_t v : {0x7d, 0x7e, 0x7f, 0xfd, 0xfe, 0xff}) EXPECT_TRUE(std::isnan(f8e5m2_to_f32(v))) << int(v);
}

TEST(DType, ConvertToF32Bulk) {
    // Unaligned sources: tensors in a safetensors mapping need not be aligned to their element size.
    std::vector<uint8_t> buf(1 + 8 * 3);
    const uint16_t bf[3] = {0x3f80, 0xc000, 0x7f80};
    std::memcpy(buf.data() + 1, bf, sizeof bf);
    float out[3];
    convert_to_f32(DType::BF16, buf.data() + 1, 3, out);
    EXPECT_EQ(out[0], 1.0f);
    EXPECT_EQ(out[1], -2.0f);
    EXPECT_EQ(out[2], kInf);

    const uint16_t h[3] = {0x3c00, 0x0001, 0xfc00};
    std::memcpy(buf.data() + 1, h, sizeof h);
    convert_to_f32(DType::F16, buf.data() + 1, 3, out);
    EXPECT_EQ(out[0], 1.0f);
    EXPECT_EQ(out[1], std::ldexp(1.0f, -24));
    EXPECT_EQ(out[2], -kInf);

    const double d[3] = {0.5, -1e-50, 1e40};
    std::memcpy(buf.data() + 1, d, sizeof d);
    convert_to_f32(DType::F64, buf.data() + 1, 3, out);
    EXPECT_EQ(out[0], 0.5f);
    EXPECT_EQ(out[1], -0.0f);
    EXPECT_EQ(out[2], kInf);

    const float f[3] = {1.25f, -3.0f, 0.0f};
    std::memcpy(buf.data() + 1, f, sizeof f);
    convert_to_f32(DType::F32, buf.data() + 1, 3, out);
    EXPECT_EQ(out[0], 1.25f);
    EXPECT_EQ(out[1], -3.0f);

    const uint8_t e4[2] = {0x38, 0x7e};
    convert_to_f32(DType::F8E4M3, e4, 2, out);
    EXPECT_EQ(out[0], 1.0f);
    EXPECT_EQ(out[1], 448.0f);
    const uint8_t e5[2] = {0x3c, 0x7c};
    convert_to_f32(DType::F8E5M2, e5, 2, out);
    EXPECT_EQ(out[0], 1.0f);
    EXPECT_EQ(out[1], kInf);

    // Empty tensors may hand over null pointers.
    convert_to_f32(DType::F32, nullptr, 0, nullptr);
    convert_to_f32(DType::BF16, nullptr, 0, nullptr);
}

TEST(DType, ConvertToF32RejectsIntegers) {
    const int32_t v = 3;
    float out;
    for (DType t : {DType::U8, DType::I8, DType::I16, DType::I32, DType::I64, DType::Bool}) {
        const std::string name(dtype_name(t));  // outlives the macro's list of expected substrings
        EXPECT_ERROR_CONTAINS(convert_to_f32(t, &v, 1, &out), name.c_str(), "F32");
    }
}

}  // namespace
}  // namespace qinfer
