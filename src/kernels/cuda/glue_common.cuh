#pragma once
// defines: qinfer::cuda::glue helpers (bf16x8 unpack, alignment tests, the gate sigmoid, warp/block sums) for
// elementwise/moe/sampling/nvfp4_gemv .cu

#include <cuda_bf16.h>

#include <cstdint>

namespace qinfer::cuda::glue {

inline bool aligned16(const void* p) { return reinterpret_cast<uintptr_t>(p) % 16 == 0; }
inline bool aligned8(const void* p) { return reinterpret_cast<uintptr_t>(p) % 8 == 0; }

// The shared expert's gate, 1 / (1 + e^-x), correctly rounded step by step (no fast-math), as the CPU reference's
// ops::sigmoid: every kernel that applies the gate (routing slot weight, gated SiLU·mul, gated GEMV store) calls this
// one, so they agree bit for bit.
__device__ __forceinline__ float sigmoid_rn(float x) { return __fdiv_rn(1.0f, __fadd_rn(1.0f, expf(-x))); }

__device__ __forceinline__ void bf16x8_to_f32(const uint4 v, float* f) {
    const __nv_bfloat162* p = reinterpret_cast<const __nv_bfloat162*>(&v);
#pragma unroll
    for (int j = 0; j < 4; ++j) {
        const float2 x = __bfloat1622float2(p[j]);
        f[2 * j] = x.x;
        f[2 * j + 1] = x.y;
    }
}

template <class T>
__device__ __forceinline__ T warp_sum(T v) {
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}

// Sum over the block (blockDim.x a multiple of 32, <= 1024); every thread gets the result. Fixed tree: deterministic.
template <class T>
__device__ __forceinline__ T block_sum(T v, T* red /* [32] shared */) {
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, nw = blockDim.x >> 5;
    v = warp_sum(v);
    __syncthreads();  // red may be reused
    if (lane == 0) red[warp] = v;
    __syncthreads();
    T r = lane < nw ? red[lane] : T(0);
    r = warp_sum(r);
    return r;
}

}  // namespace qinfer::cuda::glue
