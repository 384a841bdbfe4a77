#pragma once
// defines: qinfer::cuda::nvfp4::chunk_rows, cta_rows, store_staged_tile -- a chunk's token rows (both NVFP4 prefill
// GEMMs: nvfp4_gemm.cu, mma.sync, one chunk per CTA row; nvfp4_wgmma.cu, wgmma, several tiles per CTA) and the
// epilogue store of the mma.sync one (the wgmma GEMM has a bf16 epilogue of its own); private to src/kernels/cuda.
//
// The kernel stages its fp32 output tile in shared memory transposed to [token][n], then writes it with this:
// coalesced rows of y, the row scale x 2^7 of the fragment-tile encoding (nvfp4_tiles.cuh), the output mode, and
// vector stores where the row allows.

#include <cuda_bf16.h>

#include <cstdint>
#include <cstring>

#include "kernels/cuda/gemm_common.cuh"  // store_out
#include "kernels/cuda/nvfp4_gemv.h"
#include "kernels/cuda/nvfp4_tiles.cuh"

namespace qinfer::cuda::nvfp4 {

// The tokens of chunk `chunk`: grouped, chunk `chunk` of the device chunk table (expert, first row, rows); dense, rows
// chunk * tokens_per_chunk .. + tokens_per_chunk of a.m. The chunk must exist (grouped: < a.chunks[0].w).
__device__ __forceinline__ void chunk_rows(const GemvArgs& a, int chunk, int tokens_per_chunk, int64_t& e,
                                           int64_t& row0, int& rows) {
    if (a.offsets) {
        const int4 ch = a.chunks[1 + chunk];
        e = ch.x;
        row0 = ch.y;
        rows = ch.z;
    } else {
        e = a.expert;
        row0 = static_cast<int64_t>(chunk) * tokens_per_chunk;
        rows = static_cast<int>(min(static_cast<int64_t>(tokens_per_chunk), a.m - row0));
    }
}

// The tokens of this CTA: chunk blockIdx.y. False for a surplus block of the grouped grid (sized for the worst case;
// uniform per block: the kernel returns before any barrier).
__device__ __forceinline__ bool cta_rows(const GemvArgs& a, int tokens_per_cta, int64_t& e, int64_t& row0, int& rows) {
    const int chunk = static_cast<int>(blockIdx.y);
    if (a.offsets && chunk >= a.chunks[0].w) return false;
    chunk_rows(a, chunk, tokens_per_cta, e, row0, rows);
    return true;
}

// cs: the staged tile, float [rows][out_stride], columns 0 .. kRows of weight rows blockIdx.x * kRows + column, of
// expert e; rows: the CTA's live tokens, written to y rows row0 .. row0 + rows. 256 threads (8 warps): a warp stores
// 4 consecutive n per lane (128 n) of one token row; kRows / 128 column passes.
template <int kRows>
__device__ __forceinline__ void store_staged_tile(const GemvArgs& a, const float* cs, int out_stride, int64_t e,
                                                  int64_t row0, int rows) {
    const int tid = static_cast<int>(threadIdx.x);
#pragma unroll
    for (int cp = 0; cp < kRows / 128; ++cp) {
        const int n4 = cp * 128 + (tid & 31) * 4;
        const int nb = static_cast<int>(blockIdx.x) * kRows + n4;
        float rs[4];
#pragma unroll
        for (int v = 0; v < 4; ++v) rs[v] = nb + v < a.n ? a.row_scale[e * a.n + nb + v] * kPostScale : 0.0f;
        // Vector stores need 16-byte (f32) / 8-byte (bf16) aligned rows: ldy % 4 == 0, aligned y (checked on the host).
        const bool vec = a.vec_store && nb + 3 < a.n;
        for (int r = tid >> 5; r < rows; r += 8) {
            const float4 s4 = *reinterpret_cast<const float4*>(cs + r * out_stride + n4);
            const float v4[4] = {s4.x * rs[0], s4.y * rs[1], s4.z * rs[2], s4.w * rs[3]};
            const int64_t at = (row0 + r) * a.ldy + nb;
            if (vec) {
                if (a.mode == OutMode::StoreBF16) {
                    const __nv_bfloat162 lo = __floats2bfloat162_rn(v4[0], v4[1]);
                    const __nv_bfloat162 hi = __floats2bfloat162_rn(v4[2], v4[3]);
                    uint2 u;
                    memcpy(&u.x, &lo, 4);
                    memcpy(&u.y, &hi, 4);
                    *reinterpret_cast<uint2*>(static_cast<bf16*>(a.y) + at) = u;
                } else {
                    float4* dst = reinterpret_cast<float4*>(static_cast<float*>(a.y) + at);
                    float4 o = make_float4(v4[0], v4[1], v4[2], v4[3]);
                    if (a.mode == OutMode::AddF32) {
                        const float4 old = *dst;
                        o.x += old.x;
                        o.y += old.y;
                        o.z += old.z;
                        o.w += old.w;
                    }
                    *dst = o;
                }
            } else {
#pragma unroll
                for (int v = 0; v < 4; ++v)
                    if (nb + v < a.n) store_out(a.y, at + v, v4[v], a.mode);
            }
        }
    }
}

}  // namespace qinfer::cuda::nvfp4
