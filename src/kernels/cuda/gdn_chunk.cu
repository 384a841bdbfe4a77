// The chunked delta rule on the tensor cores (contract: gdn_chunk.h; oracle: ops gated_delta_rule_chunked).
//
// Precision: every product runs on mma.sync m16n8k8 with TF32 inputs and fp32 accumulation. The products that feed
// the recurrent state (K Kᵀ → A → (I + A)⁻¹, W, U, V' = U − W S, K̃ᵀ V') split their inputs x = hi + lo (both TF32)
// and sum hi·hi + hi·lo + lo·hi ("3xTF32"): fp32-level accuracy (the state stays within ~1e-6 of the fp32 CPU
// reference), because an error there is carried into every later token. The products that only reach this chunk's
// output (Q Kᵀ → M, M W, M U, Q' S) use plain TF32 (relative rounding 2^-11 per input): the output is rounded to
// bf16 (2^-9) after the gated norm anyway, so they add ~10 % to its error, and never touch the state. The triangular
// solve and every sum stay fp32.
//
// Fragments (PTX ISA, mma.m16n8k8 .tf32; g = lane / 4, t = lane % 4):
//   A 16x8 (row):  a0 (g, t)  a1 (g+8, t)  a2 (g, t+4)  a3 (g+8, t+4)
//   B 8x8  (col):  b0 (k=t, n=g)  b1 (k=t+4, n=g)
//   C 16x8:        c0 (g, 2t)  c1 (g, 2t+1)  c2 (g+8, 2t)  c3 (g+8, 2t+1)
// Shared-memory row strides are chosen so that every fragment read is free of bank conflicts: stride ≡ 4 (mod 32)
// for tiles read as (row g, col t), ≡ 8 (mod 32) for tiles read as (row t, col g) (the transposed reads of K̃ and
// the B operands).

#include "kernels/cuda/gdn_chunk.h"

#include <algorithm>
#include <type_traits>

#include "core/check.h"
#include "kernels/cuda/check.h"
#include "kernels/cuda/launch.h"
#include "kernels/cuda/gemm_common.cuh"

