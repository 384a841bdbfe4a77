#pragma once
// defines: qinfer::cuda::attn:: warp-level bf16 tensor-core helpers for the attention kernels (ldmatrix; mma.sync
//          m16n8k16 and cp.async are gemm_common.cuh's), softmax_step / p_fragment (the online softmax of a warp's 16
//          query rows, shared with the wgmma prefill) and attend_block, one step of a warp's 16 rows over 16·NT keys.
//
// Fragment layouts (PTX ISA, mma.m16n8k16, g = lane / 4, c = lane % 4):
//   A 16x16 (row-major): a0 = (g, 2c..2c+1), a1 = (g+8, 2c..), a2 = (g, 2c+8..), a3 = (g+8, 2c+8..)
//   B 16x8  (k x n):     b0 = (k 2c..2c+1, n g), b1 = (k 2c+8.., n g)
//   C 16x8:              c0,c1 = (g, 2c..2c+1), c2,c3 = (g+8, 2c..2c+1)
// Shared-memory tiles are row-major [rows][HD + 8] bf16: the 16-byte row padding puts the 8 rows an ldmatrix reads in
// 8 different 4-bank groups for every HD that is a multiple of 16 (no swizzle needed, any head_dim).

#include <cuda_bf16.h>

#include <cstdint>

#include "kernels/cuda/gemm_common.cuh"  // mma_bf16

namespace qinfer::cuda::attn {

__device__ __forceinline__ uint32_t smem_u32(const void* p) {
    return static_cast<uint32_t>(__cvta_generic_to_shared(p));
}

__device__ __forceinline__ void ldmatrix_x4(uint32_t (&r)[4], const void* p) {
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0,%1,%2,%3}, [%4];\n"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
                 : "r"(smem_u32(p)));
}

__device__ __forceinline__ void ldmatrix_x4_trans(uint32_t (&r)[4], const void* p) {
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0,%1,%2,%3}, [%4];\n"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
                 : "r"(smem_u32(p)));
}

__device__ __forceinline__ uint32_t pack_bf16(float lo, float hi) {
    const __nv_bfloat162 v = __floats2bfloat162_rn(lo, hi);
    return *reinterpret_cast<const uint32_t*>(&v);
}

// Per-warp online-softmax state for 16 query rows: this thread's rows g and g+8.
template <int HD>
struct WarpState {
    float o[HD / 8][4];  // unnormalised output, C-fragment layout over HD/8 column tiles
    float m[2];          // running max of the log2-scaled scores (rows g, g+8); -inf before any key
    float l[2];          // this thread's partial row sums (reduced over the quad at the end)
    __device__ __forceinline__ void init() {
#pragma unroll
        for (int j = 0; j < HD / 8; ++j) o[j][0] = o[j][1] = o[j][2] = o[j][3] = 0.0f;
        m[0] = m[1] = -INFINITY;
        l[0] = l[1] = 0.0f;
    }
};

// The online-softmax update of one warp's 16 rows for 8·NT keys key0 .. (scores s in the C-fragment layout, raw
// q·k): scale by scale_log2 (softmax scale · log2 e), mask key (key0 + n) unless key0 + n <= lim0 (row g) / lim1 (row
// g+8), new running max, s ← exp2(s − max), l and O rescaled. Shared by attend_block and the wgmma prefill.
template <int HD, int NT>
__device__ __forceinline__ void softmax_step(WarpState<HD>& st, float (&s)[NT][4], int key0, int lim0, int lim1,
                                             float scale_log2) {
    const int c = threadIdx.x & 3;
    float mx0 = -INFINITY, mx1 = -INFINITY;
#pragma unroll
    for (int j = 0; j < NT; ++j) {
#pragma unroll
        for (int e = 0; e < 4; ++e) {
            const int key = key0 + j * 8 + 2 * c + (e & 1);
            const int lim = e < 2 ? lim0 : lim1;
            s[j][e] = key <= lim ? s[j][e] * scale_log2 : -INFINITY;
        }
        mx0 = fmaxf(mx0, fmaxf(s[j][0], s[j][1]));
        mx1 = fmaxf(mx1, fmaxf(s[j][2], s[j][3]));
    }
    mx0 = fmaxf(mx0, __shfl_xor_sync(0xffffffffu, mx0, 1));
    mx0 = fmaxf(mx0, __shfl_xor_sync(0xffffffffu, mx0, 2));
    mx1 = fmaxf(mx1, __shfl_xor_sync(0xffffffffu, mx1, 1));
    mx1 = fmaxf(mx1, __shfl_xor_sync(0xffffffffu, mx1, 2));
    const float mn0 = fmaxf(st.m[0], mx0), mn1 = fmaxf(st.m[1], mx1);
    // A row with every key so far masked keeps m = -inf: subtract 0 instead so exp2 gives 0, never NaN.
    const float sub0 = mn0 == -INFINITY ? 0.0f : mn0, sub1 = mn1 == -INFINITY ? 0.0f : mn1;
    const float alpha0 = exp2f(st.m[0] - sub0), alpha1 = exp2f(st.m[1] - sub1);
    st.m[0] = mn0;
    st.m[1] = mn1;
    float sum0 = 0.0f, sum1 = 0.0f;
#pragma unroll
    for (int j = 0; j < NT; ++j) {
        s[j][0] = exp2f(s[j][0] - sub0);
        s[j][1] = exp2f(s[j][1] - sub0);
        s[j][2] = exp2f(s[j][2] - sub1);
        s[j][3] = exp2f(s[j][3] - sub1);
        sum0 += s[j][0] + s[j][1];
        sum1 += s[j][2] + s[j][3];
    }
    st.l[0] = st.l[0] * alpha0 + sum0;
    st.l[1] = st.l[1] * alpha1 + sum1;
    // Rescale O only if some row's max moved (alpha = exp2(0) = 1 exactly otherwise): HD/2 multiplies per thread
    // that most key blocks of a long context do not need.
    if (__any_sync(0xffffffffu, alpha0 != 1.0f || alpha1 != 1.0f)) {
#pragma unroll
        for (int j = 0; j < HD / 8; ++j) {
            st.o[j][0] *= alpha0;
            st.o[j][1] *= alpha0;
            st.o[j][2] *= alpha1;
            st.o[j][3] *= alpha1;
        }
    }
}

