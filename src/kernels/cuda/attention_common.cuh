#pragma once
// defines: qinfer::cuda::attn::Rope, Common (the kernels' view of one attention layer), norm_rope_row (q / k RMSNorm
//          + partial RoPE of one row, by one warp), store_gated_rows (the prefill epilogue: o / l · σ(gate) → bf16),
//          launch_prefill_wgmma / prefill_wgmma_supported (attention_wgmma.cu, the Hopper prefill kernel); private to
//          src/kernels/cuda (attention.cu, attention_wgmma.cu).

#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <cstdint>

#include "kernels/cuda/attention_mma.cuh"  // WarpState
#include "kernels/cuda/types.h"

namespace qinfer::cuda::attn {

constexpr int kMaxRotHalf = 128;

struct Rope {
    float inv_freq[kMaxRotHalf];
    int half = 0;  // rotary_dim / 2
};

struct Common {
    int hq, hkv, hd, group;  // group = Hq / Hkv
    int64_t qkv_dim;
    float eps, scale_log2;
    const float* q_norm;
    const float* k_norm;
    bf16* kc;
    bf16* vc;
    int64_t max_ctx;
};

// One warp: dst[0..hd) = bf16( RoPE( x · rsqrt(mean(x²) + eps) · (1 + w) ) ) for the bf16 row src at position pos.
__device__ __forceinline__ void norm_rope_row(const bf16* __restrict__ src, const float* __restrict__ w, int hd,
                                              float eps, const Rope& rope, int64_t pos, bf16* dst) {
    const int lane = threadIdx.x & 31;
    float ss = 0.0f;
    for (int i = lane; i < hd; i += 32) {
        const float x = __bfloat162float(src[i]);
        ss += x * x;
    }
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) ss += __shfl_xor_sync(0xffffffffu, ss, o);
    const float r = 1.0f / sqrtf(ss / static_cast<float>(hd) + eps);
    const int half = rope.half;
    const float fpos = static_cast<float>(pos);
    for (int i = lane; i < hd; i += 32) {
        float y = __bfloat162float(src[i]) * r * (1.0f + w[i]);
        if (i < 2 * half) {
            const int ip = i < half ? i + half : i - half;
            const float xp = __bfloat162float(src[ip]) * r * (1.0f + w[ip]);
            float sn, cs;
            sincosf(fpos * rope.inv_freq[i < half ? i : i - half], &sn, &cs);
            y = i < half ? y * cs + (-xp) * sn : y * cs + xp * sn;
        }
        dst[i] = __float2bfloat16_rn(y);
    }
}

// Prefill epilogue of one warp's 16 query rows (tokens t0 = first row + lane / 4 and t0 + 8; rows >= T are not
// written): out[t, h·HD + d] = bf16( o / l · σ(gate[t, h, d]) ), l reduced over the lane quad first.
template <int HD>
__device__ __forceinline__ void store_gated_rows(const Common& c, const WarpState<HD>& st, const bf16* __restrict__ qkv,
                                                 int h, int t0, int T, bf16* __restrict__ out) {
    float l0 = st.l[0], l1 = st.l[1];
    l0 += __shfl_xor_sync(0xffffffffu, l0, 1);
    l0 += __shfl_xor_sync(0xffffffffu, l0, 2);
    l1 += __shfl_xor_sync(0xffffffffu, l1, 1);
    l1 += __shfl_xor_sync(0xffffffffu, l1, 2);
    const float inv0 = 1.0f / l0, inv1 = 1.0f / l1;
    const int cc = threadIdx.x & 3;
    const int t1 = t0 + 8;
    const int64_t out_ld = static_cast<int64_t>(c.hq) * HD;
#pragma unroll
    for (int j = 0; j < HD / 8; ++j) {
        const int d = j * 8 + 2 * cc;
#pragma unroll
        for (int hr = 0; hr < 2; ++hr) {
            const int t = hr ? t1 : t0;
            if (t >= T) continue;
            const float inv = hr ? inv1 : inv0;
            const __nv_bfloat162 gv = *reinterpret_cast<const __nv_bfloat162*>(
                qkv + static_cast<int64_t>(t) * c.qkv_dim + static_cast<int64_t>(h) * 2 * HD + HD + d);
            const float g0 = 1.0f / (1.0f + expf(-__low2float(gv)));
            const float g1 = 1.0f / (1.0f + expf(-__high2float(gv)));
            *reinterpret_cast<__nv_bfloat162*>(out + t * out_ld + static_cast<int64_t>(h) * HD + d) =
                __floats2bfloat162_rn(st.o[j][2 * hr] * inv * g0, st.o[j][2 * hr + 1] * inv * g1);
        }
    }
}

// The Hopper prefill (attention_wgmma.cu): same operation and arguments as attention.cu's prefill_kernel, where
// prefill_wgmma_supported() (head_dim 64, 128 or 256, rotary_dim / 2 a multiple of head_dim / 32, an sm_90a build on
// an sm_90 device) and qkv is 16-byte aligned. Throws otherwise; callers test both before launching anything.
bool prefill_wgmma_supported(int hd, int rotary_dim);
void launch_prefill_wgmma(const Common& c, const Rope& rope, const bf16* qkv, int64_t T, int slot, int64_t pos0,
                          bf16* out, cudaStream_t stream);

}  // namespace qinfer::cuda::attn
