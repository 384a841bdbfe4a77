#pragma once
// defines: the NVFP4 device layout ("fragment tiles") and its device-side decoders (used by linear.cu and
// nvfp4_gemv.cu; private to src/kernels/cuda)
//
// Why a layout of our own: decode GEMVs on NVFP4 weights are limited by instructions, not bytes, when every weight
// is decoded to fp32 and multiplied on the CUDA cores (docs/perf/linear.md: 24-49 % of bandwidth). Here the
// tensor cores do the multiply-adds (mma.sync m16n8k16, weights as the A operand, up to 8 tokens as B), and the
// layout is chosen so that each thread's single 16-byte load holds exactly its A fragments and the decode to bf16
// is three integer ops per pair of weights (plus one bf16x2 multiply by the block scale).
//
// Tiles: 16 weight rows x 64 k (4 NVFP4 blocks of 16 per row). Expert e's N rows are padded to Np = round_up(N, 16),
// K to Kp = round_up(K, 64); padding codes and scales are zero (weight 0). Tile (e, n / 16, k / 64) has index
//   tile = (e * Np / 16 + n / 16) * KT + k / 64,   KT = Kp / 64.
// Lane l = 4 g + t of a warp (g = l / 4, t = l % 4) owns rows g and g + 8 of the tile and block t of each, i.e.
// k in [16 t, 16 t + 16): codes   byte tile * 512 + l * 16 + h * 8 + (0..7), h = 0 for row g, 1 for row g + 8
//                               scales  byte tile * 64 + l * 2 + h.
// Inside a block's 8 bytes: two 32-bit words, codes 0-7 and 8-15 of the block; code j of a word sits in nibble
// kNibbleOf[j] = {3, 7, 2, 6, 1, 5, 0, 4}[j], so that the pairs the mma wants, (0,1) (2,3) (4,5) (6,7), are nibbles
// (3,7) (2,6) (1,5) (0,4): the same two nibble positions after shifting the word left by 0, 4, 8, 12 bits.
//
// mma k order: the mma's 16-wide k step is a permutation of 16 consecutive k of the tile (any bijection is fine as
// long as A and B use the same one). Thread t's k step j (0..3) covers k = 16 t + 4 j + {0,1} (A regs a0/a1, B reg
// b0) and 16 t + 4 j + {2,3} (a2/a3, b1): its x values are 16 consecutive bf16, two 16-byte loads per tile.
//
// Block scales are re-encoded from E4M3 into an unsigned "e5m3" byte that is a bf16 after one shift and one add:
//   enc = ((E + 9) << 3) | f  for scale = 2^E (1 + f / 8), E in [-9, 8] (every E4M3 value, subnormals included, is
//   such a number); bf16 bits (enc << 4) + (237 << 7) = scale * 2^119 (exponent field E + 246 <= 254: finite).
// A code pair decoded by bit placement is code * 2^-126 (bf16; 0.5 is a bf16 subnormal, which bf16 arithmetic keeps),
// so code' * scale' = code * scale * 2^-7 exactly (at most 6 significant bits, between 2^-17 and 21: normal bf16).
// Every kernel multiplies its fp32 result (or value) by 2^7 * row_scale. A zero (or negative-zero) block scale is encoded as 0 and
// its codes are zeroed at upload, which keeps w = 0 exactly. NaN or negative scales are rejected at upload.

#include <cstdint>

#include "kernels/cuda/types.h"

namespace qinfer::cuda::nvfp4 {

constexpr int kTileRows = 16;
constexpr int kTileK = 64;
constexpr int kTileCodeBytes = kTileRows * kTileK / 2;  // 512
constexpr int kTileScaleBytes = kTileRows * kTileK / 16;  // 64
constexpr float kPostScale = 128.0f;                     // 2^7: undoes the 2^-7 of code' * scale'

inline int64_t padded_rows(int64_t n) { return (n + kTileRows - 1) / kTileRows * kTileRows; }
inline int64_t padded_k(int64_t k) { return (k + kTileK - 1) / kTileK * kTileK; }

// Byte offsets of the 8 code bytes and the scale byte of block `b` (k in [16 b, 16 b + 16)) of row n of expert e.
struct BlockAt {
    int64_t code, scale;
};
__host__ __device__ __forceinline__ BlockAt block_at(int64_t e, int64_t n, int64_t b, int64_t np_tiles, int64_t kt) {
    const int64_t tile = (e * np_tiles + n / kTileRows) * kt + b / 4;
    const int64_t lane = 4 * (n % 8) + b % 4, half = (n % kTileRows) / 8;
    return {tile * kTileCodeBytes + lane * 16 + half * 8, tile * kTileScaleBytes + lane * 2 + half};
}

#ifdef __CUDACC__
// Pair p (0..3) of a permuted word -> bf16x2 bits of (code 2p, code 2p + 1) * 2^-126.
__device__ __forceinline__ uint32_t code_pair(uint32_t w, int p) {
    const uint32_t u = w << (4 * p);
    return (u & 0x80008000u) | ((u & 0x70007000u) >> 6);
}
// Encoded scale byte -> bf16x2 bits of {scale * 2^119, scale * 2^119}.
__device__ __forceinline__ uint32_t scale_pair(uint32_t enc) {
    const uint32_t s = ((enc & 0xffu) << 4) + (237u << 7);
    return s | (s << 16);
}
// code pair p of w times the block scale: bf16x2 bits of (code 2p, code 2p + 1) * scale * 2^-7, exact (the products
// have at most 6 significant bits). fma with -0 keeps the sign of a zero product.
__device__ __forceinline__ uint32_t scaled_pair(uint32_t w, int p, uint32_t scale2) {
    uint32_t d;
    asm("fma.rn.bf16x2 %0, %1, %2, %3;" : "=r"(d) : "r"(code_pair(w, p)), "r"(scale2), "r"(0x80008000u));
    return d;
}
#endif

}  // namespace qinfer::cuda::nvfp4