// The probabilities of keys 16 kk .. 16 kk + 15 (C-fragment blocks 2 kk, 2 kk + 1 of s) as an mma A fragment, bf16.
template <int NT>
__device__ __forceinline__ void p_fragment(const float (&s)[NT][4], int kk, uint32_t (&a)[4]) {
    a[0] = pack_bf16(s[2 * kk][0], s[2 * kk][1]);
    a[1] = pack_bf16(s[2 * kk][2], s[2 * kk][3]);
    a[2] = pack_bf16(s[2 * kk + 1][0], s[2 * kk + 1][1]);
    a[3] = pack_bf16(s[2 * kk + 1][2], s[2 * kk + 1][3]);
}

// One step over 16·NT keys: S = Q·Kᵀ (sQ: 16 rows, sK / sV: 16·NT rows, stride LD), softmax_step, O += P·V with P
// rounded to bf16.
template <int HD, int NT, int LD>
__device__ __forceinline__ void attend_block(WarpState<HD>& st, const __nv_bfloat16* sQ, const __nv_bfloat16* sK,
                                             const __nv_bfloat16* sV, int key0, int lim0, int lim1, float scale_log2) {
    static_assert(NT % 2 == 0, "NT covers pairs of 8-key tiles");
    const int lane = threadIdx.x & 31;
    float s[NT][4];
#pragma unroll
    for (int j = 0; j < NT; ++j) s[j][0] = s[j][1] = s[j][2] = s[j][3] = 0.0f;
#pragma unroll
    for (int kk = 0; kk < HD / 16; ++kk) {
        uint32_t a[4];
        ldmatrix_x4(a, sQ + (lane & 15) * LD + kk * 16 + (lane >> 4) * 8);
#pragma unroll
        for (int np = 0; np < NT / 2; ++np) {
            uint32_t b[4];
            ldmatrix_x4(b, sK + (np * 16 + (lane & 7) + ((lane >> 4) << 3)) * LD + kk * 16 + ((lane >> 3) & 1) * 8);
            mma_bf16(s[2 * np], a, b[0], b[1]);
            mma_bf16(s[2 * np + 1], a, b[2], b[3]);
        }
    }
    softmax_step<HD, NT>(st, s, key0, lim0, lim1, scale_log2);
#pragma unroll
    for (int kk = 0; kk < NT / 2; ++kk) {
        uint32_t a[4];
        p_fragment(s, kk, a);
#pragma unroll
        for (int dp = 0; dp < HD / 16; ++dp) {
            uint32_t b[4];
            ldmatrix_x4_trans(b, sV + (kk * 16 + (lane & 7) + ((lane >> 3) & 1) * 8) * LD + dp * 16 + (lane >> 4) * 8);
            mma_bf16(st.o[2 * dp], a, b[0], b[1]);
            mma_bf16(st.o[2 * dp + 1], a, b[2], b[3]);
        }
    }
}

}  // namespace qinfer::cuda::attn
