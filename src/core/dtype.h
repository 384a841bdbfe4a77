#pragma once
// defines: qinfer::DType, dtype_size, dtype_name, dtype_from_name, scalar conversions to/from fp32,
//          convert_to_f32 (bulk)
//
// DType covers every safetensors dtype qinfer reads. Names are the safetensors header strings.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string_view>

namespace qinfer {

enum class DType : uint8_t { BF16, F16, F32, F64, F8E4M3, F8E5M2, U8, I8, I16, I32, I64, Bool };

// Size of one element in bytes.
size_t dtype_size(DType t);
// Safetensors header name ("BF16", "F8_E4M3", ...).
std::string_view dtype_name(DType t);
// Inverse of dtype_name; nullopt for names qinfer does not know.
std::optional<DType> dtype_from_name(std::string_view name);
// Comma-separated list of every supported name, for error messages.
std::string_view dtype_supported_names();
// True for floating-point dtypes that convert_to_f32 can turn into weights.
bool dtype_is_float(DType t);

inline float bf16_to_f32(uint16_t v) {
    uint32_t bits = static_cast<uint32_t>(v) << 16;
    float f;
    std::memcpy(&f, &bits, sizeof f);
    return f;
}

// Round-to-nearest-even, NaN stays NaN (quiet), as torch's float -> bfloat16 cast.
inline uint16_t f32_to_bf16(float f) {
    uint32_t bits;
    std::memcpy(&bits, &f, sizeof bits);
    if ((bits & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((bits >> 16) | 0x0040u);
    uint32_t rounding = 0x7fffu + ((bits >> 16) & 1u);
    return static_cast<uint16_t>((bits + rounding) >> 16);
}

// Rounds an fp32 value to the nearest bf16 value and returns it as fp32 (used to emulate HF's bf16 roundings).
inline float round_bf16(float f) { return bf16_to_f32(f32_to_bf16(f)); }

float f16_to_f32(uint16_t v);
// OCP FP8 E4M3 (fn: no infinities, 0x7f/0xff are NaN, max 448).
float f8e4m3_to_f32(uint8_t v);
// OCP FP8 E5M2 (IEEE-like: infinities and NaNs).
float f8e5m2_to_f32(uint8_t v);

// Converts n elements of a floating dtype (BF16, F16, F32, F64, F8E4M3, F8E5M2) to fp32. Throws qinfer::Error for
// non-float dtypes.
void convert_to_f32(DType t, const void* src, size_t n, float* dst);

}  // namespace qinfer
