#pragma once
// defines: qinfer::cuda::glue::rms_norm_row (device) — the RMSNorm of one row a block holds in registers
//
// Shared by rms_norm_kernel (elementwise.cu) and the MoE combine that also norms the row it just finished
// (moe.cu moe_combine_norm), so both round exactly alike: with the same block size they give the same bits.

#include <cuda_bf16.h>

#include <cstdint>

#include "kernels/cuda/glue_common.cuh"
#include "kernels/cuda/types.h"

namespace qinfer::cuda::glue {

// The block's fp64 sum of squares (each thread's part in ss) -> inv = 1 / sqrt(mean + eps), correctly rounded from the
// fp32 mean; every thread gets it. red: __shared__ double[32]; s_inv: a __shared__ float.
__device__ __forceinline__ float rms_inv(double ss, int64_t H, float eps, double* red, float* s_inv) {
    ss = block_sum(ss, red);
    if (threadIdx.x == 0) {
        const float mean = static_cast<float>(ss / static_cast<double>(H));
        *s_inv = __fdiv_rn(1.0f, __fsqrt_rn(__fadd_rn(mean, eps)));
    }
    __syncthreads();
    return *s_inv;
}

// One normed element before its bf16 rounding: (x * inv) * scale, scale = 1 + w (zero_centered) or w.
__device__ __forceinline__ float rms_scaled(float x, float inv, float w, bool zero_centered) {
    return __fmul_rn(__fmul_rn(x, inv), zero_centered ? __fadd_rn(1.0f, w) : w);
}

// The block holds a row of H floats (H % 4 == 0) as float4s: cache[c] = float4 number threadIdx.x + c * blockDim.x
// (those below H / 4). Sum of squares in fp64 per thread and a fixed fp64 block tree (the CPU reference sums in fp64
// too), rounded to an fp32 mean; inv = 1 / sqrt(mean + eps) correctly rounded; y = bf16((x * inv) * scale) with
// scale = 1 + w (zero_centered) or w. red: __shared__ double[32]; s_inv: a __shared__ float.
template <int kCache>
__device__ __forceinline__ void rms_norm_row(const float4 (&cache)[kCache], int64_t H, const float* __restrict__ w,
                                             float eps, bool zero_centered, bf16* __restrict__ yr, double* red,
                                             float* s_inv) {
    double ss = 0.0;
#pragma unroll
    for (int c = 0; c < kCache; ++c) {
        const int64_t i = threadIdx.x + static_cast<int64_t>(c) * blockDim.x;
        if (i < H / 4) {
            const float4 v = cache[c];
            ss += static_cast<double>(v.x) * v.x + static_cast<double>(v.y) * v.y + static_cast<double>(v.z) * v.z +
                  static_cast<double>(v.w) * v.w;
        }
    }
    const float inv = rms_inv(ss, H, eps, red, s_inv);
#pragma unroll
    for (int c = 0; c < kCache; ++c) {
        const int64_t i = threadIdx.x + static_cast<int64_t>(c) * blockDim.x;
        if (i < H / 4) {
            const float4 v = cache[c];
            const float4 wv = __ldg(reinterpret_cast<const float4*>(w) + i);
            const float xs[4] = {v.x, v.y, v.z, v.w};
            const float ws[4] = {wv.x, wv.y, wv.z, wv.w};
            float r[4];
#pragma unroll
            for (int j = 0; j < 4; ++j) r[j] = rms_scaled(xs[j], inv, ws[j], zero_centered);
            __nv_bfloat162 o[2];
            o[0] = __floats2bfloat162_rn(r[0], r[1]);
            o[1] = __floats2bfloat162_rn(r[2], r[3]);
            reinterpret_cast<uint2*>(yr)[i] = *reinterpret_cast<const uint2*>(o);
        }
    }
}

}  // namespace qinfer::cuda::glue
