#include "core/dtype.h"

#include <array>
#include <cmath>
#include <limits>

#include "core/check.h"

namespace qinfer {

namespace {
struct DTypeInfo {
    DType type;
    std::string_view name;
    size_t size;
    bool is_float;
};

constexpr std::array<DTypeInfo, 12> kDTypes{{
    {DType::BF16, "BF16", 2, true},
    {DType::F16, "F16", 2, true},
    {DType::F32, "F32", 4, true},
    {DType::F64, "F64", 8, true},
    {DType::F8E4M3, "F8_E4M3", 1, true},
    {DType::F8E5M2, "F8_E5M2", 1, true},
    {DType::U8, "U8", 1, false},
    {DType::I8, "I8", 1, false},
    {DType::I16, "I16", 2, false},
    {DType::I32, "I32", 4, false},
    {DType::I64, "I64", 8, false},
    {DType::Bool, "BOOL", 1, false},
}};

const DTypeInfo& info(DType t) { return kDTypes[static_cast<size_t>(t)]; }
}  // namespace

size_t dtype_size(DType t) { return info(t).size; }
std::string_view dtype_name(DType t) { return info(t).name; }
bool dtype_is_float(DType t) { return info(t).is_float; }

std::optional<DType> dtype_from_name(std::string_view name) {
    for (const auto& d : kDTypes) {
        if (d.name == name) return d.type;
    }
    return std::nullopt;
}

std::string_view dtype_supported_names() {
    return "BF16, F16, F32, F64, F8_E4M3, F8_E5M2, U8, I8, I16, I32, I64, BOOL";
}

float f16_to_f32(uint16_t v) {
    const uint32_t sign = (v >> 15) & 1u;
    const uint32_t exp = (v >> 10) & 0x1fu;
    const uint32_t mant = v & 0x3ffu;
    float mag;
    if (exp == 0) {
        mag = std::ldexp(static_cast<float>(mant), -24);  // subnormal: mant * 2^-24
    } else if (exp == 31) {
        mag = mant ? std::numeric_limits<float>::quiet_NaN() : std::numeric_limits<float>::infinity();
    } else {
        mag = std::ldexp(static_cast<float>(mant | 0x400u), static_cast<int>(exp) - 25);
    }
    return sign ? -mag : mag;
}

float f8e4m3_to_f32(uint8_t v) {
    const uint32_t sign = (v >> 7) & 1u;
    const uint32_t exp = (v >> 3) & 0xfu;
    const uint32_t mant = v & 0x7u;
    float mag;
    if (exp == 0xf && mant == 0x7) {
        mag = std::numeric_limits<float>::quiet_NaN();
    } else if (exp == 0) {
        mag = std::ldexp(static_cast<float>(mant), -9);  // subnormal: mant/8 * 2^-6
    } else {
        mag = std::ldexp(static_cast<float>(mant | 0x8u), static_cast<int>(exp) - 10);  // (1+m/8) * 2^(e-7)
    }
    return sign ? -mag : mag;
}

float f8e5m2_to_f32(uint8_t v) {
    // E5M2 is the top byte of an IEEE half.
    return f16_to_f32(static_cast<uint16_t>(v) << 8);
}

void convert_to_f32(DType t, const void* src, size_t n, float* dst) {
    // Empty tensors may come with null pointers (an empty std::vector), which memcpy must not see even for n == 0.
    if (n == 0 && dtype_is_float(t)) return;
    switch (t) {
        case DType::BF16: {
            const auto* s = static_cast<const uint8_t*>(src);
            for (size_t i = 0; i < n; ++i) {
                uint16_t v;
                std::memcpy(&v, s + 2 * i, 2);
                dst[i] = bf16_to_f32(v);
            }
            return;
        }
        case DType::F16: {
            const auto* s = static_cast<const uint8_t*>(src);
            for (size_t i = 0; i < n; ++i) {
                uint16_t v;
                std::memcpy(&v, s + 2 * i, 2);
                dst[i] = f16_to_f32(v);
            }
            return;
        }
        case DType::F32:
            std::memcpy(dst, src, n * sizeof(float));
            return;
        case DType::F64: {
            const auto* s = static_cast<const uint8_t*>(src);
            for (size_t i = 0; i < n; ++i) {
                double v;
                std::memcpy(&v, s + 8 * i, 8);
                dst[i] = static_cast<float>(v);
            }
            return;
        }
        case DType::F8E4M3: {
            const auto* s = static_cast<const uint8_t*>(src);
            for (size_t i = 0; i < n; ++i) dst[i] = f8e4m3_to_f32(s[i]);
            return;
        }
        case DType::F8E5M2: {
            const auto* s = static_cast<const uint8_t*>(src);
            for (size_t i = 0; i < n; ++i) dst[i] = f8e5m2_to_f32(s[i]);
            return;
        }
        case DType::U8:
        case DType::I8:
        case DType::I16:
        case DType::I32:
        case DType::I64:
        case DType::Bool:
            QINFER_FAIL("cannot convert ", dtype_name(t), " to F32: not a floating-point dtype");
    }
    QINFER_FAIL("invalid dtype");
}

}  // namespace qinfer
