// Gated DeltaNet mixer on the GPU (contract: gated_delta_net.h; oracle: layers/gated_delta_net.cpp).
//
// Prefill (chunk C = 64, FLA's chunk_gated_delta_rule_fwd), four launches and one tiny:
//   1. gdn_front:   per (token, head): causal conv1d (K taps, carried state) + SiLU, q/k L2 norm (q · dk^-0.5),
//                   gates g = −exp(A_log)·softplus(a + dt_bias), β = sigmoid(b)       → X f32 [T, conv_dim], g, β
//      gdn_conv_state_update: the slot's conv state ← the last K-1 raw inputs (after every read of the old one)
//   2, 3. the chunked delta rule on the tensor cores (gdn_chunk.cu): a parallel prep per (chunk, value head), then a
//                   scan per (value head, 32-column v-tile), sequential over the chunks; o lands in X's v columns
//   4. gdn_gated_norm: o / rms(o) · norm_w · silu(z) per (token, value head) → bf16
// Decode: one fused launch, a CTA per (sequence, value head, 32-column v-tile) so that B = 1 fills the GPU: conv +
// SiLU + norms + gates for the token, the state tile read once into registers, decay, delta update, output, state
// written once; the gated RMSNorm's sum of squares over the head crosses the tiles through a thread-block cluster
// (distributed shared memory), which also orders the conv-state shift after every read of the old conv state.

#include "kernels/cuda/gated_delta_net.h"

#include <cooperative_groups.h>

#include <algorithm>

#include "core/check.h"
#include "kernels/cuda/check.h"
#include "kernels/cuda/launch.h"
#include "kernels/cuda/gdn_chunk.h"

