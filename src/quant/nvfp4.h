#pragma once
// defines: qinfer::quant::e2m1_decode, e2m1_encode, kNvfp4BlockSize, Nvfp4Weight, nvfp4_check_shapes,
//          nvfp4_dequantize, nvfp4_weight_scale_2, nvfp4_quantize, nvfp4_fake_quantize_activation
//
// NVFP4 as ModelOpt exports it (shared/docs/quantized_checkpoints.md §1): FP4 E2M1 elements packed two per byte along
// K (even k in the low nibble), one E4M3 scale per 16 consecutive elements of a row, and an fp32 per-tensor
// `weight_scale_2`:  w[n, k] = E2M1(nibble[n, k]) · fp32(weight_scale[n, k/16]) · weight_scale_2.
// The quantizer follows ModelOpt's formulas (§1.5) so that `qinfer quantize` writes the bytes ModelOpt would.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace qinfer::quant {

inline constexpr int64_t kNvfp4BlockSize = 16;  // elements per E4M3 block scale, along K
inline constexpr float kE2m1Max = 6.0f;         // largest E2M1 magnitude (codes 7 / 15)

// E2M1 code (0..15; bit 3 is the sign) -> value: 0, 0.5, 1, 1.5, 2, 3, 4, 6, then the same negated (8 is -0).
// A code above 15 is an error.
float e2m1_decode(uint8_t nibble);

// fp32 -> E2M1 code exactly as ModelOpt's NVFP4QTensor._cast_fp4 (§1.5): round to nearest, ties to the even code,
// i.e. |x| ≤ 0.25 -> 0, < 0.75 -> 0.5, ≤ 1.25 -> 1, < 1.75 -> 1.5, ≤ 2.5 -> 2, < 3.5 -> 3, ≤ 5 -> 4, else 6
// (saturating, ±inf included). The sign bit is set iff x < 0, so -0.0 gives code 0 while -0.1 gives code 8 (-0).
// NaN gives code 7 (+6), as _cast_fp4 does (torch.searchsorted places NaN above every bound; NaN < 0 is false).
uint8_t e2m1_encode(float x);

// One NVFP4 Linear weight in ModelOpt's checkpoint layout.
struct Nvfp4Weight {
    int64_t n = 0, k = 0;
    std::vector<uint8_t> packed;        // U8 [N, K/2]: element 2j in the low nibble of byte j, 2j+1 in the high one
    std::vector<uint8_t> block_scales;  // F8_E4M3 [N, K/16], row-major, not swizzled
    float weight_scale_2 = 0.0f;        // F32 scalar
};

// Checks the checkpoint shapes of one NVFP4 weight against its logical [N, K]: K % 16 == 0, `weight` U8 [N, K/2],
// `weight_scale` F8_E4M3 exactly [N, K/16]. Block scales padded for the swizzled 128x4 layout (rows to a multiple of
// 128, columns to a multiple of 4, §9.1) are named as such in the error: ModelOpt writes them unpadded and
// unswizzled (§1.3), and qinfer reads only that layout. `name` prefixes the messages (e.g. the checkpoint prefix).
void nvfp4_check_shapes(const Shape& weight, const Shape& weight_scale, int64_t N, int64_t K, const std::string& name);

// out[n, k] = E2M1(nibble(n, k)) · fp32(block_scales[n, k/16]) · weight_scale_2, computed as (E2M1 · scale), exact
// in fp32, times weight_scale_2: one rounding. (ModelOpt's own dequantize rounds scale · weight_scale_2 first and can
// differ in the last bit.) Sizes must be exact (packed N·K/2, block_scales N·K/16, out N·K; K % 16 == 0);
// weight_scale_2 must be finite and ≥ 0; a NaN or negative block scale is an error naming its [n, block].
// packed: U8 [N, K/2], block_scales: F8_E4M3 [N, K/16], out: f32 [N, K].
void nvfp4_dequantize(std::span<const uint8_t> packed, std::span<const uint8_t> block_scales, float weight_scale_2,
                      int64_t N, int64_t K, std::span<float> out);
Tensor nvfp4_dequantize(const Nvfp4Weight& w);  // f32 [N, K]

// ModelOpt's per-tensor scale of a weight: amax / (6 · 448), fp32. An all-zero (or empty) weight uses amax = 6, the
// E2M1 maxbound, as TensorQuantizer.export_amax replaces a zero amax (ModelOpt's NVFP4 path itself would give 0 and
// then 0/0 = NaN block scales). Fused shards and gate/up of one expert must share one weight_scale_2 (§7.1, §1.7):
// take the max of this over the shards (the same as the scale of the max amax) and pass it to nvfp4_quantize.
// w: f32, finite.
float nvfp4_weight_scale_2(std::span<const float> w);

// ModelOpt NVFP4 weight quantization (NVFP4QTensor.quantize, dynamic path, §1.5), in fp32:
//   weight_scale_2 = given, or nvfp4_weight_scale_2(w)
//   s              = block_amax / (6 · weight_scale_2);  s == 0 -> 1;  clamp to [2^-9, 448];  block scale = E4M3(s)
//   code           = e2m1_encode(w / (fp32(block scale) · weight_scale_2))
// An all-zero block gets scale 1.0 and codes 0. A given weight_scale_2 must be finite and > 0; weights must be
// finite. w: f32 [N, K], K % 16 == 0.
Nvfp4Weight nvfp4_quantize(std::span<const float> w, int64_t N, int64_t K, std::optional<float> weight_scale_2 = {});

// What a W4A4 NVFP4 kernel does to its input (§1.6, flashinfer/TRT-LLM cvt_warp_fp16_to_fp4, vLLM's emulation §9.3),
// in place, per 16-element block of each row, with exact fp32 reciprocals where the GPU uses approximate ones:
//   g   = 1 / input_scale                          (the kernels' global scale, "SFScaleVal")
//   sf  = E4M3(g · (block_amax / 6))               (the dynamic activation block scale)
//   q   = e2m1_encode(x · (1 / (fp32(sf) · (1 / g))))   (q = 0 when sf decodes to 0)
//   x   = (E2M1(q) · fp32(sf)) · input_scale      (the GEMM's alpha carries input_scale)
// NaN elements stay NaN and do not enter block_amax; ±inf saturates (sf = 448, code ±6). input_scale must be a normal
// fp32 > 0 (so that 1 / input_scale is finite). x: f32 [T, K], K % 16 == 0.
void nvfp4_fake_quantize_activation(std::span<float> x, int64_t T, int64_t K, float input_scale);

}  // namespace qinfer::quant
