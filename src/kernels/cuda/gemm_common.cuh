#pragma once
// defines: qinfer::cuda::ld_stream, ld_stream8, word_of, store_out, mma_bf16, cp_async16 / cp_async_commit /
// cp_async_wait -- device helpers shared by the GEMM
// kernels (linear.cu, nvfp4_gemv.cu) and the attention kernels (attention_mma.cuh); private to src/kernels/cuda.

#include <cuda_bf16.h>

#include <cstdint>

#include "kernels/cuda/types.h"

namespace qinfer::cuda {

// 16 / 8 bytes of weights that are read once: through the non-coherent path, without allocating in L1.
__device__ __forceinline__ uint4 ld_stream(const void* p) {
    uint4 v;
    asm("ld.global.nc.L1::no_allocate.v4.u32 {%0,%1,%2,%3}, [%4];"
        : "=r"(v.x), "=r"(v.y), "=r"(v.z), "=r"(v.w)
        : "l"(p));
    return v;
}
__device__ __forceinline__ uint2 ld_stream8(const void* p) {
    uint2 v;
    asm("ld.global.nc.L1::no_allocate.v2.u32 {%0,%1}, [%2];" : "=r"(v.x), "=r"(v.y) : "l"(p));
    return v;
}

// Component i of a uint4 without a local array (constant-folds for unrolled i; never goes to local memory).
__device__ __forceinline__ uint32_t word_of(const uint4& v, int i) {
    return i == 0 ? v.x : (i == 1 ? v.y : (i == 2 ? v.z : v.w));
}

// y[idx] (mode)= v.
__device__ __forceinline__ void store_out(void* y, int64_t idx, float v, OutMode mode) {
    switch (mode) {
        case OutMode::StoreBF16: static_cast<bf16*>(y)[idx] = __float2bfloat16_rn(v); break;
        case OutMode::StoreF32: static_cast<float*>(y)[idx] = v; break;
        case OutMode::AddF32: static_cast<float*>(y)[idx] += v; break;
    }
}

// d += a · b on the tensor cores: mma.sync m16n8k16, bf16 inputs, fp32 accumulation (fragment layouts in
// attention_mma.cuh's header comment).
__device__ __forceinline__ void mma_bf16(float (&d)[4], const uint32_t (&a)[4], uint32_t b0, uint32_t b1) {
    asm volatile(
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
        "{%0,%1,%2,%3};\n"
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

// 16-byte async global -> shared copy; src_bytes = 0 zero-fills the destination (rows past the valid ones, k past K:
// whatever lies there, NaN padding included, must not reach an mma).
__device__ __forceinline__ void cp_async16(void* dst, const void* src, int src_bytes) {
    const unsigned s = static_cast<unsigned>(__cvta_generic_to_shared(dst));
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(s), "l"(src), "r"(src_bytes));
}
__device__ __forceinline__ void cp_async_commit() { asm volatile("cp.async.commit_group;\n" ::); }
// Waits until at most N of this thread's committed groups are still in flight.
template <int N>
__device__ __forceinline__ void cp_async_wait() { asm volatile("cp.async.wait_group %0;\n" ::"n"(N) : "memory"); }

}  // namespace qinfer::cuda