namespace qinfer::cuda {
namespace {

namespace cg = cooperative_groups;

constexpr float kL2Eps = 1e-6f;  // HF l2norm eps inside the delta rule (on the sum of squares)

size_t align_up(size_t x) {
    return (x + 255) & ~size_t{255};
}

__host__ __device__ __forceinline__ int64_t cdim(const GdnShape& s) {
    return 2LL * s.hk * s.dk + static_cast<int64_t>(s.hv) * s.dv;
}

// SiLU and sigmoid with the fast exp and division (a few ulp, far below the bf16 output's 2^-9; the IEEE division and
// expf were most of gdn_front's and gdn_gated_norm's instructions). For x < -87, e^-x overflows and both give 0.
__device__ __forceinline__ float silu_f(float x) {
    return __fdividef(x, 1.0f + __expf(-x));
}
__device__ __forceinline__ float softplus_f(float x) {
    return x > 20.0f ? x : log1pf(expf(x));
}
__device__ __forceinline__ float sigmoid_f(float x) {
    return __fdividef(1.0f, 1.0f + __expf(-x));
}

__device__ __forceinline__ float warp_sum(float v) {
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}

// ---------------------------------------------------------------------------------------------------------------
// 1. front: grid (ceil(T / 8), 2*HK + HV + 1); block 128 = one head's channels (dk, dv <= 128) × 8 tokens.
// y < 2HK: a q or k head (L2-normalised per token); then v heads; last: gates. Each thread loads its channel's conv
// taps once and slides over a window of 8 + K-1 inputs x_ext = [state (K-1, oldest first) ‖ x] held in registers,
// y_t = silu(Σ_j w_j x_ext[t + j]): one load per input instead of K, and coalesced across the head's channels.
constexpr int kFrontTokens = 8;
constexpr int kMaxConv = 9;  // check_shape bounds the conv kernel

__global__ void __launch_bounds__(128)
    gdn_front_kernel(GdnShape s, int64_t T, const float* __restrict__ conv_w, const float* __restrict__ a_log,
                     const float* __restrict__ dt_bias, const bf16* __restrict__ qkvz, const bf16* __restrict__ ba,
                     const float* __restrict__ cstate, float* __restrict__ X, float* __restrict__ g_out,
                     float* __restrict__ beta_out) {
    grid_dependency_sync();  // PDL: first statement (launch.h)
    __shared__ float red[4][kFrontTokens];
    const int64_t t0 = static_cast<int64_t>(blockIdx.x) * kFrontTokens;
    const int nt = static_cast<int>(T - t0 < kFrontTokens ? T - t0 : kFrontTokens);
    const int y = blockIdx.y, hk = s.hk, hv = s.hv;
    const int64_t conv_dim = cdim(s);
    const int64_t row_stride = conv_dim + static_cast<int64_t>(hv) * s.dv;
    const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
    if (y == 2 * hk + hv) {  // gates
        for (int e = tid; e < nt * hv; e += blockDim.x) {
            const int64_t t = t0 + e / hv;
            const int h = e % hv;
            const float b = __bfloat162float(ba[t * 2 * hv + h]);
            const float a = __bfloat162float(ba[t * 2 * hv + hv + h]);
            g_out[t * hv + h] = -expf(a_log[h]) * softplus_f(a + dt_bias[h]);
            beta_out[t * hv + h] = sigmoid_f(b);
        }
        return;
    }
    const bool is_v = y >= 2 * hk;
    const int width = is_v ? s.dv : s.dk;
    const int64_t c0 =
        is_v ? 2LL * hk * s.dk + static_cast<int64_t>(y - 2 * hk) * s.dv : static_cast<int64_t>(y) * s.dk;
    const int K = s.conv_kernel, S = K - 1;
    float out[kFrontTokens];
    if (tid < width) {
        const int64_t c = c0 + tid;
        float w[kMaxConv], win[kFrontTokens + kMaxConv - 1];
#pragma unroll
        for (int j = 0; j < kMaxConv; ++j) w[j] = j < K ? conv_w[c * K + j] : 0.0f;
#pragma unroll
        for (int m = 0; m < kFrontTokens + kMaxConv - 1; ++m) {
            const int64_t xi = t0 + m;  // index into x_ext
            float v = 0.0f;
            if (m < nt + S) v = xi < S ? cstate[c * S + xi] : __bfloat162float(qkvz[(xi - S) * row_stride + c]);
            win[m] = v;
        }
#pragma unroll
        for (int tt = 0; tt < kFrontTokens; ++tt) {
            float acc = 0.0f;
#pragma unroll
            for (int j = 0; j < kMaxConv; ++j) acc += w[j] * win[tt + j];
            out[tt] = silu_f(acc);
        }
    } else {
#pragma unroll
        for (int tt = 0; tt < kFrontTokens; ++tt) out[tt] = 0.0f;
    }
    if (!is_v) {  // per-token L2 norm over the head's channels (q also · dk^-0.5)
#pragma unroll
        for (int tt = 0; tt < kFrontTokens; ++tt) {
            const float ss = warp_sum(out[tt] * out[tt]);
            if (lane == 0) red[warp][tt] = ss;
        }
        __syncthreads();
        const float qs = y < hk ? rsqrtf(static_cast<float>(s.dk)) : 1.0f;
#pragma unroll
        for (int tt = 0; tt < kFrontTokens; ++tt) {
            const float ss = red[0][tt] + red[1][tt] + red[2][tt] + red[3][tt];
            out[tt] *= (1.0f / sqrtf(ss + kL2Eps)) * qs;
        }
    }
    if (tid < width) {
#pragma unroll
        for (int tt = 0; tt < kFrontTokens; ++tt)
            if (tt < nt) X[(t0 + tt) * conv_dim + c0 + tid] = out[tt];
    }
}

// conv state ← the last K-1 rows of [old state ‖ x] (x = the T raw inputs). One thread per channel.
__global__ void gdn_conv_state_update_kernel(int64_t conv_dim, int64_t row_stride, int K, int64_t T,
                                             const bf16* __restrict__ qkvz, float* __restrict__ cstate) {
    grid_dependency_sync();  // PDL: first statement (launch.h)
    const int64_t c = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
    if (c >= conv_dim) return;
    const int S = K - 1;
    float next[8];
    for (int m = 0; m < S; ++m) {
        const int64_t i = T + m;
        next[m] = i < S ? cstate[c * S + i] : __bfloat162float(qkvz[(i - S) * row_stride + c]);
    }
    for (int m = 0; m < S; ++m) cstate[c * S + m] = next[m];
}

// ---------------------------------------------------------------------------------------------------------------
// 4. gated RMSNorm: one warp per (token, value head), 8 per CTA; o f32 (row stride ld), z bf16 from qkvz.
// A warp per row (not a 128-thread CTA with a block reduction, as before): at 8k tokens x 32 heads the CTA version
// launched 262k tiny CTAs and ran at 3.5x its 90 us memory floor (317 us, 4 % of an 8k prefill).
// kVec: dv <= 128, dv % 4 == 0 and every row 16-byte (o) / 8-byte (z, out) aligned: a lane holds 4 consecutive
// columns in registers (one float4 of o, 4 bf16 of z). Otherwise lanes stride the row and o is read twice.
constexpr int kNormWarps = 8;

template <bool kVec>
__global__ void __launch_bounds__(32 * kNormWarps)
    gdn_gated_norm_kernel(GdnShape s, int64_t T, const float* __restrict__ O, int64_t ld, const bf16* __restrict__ qkvz,
                          const float* __restrict__ norm_w, bf16* __restrict__ out) {
    grid_dependency_sync();  // PDL: first statement (launch.h)
    const int lane = threadIdx.x & 31;
    const int64_t row = static_cast<int64_t>(blockIdx.x) * kNormWarps + (threadIdx.x >> 5);  // t * HV + h
    if (row >= T * s.hv) return;
    const int64_t t = row / s.hv;
    const int h = static_cast<int>(row % s.hv);
    const int64_t conv_dim = cdim(s);
    const int64_t vd = static_cast<int64_t>(s.hv) * s.dv;
    const float* o = O + t * ld + h * static_cast<int64_t>(s.dv);
    const bf16* z = qkvz + t * (conv_dim + vd) + conv_dim + h * static_cast<int64_t>(s.dv);
    bf16* y = out + t * vd + h * static_cast<int64_t>(s.dv);
    if constexpr (kVec) {
        const int c = lane * 4;
        const bool live = c < s.dv;
        float4 ov = make_float4(0.f, 0.f, 0.f, 0.f), wv = ov;
        uint2 zr = make_uint2(0u, 0u);
        if (live) {
            ov = *reinterpret_cast<const float4*>(o + c);
            zr = *reinterpret_cast<const uint2*>(z + c);
            wv = *reinterpret_cast<const float4*>(norm_w + c);
        }
        const float ss = warp_sum(ov.x * ov.x + ov.y * ov.y + ov.z * ov.z + ov.w * ov.w);
        const float inv = 1.0f / sqrtf(ss / static_cast<float>(s.dv) + s.eps);
        if (!live) return;
        const float2 z01 = __bfloat1622float2(*reinterpret_cast<const __nv_bfloat162*>(&zr.x));
        const float2 z23 = __bfloat1622float2(*reinterpret_cast<const __nv_bfloat162*>(&zr.y));
        const __nv_bfloat162 y01 =
            __floats2bfloat162_rn((wv.x * (ov.x * inv)) * silu_f(z01.x), (wv.y * (ov.y * inv)) * silu_f(z01.y));
        const __nv_bfloat162 y23 =
            __floats2bfloat162_rn((wv.z * (ov.z * inv)) * silu_f(z23.x), (wv.w * (ov.w * inv)) * silu_f(z23.y));
        uint2 yr;
        yr.x = *reinterpret_cast<const uint32_t*>(&y01);
        yr.y = *reinterpret_cast<const uint32_t*>(&y23);
        *reinterpret_cast<uint2*>(y + c) = yr;
    } else {
        float ss = 0.0f;
        for (int i = lane; i < s.dv; i += 32) ss += o[i] * o[i];
        const float inv = 1.0f / sqrtf(warp_sum(ss) / static_cast<float>(s.dv) + s.eps);
        for (int i = lane; i < s.dv; i += 32)
            y[i] = __float2bfloat16((norm_w[i] * (o[i] * inv)) * silu_f(__bfloat162float(z[i])));
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Decode: one CTA per (sequence, value head, 32-column v-tile); grid (HV·NS, B), NS = ceil(dv/32) tiles per head,
// 2·DK threads. The CTAs of a cluster are NS tiles of each of `cluster_heads` consecutive value heads: all NS
// (`fuse_qk`: the whole GQA group of HV/HK heads sharing key head hk, so the cluster is every reader of hk's q/k conv
// state). Thread t: state rows a = t/8 + p·DK/4 (p < 4), columns tile·32 + (t%8)·4 .. +3 (one float4 per row); in
// the front, q (t < DK) or k (t >= DK) channel t%DK of key head hk, and for t < 32 also the v channel of column
// tile·32 + t. Phases: every global load issued first (slot → state tile, conv taps and state, x, gates, z, norm w);
// conv + SiLU, q/k L2 norms (one __syncthreads); decay and kᵀS (shuffles + one __syncthreads); δ, rank-1 update,
// state stores, qᵀS (one __syncthreads); the head's Σ o² over its NS tiles through distributed shared memory (one
// cluster barrier); gated RMSNorm and the bf16 output. Conv state: each v channel is read by one thread only, which
// writes its shifted state at once; with `fuse_qk` the q/k channels are written after the cluster barrier, which
// every CTA that reads them has passed (otherwise gdn_decode_conv_shift_kernel shifts them after this kernel).
constexpr int kDecBV = 32;      // value columns per decode CTA
constexpr int kDecMaxTiles = 4;  // dv <= 128
constexpr int kMaxCluster = 8;   // portable cluster size

__device__ __forceinline__ void cluster_arrive_relaxed() {
    asm volatile("barrier.cluster.arrive.relaxed.aligned;\n" ::: "memory");
}
__device__ __forceinline__ void cluster_arrive_release() {
    asm volatile("barrier.cluster.arrive.release.aligned;\n" ::: "memory");
}
__device__ __forceinline__ void cluster_wait() {
    asm volatile("barrier.cluster.wait.acquire.aligned;\n" ::: "memory");
}

__device__ __forceinline__ float4 f4_zero() {
    return make_float4(0.0f, 0.0f, 0.0f, 0.0f);
}
__device__ __forceinline__ void f4_fma(float4& acc, const float4& a, float b) {
    acc.x += a.x * b, acc.y += a.y * b, acc.z += a.z * b, acc.w += a.w * b;
}
__device__ __forceinline__ float4 f4_add(const float4& a, const float4& b) {
    return make_float4(a.x + b.x, a.y + b.y, a.z + b.z, a.w + b.w);
}
__device__ __forceinline__ float4 f4_shfl_xor(const float4& v, int m) {
    return make_float4(__shfl_xor_sync(0xffffffffu, v.x, m), __shfl_xor_sync(0xffffffffu, v.y, m),
                       __shfl_xor_sync(0xffffffffu, v.z, m), __shfl_xor_sync(0xffffffffu, v.w, m));
}
// Columns col .. col+3 of a row with n valid columns; zero past n. vec: n % 4 == 0 and the row is 16-byte aligned.
__device__ __forceinline__ float4 load_cols4(const float* row, int col, int n, bool vec) {
    if (vec) return col < n ? *reinterpret_cast<const float4*>(row + col) : f4_zero();
    return make_float4(col < n ? row[col] : 0.0f, col + 1 < n ? row[col + 1] : 0.0f, col + 2 < n ? row[col + 2] : 0.0f,
                       col + 3 < n ? row[col + 3] : 0.0f);
}
__device__ __forceinline__ void store_cols4(float* row, int col, int n, bool vec, const float4& v) {
    if (vec) {
        if (col < n) *reinterpret_cast<float4*>(row + col) = v;
        return;
    }
    if (col < n) row[col] = v.x;
    if (col + 1 < n) row[col + 1] = v.y;
    if (col + 2 < n) row[col + 2] = v.z;
    if (col + 3 < n) row[col + 3] = v.w;
}

// One conv channel c of the decode token: taps w[c·K + j], x_ext = [old state (K-1, oldest first) ‖ x].
// KF > 0 (K fixed at compile time): weights and old state are loaded into registers with the kernel's other loads.
// KF == 0 (any K in [1, 9]): they are read where used (no register arrays; not the fast path).
template <int KF>
struct ConvChan {
    float wt[KF > 0 ? KF : 1], old[KF > 1 ? KF - 1 : 1], x = 0.0f;

    __device__ __forceinline__ void load(const float* cw, const bf16* xrow, int64_t c, int K, bool ok) {
        if (!ok) return;
        x = __bfloat162float(xrow[c]);
        if constexpr (KF > 0) {
#pragma unroll
            for (int j = 0; j < KF; ++j) wt[j] = cw[c * KF + j];
        } else {
            (void)K;
        }
    }
    __device__ __forceinline__ void load_state(const float* cs, int64_t c, bool ok) {
        if constexpr (KF > 1) {
#pragma unroll
            for (int j = 0; j < KF - 1; ++j) old[j] = ok ? cs[c * (KF - 1) + j] : 0.0f;
        } else {
            (void)cs, (void)c, (void)ok;
        }
    }
    // silu(Σ_j w_j x_ext[j])
    __device__ __forceinline__ float conv_silu(const float* cw, const float* cs, int64_t c, int K) const {
        float acc = 0.0f;
        if constexpr (KF > 0) {
#pragma unroll
            for (int j = 0; j < KF; ++j) acc += wt[j] * (j < KF - 1 ? old[j < KF - 1 ? j : 0] : x);
        } else {
            const int SK = K - 1;
            for (int j = 0; j < K; ++j) acc += cw[c * K + j] * (j < SK ? cs[c * SK + j] : x);
        }
        return silu_f(acc);
    }
    // state(c) ← [state(c)[1:], x]; only after every reader of the old state has read it.
    __device__ __forceinline__ void shift(float* cs, int64_t c, int K) const {
        if constexpr (KF > 0) {
#pragma unroll
            for (int j = 0; j < KF - 1; ++j) cs[c * (KF - 1) + j] = j + 1 < KF - 1 ? old[j + 1 < KF - 1 ? j + 1 : 0] : x;
        } else {
            const int SK = K - 1;
            for (int j = 0; j + 1 < SK; ++j) cs[c * SK + j] = cs[c * SK + j + 1];
            if (SK > 0) cs[c * SK + SK - 1] = x;
        }
    }
};

// KF: the conv kernel size when fixed at compile time (4, Qwen3.5's), 0 for any K in [1, 9] read from s.
// Occupancy: 1024 threads per SM (<= 64 registers) on the fast path; the generic-K path may use 128.
template <int DK, int KF>
__global__ void __launch_bounds__(2 * DK, (KF > 0 ? 512 : 256) / DK)
    gdn_decode_kernel(GdnShape s, GdnWeights w, const bf16* __restrict__ qkvz, const bf16* __restrict__ ba,
                      const int32_t* __restrict__ slots, GdnState st, bf16* __restrict__ out, int ns, int fuse_qk) {
    grid_dependency_sync();                                // PDL: first statement (launch.h)
    constexpr int NT = 2 * DK, NW = NT / 32, RP = DK / 4;  // threads, warps, state rows per pass (4 passes)
    __shared__ float qk_s[2 * DK];                          // conv + SiLU q ‖ k (not yet normalised)
    __shared__ float4 v_s[kDecBV / 4];                      // conv + SiLU v of the tile's columns
    __shared__ float nred[NW];                              // per-warp Σ q² (warps < NW/2) and Σ k²
    __shared__ float4 pred[2][NW][kDecBV / 4];              // per-warp partial kᵀS, then qᵀS
    __shared__ float tile_ss[kDecMaxTiles];                 // Σ o² of each tile of this head (written by the peers)
    __shared__ float z_s[kDecBV], nw_s[kDecBV];             // silu(z) and the norm weight of the tile's columns
    cluster_arrive_relaxed();  // matched by the wait before the first DSMEM store: every peer CTA has started

    const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
    const int rw = tid >> 3, c4 = tid & 7;
    const int h = static_cast<int>(blockIdx.x) / ns, tile = static_cast<int>(blockIdx.x) % ns;
    const int64_t b = blockIdx.y;
    const int dk = s.dk, dv = s.dv, hv = s.hv;
    const int K = KF > 0 ? KF : s.conv_kernel, SK = K - 1;
    const int hk = h / (hv / s.hk);
    const int64_t conv_dim = cdim(s);
    const int64_t vd = static_cast<int64_t>(hv) * dv;
    const bool vec = (dv & 3) == 0;
    const int col0 = tile * kDecBV + c4 * 4;  // this thread's 4 state columns

    // ---- loads. The slot index first (the state address depends on it); the rest does not and is issued with it.
    const int64_t slot = slots[b];
    const bf16* x = qkvz + b * (conv_dim + vd);
    // q/k channel of this thread.
    const int ci = tid % DK;
    const bool ch_ok = ci < dk;
    const int64_t ch = (tid >= DK ? static_cast<int64_t>(s.hk) * dk : 0) + static_cast<int64_t>(hk) * dk + ci;
    ConvChan<KF> qkc;
    qkc.load(w.conv1d, x, ch, K, ch_ok);
    // v channel of column tile·32 + tid (tid < 32).
    const int vcol = tile * kDecBV + tid;
    const bool v_ok = tid < kDecBV && vcol < dv;
    const int64_t vch = 2LL * s.hk * dk + static_cast<int64_t>(h) * dv + vcol;
    ConvChan<KF> vc;
    vc.load(w.conv1d, x, vch, K, v_ok);
    // z and the norm weight of column vcol; the gates (every thread).
    float zv = 0.0f, nwv = 0.0f;
    if (v_ok) {
        zv = __bfloat162float(x[conv_dim + static_cast<int64_t>(h) * dv + vcol]);
        nwv = w.norm[vcol];
    }
    const float gb = __bfloat162float(ba[b * 2 * hv + h]);
    const float ga = __bfloat162float(ba[b * 2 * hv + hv + h]);
    const float alog = w.a_log[h], dtb = w.dt_bias[h];
    // Slot-dependent: the state tile and the conv states.
    float* cs = st.conv + slot * conv_dim * SK;
    float* S = st.recurrent + (slot * hv + h) * static_cast<int64_t>(dk) * dv;
    float4 sr[4];
#pragma unroll
    for (int p = 0; p < 4; ++p) {
        const int a = rw + p * RP;
        sr[p] = a < dk ? load_cols4(S + static_cast<int64_t>(a) * dv, col0, dv, vec) : f4_zero();
    }
    qkc.load_state(cs, ch, ch_ok);
    vc.load_state(cs, vch, v_ok);

    // ---- front: conv + SiLU (x_ext = [old state ‖ x], y = silu(Σ_j w_j x_ext[j])), q/k sums of squares.
    const float qk = ch_ok ? qkc.conv_silu(w.conv1d, cs, ch, K) : 0.0f;
    qk_s[tid] = qk;
    const float sq = warp_sum(qk * qk);
    if (lane == 0) nred[warp] = sq;
    if (tid < kDecBV) {
        float v = 0.0f;
        if (v_ok) {
            v = vc.conv_silu(w.conv1d, cs, vch, K);
            vc.shift(cs, vch, K);  // only this thread reads v channel vch: shift its conv state now
        }
        reinterpret_cast<float*>(v_s)[tid] = v;
        z_s[tid] = silu_f(zv);
        nw_s[tid] = nwv;
    }
    const float decay = expf(-expf(alog) * softplus_f(ga + dtb));
    const float beta = sigmoid_f(gb);
    __syncthreads();
    float ssq = 0.0f, ssk = 0.0f;
#pragma unroll
    for (int i = 0; i < NW / 2; ++i) ssq += nred[i], ssk += nred[NW / 2 + i];
    const float qn = 1.0f / sqrtf(ssq + kL2Eps) / sqrtf(static_cast<float>(dk));
    const float kn = 1.0f / sqrtf(ssk + kL2Eps);

    // ---- decay, kᵀ(αS) per column: this thread's 4 rows, then the 4 rows of the warp (lanes ^8, ^16), then the warps.
    float kr[4], qr[4];
    float4 part = f4_zero();
#pragma unroll
    for (int p = 0; p < 4; ++p) {
        const int a = rw + p * RP;
        kr[p] = qk_s[DK + a] * kn;
        qr[p] = qk_s[a] * qn;
        sr[p].x *= decay, sr[p].y *= decay, sr[p].z *= decay, sr[p].w *= decay;
        f4_fma(part, sr[p], kr[p]);
    }
    part = f4_add(part, f4_shfl_xor(part, 8));
    part = f4_add(part, f4_shfl_xor(part, 16));
    if (lane < 8) pred[0][warp][lane] = part;
    __syncthreads();
    float4 kS = pred[0][0][c4];
#pragma unroll
    for (int i = 1; i < NW; ++i) kS = f4_add(kS, pred[0][i][c4]);
    // δ = β (v − kᵀ(αS)); S ← αS + k δᵀ; o = qᵀS.
    const float4 vv = v_s[c4];
    const float4 delta = make_float4((vv.x - kS.x) * beta, (vv.y - kS.y) * beta, (vv.z - kS.z) * beta,
                                     (vv.w - kS.w) * beta);
    part = f4_zero();
#pragma unroll
    for (int p = 0; p < 4; ++p) {
        const int a = rw + p * RP;
        f4_fma(sr[p], delta, kr[p]);
        if (a < dk) store_cols4(S + static_cast<int64_t>(a) * dv, col0, dv, vec, sr[p]);
        f4_fma(part, sr[p], qr[p]);
    }
    part = f4_add(part, f4_shfl_xor(part, 8));
    part = f4_add(part, f4_shfl_xor(part, 16));
    if (lane < 8) pred[1][warp][lane] = part;
    __syncthreads();
    float4 o = pred[1][0][c4];
#pragma unroll
    for (int i = 1; i < NW; ++i) o = f4_add(o, pred[1][i][c4]);

    // ---- gated RMSNorm over the head's dv outputs: Σ o² of this tile (columns past dv are 0) to every tile of the
    // head in the cluster, one cluster barrier, then each tile has the head's sum.
    cg::cluster_group cluster = cg::this_cluster();
    const int rank = static_cast<int>(cluster.block_rank());
    float tss = o.x * o.x + o.y * o.y + o.z * o.z + o.w * o.w;
    tss += __shfl_xor_sync(0xffffffffu, tss, 1);
    tss += __shfl_xor_sync(0xffffffffu, tss, 2);
    tss += __shfl_xor_sync(0xffffffffu, tss, 4);
    cluster_wait();  // every CTA of the cluster has started (its shared memory exists)
    if (warp == 0 && lane < ns) *cluster.map_shared_rank(&tile_ss[tile], rank - tile + lane) = tss;
    cluster_arrive_release();
    cluster_wait();
    if (tid < kDecBV / 4) {
        float ss = 0.0f;
        for (int i = 0; i < ns; ++i) ss += tile_ss[i];
        const float inv = 1.0f / sqrtf(ss / static_cast<float>(dv) + s.eps);
        bf16* orow = out + b * vd + static_cast<int64_t>(h) * dv;
        const float ov[4] = {o.x, o.y, o.z, o.w};
#pragma unroll
        for (int j = 0; j < 4; ++j)
            if (col0 + j < dv)
                orow[col0 + j] = __float2bfloat16((nw_s[c4 * 4 + j] * (ov[j] * inv)) * z_s[c4 * 4 + j]);
    }
    // q/k conv state: every reader (the whole cluster) has passed the barrier; CTA `rank` writes channels ≡ rank.
    if (fuse_qk && ch_ok && tid % static_cast<int>(cluster.num_blocks()) == rank) qkc.shift(cs, ch, K);
}

// Decode conv-state shift of channels [0, nch) (the q/k channels when the decode clusters do not cover a GQA group):
// state(c) ← [state(c)[1:], x(c)], after the decode kernel has read the old state.
__global__ void gdn_decode_conv_shift_kernel(int64_t conv_dim, int64_t nch, int64_t row_stride, int K, int64_t B,
                                             const bf16* __restrict__ qkvz, const int32_t* __restrict__ slots,
                                             float* __restrict__ cstate) {
    grid_dependency_sync();  // PDL: first statement (launch.h)
    const int64_t e = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
    if (e >= B * nch) return;
    const int64_t b = e / nch, c = e % nch;
    const int S = K - 1;
    float* st = cstate + (static_cast<int64_t>(slots[b]) * conv_dim + c) * S;
    for (int m = 0; m + 1 < S; ++m) st[m] = st[m + 1];
    if (S > 0) st[S - 1] = __bfloat162float(qkvz[b * row_stride + c]);
}

int dk_bucket(int dk) {
    return dk <= 32 ? 32 : dk <= 64 ? 64 : 128;
}

void check_shape(const GdnShape& s) {
    QINFER_CHECK(s.hk > 0 && s.hv > 0 && s.hv % s.hk == 0, "gdn: HV (", s.hv, ") must be a multiple of HK (", s.hk, ")");
    QINFER_CHECK(s.dk > 0 && s.dk <= 128, "gdn: dk must be in [1, 128], got ", s.dk);
    QINFER_CHECK(s.dv > 0 && s.dv <= 128, "gdn: dv must be in [1, 128], got ", s.dv);
    QINFER_CHECK(s.conv_kernel >= 1 && s.conv_kernel <= 9, "gdn: conv kernel must be in [1, 9], got ", s.conv_kernel);
}

struct Workspace {
    float *X, *g, *beta;  // gdn_front's outputs: f32 [T, conv_dim], [T, HV], [T, HV]
    GdnChunkTiles tiles;  // the chunk kernels' intermediate tiles (gdn_chunk.h)
};

Workspace carve(const GdnShape& s, int64_t T, void* base, size_t* total) {
    const size_t f = sizeof(float);
    size_t off = 0;
    auto take = [&](size_t n) {
        const size_t o = off;
        off += align_up(n * f);
        return o;
    };
    const size_t oX = take(static_cast<size_t>(T * cdim(s)));
    const size_t og = take(static_cast<size_t>(T * s.hv));
    const size_t ob = take(static_cast<size_t>(T * s.hv));
    char* p = static_cast<char*>(base);
    Workspace ws{};
    off += gdn_chunk_tiles(s, T, p ? p + off : nullptr, &ws.tiles);
    if (total) *total = off;
    auto at = [&](size_t o) { return p ? reinterpret_cast<float*>(p + o) : nullptr; };
    ws.X = at(oX);
    ws.g = at(og);
    ws.beta = at(ob);
    return ws;
}

template <int DK, int KF>
void launch_decode(const GdnShape& s, const GdnWeights& w, const bf16* qkvz, const bf16* ba, int64_t B,
                   const int32_t* slots, const GdnState& state, bf16* out, cudaStream_t stream) {
    const int ns = (s.dv + kDecBV - 1) / kDecBV;
    const int group = s.hv / s.hk;  // value heads per key head
    const bool fuse_qk = group * ns <= kMaxCluster;
    launch_clustered(gdn_decode_kernel<DK, KF>, dim3(static_cast<unsigned>(s.hv * ns), static_cast<unsigned>(B)),
                     dim3(2 * DK), static_cast<unsigned>(fuse_qk ? group * ns : ns), 0, stream, s, w, qkvz, ba, slots,
                     state, out, ns, fuse_qk ? 1 : 0);
    if (!fuse_qk && s.conv_kernel > 1) {  // the q/k conv states, after every CTA of the step has read them
        const int64_t conv_dim = cdim(s), nch = 2LL * s.hk * s.dk, n = B * nch;
        launch(gdn_decode_conv_shift_kernel, static_cast<unsigned>((n + 255) / 256), 256, 0, stream, conv_dim, nch,
               conv_dim + static_cast<int64_t>(s.hv) * s.dv, s.conv_kernel, B, qkvz, slots, state.conv);
    }
}

template <int DK>
void launch_decode_k(const GdnShape& s, const GdnWeights& w, const bf16* qkvz, const bf16* ba, int64_t B,
                     const int32_t* slots, const GdnState& state, bf16* out, cudaStream_t stream) {
    if (s.conv_kernel == 4) {
        launch_decode<DK, 4>(s, w, qkvz, ba, B, slots, state, out, stream);
    } else {
        launch_decode<DK, 0>(s, w, qkvz, ba, B, slots, state, out, stream);
    }
}

}  // namespace

size_t gdn_prefill_workspace_bytes(const GdnShape& s, int64_t T) {
    size_t total = 0;
    carve(s, std::max<int64_t>(T, 1), nullptr, &total);
    return total;
}

void gdn_prefill(const GdnShape& s, const GdnWeights& w, const bf16* qkvz, const bf16* ba, int64_t T, int slot,
                 const GdnState& state, bf16* out, void* workspace, cudaStream_t stream) {
    check_shape(s);
    QINFER_CHECK(T >= 1, "gdn_prefill: T must be >= 1, got ", T);
    const Workspace ws = carve(s, T, workspace, nullptr);
    const int64_t conv_dim = cdim(s);
    const int64_t row_stride = conv_dim + static_cast<int64_t>(s.hv) * s.dv;
    float* cstate = state.conv + static_cast<int64_t>(slot) * conv_dim * (s.conv_kernel - 1);
    float* S = state.recurrent + static_cast<int64_t>(slot) * s.hv * s.dk * s.dv;

    launch(gdn_front_kernel, dim3(static_cast<unsigned>((T + kFrontTokens - 1) / kFrontTokens), 2 * s.hk + s.hv + 1),
           128, 0, stream, s, T, w.conv1d, w.a_log, w.dt_bias, qkvz, ba, cstate, ws.X, ws.g, ws.beta);
    launch(gdn_conv_state_update_kernel, static_cast<unsigned>((conv_dim + 255) / 256), 256, 0, stream, conv_dim,
           row_stride, s.conv_kernel, T, qkvz, cstate);
    gdn_chunk_forward(s, T, ws.X, ws.g, ws.beta, S, ws.tiles, stream);
    // The scan wrote o into X's v columns (row stride conv_dim).
    const float* o = ws.X + 2LL * s.hk * s.dk;
    const int64_t vd = static_cast<int64_t>(s.hv) * s.dv;
    const auto aligned = [](const void* p, uintptr_t n) { return reinterpret_cast<uintptr_t>(p) % n == 0; };
    const bool vec = s.dv <= 128 && s.dv % 4 == 0 && conv_dim % 4 == 0 && row_stride % 4 == 0 && vd % 4 == 0 &&
                     aligned(o, 16) && aligned(w.norm, 16) && aligned(qkvz + conv_dim, 8) && aligned(out, 8);
    const auto blocks = static_cast<unsigned>((T * s.hv + kNormWarps - 1) / kNormWarps);
    if (vec)
        launch(gdn_gated_norm_kernel<true>, blocks, 32 * kNormWarps, 0, stream, s, T, o, conv_dim, qkvz, w.norm, out);
    else
        launch(gdn_gated_norm_kernel<false>, blocks, 32 * kNormWarps, 0, stream, s, T, o, conv_dim, qkvz, w.norm, out);
}

void gdn_decode(const GdnShape& s, const GdnWeights& w, const bf16* qkvz, const bf16* ba, int64_t B,
                const int32_t* slots, const GdnState& state, bf16* out, cudaStream_t stream) {
    check_shape(s);
    if (B <= 0) return;
    QINFER_CHECK(B <= 65535, "gdn_decode: at most 65535 sequences per call, got ", B);
    switch (dk_bucket(s.dk)) {
        case 32: launch_decode_k<32>(s, w, qkvz, ba, B, slots, state, out, stream); break;
        case 64: launch_decode_k<64>(s, w, qkvz, ba, B, slots, state, out, stream); break;
        default: launch_decode_k<128>(s, w, qkvz, ba, B, slots, state, out, stream); break;
    }
}

}  // namespace qinfer::cuda