namespace qinfer::cuda {
namespace {

constexpr int kC = 64;        // chunk length (tokens)
constexpr int kBV = 32;       // value columns per scan CTA
constexpr int kLP = kC + 4;   // row stride of the 64x64 prep matrices
constexpr int kLS = kBV + 8;  // row stride of the scan's state and V' tiles
constexpr int kPrepThreads = 512;

constexpr bool kState = true;  // 3xTF32 (products feeding the state)
constexpr bool kOut = false;   // TF32 (products feeding only the output)

// Round to TF32 (nearest, ties away from zero) with two integer ops: carry into bit 13, then drop the 13 low bits.
// (cvt.rna.tf32.f32 is a longer sequence, and the conversions dominated the instruction count.)
__device__ __forceinline__ uint32_t to_tf32(float x) {
    return (__float_as_uint(x) + 0x1000u) & 0xffffe000u;
}

__device__ __forceinline__ void mma_tf32(float (&d)[4], const uint32_t (&a)[4], uint32_t b0, uint32_t b1) {
    asm volatile(
        "mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};\n"
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

// An operand fragment converted once (and split when S), used by several mma.
template <int N, bool S>
struct Frag {
    uint32_t hi[N], lo[S ? N : 1];
    __device__ __forceinline__ explicit Frag(const float (&v)[N]) {
#pragma unroll
        for (int i = 0; i < N; ++i) {
            hi[i] = to_tf32(v[i]);
            // lo goes in unrounded: the mma reads only a TF32 operand's top 19 bits, so lo is truncated, an error of
            // at most 2^-10 |lo| <= 2^-21 |v|.
            if constexpr (S) lo[i] = __float_as_uint(v[i] - __uint_as_float(hi[i]));
        }
    }
    __device__ __forceinline__ Frag() {}
};
template <bool S>
using FragA = Frag<4, S>;
template <bool S>
using FragB = Frag<2, S>;

// d += a · b: 3xTF32 when both fragments are split (small terms first), else TF32 on the hi parts.
template <bool SA, bool SB>
__device__ __forceinline__ void mma(float (&d)[4], const FragA<SA>& a, const FragB<SB>& b) {
    if constexpr (SA && SB) {
        mma_tf32(d, a.lo, b.hi[0], b.hi[1]);
        mma_tf32(d, a.hi, b.lo[0], b.lo[1]);
    }
    mma_tf32(d, a.hi, b.hi[0], b.hi[1]);
}

// A fragment of the 16x8 tile at (r0, c0) of a row-major shared matrix.
template <bool S>
__device__ __forceinline__ FragA<S> frag_a_rows(const float* m, int ld, int r0, int c0, int g, int t) {
    const float v[4] = {m[(r0 + g) * ld + c0 + t], m[(r0 + g + 8) * ld + c0 + t], m[(r0 + g) * ld + c0 + t + 4],
                        m[(r0 + g + 8) * ld + c0 + t + 4]};
    return FragA<S>(v);
}
// B fragment (k0.., n0..) of a row-major [k][n] shared matrix, each k row scaled by sc[k] (nullptr: 1).
template <bool S>
__device__ __forceinline__ FragB<S> frag_b_kn(const float* m, int ld, int k0, int n0, int g, int t,
                                             const float* sc = nullptr) {
    float v[2] = {m[(k0 + t) * ld + n0 + g], m[(k0 + t + 4) * ld + n0 + g]};
    if (sc) v[0] *= sc[k0 + t], v[1] *= sc[k0 + t + 4];
    return FragB<S>(v);
}
// B fragment (k0.., n0..) of Bᵀ held row-major as [n][k] (B[k][n] = m[n][k]).
template <bool S>
__device__ __forceinline__ FragB<S> frag_b_nk(const float* m, int ld, int k0, int n0, int g, int t) {
    const float v[2] = {m[(n0 + g) * ld + k0 + t], m[(n0 + g) * ld + k0 + t + 4]};
    return FragB<S>(v);
}
// B fragment of a matrix stored pre-split as TF32 bit patterns: hi [k][n] and, when S, lo at hi + lo_off.
template <bool S>
__device__ __forceinline__ FragB<S> frag_b_split(const uint32_t* hi, int lo_off, int ld, int k0, int n0, int g,
                                                int t) {
    FragB<S> f;
    f.hi[0] = hi[(k0 + t) * ld + n0 + g];
    f.hi[1] = hi[(k0 + t + 4) * ld + n0 + g];
    if constexpr (S) {
        f.lo[0] = hi[lo_off + (k0 + t) * ld + n0 + g];
        f.lo[1] = hi[lo_off + (k0 + t + 4) * ld + n0 + g];
    }
    return f;
}

__device__ __forceinline__ void store2(float* p, float a, float b) {
    *reinterpret_cast<float2*>(p) = make_float2(a, b);
}

// dst [64][LD] (shared) ← src rows i < L, columns < n (row stride lds floats); zeros elsewhere. vec: n and lds are
// multiples of 4 and src is 16-byte aligned (cp.async, committed by the caller); else plain loads and stores.
template <int D, int LD>
__device__ __forceinline__ void load_rows(float* dst, const float* src, int64_t lds, int L, int n, bool vec) {
    if (vec) {
        for (int e = threadIdx.x; e < kC * D / 4; e += blockDim.x) {
            const int i = e / (D / 4), a = (e % (D / 4)) * 4;
            const bool ok = i < L && a < n;
            cp_async16(dst + i * LD + a, ok ? src + i * lds + a : src, ok ? 16 : 0);
        }
    } else {
        for (int e = threadIdx.x; e < kC * D; e += blockDim.x) {
            const int i = e / D, a = e % D;
            dst[i * LD + a] = (i < L && a < n) ? src[i * lds + a] : 0.0f;
        }
    }
}

// dst [64][LD] (shared) ← one [64][D] tile (global), cp.async (committed by the caller).
template <int D, int LD>
__device__ __forceinline__ void copy_tile(float* dst, const float* src) {
    for (int e = threadIdx.x; e < kC * D / 4; e += blockDim.x) {
        const int i = e / (D / 4), a = (e % (D / 4)) * 4;
        cp_async16(dst + i * LD + a, src + i * D + a, 16);
    }
}

// A fragment (split) of a matrix held as TF32 planes: hi [64][kLP], lo at hi + kC * kLP.
__device__ __forceinline__ FragA<kState> frag_a_split(const uint32_t* hi, int r0, int c0, int g, int t) {
    FragA<kState> f;
#pragma unroll
    for (int e = 0; e < 4; ++e) {
        const int i = r0 + g + (e & 1) * 8, j = c0 + t + (e >> 1) * 4;
        f.hi[e] = hi[i * kLP + j];
        f.lo[e] = hi[kC * kLP + i * kLP + j];
    }
    return f;
}
// A fragment (TF32) of a matrix held rounded to TF32: [64][kLP].
__device__ __forceinline__ FragA<kOut> frag_a_tf32(const uint32_t* m, int r0, int c0, int g, int t) {
    FragA<kOut> f;
#pragma unroll
    for (int e = 0; e < 4; ++e) f.hi[e] = m[(r0 + g + (e & 1) * 8) * kLP + c0 + t + (e >> 1) * 4];
    return f;
}

// acc[r] = L64 · B for this warp's TPW output tiles (tile warp·TPW + r → column tile idx / 4, row tile idx % 4).
// L64 is lower-triangular [64][kLP]: T (UseT: TF32 hi and lo planes, 3xTF32) or M (rounded to TF32); B [64][D + 4]
// row-major in
// shared memory with row scale sc (nullptr: 1). Row tile m only needs k < 16(m + 1). A warp's tiles share one
// column tile, so each B fragment is converted once and used by every row tile that needs it.
template <bool UseT, int D, int TPW>
__device__ __forceinline__ void lower_times(float (&acc)[TPW][4], const uint32_t* L64, const float* B, const float* sc,
                                            int warp, int g, int t) {
    constexpr int LD = D + 4;
    const int n = (warp * TPW) >> 2;
#pragma unroll
    for (int r = 0; r < TPW; ++r)
#pragma unroll
        for (int e = 0; e < 4; ++e) acc[r][e] = 0.0f;
#pragma unroll 2
    for (int kk = 0; kk < kC / 8; ++kk) {
        const FragB<UseT> b = frag_b_kn<UseT>(B, LD, 8 * kk, 8 * n, g, t, sc);
#pragma unroll
        for (int r = 0; r < TPW; ++r) {
            const int m = (warp * TPW + r) & 3;
            if (kk > 2 * m + 1) continue;
            if constexpr (UseT) {
                mma(acc[r], frag_a_split(L64, 16 * m, 8 * kk, g, t), b);
            } else {
                mma(acc[r], frag_a_tf32(L64, 16 * m, 8 * kk, g, t), b);
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------------------------
// prep: grid (n_chunks, HV), 512 threads = 16 warps.
//
// Output tiles of [64][D] are split over the warps as 4 row tiles × D/8 column tiles, D/32 per warp: tile index
// warp·(D/32) + r → column tile idx / 4, row tile idx % 4. Row tile m of a product with a lower-triangular 64x64 left
// operand only needs k < 16(m + 1).
template <int D>
__global__ void __launch_bounds__(kPrepThreads, 1)
    gdn_chunk_prep_kernel(GdnShape s, int64_t T, const float* __restrict__ X, const float* __restrict__ g_in,
                          const float* __restrict__ beta_in, GdnChunkTiles tl) {
    grid_dependency_sync();  // PDL: first statement (launch.h)
    constexpr int LD = D + 4;
    constexpr int TPW = D / 32;
    extern __shared__ float sm[];
    float* Ks = sm;              // [64][LD]  K, then W
    float* Qs = Ks + kC * LD;    // [64][LD]  Q
    float* Vs = Qs + kC * LD;    // [64][LD]  V, then U
    float* P = Vs + kC * LD;     // [64][kLP] lower: T = (I + A)⁻¹ (unit diagonal implied); upper: Aᵀ. Then T's
                                 // TF32 hi plane (full, with the diagonal and zeros), followed by
    float* Tlo = P + kC * kLP;   // [64][kLP] T's lo plane
    // [64][kLP] M rounded to TF32 (zero above the diagonal)
    uint32_t* Ms = reinterpret_cast<uint32_t*>(Tlo + kC * kLP);
    float* gam = reinterpret_cast<float*>(Ms + kC * kLP);        // [64] γ (cumulative g)
    float* bet = gam + kC;       // [64] β (0 past L)
    float* eg = bet + kC;        // [64] e^γ (0 past L)
    float* sk = eg + kC;         // [64] β e^γ
    float* ekl = sk + kC;        // [64] e^{γ_last − γ} (0 past L)

    const int64_t chunk = blockIdx.x;
    const int h = blockIdx.y, hv = s.hv, dk = s.dk, dv = s.dv;
    const int hk = h / (hv / s.hk);
    const int64_t t0 = chunk * kC;
    const int L = static_cast<int>(T - t0 < kC ? T - t0 : kC);
    const int64_t conv_dim = 2LL * s.hk * dk + static_cast<int64_t>(hv) * dv;
    const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5, gq = lane >> 2, tq = lane & 3;
    const int64_t tile = chunk * hv + h;
    const int64_t tile_off = tile * kC * D;
    const bool vec = ((dk | dv) & 3) == 0;

    const float* xrow = X + t0 * conv_dim;
    load_rows<D, LD>(Ks, xrow + static_cast<int64_t>(s.hk + hk) * dk, conv_dim, L, dk, vec);
    load_rows<D, LD>(Qs, xrow + static_cast<int64_t>(hk) * dk, conv_dim, L, dk, vec);
    load_rows<D, LD>(Vs, xrow + 2LL * s.hk * dk + static_cast<int64_t>(h) * dv, conv_dim, L, dv, vec);
    cp_async_commit();
    if (tid < kC) {
        gam[tid] = tid < L ? g_in[(t0 + tid) * hv + h] : 0.0f;
        bet[tid] = tid < L ? beta_in[(t0 + tid) * hv + h] : 0.0f;
    }
    __syncthreads();
    if (tid == 0) {  // γ = running sum of g in fp64, rounded to fp32 (as the CPU reference)
        double run = 0.0;
        for (int i = 0; i < L; ++i) {
            run += static_cast<double>(gam[i]);
            gam[i] = static_cast<float>(run);
        }
        tl.decay[tile] = expf(gam[L - 1]);
    }
    __syncthreads();
    if (tid < kC) {
        eg[tid] = tid < L ? expf(gam[tid]) : 0.0f;
        sk[tid] = bet[tid] * eg[tid];
        ekl[tid] = tid < L ? expf(gam[L - 1] - gam[tid]) : 0.0f;
    }
    cp_async_wait<0>();
    __syncthreads();

    // K̃ = K e^{γ_last − γ} → global (the scan's state update).
    for (int e = tid; e < kC * D / 4; e += blockDim.x) {
        const int i = e / (D / 4), a = (e % (D / 4)) * 4;
        const float f = ekl[i];
        const float4 k = *reinterpret_cast<const float4*>(&Ks[i * LD + a]);
        *reinterpret_cast<float4*>(tl.kt + tile_off + i * D + a) = make_float4(k.x * f, k.y * f, k.z * f, k.w * f);
    }

    // K Kᵀ and Q Kᵀ, lower 16x8 tiles only: warp → row tile warp/4, column tiles 2(warp%4) + r.
    // A_ij = β_i (k_i·k_j) e^{γ_i − γ_j} (j < i) → P[j][i];  M_ij = (q_i·k_j) e^{γ_i − γ_j} (j ≤ i) → Ms[i][j].
    {
        const int mi = warp >> 2;
        float ga[2][4] = {}, pa[2][4] = {};
        for (int kk = 0; kk < D / 8; ++kk) {
            const FragA<kState> ka = frag_a_rows<kState>(Ks, LD, 16 * mi, 8 * kk, gq, tq);
            const FragA<kOut> qa = frag_a_rows<kOut>(Qs, LD, 16 * mi, 8 * kk, gq, tq);
#pragma unroll
            for (int r = 0; r < 2; ++r) {
                const int nj = 2 * (warp & 3) + r;
                if (8 * nj > 16 * mi + 15) continue;
                const FragB<kState> kb = frag_b_nk<kState>(Ks, LD, 8 * kk, 8 * nj, gq, tq);
                mma(ga[r], ka, kb);
                mma(pa[r], qa, kb);
            }
        }
#pragma unroll
        for (int r = 0; r < 2; ++r) {
            const int nj = 2 * (warp & 3) + r;
            if (8 * nj > 16 * mi + 15) continue;
#pragma unroll
            for (int e = 0; e < 4; ++e) {
                const int i = 16 * mi + gq + (e >> 1) * 8, j = 8 * nj + 2 * tq + (e & 1);
                const float d = (i < L && j <= i) ? expf(gam[i] - gam[j]) : 0.0f;
                Ms[i * kLP + j] = to_tf32(pa[r][e] * d);
                if (j < i) P[j * kLP + i] = bet[i] * ga[r][e] * d;
            }
        }
    }
    __syncthreads();

    // T = (I + A)⁻¹ by 16x16 blocks. Diagonal blocks: thread (b, c) forward-substitutes column c of block b,
    // x_r = δ_rc − Σ_{k<r} A_rk x_k (x_k = 0 for k < c).
    if (tid < kC) {
        const int base = (tid >> 4) * 16, c = tid & 15;
        float x[16];
#pragma unroll
        for (int r = 0; r < 16; ++r) {
            float v = 0.0f;
#pragma unroll
            for (int k = 0; k < r; ++k) v -= P[(base + k) * kLP + base + r] * x[k];
            x[r] = r < c ? 0.0f : (r == c ? 1.0f : v);
        }
#pragma unroll
        for (int r = 0; r < 16; ++r)
            if (r > c) P[(base + r) * kLP + base + c] = x[r];
    }
    __syncthreads();
    // Off-diagonal blocks by distance: T_ij = −T_ii Σ_{m=j}^{i−1} A_im T_mj (one warp per block).
    for (int dist = 1; dist < 4; ++dist) {
        if (warp < 4 - dist) {
            const int bj = warp, bi = warp + dist;
            const int c = lane & 15, r0 = (lane >> 4) * 8;
            float xv[8] = {};
            for (int k = 16 * bj; k < 16 * bi; ++k) {  // k: row of T, column of A
                const int kc = k - 16 * bj;
                const float tv = kc < 16 ? (kc == c ? 1.0f : (kc > c ? P[k * kLP + 16 * bj + c] : 0.0f))
                                         : P[k * kLP + 16 * bj + c];
#pragma unroll
                for (int rr = 0; rr < 8; ++rr) xv[rr] += P[k * kLP + 16 * bi + r0 + rr] * tv;
            }
#pragma unroll
            for (int rr = 0; rr < 8; ++rr) P[(16 * bi + r0 + rr) * kLP + 16 * bj + c] = xv[rr];
            __syncwarp();
            if (lane < 16) {
                float xc[16];
#pragma unroll
                for (int k = 0; k < 16; ++k) xc[k] = P[(16 * bi + k) * kLP + 16 * bj + c];
#pragma unroll
                for (int r = 0; r < 16; ++r) {
                    float y = xc[r];
#pragma unroll
                    for (int k = 0; k < r; ++k) y += P[(16 * bi + r) * kLP + 16 * bi + k] * xc[k];
                    P[(16 * bi + r) * kLP + 16 * bj + c] = -y;
                }
            }
        }
        __syncthreads();
    }

    // T → TF32 hi (in place) and lo planes, once for all warps.
    for (int e = tid; e < kC * kC; e += blockDim.x) {
        const int i = e / kC, j = e % kC;
        const float v = j < i ? P[i * kLP + j] : (j == i ? 1.0f : 0.0f);
        const uint32_t hi = to_tf32(v);
        reinterpret_cast<uint32_t*>(P)[i * kLP + j] = hi;
        Tlo[i * kLP + j] = v - __uint_as_float(hi);
    }
    __syncthreads();
    const uint32_t* Tsplit = reinterpret_cast<const uint32_t*>(P);

    // Each element (i, j) of this warp's tiles: f(r, e, i, j).
    auto for_tiles = [&](auto&& f) {
#pragma unroll
        for (int r = 0; r < TPW; ++r) {
            const int idx = warp * TPW + r, n = idx >> 2, m = idx & 3;
#pragma unroll
            for (int e = 0; e < 4; e += 2) f(r, e, 16 * m + gq + (e >> 1) * 8, 8 * n + 2 * tq);
        }
    };

    float acc[TPW][4];
    // B ← T (sc ∘ B), also written to the global tile out (B's old contents are not needed afterwards).
    auto t_times_in_place = [&](float* B, const float* sc, float* out) {
        lower_times<true, D, TPW>(acc, Tsplit, B, sc, warp, gq, tq);
        for_tiles([&](int r, int e, int i, int j) { store2(out + tile_off + i * D + j, acc[r][e], acc[r][e + 1]); });
        __syncthreads();  // every warp is done reading B
        for_tiles([&](int r, int e, int i, int j) { store2(&B[i * LD + j], acc[r][e], acc[r][e + 1]); });
        __syncthreads();
    };
    // W = T (β e^γ K) (K is no longer needed).
    t_times_in_place(Ks, sk, tl.w);
    // Q' = Q e^γ − M W → global.
    lower_times<false, D, TPW>(acc, Ms, Ks, nullptr, warp, gq, tq);
    for_tiles([&](int r, int e, int i, int j) {
        store2(tl.qp + tile_off + i * D + j, eg[i] * Qs[i * LD + j] - acc[r][e],
               eg[i] * Qs[i * LD + j + 1] - acc[r][e + 1]);
    });
    // U = T (β V).
    t_times_in_place(Vs, bet, tl.u);
    // O_b = M U → global.
    lower_times<false, D, TPW>(acc, Ms, Vs, nullptr, warp, gq, tq);
    for_tiles([&](int r, int e, int i, int j) { store2(tl.ob + tile_off + i * D + j, acc[r][e], acc[r][e + 1]); });
}

// ---------------------------------------------------------------------------------------------------------------
// scan: grid (ceil(dv/32), HV), 256 threads = 8 warps, one CTA per SM. Sequential over the chunks.
//
// The state tile S [D][32] lives in registers as mma accumulators: warp → row tile (warp·D/32)/4, column tiles
// (warp·D/32 + r) % 4. Per chunk it is copied to shared memory, already split into TF32 hi and lo planes (each
// element is read by 8 warps: converting it once saves the rest), to serve as the B operand of V' = U − W S and
// o = O_b + Q' S (warp → row tile warp/2 of the 64 tokens, column tiles 2(warp%2) + {0, 1}). W and K̃ are
// double-buffered (the next chunk's arrive during this one); Q' has one buffer, refilled at the start of each chunk
// and first read after V' is done. U, O_b and the decay go straight to registers.
template <int D>
__global__ void __launch_bounds__(256, 1)
    gdn_chunk_scan_kernel(GdnShape s, int64_t T, GdnChunkTiles tl, float* __restrict__ S_g, float* __restrict__ X) {
    grid_dependency_sync();  // PDL: first statement (launch.h)
    constexpr int LW = D + 4, LK = D + 8;
    constexpr int SPW = D / 32;  // state tiles per warp
    constexpr int kLo = D * kLS; // offset of the lo plane
    extern __shared__ float sm[];
    float* stage0 = sm;                        // [W: 64][LW] ‖ [K̃: 64][LK]
    float* stage1 = stage0 + kC * (LW + LK);
    float* Qps = stage1 + kC * (LW + LK);      // [64][LW] Q'
    uint32_t* Ss = reinterpret_cast<uint32_t*>(Qps + kC * LW);  // [2][D][kLS] S (pre-update) as TF32 hi, lo
    float* Vn = reinterpret_cast<float*>(Ss + 2 * kLo);         // [64][kLS] V'

    const int h = blockIdx.y, hv = s.hv, dk = s.dk, dv = s.dv;
    const int col0 = blockIdx.x * kBV;
    const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5, gq = lane >> 2, tq = lane & 3;
    const int64_t conv_dim = 2LL * s.hk * dk + static_cast<int64_t>(hv) * dv;
    const int64_t nch = (T + kC - 1) / kC;
    float* S = S_g + static_cast<int64_t>(h) * dk * dv;
    const int smb = (warp * SPW) >> 2;  // the state row tile of this warp
    const int om = warp >> 1;           // the token row tile of this warp for V' and o
    const int on = 2 * (warp & 1);      // its first column tile

    float sacc[SPW][4];
    // Each element of this warp's state tiles: f(r, e, row a, column cc within the v-tile).
    auto for_state = [&](auto&& f) {
#pragma unroll
        for (int r = 0; r < SPW; ++r) {
            const int nt = (warp * SPW + r) & 3;
#pragma unroll
            for (int e = 0; e < 4; ++e) f(r, e, 16 * smb + gq + (e >> 1) * 8, 8 * nt + 2 * tq + (e & 1));
        }
    };
    // acc = rows 16·om.. of a [64][LW] shared tile × S (this warp's two column tiles of Ss).
    auto tile_times_state = [&](float (&acc)[2][4], const float* tile, auto split) {
        constexpr bool SP = decltype(split)::value;
#pragma unroll
        for (int q = 0; q < 2; ++q)
#pragma unroll
            for (int e = 0; e < 4; ++e) acc[q][e] = 0.0f;
#pragma unroll
        for (int kk = 0; kk < D / 8; ++kk) {
            const FragA<SP> a = frag_a_rows<SP>(tile, LW, 16 * om, 8 * kk, gq, tq);
#pragma unroll
            for (int q = 0; q < 2; ++q) mma(acc[q], a, frag_b_split<SP>(Ss, kLo, kLS, 8 * kk, 8 * (on + q), gq, tq));
        }
    };
    for_state([&](int r, int e, int a, int cc) {
        const int c = col0 + cc;
        sacc[r][e] = (a < dk && c < dv) ? S[static_cast<int64_t>(a) * dv + c] : 0.0f;
    });

    auto tile_of = [&](int64_t c) { return (c * hv + h) * kC * D; };
    copy_tile<D, LW>(stage0, tl.w + tile_of(0));
    copy_tile<D, LK>(stage0 + kC * LW, tl.kt + tile_of(0));
    cp_async_commit();

    for (int64_t c = 0; c < nch; ++c) {
        float* Ws = (c & 1) ? stage1 : stage0;
        float* Kts = Ws + kC * LW;
        const int64_t t0 = c * kC;
        const int L = static_cast<int>(T - t0 < kC ? T - t0 : kC);
        cp_async_wait<0>();
        __syncthreads();  // W, K̃ of this chunk landed; every warp is done with the previous chunk (Ss, Q', Vn free)
        copy_tile<D, LW>(Qps, tl.qp + tile_of(c));
        cp_async_commit();
        if (c + 1 < nch) {
            float* nxt = (c & 1) ? stage0 : stage1;
            copy_tile<D, LW>(nxt, tl.w + tile_of(c + 1));
            copy_tile<D, LK>(nxt + kC * LW, tl.kt + tile_of(c + 1));
        }
        cp_async_commit();
        // U and O_b of this warp's V'/o tiles, and the decay (registers; used after the products below).
        float2 u[2][2], ob[2][2];
#pragma unroll
        for (int q = 0; q < 2; ++q)
#pragma unroll
            for (int hr = 0; hr < 2; ++hr) {
                const int64_t off = tile_of(c) + (16 * om + gq + 8 * hr) * D + col0 + 8 * (on + q) + 2 * tq;
                u[q][hr] = *reinterpret_cast<const float2*>(tl.u + off);
                ob[q][hr] = *reinterpret_cast<const float2*>(tl.ob + off);
            }
        const float dec = tl.decay[c * hv + h];
        // S → Ss as TF32 hi and lo.
        for_state([&](int r, int e, int a, int cc) {
            const uint32_t hi = to_tf32(sacc[r][e]);
            Ss[a * kLS + cc] = hi;
            Ss[kLo + a * kLS + cc] = __float_as_uint(sacc[r][e] - __uint_as_float(hi));
        });
        __syncthreads();  // Ss visible

        // V' = U − W S → Vn (3xTF32).
        {
            float acc[2][4];
            tile_times_state(acc, Ws, std::bool_constant<kState>{});
#pragma unroll
            for (int q = 0; q < 2; ++q)
#pragma unroll
                for (int hr = 0; hr < 2; ++hr)
                    store2(&Vn[(16 * om + gq + 8 * hr) * kLS + 8 * (on + q) + 2 * tq], u[q][hr].x - acc[q][2 * hr],
                           u[q][hr].y - acc[q][2 * hr + 1]);
        }
        cp_async_wait<1>();  // Q' (the group before the next chunk's W, K̃)
        __syncthreads();     // V' and Q' visible

        // S ← e^{γ_last} S + K̃ᵀ V' (3xTF32; K̃ᵀ as the A operand: (row t, col g) reads of K̃).
#pragma unroll
        for (int r = 0; r < SPW; ++r)
#pragma unroll
            for (int e = 0; e < 4; ++e) sacc[r][e] *= dec;
#pragma unroll
        for (int kk = 0; kk < kC / 8; ++kk) {
            const int a0 = 16 * smb + gq, k0 = 8 * kk + tq;
            const float av[4] = {Kts[k0 * LK + a0], Kts[k0 * LK + a0 + 8], Kts[(k0 + 4) * LK + a0],
                                 Kts[(k0 + 4) * LK + a0 + 8]};
            const FragA<kState> a(av);
#pragma unroll
            for (int r = 0; r < SPW; ++r)
                mma(sacc[r], a, frag_b_kn<kState>(Vn, kLS, 8 * kk, 8 * ((warp * SPW + r) & 3), gq, tq));
        }

        // o = O_b + Q' S (TF32; S before the update: still in Ss) → X's v columns.
        {
            float acc[2][4];
            tile_times_state(acc, Qps, std::bool_constant<kOut>{});
            float* O = X + 2LL * s.hk * dk + static_cast<int64_t>(h) * dv;
#pragma unroll
            for (int q = 0; q < 2; ++q)
#pragma unroll
                for (int hr = 0; hr < 2; ++hr) {
                    const int i = 16 * om + gq + 8 * hr;
                    const int cc = col0 + 8 * (on + q) + 2 * tq;
                    if (i >= L) continue;
                    float* orow = O + (t0 + i) * conv_dim;
                    if (cc < dv) orow[cc] = ob[q][hr].x + acc[q][2 * hr];
                    if (cc + 1 < dv) orow[cc + 1] = ob[q][hr].y + acc[q][2 * hr + 1];
                }
        }
    }

    for_state([&](int r, int e, int a, int cc) {
        const int c = col0 + cc;
        if (a < dk && c < dv) S[static_cast<int64_t>(a) * dv + c] = sacc[r][e];
    });
}

int d_bucket(const GdnShape& s) {
    const int d = std::max(s.dk, s.dv);
    return d <= 32 ? 32 : d <= 64 ? 64 : 128;
}

template <int D>
void launch(const GdnShape& s, int64_t T, float* X, const float* g, const float* beta, float* S,
            const GdnChunkTiles& tl, cudaStream_t stream) {
    const int64_t nch = (T + kC - 1) / kC;
    const size_t prep_smem = sizeof(float) * (3 * kC * (D + 4) + 3 * kC * kLP + 5 * kC);
    QINFER_CUDA_CHECK(cudaFuncSetAttribute(gdn_chunk_prep_kernel<D>, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                           static_cast<int>(prep_smem)));
    launch(gdn_chunk_prep_kernel<D>, dim3(static_cast<unsigned>(nch), s.hv), kPrepThreads, prep_smem, stream, s, T, X,
           g, beta, tl);
    const size_t scan_smem = sizeof(float) * (2 * kC * (2 * D + 12) + kC * (D + 4) + 2 * D * kLS + kC * kLS);
    QINFER_CUDA_CHECK(cudaFuncSetAttribute(gdn_chunk_scan_kernel<D>, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                           static_cast<int>(scan_smem)));
    const unsigned nvt = static_cast<unsigned>((s.dv + kBV - 1) / kBV);
    launch(gdn_chunk_scan_kernel<D>, dim3(nvt, s.hv), 256, scan_smem, stream, s, T, tl, S, X);
}

}  // namespace

size_t gdn_chunk_tiles(const GdnShape& s, int64_t T, void* base, GdnChunkTiles* tiles) {
    const int D = d_bucket(s);
    const size_t n = static_cast<size_t>((T + kC - 1) / kC) * static_cast<size_t>(s.hv);
    const size_t tile_bytes = (n * kC * D * sizeof(float) + 255) & ~size_t{255};
    const size_t decay_bytes = (n * sizeof(float) + 255) & ~size_t{255};
    if (base && tiles) {
        char* p = static_cast<char*>(base);
        tiles->d = D;
        float** outs[5] = {&tiles->w, &tiles->qp, &tiles->kt, &tiles->u, &tiles->ob};
        for (int i = 0; i < 5; ++i) *outs[i] = reinterpret_cast<float*>(p + i * tile_bytes);
        tiles->decay = reinterpret_cast<float*>(p + 5 * tile_bytes);
    }
    return 5 * tile_bytes + decay_bytes;
}

void gdn_chunk_forward(const GdnShape& s, int64_t T, float* X, const float* g, const float* beta, float* S,
                       const GdnChunkTiles& tiles, cudaStream_t stream) {
    QINFER_CHECK(tiles.d == d_bucket(s), "gdn_chunk_forward: tiles carved for D = ", tiles.d, ", shape needs ",
                 d_bucket(s));
    switch (tiles.d) {
        case 32: launch<32>(s, T, X, g, beta, S, tiles, stream); break;
        case 64: launch<64>(s, T, X, g, beta, S, tiles, stream); break;
        default: launch<128>(s, T, X, g, beta, S, tiles, stream); break;
    }
}

}  // namespace qinfer::cuda
