// Gated DeltaNet mixer on the GPU (contract: gated_delta_net.h; oracle: layers/gated_delta_net.cpp).
//
// Prefill (chunk C = 64, FLA's chunk_gated_delta_rule_fwd split into four launches, all fp32 on CUDA cores):
//   1. gdn_front:   per (token, head): causal conv1d (K taps, carried state) + SiLU, q/k L2 norm (q · dk^-0.5),
//                   gates g = −exp(A_log)·softplus(a + dt_bias), β = sigmoid(b)       → X f32 [T, conv_dim], g, β
//      gdn_conv_state_update: the slot's conv state ← the last K-1 raw inputs (after every read of the old one)
//   2. gdn_chunk_prep: per (chunk, value head), independent: γ = cumsum(g), A = β K Kᵀ ⊙ D (strictly lower),
//                   forward substitution X = (I + A)⁻¹ [β K e^γ | β V] → W, U; M = (Q Kᵀ) ⊙ D (lower, incl. diag)
//   3. gdn_chunk_scan: per (value head, 32-column v-tile), sequential over chunks with S [dk, 32] in shared memory:
//                   V' = U − W S;  o = (Q e^γ) S + M V';  S ← e^{γ_last} S + (K e^{γ_last − γ})ᵀ V'
//   4. gdn_gated_norm: o / rms(o) · norm_w · silu(z) per (token, value head) → bf16
// Decode: one fused kernel per (sequence, value head): conv + SiLU + norms + gates for the token, the state read
// once into registers, decay, delta update, output, state written once, gated RMSNorm; then the conv-state shift.
//
// Not (yet) tensor cores: the chunk matmuls run as fp32 FMA from shared memory (docs/perf/gdn.md has the numbers).

#include "kernels/cuda/gated_delta_net.h"

#include <algorithm>

#include "core/check.h"
#include "kernels/cuda/check.h"

