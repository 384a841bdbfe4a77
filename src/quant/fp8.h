#pragma once
// defines: qinfer::quant::e4m3_encode, kE4m3Max, ScaleKind, Fp8Weight, fp8_dequantize, fp8_weight_scale,
//          fp8_quantize, fp8_fake_quantize_activation
//
// OCP FP8 E4M3 ("fn": no infinities, 0x7f/0xff are NaN, largest finite 448) as ModelOpt FP8 checkpoints store it
// (shared/docs/quantized_checkpoints.md §0, §1.5, §11): an F8_E4M3 weight [N, K] with an F32 `weight_scale` (a scalar,
// or one per output row for FP8_PER_CHANNEL_PER_TOKEN), w = fp32(code) · scale. Decoding is f8e4m3_to_f32
// (core/dtype.h); this file adds the encoder and the weight / activation conversions built on it.

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "core/tensor.h"

namespace qinfer::quant {

inline constexpr float kE4m3Max = 448.0f;  // largest finite E4M3FN value (code 0x7e)

// fp32 -> E4M3FN, round to nearest, ties to even (subnormals included: below 2^-6 the step is 2^-9), saturating at
// ±448: `x.clamp(-448, 448).to(torch.float8_e4m3fn)`, the clamp-then-cast ModelOpt applies to NVFP4 block scales
// (§1.5; its FP8 weights are within ±448 by construction). ±inf -> ±448 (0x7e/0xfe); NaN -> 0x7f, or 0xff when its
// sign bit is set (as torch's cast); -0 -> 0x80. Checked against torch's cast in tests/quant.
uint8_t e4m3_encode(float x);

enum class ScaleKind : uint8_t {
    PerTensor,   // one F32 scale for the whole weight
    PerChannel,  // one F32 scale per output row n
};

// A per-tensor FP8 weight in ModelOpt's layout.
struct Fp8Weight {
    int64_t n = 0, k = 0;
    std::vector<uint8_t> values;  // F8_E4M3 [N, K]
    float scale = 1.0f;           // F32 scalar `weight_scale`: w ≈ fp32(values) · scale
};

// out[n, k] = f8e4m3_to_f32(w[n, k]) · scale[n or 0]. scale has 1 element (PerTensor) or N (PerChannel); every scale
// must be finite and ≥ 0, and no code may be NaN (0x7f/0xff) -- a NaN weight means misread bytes, not a value.
// w: F8_E4M3 [N, K], out: f32 [N, K].
void fp8_dequantize(std::span<const uint8_t> w, std::span<const float> scale, ScaleKind kind, int64_t N, int64_t K,
                    std::span<float> out);
Tensor fp8_dequantize(const Fp8Weight& w);  // f32 [N, K]

// ModelOpt's per-tensor FP8 weight scale: amax / 448, fp32. An all-zero (or empty) weight gets scale 1 (amax replaced
// by 448, as TensorQuantizer.export_amax does for amax == 0) rather than a 0 that loaders would divide by. Shards fed
// the same input share one scale (ModelOpt's preprocess_linear_fusion, quantized_checkpoints.md §7.1): take the max of
// this over the shards and pass it to fp8_quantize. w: f32, finite.
float fp8_weight_scale(std::span<const float> w);

// ModelOpt FP8QTensor per-tensor quantization: scale = given, or fp8_weight_scale(w); values = e4m3_encode(w / scale)
// (saturating at ±448, so a shared scale larger than the weight's own is fine). A given scale must be finite and > 0.
// w: f32 [N, K], finite (a non-finite weight is an error naming its position).
Fp8Weight fp8_quantize(std::span<const float> w, int64_t N, int64_t K, std::optional<float> scale = {});

// What a static per-tensor W8A8 kernel does to its input, in place: x = fp32(e4m3_encode(x / input_scale)) ·
// input_scale (values beyond ±448·input_scale saturate, NaN stays NaN). input_scale must be finite and > 0.
void fp8_fake_quantize_activation(std::span<float> x, float input_scale);

}  // namespace qinfer::quant