namespace qinfer::cuda {
namespace {

constexpr int kChunk = 64;
constexpr int kBV = 32;          // value columns per scan CTA / decode warp group
constexpr float kL2Eps = 1e-6f;  // HF l2norm eps inside the delta rule (on the sum of squares)

size_t align_up(size_t x) {
    return (x + 255) & ~size_t{255};
}

__host__ __device__ __forceinline__ int64_t cdim(const GdnShape& s) {
    return 2LL * s.hk * s.dk + static_cast<int64_t>(s.hv) * s.dv;
}

__device__ __forceinline__ float silu_f(float x) {
    return x / (1.0f + expf(-x));
}
__device__ __forceinline__ float softplus_f(float x) {
    return x > 20.0f ? x : log1pf(expf(x));
}
__device__ __forceinline__ float sigmoid_f(float x) {
    return 1.0f / (1.0f + expf(-x));
}

__device__ __forceinline__ float warp_sum(float v) {
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}

// Block-wide sum (blockDim.x a multiple of 32, <= 1024); `red` holds >= 32 floats. All threads get the result.
__device__ float block_sum(float v, float* red) {
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, nw = blockDim.x >> 5;
    v = warp_sum(v);
    __syncthreads();
    if (lane == 0) red[warp] = v;
    __syncthreads();
    float s = 0.0f;
    for (int i = 0; i < nw; ++i) s += red[i];
    return s;
}

// Causal conv1d + SiLU of channel c at token t: x_ext = [state(c) (K-1, oldest first) ‖ x], y = silu(Σ_j w_j x_ext[t+j]).
__device__ __forceinline__ float conv_silu(const bf16* qkvz, int64_t row_stride, int64_t t, int64_t c,
                                           const float* conv_w, const float* cstate, int K) {
    float acc = 0.0f;
    const int S = K - 1;
    for (int j = 0; j < K; ++j) {
        const int64_t i = t + j;  // index into x_ext
        const float x = i < S ? cstate[c * S + i] : __bfloat162float(qkvz[(i - S) * row_stride + c]);
        acc += conv_w[c * K + j] * x;
    }
    return silu_f(acc);
}

// ---------------------------------------------------------------------------------------------------------------
// 1. front: grid (T, 2*HK + HV + 1); block 128. y < 2HK: a q or k head (L2-normalised); then v heads; last: gates.
__global__ void gdn_front_kernel(GdnShape s, const float* __restrict__ conv_w, const float* __restrict__ a_log,
                                 const float* __restrict__ dt_bias, const bf16* __restrict__ qkvz,
                                 const bf16* __restrict__ ba, const float* __restrict__ cstate, float* __restrict__ X,
                                 float* __restrict__ g_out, float* __restrict__ beta_out) {
    __shared__ float red[32];
    const int64_t t = blockIdx.x;
    const int y = blockIdx.y;
    const int64_t conv_dim = cdim(s);
    const int64_t row_stride = conv_dim + static_cast<int64_t>(s.hv) * s.dv;
    if (y == 2 * s.hk + s.hv) {  // gates
        for (int h = threadIdx.x; h < s.hv; h += blockDim.x) {
            const float b = __bfloat162float(ba[t * 2 * s.hv + h]);
            const float a = __bfloat162float(ba[t * 2 * s.hv + s.hv + h]);
            g_out[t * s.hv + h] = -expf(a_log[h]) * softplus_f(a + dt_bias[h]);
            beta_out[t * s.hv + h] = sigmoid_f(b);
        }
        return;
    }
    if (y >= 2 * s.hk) {  // v head: conv + SiLU only
        const int64_t c0 = 2LL * s.hk * s.dk + static_cast<int64_t>(y - 2 * s.hk) * s.dv;
        for (int i = threadIdx.x; i < s.dv; i += blockDim.x)
            X[t * conv_dim + c0 + i] = conv_silu(qkvz, row_stride, t, c0 + i, conv_w, cstate, s.conv_kernel);
        return;
    }
    const int64_t c0 = static_cast<int64_t>(y) * s.dk;  // q heads then k heads
    float ss = 0.0f;
    for (int i = threadIdx.x; i < s.dk; i += blockDim.x) {
        const float v = conv_silu(qkvz, row_stride, t, c0 + i, conv_w, cstate, s.conv_kernel);
        X[t * conv_dim + c0 + i] = v;
        ss += v * v;
    }
    ss = block_sum(ss, red);
    float inv = 1.0f / sqrtf(ss + kL2Eps);
    if (y < s.hk) inv *= rsqrtf(static_cast<float>(s.dk));  // q · dk^-0.5
    for (int i = threadIdx.x; i < s.dk; i += blockDim.x) X[t * conv_dim + c0 + i] *= inv;
}

// conv state ← the last K-1 rows of [old state ‖ x] (x = the T raw inputs). One thread per channel.
__global__ void gdn_conv_state_update_kernel(int64_t conv_dim, int64_t row_stride, int K, int64_t T,
                                             const bf16* __restrict__ qkvz, float* __restrict__ cstate) {
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
// 2. chunk prep: grid (n_chunks, HV); block 256. DK = dk rounded up (32/64/128); rows past dk are zero.
template <int DK>
__global__ void __launch_bounds__(256) gdn_chunk_prep_kernel(GdnShape s, int64_t T, const float* __restrict__ X,
                                                             const float* __restrict__ g, const float* __restrict__ beta,
                                                             float* __restrict__ gam_out, float* __restrict__ W_out,
                                                             float* __restrict__ U_out, float* __restrict__ M_out) {
    extern __shared__ float sm[];
    constexpr int KP = DK + 1;  // padded row stride of K and Q (conflict-free column reads)
    const int dk = s.dk, dv = s.dv, hv = s.hv;
    const int ncol = dk + dv;
    float* Ks = sm;                     // [64][KP]
    float* Qs = Ks + kChunk * KP;       // [64][KP]
    float* A = Qs + kChunk * KP;        // [64][65]
    float* Xs = A + kChunk * (kChunk + 1);  // [64][ncol]  (W | U)
    float* gam = Xs + kChunk * ncol;    // [64]
    float* bet = gam + kChunk;          // [64]
    float* eg = bet + kChunk;           // [64]

    const int64_t chunk = blockIdx.x;
    const int h = blockIdx.y;
    const int hk = h / (hv / s.hk);
    const int64_t t0 = chunk * kChunk;
    const int L = static_cast<int>(T - t0 < kChunk ? T - t0 : kChunk);
    const int64_t conv_dim = cdim(s);
    const int tid = threadIdx.x;

    if (((dk | dv) & 3) == 0) {  // float4 loads, all issued before the shared-memory stores
        constexpr int NI = kChunk * DK / 4 / 256;
        float4 qr[NI], kr[NI];
#pragma unroll
        for (int it = 0; it < NI; ++it) {
            const int e4 = tid + it * 256, i = e4 / (DK / 4), a = (e4 % (DK / 4)) * 4;
            qr[it] = kr[it] = make_float4(0.0f, 0.0f, 0.0f, 0.0f);
            if (i < L && a < dk) {
                const float* row = X + (t0 + i) * conv_dim;
                qr[it] = *reinterpret_cast<const float4*>(row + static_cast<int64_t>(hk) * dk + a);
                kr[it] = *reinterpret_cast<const float4*>(row + static_cast<int64_t>(s.hk) * dk +
                                                          static_cast<int64_t>(hk) * dk + a);
            }
        }
#pragma unroll
        for (int it = 0; it < NI; ++it) {
            const int e4 = tid + it * 256, i = e4 / (DK / 4), a = (e4 % (DK / 4)) * 4;
            float* kd = &Ks[i * KP + a];
            float* qd = &Qs[i * KP + a];
            kd[0] = kr[it].x, kd[1] = kr[it].y, kd[2] = kr[it].z, kd[3] = kr[it].w;
            qd[0] = qr[it].x, qd[1] = qr[it].y, qd[2] = qr[it].z, qd[3] = qr[it].w;
        }
    } else {
        for (int e = tid; e < kChunk * DK; e += blockDim.x) {
            const int i = e / DK, a = e % DK;
            float kv = 0.0f, qv = 0.0f;
            if (i < L && a < dk) {
                const float* row = X + (t0 + i) * conv_dim;
                qv = row[static_cast<int64_t>(hk) * dk + a];
                kv = row[static_cast<int64_t>(s.hk) * dk + static_cast<int64_t>(hk) * dk + a];
            }
            Ks[i * KP + a] = kv;
            Qs[i * KP + a] = qv;
        }
    }
    if (tid < kChunk) {
        gam[tid] = tid < L ? g[(t0 + tid) * hv + h] : 0.0f;  // g for now; γ below
        bet[tid] = tid < L ? beta[(t0 + tid) * hv + h] : 0.0f;
    }
    __syncthreads();
    if (tid == 0) {  // γ = running sum of g in fp64, rounded to fp32 (as the CPU reference)
        double run = 0.0;
        for (int i = 0; i < kChunk; ++i) {
            if (i < L) {
                run += static_cast<double>(gam[i]);
                gam[i] = static_cast<float>(run);
                eg[i] = expf(gam[i]);
            } else {
                eg[i] = 0.0f;
            }
        }
    }
    __syncthreads();
    // Right-hand sides: [β K e^γ | β V].
    for (int e = tid; e < kChunk * ncol; e += blockDim.x) {
        const int i = e / ncol, c = e % ncol;
        float v = 0.0f;
        if (i < L) {
            if (c < dk) {
                v = Ks[i * KP + c] * bet[i] * eg[i];
            } else {
                v = X[(t0 + i) * conv_dim + 2LL * s.hk * dk + static_cast<int64_t>(h) * dv + (c - dk)] * bet[i];
            }
        }
        Xs[i * ncol + c] = v;
    }
    // A_ij = (β_i k_i · k_j) D_ij (j < i), M_ij = (q_i · k_j) D_ij (j <= i); 4×4 register tile per thread,
    // rows i = ti + 16 r, cols j = tj + 16 c.
    {
        const int ti = tid / 16, tj = tid % 16;
        float aa[4][4] = {}, mm[4][4] = {};
#pragma unroll 4
        for (int a = 0; a < DK; ++a) {
            float ki[4], qi[4], kj[4];
#pragma unroll
            for (int r = 0; r < 4; ++r) {
                ki[r] = Ks[(ti + 16 * r) * KP + a];
                qi[r] = Qs[(ti + 16 * r) * KP + a];
                kj[r] = Ks[(tj + 16 * r) * KP + a];
            }
#pragma unroll
            for (int r = 0; r < 4; ++r) {
#pragma unroll
                for (int c = 0; c < 4; ++c) {
                    aa[r][c] += ki[r] * kj[c];
                    mm[r][c] += qi[r] * kj[c];
                }
            }
        }
        const int64_t mbase = (chunk * hv + h) * static_cast<int64_t>(kChunk * kChunk);
#pragma unroll
        for (int r = 0; r < 4; ++r) {
            const int i = ti + 16 * r;
#pragma unroll
            for (int c = 0; c < 4; ++c) {
                const int j = tj + 16 * c;
                const bool valid = i < L && j <= i;
                const float d = valid ? expf(gam[i] - gam[j]) : 0.0f;
                A[i * (kChunk + 1) + j] = (valid && j < i) ? aa[r][c] * bet[i] * d : 0.0f;
                M_out[mbase + i * kChunk + j] = valid ? mm[r][c] * d : 0.0f;
            }
        }
    }
    __syncthreads();
    // Forward substitution, one column per thread: X_i -= Σ_{j<i} A_ij X_j (increasing j, as the CPU reference).
    for (int c = tid; c < ncol; c += blockDim.x) {
        for (int i = 1; i < L; ++i) {
            float x = Xs[i * ncol + c];
            for (int j = 0; j < i; ++j) x -= A[i * (kChunk + 1) + j] * Xs[j * ncol + c];
            Xs[i * ncol + c] = x;
        }
    }
    __syncthreads();
    for (int e = tid; e < L * ncol; e += blockDim.x) {
        const int i = e / ncol, c = e % ncol;
        const int64_t t = t0 + i;
        if (c < dk)
            W_out[(t * hv + h) * dk + c] = Xs[i * ncol + c];
        else
            U_out[(t * hv + h) * dv + (c - dk)] = Xs[i * ncol + c];
    }
    if (tid < L) gam_out[(t0 + tid) * hv + h] = gam[tid];
}

// ---------------------------------------------------------------------------------------------------------------
// 3. chunk scan: grid (ceil(dv/32), HV); block 256 = 8 warps; lane = value column. Sequential over chunks.
template <int DK>
__global__ void __launch_bounds__(256) gdn_chunk_scan_kernel(GdnShape s, int64_t T, const float* __restrict__ X,
                                                             const float* __restrict__ gam_in,
                                                             const float* __restrict__ W_in,
                                                             const float* __restrict__ U_in,
                                                             const float* __restrict__ M_in, float* __restrict__ S_g,
                                                             float* __restrict__ O) {
    extern __shared__ float sm[];
    constexpr int NW = 8;
    constexpr int RS = DK / NW;  // state rows per warp
    const int dk = s.dk, dv = s.dv, hv = s.hv;
    float* Ws = sm;                   // [64][DK]
    float* Qs = Ws + kChunk * DK;     // [64][DK]  q e^γ
    float* Ks = Qs + kChunk * DK;     // [64][DK]  k e^{γ_last − γ}
    float* Ms = Ks + kChunk * DK;     // [64][64]
    float* Ss = Ms + kChunk * kChunk; // [DK][32]
    float* Vn = Ss + DK * kBV;        // [64][32]  U, then V'
    float* gam = Vn + kChunk * kBV;   // [64]

    const int h = blockIdx.y;
    const int hk = h / (hv / s.hk);
    const int col0 = blockIdx.x * kBV;
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, tid = threadIdx.x;
    const int col = col0 + lane;
    const bool col_ok = col < dv;
    const int64_t conv_dim = cdim(s);
    float* S = S_g + static_cast<int64_t>(h) * dk * dv;  // this slot's [dk, dv] for head h

    for (int a = warp; a < DK; a += NW) Ss[a * kBV + lane] = (a < dk && col_ok) ? S[a * dv + col] : 0.0f;

    const int64_t nch = (T + kChunk - 1) / kChunk;
    for (int64_t ch = 0; ch < nch; ++ch) {
        const int64_t t0 = ch * kChunk;
        const int L = static_cast<int>(T - t0 < kChunk ? T - t0 : kChunk);
        __syncthreads();  // previous chunk done with the tiles
        if (tid < kChunk) gam[tid] = tid < L ? gam_in[(t0 + tid) * hv + h] : 0.0f;
        __syncthreads();
        const float g_last = gam[L - 1];
        if (((dk | dv) & 3) == 0) {  // float4 loads, all issued before the shared-memory stores
            constexpr int NI = kChunk * DK / 4 / 256;
            float4 wr[NI], qr[NI], kr[NI], mr[4];
            float ur[8];
#pragma unroll
            for (int it = 0; it < NI; ++it) {
                const int e4 = tid + it * 256, i = e4 / (DK / 4), a = (e4 % (DK / 4)) * 4;
                wr[it] = qr[it] = kr[it] = make_float4(0.0f, 0.0f, 0.0f, 0.0f);
                if (i < L && a < dk) {
                    const int64_t t = t0 + i;
                    wr[it] = *reinterpret_cast<const float4*>(W_in + (t * hv + h) * dk + a);
                    qr[it] = *reinterpret_cast<const float4*>(X + t * conv_dim + static_cast<int64_t>(hk) * dk + a);
                    kr[it] = *reinterpret_cast<const float4*>(X + t * conv_dim + static_cast<int64_t>(s.hk) * dk +
                                                              static_cast<int64_t>(hk) * dk + a);
                }
            }
            const int64_t mbase = (ch * hv + h) * static_cast<int64_t>(kChunk * kChunk);
#pragma unroll
            for (int it = 0; it < 4; ++it)
                mr[it] = *reinterpret_cast<const float4*>(M_in + mbase + (tid + it * 256) * 4);
#pragma unroll
            for (int r = 0; r < 8; ++r) {
                const int i = warp + NW * r;
                ur[r] = (i < L && col_ok) ? U_in[((t0 + i) * hv + h) * dv + col] : 0.0f;
            }
#pragma unroll
            for (int it = 0; it < NI; ++it) {
                const int e4 = tid + it * 256, i = e4 / (DK / 4);
                const float eq = expf(gam[i]), ek = expf(g_last - gam[i]);
                qr[it].x *= eq, qr[it].y *= eq, qr[it].z *= eq, qr[it].w *= eq;
                kr[it].x *= ek, kr[it].y *= ek, kr[it].z *= ek, kr[it].w *= ek;
                reinterpret_cast<float4*>(Ws)[e4] = wr[it];
                reinterpret_cast<float4*>(Qs)[e4] = qr[it];
                reinterpret_cast<float4*>(Ks)[e4] = kr[it];
            }
#pragma unroll
            for (int it = 0; it < 4; ++it) reinterpret_cast<float4*>(Ms)[tid + it * 256] = mr[it];
#pragma unroll
            for (int r = 0; r < 8; ++r) Vn[(warp + NW * r) * kBV + lane] = ur[r];
        } else {
            for (int e = tid; e < kChunk * DK; e += blockDim.x) {
                const int i = e / DK, a = e % DK;
                float w = 0.0f, q = 0.0f, k = 0.0f;
                if (i < L && a < dk) {
                    const int64_t t = t0 + i;
                    w = W_in[(t * hv + h) * dk + a];
                    q = X[t * conv_dim + static_cast<int64_t>(hk) * dk + a] * expf(gam[i]);
                    k = X[t * conv_dim + static_cast<int64_t>(s.hk) * dk + static_cast<int64_t>(hk) * dk + a] *
                        expf(g_last - gam[i]);
                }
                Ws[e] = w;
                Qs[e] = q;
                Ks[e] = k;
            }
            const int64_t mbase = (ch * hv + h) * static_cast<int64_t>(kChunk * kChunk);
            for (int e = tid; e < kChunk * kChunk; e += blockDim.x) Ms[e] = M_in[mbase + e];
            for (int i = warp; i < kChunk; i += NW)
                Vn[i * kBV + lane] = (i < L && col_ok) ? U_in[((t0 + i) * hv + h) * dv + col] : 0.0f;
        }
        __syncthreads();
        // V' = U − W S and inter = (Q e^γ) S, rows i = warp + 8 r.
        float vn[8], oi[8];
#pragma unroll
        for (int r = 0; r < 8; ++r) vn[r] = oi[r] = 0.0f;
        for (int a = 0; a < DK; a += 4) {
            float sv[4];
#pragma unroll
            for (int u = 0; u < 4; ++u) sv[u] = Ss[(a + u) * kBV + lane];
#pragma unroll
            for (int r = 0; r < 8; ++r) {
                const int i = warp + NW * r;
                const float4 w4 = *reinterpret_cast<const float4*>(&Ws[i * DK + a]);
                const float4 q4 = *reinterpret_cast<const float4*>(&Qs[i * DK + a]);
                vn[r] += w4.x * sv[0] + w4.y * sv[1] + w4.z * sv[2] + w4.w * sv[3];
                oi[r] += q4.x * sv[0] + q4.y * sv[1] + q4.z * sv[2] + q4.w * sv[3];
            }
        }
#pragma unroll
        for (int r = 0; r < 8; ++r) {
            const int i = warp + NW * r;
            Vn[i * kBV + lane] = i < L ? Vn[i * kBV + lane] - vn[r] : 0.0f;
        }
        __syncthreads();
        // intra = M V'; o = inter + intra.
#pragma unroll
        for (int r = 0; r < 8; ++r) {
            const int i = warp + NW * r;
            float acc = 0.0f;
            for (int j = 0; j <= i; j += 4) {
                const float4 m4 = *reinterpret_cast<const float4*>(&Ms[i * kChunk + j]);
                acc += m4.x * Vn[j * kBV + lane] + m4.y * Vn[(j + 1) * kBV + lane] + m4.z * Vn[(j + 2) * kBV + lane] +
                       m4.w * Vn[(j + 3) * kBV + lane];
            }
            if (i < L && col_ok) O[(t0 + i) * conv_dim + 2LL * s.hk * dk + static_cast<int64_t>(h) * dv + col] =
                oi[r] + acc;
        }
        // S ← e^{γ_last} S + (K e^{γ_last − γ})ᵀ V', rows a = warp·RS + r.
        {
            float up[RS];
#pragma unroll
            for (int r = 0; r < RS; ++r) up[r] = 0.0f;
            for (int i = 0; i < L; ++i) {
                const float v = Vn[i * kBV + lane];
#pragma unroll
                for (int r = 0; r < RS; r += 4) {
                    const float4 k4 = *reinterpret_cast<const float4*>(&Ks[i * DK + warp * RS + r]);
                    up[r] += k4.x * v;
                    up[r + 1] += k4.y * v;
                    up[r + 2] += k4.z * v;
                    up[r + 3] += k4.w * v;
                }
            }
            const float decay = expf(g_last);
            __syncthreads();  // every warp has finished reading Ss for V' and inter
#pragma unroll
            for (int r = 0; r < RS; ++r) {
                const int a = warp * RS + r;
                Ss[a * kBV + lane] = Ss[a * kBV + lane] * decay + up[r];
            }
        }
    }
    __syncthreads();
    for (int a = warp; a < dk; a += NW)
        if (col_ok) S[a * dv + col] = Ss[a * kBV + lane];
}

// ---------------------------------------------------------------------------------------------------------------
// 4. gated RMSNorm: grid (T, HV), block 128. o f32 (row stride ld), z bf16 from qkvz.
__global__ void gdn_gated_norm_kernel(GdnShape s, const float* __restrict__ O, int64_t ld, const bf16* __restrict__ qkvz,
                                      const float* __restrict__ norm_w, bf16* __restrict__ out) {
    __shared__ float red[32];
    const int64_t t = blockIdx.x;
    const int h = blockIdx.y;
    const int64_t conv_dim = cdim(s);
    const int64_t vd = static_cast<int64_t>(s.hv) * s.dv;
    const float* o = O + t * ld + h * static_cast<int64_t>(s.dv);
    float ss = 0.0f;
    for (int i = threadIdx.x; i < s.dv; i += blockDim.x) ss += o[i] * o[i];
    ss = block_sum(ss, red);
    const float inv = 1.0f / sqrtf(ss / static_cast<float>(s.dv) + s.eps);
    const bf16* z = qkvz + t * (conv_dim + vd) + conv_dim + h * static_cast<int64_t>(s.dv);
    for (int i = threadIdx.x; i < s.dv; i += blockDim.x)
        out[t * vd + h * static_cast<int64_t>(s.dv) + i] =
            __float2bfloat16((norm_w[i] * (o[i] * inv)) * silu_f(__bfloat162float(z[i])));
}

// ---------------------------------------------------------------------------------------------------------------
// Decode: grid (HV, B); block = NVT·4 warps, NVT = ceil(dv/32) column tiles × 4 row groups of DK/4 state rows.
template <int DK>
__global__ void __launch_bounds__(512, 1) gdn_decode_kernel(GdnShape s, GdnWeights w, const bf16* __restrict__ qkvz,
                                                          const bf16* __restrict__ ba, const int32_t* __restrict__ slots,
                                                          GdnState st, bf16* __restrict__ out) {
    constexpr int RG = 4, R = DK / RG;
    __shared__ float qs[DK], ks[DK], red[32];
    extern __shared__ float dsm[];  // [RG][dv_pad] partial sums, then [dv_pad] output
    const int h = blockIdx.x;
    const int64_t b = blockIdx.y;
    const int dk = s.dk, dv = s.dv, hv = s.hv, K = s.conv_kernel;
    const int hk = h / (hv / s.hk);
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    const int tile = warp / RG, rg = warp % RG;
    const int col = tile * kBV + lane;
    const bool col_ok = col < dv;
    const int dvp = (blockDim.x / (32 * RG)) * kBV;
    const int64_t conv_dim = cdim(s);
    const int64_t vd = static_cast<int64_t>(hv) * dv;
    const int64_t slot = slots[b];
    const bf16* x = qkvz + b * (conv_dim + vd);
    const float* cs = st.conv + slot * conv_dim * (K - 1);
    float* S = st.recurrent + (slot * hv + h) * static_cast<int64_t>(dk) * dv;

    // State tile into registers first (the loads overlap the front's math).
    float sr[R];
#pragma unroll
    for (int r = 0; r < R; ++r) {
        const int a = rg * R + r;
        sr[r] = (a < dk && col_ok) ? S[a * dv + col] : 0.0f;
    }
    // Front: conv + SiLU of the q and k channels of key head hk, L2 norms, gates, v and z of this column.
    float ssq = 0.0f, ssk = 0.0f;
    for (int i = threadIdx.x; i < DK; i += blockDim.x) {
        float qv = 0.0f, kv = 0.0f;
        if (i < dk) {
            qv = conv_silu(x, 0, 0, static_cast<int64_t>(hk) * dk + i, w.conv1d, cs, K);
            kv = conv_silu(x, 0, 0, static_cast<int64_t>(s.hk) * dk + static_cast<int64_t>(hk) * dk + i, w.conv1d,
                           cs, K);
        }
        qs[i] = qv;
        ks[i] = kv;
        ssq += qv * qv;
        ssk += kv * kv;
    }
    ssq = block_sum(ssq, red);
    ssk = block_sum(ssk, red);
    const float qn = 1.0f / sqrtf(ssq + kL2Eps) / sqrtf(static_cast<float>(dk));
    const float kn = 1.0f / sqrtf(ssk + kL2Eps);
    const float bb = __bfloat162float(ba[b * 2 * hv + h]);
    const float aa = __bfloat162float(ba[b * 2 * hv + hv + h]);
    const float decay = expf(-expf(w.a_log[h]) * softplus_f(aa + w.dt_bias[h]));
    const float beta = sigmoid_f(bb);
    float v = 0.0f, z = 0.0f;
    if (col_ok) {
        v = conv_silu(x, 0, 0, 2LL * s.hk * dk + static_cast<int64_t>(h) * dv + col, w.conv1d, cs, K);
        z = __bfloat162float(x[conv_dim + static_cast<int64_t>(h) * dv + col]);
    }
    // δ = β (v − (αS)ᵀ k)
    float p = 0.0f;
#pragma unroll
    for (int r = 0; r < R; ++r) {
        sr[r] *= decay;
        p += sr[r] * ks[rg * R + r] * kn;
    }
    float* part = dsm;  // [RG][dvp]
    part[rg * dvp + tile * kBV + lane] = p;
    __syncthreads();
    float kS = 0.0f;
    for (int g = 0; g < RG; ++g) kS += part[g * dvp + tile * kBV + lane];
    const float delta = (v - kS) * beta;
    float po = 0.0f;
#pragma unroll
    for (int r = 0; r < R; ++r) {
        const int a = rg * R + r;
        sr[r] += ks[a] * kn * delta;
        po += sr[r] * qs[a] * qn;
        if (a < dk && col_ok) S[a * dv + col] = sr[r];
    }
    __syncthreads();  // everyone has read `part`
    part[rg * dvp + tile * kBV + lane] = po;
    __syncthreads();
    float o = 0.0f;
    for (int g = 0; g < RG; ++g) o += part[g * dvp + tile * kBV + lane];
    // Gated RMSNorm over the head's dv outputs (only row group 0 contributes each column once).
    const float contrib = (rg == 0 && col_ok) ? o * o : 0.0f;
    const float ss = block_sum(contrib, red);
    const float inv = 1.0f / sqrtf(ss / static_cast<float>(dv) + s.eps);
    if (rg == 0 && col_ok) out[b * vd + static_cast<int64_t>(h) * dv + col] = __float2bfloat16((w.norm[col] * (o * inv)) * silu_f(z));
}

// Decode conv-state shift: state(c) ← [state(c)[1:], x(c)], after the decode kernel has read the old state.
__global__ void gdn_decode_conv_shift_kernel(int64_t conv_dim, int64_t row_stride, int K, int64_t B,
                                             const bf16* __restrict__ qkvz, const int32_t* __restrict__ slots,
                                             float* __restrict__ cstate) {
    const int64_t e = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
    if (e >= B * conv_dim) return;
    const int64_t b = e / conv_dim, c = e % conv_dim;
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
    float *X, *g, *beta, *gam, *W, *U, *M;
};

Workspace carve(const GdnShape& s, int64_t T, void* base, size_t* total) {
    const int64_t nch = (T + kChunk - 1) / kChunk;
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
    const size_t oG = take(static_cast<size_t>(T * s.hv));
    const size_t oW = take(static_cast<size_t>(T * s.hv * s.dk));
    const size_t oU = take(static_cast<size_t>(T * s.hv * s.dv));
    const size_t oM = take(static_cast<size_t>(nch * s.hv * kChunk * kChunk));
    if (total) *total = off;
    char* p = static_cast<char*>(base);
    auto at = [&](size_t o) { return p ? reinterpret_cast<float*>(p + o) : nullptr; };
    return {at(oX), at(og), at(ob), at(oG), at(oW), at(oU), at(oM)};
}

template <int DK>
void launch_prefill_core(const GdnShape& s, int64_t T, const Workspace& ws, float* S, cudaStream_t stream) {
    const int64_t nch = (T + kChunk - 1) / kChunk;
    const int ncol = s.dk + s.dv;
    const size_t prep_smem =
        sizeof(float) * (2 * kChunk * (DK + 1) + kChunk * (kChunk + 1) + kChunk * ncol + 3 * kChunk);
    QINFER_CUDA_CHECK(cudaFuncSetAttribute(gdn_chunk_prep_kernel<DK>, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                           static_cast<int>(prep_smem)));
    gdn_chunk_prep_kernel<DK><<<dim3(static_cast<unsigned>(nch), s.hv), 256, prep_smem, stream>>>(
        s, T, ws.X, ws.g, ws.beta, ws.gam, ws.W, ws.U, ws.M);
    QINFER_CUDA_LAUNCH_CHECK();
    const size_t scan_smem = sizeof(float) * (3 * kChunk * DK + kChunk * kChunk + DK * kBV + kChunk * kBV + kChunk);
    QINFER_CUDA_CHECK(cudaFuncSetAttribute(gdn_chunk_scan_kernel<DK>, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                           static_cast<int>(scan_smem)));
    const unsigned nvt = static_cast<unsigned>((s.dv + kBV - 1) / kBV);
    gdn_chunk_scan_kernel<DK><<<dim3(nvt, s.hv), 256, scan_smem, stream>>>(s, T, ws.X, ws.gam, ws.W, ws.U, ws.M, S,
                                                                            ws.X);
    QINFER_CUDA_LAUNCH_CHECK();
}

template <int DK>
void launch_decode(const GdnShape& s, const GdnWeights& w, const bf16* qkvz, const bf16* ba, int64_t B,
                   const int32_t* slots, const GdnState& state, bf16* out, cudaStream_t stream) {
    const int nvt = (s.dv + kBV - 1) / kBV;
    const int threads = nvt * 4 * 32;
    const size_t smem = sizeof(float) * 4 * nvt * kBV;
    gdn_decode_kernel<DK><<<dim3(s.hv, static_cast<unsigned>(B)), threads, smem, stream>>>(s, w, qkvz, ba, slots,
                                                                                           state, out);
    QINFER_CUDA_LAUNCH_CHECK();
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

    gdn_front_kernel<<<dim3(static_cast<unsigned>(T), 2 * s.hk + s.hv + 1), 128, 0, stream>>>(
        s, w.conv1d, w.a_log, w.dt_bias, qkvz, ba, cstate, ws.X, ws.g, ws.beta);
    QINFER_CUDA_LAUNCH_CHECK();
    gdn_conv_state_update_kernel<<<static_cast<unsigned>((conv_dim + 255) / 256), 256, 0, stream>>>(
        conv_dim, row_stride, s.conv_kernel, T, qkvz, cstate);
    QINFER_CUDA_LAUNCH_CHECK();
    switch (dk_bucket(s.dk)) {
        case 32: launch_prefill_core<32>(s, T, ws, S, stream); break;
        case 64: launch_prefill_core<64>(s, T, ws, S, stream); break;
        default: launch_prefill_core<128>(s, T, ws, S, stream); break;
    }
    // The scan wrote o into X's v columns (row stride conv_dim).
    gdn_gated_norm_kernel<<<dim3(static_cast<unsigned>(T), s.hv), 128, 0, stream>>>(
        s, ws.X + 2LL * s.hk * s.dk, conv_dim, qkvz, w.norm, out);
    QINFER_CUDA_LAUNCH_CHECK();
}

void gdn_decode(const GdnShape& s, const GdnWeights& w, const bf16* qkvz, const bf16* ba, int64_t B,
                const int32_t* slots, const GdnState& state, bf16* out, cudaStream_t stream) {
    check_shape(s);
    if (B <= 0) return;
    switch (dk_bucket(s.dk)) {
        case 32: launch_decode<32>(s, w, qkvz, ba, B, slots, state, out, stream); break;
        case 64: launch_decode<64>(s, w, qkvz, ba, B, slots, state, out, stream); break;
        default: launch_decode<128>(s, w, qkvz, ba, B, slots, state, out, stream); break;
    }
    const int64_t conv_dim = cdim(s);
    const int64_t n = B * conv_dim;
    gdn_decode_conv_shift_kernel<<<static_cast<unsigned>((n + 255) / 256), 256, 0, stream>>>(
        conv_dim, conv_dim + static_cast<int64_t>(s.hv) * s.dv, s.conv_kernel, B, qkvz, slots, state.conv);
    QINFER_CUDA_LAUNCH_CHECK();
}

}  // namespace qinfer::cuda
