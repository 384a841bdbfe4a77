// Gated full attention (attention.h): fused q/k RMSNorm + partial RoPE, KV-cache append, flash attention on bf16
// tensor cores (mma.sync m16n8k16, fp32 accumulation), sigmoid output gate.
//
// Launches:
//   kv_prep_kernel        k = RoPE(RMSNorm(k)) and v of the new tokens → bf16 cache (one warp per (token, kv head)).
//   (prefill on sm_90a: attention_wgmma.cu's prefill_wgmma_kernel, PrefillTile::Wgmma, where it applies)
//   prefill_kernel<HD, R> grid (Hq, ceil(T/R)), R/16 warps × 16 query rows (R = 64 or 128, PrefillTile); q is normed
//                         + roped while it is loaded (fp32 math, then ROUNDED TO BF16 for the tensor cores); K/V tiles
//                         of 64 keys stream from the cache through a 2-stage cp.async ring shared by the CTA's warps;
//                         online softmax (FA2); epilogue o/l · σ(gate).
//   decode_kernel<HD>     flash-decoding: grid (nsplit, Hkv, B), the G = Hq/Hkv query heads of one kv head are the 16
//                         rows of the mma (so K/V are read once per kv head), the 4 warps take 16 keys each of every
//                         64-key tile; the context [0, pos] is cut into nsplit equal chunks computed on the device from
//                         positions[b] (the grid depends only on B and max_ctx: CUDA-graph replay), partial (o, m, l)
//                         go to the workspace.
//   decode_combine_kernel merges the splits (log-sum-exp), applies σ(gate), writes bf16.
//   (kv_prep + decode_kernel + decode_combine_kernel = DecodeKernel::SplitCombine, the fallback without clusters.)
//   fused_decode_kernel<HD> DecodeKernel::Fused, the default on sm_90: all of decode in one launch. Grid (nsplit, Hkv,
//                         B) in clusters of nsplit CTAs (one cluster per (sequence, kv head)); q norm + RoPE in the
//                         prologue, the CTA whose chunk holds the new position appends k (norm + RoPE) and v to the
//                         cache itself and feeds them to its own tile from shared memory; 3-stage cp.async K/V ring;
//                         the split merge + σ(gate) run in the same kernel over distributed shared memory. nsplit
//                         comes from the device's resident-cluster counts (fused_splits), not from the positions.
//
// Precision: q after norm + RoPE, k (as the cache stores it) and the softmax probabilities P are bf16 inputs of the
// tensor cores; scores, softmax statistics and the P·V sums are fp32. inv_freq is computed on the host by the CPU
// reference's own function (kernels/cpu/rope.h) and passed by value; cos/sin are the precise sincosf.
//
// head_dim: any multiple of 16 from 16 to 256 (templates); rotary_dim even, <= head_dim; Hq / Hkv <= 16.

#include "kernels/cuda/attention.h"

#include <cooperative_groups.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <type_traits>

#include "core/check.h"
#include "kernels/cpu/rope.h"
#include "kernels/cuda/attention_common.cuh"
#include "kernels/cuda/attention_mma.cuh"
#include "kernels/cuda/check.h"
#include "kernels/cuda/launch.h"

namespace qinfer::cuda {
namespace {

using attn::Common;
using attn::kMaxRotHalf;
using attn::norm_rope_row;
using attn::Rope;
using attn::store_gated_rows;
using attn::WarpState;

constexpr int kTile = 64;      // keys per K/V tile (both kernels)
constexpr int kThreads = 128;  // 4 warps (decode kernels)

// grid (ntok, Hkv), 64 threads: warp 0 writes k, warp 1 copies v. Token t goes to (slot, position):
// decode: slots[t], positions[t]; prefill: slot0, pos0 + t.
__global__ void kv_prep_kernel(Common c, Rope rope, const bf16* __restrict__ qkv, const int32_t* __restrict__ slots,
                               const int32_t* __restrict__ positions, int slot0, int64_t pos0) {
    grid_dependency_sync();  // PDL: first statement (launch.h)
    const int64_t t = blockIdx.x;
    const int kvh = blockIdx.y;
    const int64_t slot = slots ? slots[t] : slot0;
    const int64_t pos = positions ? positions[t] : pos0 + t;
    const bf16* row = qkv + t * c.qkv_dim + 2 * static_cast<int64_t>(c.hq) * c.hd;
    const int64_t dst = ((slot * c.max_ctx + pos) * c.hkv + kvh) * c.hd;
    if (threadIdx.x < 32) {
        norm_rope_row(row + kvh * c.hd, c.k_norm, c.hd, c.eps, rope, pos, c.kc + dst);
    } else {
        const bf16* v = row + static_cast<int64_t>(c.hkv) * c.hd + kvh * c.hd;
        for (int i = threadIdx.x - 32; i < c.hd; i += 32) c.vc[dst + i] = v[i];
    }
}

template <int HD>
constexpr int ld() { return HD + 8; }

// Issues the cp.async copies of keys [key0, key0 + 64) of one kv head (rows >= kv_end zero-filled; the row of key
// skip_key, if any, is left alone: the fused decode fills it from shared memory). NTHREADS threads take part.
template <int HD, int NTHREADS = kThreads>
__device__ __forceinline__ void load_kv_tile(bf16* sK, bf16* sV, const bf16* kbase, const bf16* vbase,
                                             int64_t row_stride, int key0, int kv_end, int skip_key = -1) {
    constexpr int kChunks = HD / 8;
    for (int idx = threadIdx.x; idx < kTile * kChunks; idx += NTHREADS) {
        const int r = idx / kChunks, ch = idx % kChunks;
        const int key = key0 + r;
        if (key == skip_key) continue;
        const bool ok = key < kv_end;
        const int64_t off = (ok ? static_cast<int64_t>(key) * row_stride : 0) + ch * 8;
        cp_async16(sK + r * ld<HD>() + ch * 8, kbase + off, ok ? 16 : 0);
        cp_async16(sV + r * ld<HD>() + ch * 8, vbase + off, ok ? 16 : 0);
    }
}

// Prefill CTA: QROWS query rows, one warp per 16. 128 rows (8 warps) where the grid is large: the smem ring (which
// holds a CTA to one per SM at head_dim 256) then feeds 8 warps instead of 4, and each K/V tile serves twice the
// rows. 8 warps x 255 registers fill the register file exactly.
template <int QROWS>
constexpr int prefill_threads() {
    return QROWS * 2;
}
template <int HD, int QROWS>
constexpr size_t prefill_smem() {
    return static_cast<size_t>(QROWS + 4 * kTile) * ld<HD>() * sizeof(bf16);
}

template <int HD, int QROWS>
__global__ void __launch_bounds__(prefill_threads<QROWS>(), 1)
    prefill_kernel(Common c, Rope rope, const bf16* __restrict__ qkv, int T, int slot, int pos0,
                   bf16* __restrict__ out) {
    grid_dependency_sync();  // PDL: first statement (launch.h)
    constexpr int kQRows = QROWS, kN = prefill_threads<QROWS>();
    constexpr int LD = ld<HD>();
    extern __shared__ __align__(16) unsigned char smem_raw[];
    bf16* sQ = reinterpret_cast<bf16*>(smem_raw);
    bf16* sK = sQ + kQRows * LD;  // [2][64][LD]
    bf16* sV = sK + 2 * kTile * LD;
    const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    const int h = blockIdx.x;
    const int qblk = gridDim.y - 1 - blockIdx.y;  // heaviest (latest) query blocks first
    const int m0 = qblk * kQRows;
    const int kvh = h / c.group;
    const int kv_end = min(pos0 + m0 + kQRows, pos0 + T);
    const int nblk = (kv_end + kTile - 1) / kTile;
    const int64_t row_stride = static_cast<int64_t>(c.hkv) * HD;
    const bf16* kbase = c.kc + (static_cast<int64_t>(slot) * c.max_ctx * c.hkv + kvh) * HD;
    const bf16* vbase = c.vc + (static_cast<int64_t>(slot) * c.max_ctx * c.hkv + kvh) * HD;

    load_kv_tile<HD, kN>(sK, sV, kbase, vbase, row_stride, 0, kv_end);
    cp_async_commit();

    // q rows of this warp: normed + roped, bf16 into sQ (rows past T are zeros).
    for (int i = 0; i < 16; ++i) {
        const int r = warp * 16 + i, t = m0 + r;
        if (t < T) {
            norm_rope_row(qkv + static_cast<int64_t>(t) * c.qkv_dim + static_cast<int64_t>(h) * 2 * HD, c.q_norm, HD,
                          c.eps, rope, pos0 + t, sQ + r * LD);
        } else {
            for (int d = lane; d < HD; d += 32) sQ[r * LD + d] = __float2bfloat16_rn(0.0f);
        }
    }

    WarpState<HD> st;
    st.init();
    const int g = lane >> 2;
    const int lim0 = pos0 + m0 + warp * 16 + g, lim1 = lim0 + 8;  // keys visible to rows g, g+8 (causal)
    const int warp_last = pos0 + m0 + warp * 16 + 15;               // last key any row of this warp sees
    for (int b = 0; b < nblk; ++b) {
        if (b + 1 < nblk) {
            load_kv_tile<HD, kN>(sK + ((b + 1) & 1) * kTile * LD, sV + ((b + 1) & 1) * kTile * LD, kbase, vbase,
                                 row_stride, (b + 1) * kTile, kv_end);
            cp_async_commit();
            cp_async_wait<1>();
        } else {
            cp_async_wait<0>();
        }
        __syncthreads();
        if (b * kTile <= warp_last)
            attn::attend_block<HD, 8, LD>(st, sQ + warp * 16 * LD, sK + (b & 1) * kTile * LD,
                                          sV + (b & 1) * kTile * LD, b * kTile, lim0, lim1, c.scale_log2);
        __syncthreads();
    }

    const int t0 = m0 + warp * 16 + (lane >> 2);
    store_gated_rows(c, st, qkv, h, t0, T, out);
}

// Split chunk of sequence length n (keys [0, n)) for nsplit splits: a multiple of the tile.
__device__ __forceinline__ int split_chunk(int n, int nsplit) {
    const int per = (n + nsplit - 1) / nsplit;
    return (per + kTile - 1) / kTile * kTile;
}

template <int HD>
constexpr size_t decode_smem() { return static_cast<size_t>(16 + 4 * kTile) * ld<HD>() * sizeof(bf16); }

template <int HD>
__global__ void __launch_bounds__(kThreads, 1)
    decode_kernel(Common c, Rope rope, const bf16* __restrict__ qkv, const int32_t* __restrict__ slots,
                  const int32_t* __restrict__ positions, float* __restrict__ part_o, float2* __restrict__ part_ml) {
    grid_dependency_sync();  // PDL: first statement (launch.h)
    constexpr int LD = ld<HD>();
    extern __shared__ __align__(16) unsigned char smem_raw[];
    bf16* sQ = reinterpret_cast<bf16*>(smem_raw);  // [16][LD]
    bf16* sK = sQ + 16 * LD;                        // [2][64][LD]
    bf16* sV = sK + 2 * kTile * LD;
    const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    const int sp = blockIdx.x, kvh = blockIdx.y, b = blockIdx.z;
    const int nsplit = gridDim.x;
    const int pos = positions[b];
    const int64_t slot = slots[b];
    const int n = pos + 1;
    const int chunk = split_chunk(n, nsplit);
    const int start = sp * chunk;
    if (start >= n) return;  // the combine step counts only the non-empty splits
    const int end = min(n, start + chunk);
    const int ntiles = (end - start + kTile - 1) / kTile;
    const int64_t row_stride = static_cast<int64_t>(c.hkv) * HD;
    const bf16* kbase = c.kc + (slot * c.max_ctx * c.hkv + kvh) * HD;
    const bf16* vbase = c.vc + (slot * c.max_ctx * c.hkv + kvh) * HD;

    load_kv_tile<HD>(sK, sV, kbase, vbase, row_stride, start, end);
    cp_async_commit();
    for (int r = warp; r < 16; r += 4) {
        if (r < c.group) {
            const int h = kvh * c.group + r;
            norm_rope_row(qkv + b * c.qkv_dim + static_cast<int64_t>(h) * 2 * HD, c.q_norm, HD, c.eps, rope, pos,
                          sQ + r * LD);
        } else {
            for (int d = lane; d < HD; d += 32) sQ[r * LD + d] = __float2bfloat16_rn(0.0f);
        }
    }

    WarpState<HD> st;
    st.init();
    const int lim = end - 1;  // end - 1 <= pos: causal and chunk bound at once
    for (int i = 0; i < ntiles; ++i) {
        if (i + 1 < ntiles) {
            load_kv_tile<HD>(sK + ((i + 1) & 1) * kTile * LD, sV + ((i + 1) & 1) * kTile * LD, kbase, vbase,
                             row_stride, start + (i + 1) * kTile, end);
            cp_async_commit();
            cp_async_wait<1>();
        } else {
            cp_async_wait<0>();
        }
        __syncthreads();
        const int key0 = start + i * kTile + warp * 16;
        if (key0 <= lim)
            attn::attend_block<HD, 2, LD>(st, sQ, sK + (i & 1) * kTile * LD + warp * 16 * LD,
                                          sV + (i & 1) * kTile * LD + warp * 16 * LD, key0, lim, lim, c.scale_log2);
        __syncthreads();
    }

    // Merge the 4 warps (each saw different keys) through shared memory (reusing the K/V ring).
    float* so = reinterpret_cast<float*>(sK);  // [4][16][HD]
    float* sm = so + 4 * 16 * HD;              // [4][16] max
    float* sl = sm + 4 * 16;                   // [4][16] sum
    const int g = lane >> 2, cc = lane & 3;
    float l0 = st.l[0], l1 = st.l[1];
    l0 += __shfl_xor_sync(0xffffffffu, l0, 1);
    l0 += __shfl_xor_sync(0xffffffffu, l0, 2);
    l1 += __shfl_xor_sync(0xffffffffu, l1, 1);
    l1 += __shfl_xor_sync(0xffffffffu, l1, 2);
#pragma unroll
    for (int j = 0; j < HD / 8; ++j) {
        const int d = j * 8 + 2 * cc;
        so[(warp * 16 + g) * HD + d] = st.o[j][0];
        so[(warp * 16 + g) * HD + d + 1] = st.o[j][1];
        so[(warp * 16 + g + 8) * HD + d] = st.o[j][2];
        so[(warp * 16 + g + 8) * HD + d + 1] = st.o[j][3];
    }
    if (cc == 0) {
        sm[warp * 16 + g] = st.m[0];
        sm[warp * 16 + g + 8] = st.m[1];
        sl[warp * 16 + g] = l0;
        sl[warp * 16 + g + 8] = l1;
    }
    __syncthreads();
    for (int idx = threadIdx.x; idx < c.group * HD; idx += kThreads) {
        const int r = idx / HD, d = idx % HD;
        float M = -INFINITY;
#pragma unroll
        for (int w = 0; w < 4; ++w) M = fmaxf(M, sm[w * 16 + r]);
        float o = 0.0f, L = 0.0f;
#pragma unroll
        for (int w = 0; w < 4; ++w) {
            const float mw = sm[w * 16 + r];
            const float f = mw == -INFINITY ? 0.0f : exp2f(mw - M);
            o += f * so[(w * 16 + r) * HD + d];
            L += f * sl[w * 16 + r];
        }
        const int64_t pidx = (static_cast<int64_t>(b) * c.hq + kvh * c.group + r) * nsplit + sp;
        part_o[pidx * HD + d] = o;
        if (d == 0) part_ml[pidx] = make_float2(M, L);
    }
}

// grid (Hq, B), 128 threads: merges the non-empty splits of (b, h), applies σ(gate), writes bf16.
__global__ void decode_combine_kernel(Common c, const bf16* __restrict__ qkv, const int32_t* __restrict__ positions,
                                      int nsplit, const float* __restrict__ part_o,
                                      const float2* __restrict__ part_ml, bf16* __restrict__ out) {
    grid_dependency_sync();  // PDL: first statement (launch.h)
    const int h = blockIdx.x, b = blockIdx.y;
    const int n = positions[b] + 1;
    const int chunk = split_chunk(n, nsplit);
    const int nvalid = (n + chunk - 1) / chunk;
    const int64_t base = (static_cast<int64_t>(b) * c.hq + h) * nsplit;
    float M = -INFINITY;
    for (int s = 0; s < nvalid; ++s) M = fmaxf(M, part_ml[base + s].x);
    float L = 0.0f;
    for (int s = 0; s < nvalid; ++s) L += exp2f(part_ml[base + s].x - M) * part_ml[base + s].y;
    const float invL = 1.0f / L;
    const bf16* gate = qkv + b * c.qkv_dim + static_cast<int64_t>(h) * 2 * c.hd + c.hd;
    for (int d = threadIdx.x; d < c.hd; d += blockDim.x) {
        float o = 0.0f;
        for (int s = 0; s < nvalid; ++s) o += exp2f(part_ml[base + s].x - M) * part_o[(base + s) * c.hd + d];
        const float gt = 1.0f / (1.0f + expf(-__bfloat162float(gate[d])));
        out[static_cast<int64_t>(b) * c.hq * c.hd + static_cast<int64_t>(h) * c.hd + d] =
            __float2bfloat16_rn(o * invL * gt);
    }
}

// ---- Fused decode: one launch, thread-block clusters (sm_90) ----------------------------------------------------
//
// grid (nsplit, Hkv, B), cluster (nsplit, 1, 1), 4 warps. CTA sp of the cluster for (b, kvh) takes the keys
// [sp·chunk, (sp+1)·chunk) ∩ [0, pos] (chunk from split_chunk on the device: the grid depends only on B and max_ctx).
//   prologue  cp.async of the first kStages−1 K/V tiles; q of the G heads: norm + RoPE → bf16 sQ (rows ≥ G zero);
//             the CTA whose chunk holds pos ("owner") computes the new k (norm + RoPE) and v into sKn / sVn and
//             writes them to the cache (no other CTA of this launch reads that cache row).
//   main loop kStages-deep cp.async ring of 64-key tiles, one barrier per tile; the owner's tile that holds pos gets
//             its row from sKn / sVn (the cp.async skips that row); warps take 16 keys each (attend_block).
//   merge     the 4 warps merge through shared memory into this CTA's (o, m, l) for the G rows; cluster barrier; CTA
//             sp merges a 1/nsplit slice of the G·HD outputs over the cluster's CTAs through distributed shared
//             memory, applies σ(gate), writes bf16; cluster barrier (no CTA leaves while its shared memory is read).
// Empty chunks (start > pos) skip the loads and contribute m = −inf, l = 0, o = 0.
constexpr int kStages = 3;

template <int HD>
constexpr size_t fused_smem() {
    // sQ [16][LD], sKn [HD], sVn [HD], ring [kStages][K, V][64][LD] (bf16); the prologue's per-warp scratch uses the
    // last stage (not loaded before the main loop) and the merge scratch the whole ring.
    return (static_cast<size_t>(16) * ld<HD>() + 2 * HD + static_cast<size_t>(kStages) * 2 * kTile * ld<HD>()) *
           sizeof(bf16);
}
// Merge scratch (floats): per-warp o [4][16][HD], m [4][16], l [4][16]; the CTA's merged o [16][HD], m [16], l [16];
// the cluster's m (then merge weights) [16][16] and l [16][16].
template <int HD>
constexpr size_t fused_merge_floats() { return static_cast<size_t>(4 * 16 + 16) * HD + 4 * 16 * 2 + 16 * 2 + 2 * 256; }
template <int HD>
constexpr bool fused_fits() {
    return fused_merge_floats<HD>() * sizeof(float) <=
               static_cast<size_t>(kStages) * 2 * kTile * ld<HD>() * sizeof(bf16) &&
           static_cast<size_t>(4) * 2 * HD * sizeof(float) <= static_cast<size_t>(2) * kTile * ld<HD>() * sizeof(bf16);
}

// Fused-decode tile loader: keys [key0, key0 + 64) of one kv head → sK / sV (row stride LD); rows >= kv_end are
// zero-filled and the row of skip_key is left alone. Where HD/8 divides the 128 threads, each thread owns one 16-byte
// column and every (128·8/HD)-th row, so a full tile costs two cp.async and no index arithmetic per row (the generic
// load_kv_tile spends ~30 instructions per 16 bytes, 3× the tile's math: the first fused version was issue-bound on
// it, ncu 2026-11-24). Other head dims use load_kv_tile.
template <int HD>
__device__ __forceinline__ void load_tile_fused(bf16* sK, bf16* sV, const bf16* kbase, const bf16* vbase,
                                                int64_t row_stride, int key0, int kv_end, int skip_key) {
    constexpr int kChunks = HD / 8;
    if constexpr (kThreads % kChunks != 0) {
        load_kv_tile<HD>(sK, sV, kbase, vbase, row_stride, key0, kv_end, skip_key);
    } else {
        constexpr int kRows = kThreads / kChunks;  // rows per pass
        constexpr int LD = ld<HD>();
        const int ch = static_cast<int>(threadIdx.x) % kChunks, r0 = static_cast<int>(threadIdx.x) / kChunks;
        const int64_t step = kRows * row_stride;
        const int64_t off = static_cast<int64_t>(key0 + r0) * row_stride + ch * 8;
        const bf16* ks = kbase + off;
        const bf16* vs = vbase + off;
        bf16* kd = sK + r0 * LD + ch * 8;
        bf16* vd = sV + r0 * LD + ch * 8;
        const bool full = key0 + kTile <= kv_end && (skip_key < key0 || skip_key >= key0 + kTile);
        if (full) {
#pragma unroll
            for (int it = 0; it < kTile / kRows; ++it) {
                cp_async16(kd + it * kRows * LD, ks + it * step, 16);
                cp_async16(vd + it * kRows * LD, vs + it * step, 16);
            }
        } else {
#pragma unroll
            for (int it = 0; it < kTile / kRows; ++it) {
                const int key = key0 + r0 + it * kRows;
                if (key == skip_key) continue;
                const bool ok = key < kv_end;
                cp_async16(kd + it * kRows * LD, ok ? ks + it * step : kbase, ok ? 16 : 0);
                cp_async16(vd + it * kRows * LD, ok ? vs + it * step : vbase, ok ? 16 : 0);
            }
        }
    }
}

// Fused-decode prologue helpers: one warp per row, lane l holds elements l + 32k (the same per-lane order of the sum
// of squares and the same expressions as norm_rope_row), all loads of a warp's rows issued before any math.
template <int HD>
constexpr int kRowIt = (HD + 31) / 32;

template <int HD>
__device__ __forceinline__ void load_row(const bf16* __restrict__ src, float (&x)[kRowIt<HD>]) {
    const int lane = threadIdx.x & 31;
#pragma unroll
    for (int k = 0; k < kRowIt<HD>; ++k) {
        const int i = lane + 32 * k;
        x[k] = i < HD ? __bfloat162float(src[i]) : 0.0f;
    }
}
template <int HD>
__device__ __forceinline__ void load_weights(const float* __restrict__ w, float (&x)[kRowIt<HD>]) {
    const int lane = threadIdx.x & 31;
#pragma unroll
    for (int k = 0; k < kRowIt<HD>; ++k) {
        const int i = lane + 32 * k;
        x[k] = i < HD ? w[i] : 0.0f;
    }
}
// tab[j] = (cos, sin)(pos · inv_freq[j]), j < rotary_dim / 2: once per warp, shared by its rows.
__device__ __forceinline__ void rope_table(const Rope& rope, int pos, float2* tab) {
    const int lane = threadIdx.x & 31;
    const float fpos = static_cast<float>(pos);
    for (int j = lane; j < rope.half; j += 32) {
        float sn, cs;
        sincosf(fpos * rope.inv_freq[j], &sn, &cs);
        tab[j] = make_float2(cs, sn);
    }
    __syncwarp();
}
// dst[0..HD) = bf16(RoPE(x · rsqrt(mean(x²) + eps) · (1 + w))), also to dst2 if not null; buf: HD floats of scratch.
template <int HD>
__device__ __forceinline__ void finish_row(const float (&x)[kRowIt<HD>], const float (&w)[kRowIt<HD>], float eps,
                                           int half, const float2* tab, float* buf, bf16* dst, bf16* dst2) {
    const int lane = threadIdx.x & 31;
    float ss = 0.0f;
#pragma unroll
    for (int k = 0; k < kRowIt<HD>; ++k) ss += x[k] * x[k];
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) ss += __shfl_xor_sync(0xffffffffu, ss, o);
    const float r = 1.0f / sqrtf(ss / static_cast<float>(HD) + eps);
    float y[kRowIt<HD>];
#pragma unroll
    for (int k = 0; k < kRowIt<HD>; ++k) y[k] = x[k] * r * (1.0f + w[k]);
    if (half > 0) {
#pragma unroll
        for (int k = 0; k < kRowIt<HD>; ++k) {
            const int i = lane + 32 * k;
            if (i < 2 * half) buf[i] = y[k];
        }
        __syncwarp();
    }
#pragma unroll
    for (int k = 0; k < kRowIt<HD>; ++k) {
        const int i = lane + 32 * k;
        if (i >= HD) continue;
        float v = y[k];
        if (i < 2 * half) {
            const int ip = i < half ? i + half : i - half;
            const float xp = buf[ip];
            const float2 t = tab[i < half ? i : i - half];
            v = i < half ? v * t.x + (-xp) * t.y : v * t.x + xp * t.y;
        }
        const bf16 vb = __float2bfloat16_rn(v);
        dst[i] = vb;
        if (dst2) dst2[i] = vb;
    }
    __syncwarp();  // buf is reused by the warp's next row
}

// ---- Fused decode: one launch, thread-block clusters (sm_90) ----------------------------------------------------
//
// grid (nsplit, Hkv, B), cluster (nsplit, 1, 1), 4 warps. CTA sp of the cluster for (b, kvh) takes the keys
// [sp·chunk, (sp+1)·chunk) ∩ [0, pos] (chunk from split_chunk on the device: the grid depends only on B and max_ctx).
//   prologue  cp.async of the first kStages−1 K/V tiles; q of the G heads: norm + RoPE → bf16 sQ (rows ≥ G zero);
//             the CTA whose chunk holds pos ("owner") computes the new k (norm + RoPE) and v into sKn / sVn and
//             writes them to the cache (no other CTA of this launch reads that cache row).
//   main loop kStages-deep cp.async ring of 64-key tiles, one barrier per tile; the owner's tile that holds pos gets
//             its row from sKn / sVn (the cp.async skips that row); warps take 16 keys each (attend_block).
//   merge     the 4 warps merge through shared memory into this CTA's (o, m, l) for the G rows; cluster barrier; each
//             CTA copies the cluster's (m, l) into its shared memory and turns them into weights exp2(m_q − M) / L;
//             CTA sp then merges a 1/nsplit slice of the G·HD outputs, o = Σ_q w_q · o_q read through distributed
//             shared memory, applies σ(gate), writes bf16; cluster barrier (no CTA leaves while its shared memory is
//             read).
// Empty chunks (start > pos) skip the loads and contribute m = −inf, l = 0, o = 0.
template <int HD>
__global__ void __launch_bounds__(kThreads, 1)
    fused_decode_kernel(Common c, Rope rope, const bf16* __restrict__ qkv, const int32_t* __restrict__ slots,
                        const int32_t* __restrict__ positions, bf16* __restrict__ out) {
    grid_dependency_sync();  // PDL: first statement (launch.h)
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
    static_assert(fused_fits<HD>(), "prologue and merge scratch must fit in the K/V ring");
    constexpr int LD = ld<HD>();
    constexpr int R = kRowIt<HD>;
    extern __shared__ __align__(16) unsigned char smem_raw[];
    bf16* sQ = reinterpret_cast<bf16*>(smem_raw);  // [16][LD]
    bf16* sKn = sQ + 16 * LD;                       // [HD] new k (normed, roped)
    bf16* sVn = sKn + HD;                           // [HD] new v
    bf16* ring = sVn + HD;                          // [kStages][K, V][64][LD]
    auto stage_k = [&](int st) { return ring + st * 2 * kTile * LD; };
    auto stage_v = [&](int st) { return ring + st * 2 * kTile * LD + kTile * LD; };

    namespace cg = cooperative_groups;
    const cg::cluster_group cluster = cg::this_cluster();
    const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    const int sp = blockIdx.x, kvh = blockIdx.y, b = blockIdx.z;
    const int nsplit = gridDim.x;  // = cluster size; cluster rank = sp
    const int pos = positions[b];
    const int64_t slot = slots[b];
    const bf16* row = qkv + b * c.qkv_dim;  // this sequence's qkv row
    // Prologue loads that do not wait for pos: warp w's q rows w, w+4, w+8, w+12 (< G) and the q norm weights.
    float wq[R], xq[4][R];
    load_weights<HD>(c.q_norm, wq);
#pragma unroll
    for (int k = 0; k < 4; ++k) {
        const int r = warp + 4 * k;
        if (r < c.group) load_row<HD>(row + static_cast<int64_t>(kvh * c.group + r) * 2 * HD, xq[k]);
    }
    const int n = pos + 1;
    const int chunk = split_chunk(n, nsplit);
    const int start = sp * chunk;
    const int end = min(n, start + chunk);
    const int ntiles = end > start ? (end - start + kTile - 1) / kTile : 0;
    const bool owner = start <= pos && pos < end;
    const int64_t row_stride = static_cast<int64_t>(c.hkv) * HD;
    const bf16* kbase = c.kc + (slot * c.max_ctx * c.hkv + kvh) * HD;
    const bf16* vbase = c.vc + (slot * c.max_ctx * c.hkv + kvh) * HD;

#pragma unroll
    for (int t = 0; t < kStages - 1; ++t) {
        if (t < ntiles) load_tile_fused<HD>(stage_k(t), stage_v(t), kbase, vbase, row_stride, start + t * kTile, end, pos);
        cp_async_commit();
    }

    // Prologue: warp w norms + ropes its q rows; warp 3 of the owner also the new k, warp 2 copies the new v.
    // Scratch (buf, tab) per warp in the last ring stage, which nothing loads before the main loop.
    {
        float* buf = reinterpret_cast<float*>(stage_k(kStages - 1)) + warp * 2 * HD;
        float2* tab = reinterpret_cast<float2*>(buf + HD);
        const bf16* kv_row = row + 2 * static_cast<int64_t>(c.hq) * HD;
        const int64_t dst = ((slot * c.max_ctx + pos) * c.hkv + kvh) * HD;
        const bool do_k = owner && warp == 3;
        float wk[R], xk[R];
        if (do_k) {
            load_row<HD>(kv_row + kvh * HD, xk);
            load_weights<HD>(c.k_norm, wk);
        }
        rope_table(rope, pos, tab);
#pragma unroll
        for (int k = 0; k < 4; ++k) {
            const int r = warp + 4 * k;
            if (r < c.group) {
                finish_row<HD>(xq[k], wq, c.eps, rope.half, tab, buf, sQ + r * LD, nullptr);
            } else if (lane < HD / 8) {
                *reinterpret_cast<uint4*>(sQ + r * LD + lane * 8) = make_uint4(0u, 0u, 0u, 0u);
            }
        }
        if (do_k) finish_row<HD>(xk, wk, c.eps, rope.half, tab, buf, sKn, c.kc + dst);
        if (owner && warp == 2) {
            const bf16* v = kv_row + static_cast<int64_t>(c.hkv) * HD + kvh * HD;
            for (int d = 2 * lane; d < HD; d += 64) {
                const __nv_bfloat162 x = *reinterpret_cast<const __nv_bfloat162*>(v + d);
                *reinterpret_cast<__nv_bfloat162*>(sVn + d) = x;
                *reinterpret_cast<__nv_bfloat162*>(c.vc + dst + d) = x;
            }
        }
    }
    __syncthreads();  // sQ, sKn, sVn complete; the prologue scratch is free again

    WarpState<HD> st;
    st.init();
    const int lim = end - 1;  // end - 1 <= pos: causal and chunk bound at once
    for (int i = 0; i < ntiles; ++i) {
        cp_async_wait<kStages - 2>();  // tile i has landed (this thread's copies)
        const int stg = i % kStages;
        const int key_t = start + i * kTile;
        if (owner && pos < key_t + kTile && pos >= key_t) {
            for (int d = threadIdx.x; d < HD; d += kThreads) {
                stage_k(stg)[(pos - key_t) * LD + d] = sKn[d];
                stage_v(stg)[(pos - key_t) * LD + d] = sVn[d];
            }
        }
        __syncthreads();  // tile i visible to all; every warp is done with tile i − 1 (its stage is refilled next)
        if (i + kStages - 1 < ntiles) {
            const int nx = i + kStages - 1;
            load_tile_fused<HD>(stage_k(nx % kStages), stage_v(nx % kStages), kbase, vbase, row_stride,
                                start + nx * kTile, end, pos);
        }
        cp_async_commit();
        const int key0 = key_t + warp * 16;
        if (key0 <= lim)
            attn::attend_block<HD, 2, LD>(st, sQ, stage_k(stg) + warp * 16 * LD, stage_v(stg) + warp * 16 * LD,
                                          key0, lim, lim, c.scale_log2);
    }
    cp_async_wait<0>();
    __syncthreads();  // the ring becomes the merge scratch

    float* so = reinterpret_cast<float*>(ring);  // [4][16][HD]
    float* sm = so + 4 * 16 * HD;                // [4][16]
    float* sl = sm + 4 * 16;                     // [4][16]
    float* po = sl + 4 * 16;                     // [16][HD] this CTA's o (unnormalised, relative to pm)
    float* pm = po + 16 * HD;                    // [16]
    float* pl = pm + 16;                         // [16]
    float* cw = pl + 16;                         // [16 ranks][16 rows] the cluster's m, then merge weights
    float* cl = cw + 256;                        // [16 ranks][16 rows] the cluster's l
    const int g = lane >> 2, cc = lane & 3;
    float l0 = st.l[0], l1 = st.l[1];
    l0 += __shfl_xor_sync(0xffffffffu, l0, 1);
    l0 += __shfl_xor_sync(0xffffffffu, l0, 2);
    l1 += __shfl_xor_sync(0xffffffffu, l1, 1);
    l1 += __shfl_xor_sync(0xffffffffu, l1, 2);
#pragma unroll
    for (int j = 0; j < HD / 8; ++j) {
        const int d = j * 8 + 2 * cc;
        *reinterpret_cast<float2*>(so + (warp * 16 + g) * HD + d) = make_float2(st.o[j][0], st.o[j][1]);
        *reinterpret_cast<float2*>(so + (warp * 16 + g + 8) * HD + d) = make_float2(st.o[j][2], st.o[j][3]);
    }
    if (cc == 0) {
        sm[warp * 16 + g] = st.m[0];
        sm[warp * 16 + g + 8] = st.m[1];
        sl[warp * 16 + g] = l0;
        sl[warp * 16 + g + 8] = l1;
    }
    // The gate values of this thread's output units (see the last loop), loaded now so that their latency hides
    // behind the merges.
    const int units = c.group * HD / 4;  // 4 consecutive dims of one row
    constexpr int kUnits = (4 * HD + kThreads - 1) / kThreads;  // most units per thread (G <= 16, nsplit = 1)
    uint2 gate[kUnits];
#pragma unroll
    for (int k = 0; k < kUnits; ++k) {
        const int u = sp * kThreads + static_cast<int>(threadIdx.x) + k * nsplit * kThreads;
        if (u < units) {
            const int r = (u * 4) / HD, d = (u * 4) % HD;
            gate[k] = *reinterpret_cast<const uint2*>(row + static_cast<int64_t>(kvh * c.group + r) * 2 * HD + HD + d);
        }
    }
    __syncthreads();
    for (int u = threadIdx.x; u < units; u += kThreads) {
        const int r = (u * 4) / HD, d = (u * 4) % HD;
        float M = -INFINITY;
#pragma unroll
        for (int w = 0; w < 4; ++w) M = fmaxf(M, sm[w * 16 + r]);
        float L = 0.0f;
        float4 o = make_float4(0.0f, 0.0f, 0.0f, 0.0f);
#pragma unroll
        for (int w = 0; w < 4; ++w) {
            const float mw = sm[w * 16 + r];
            const float f = mw == -INFINITY ? 0.0f : exp2f(mw - M);
            const float4 v = *reinterpret_cast<const float4*>(so + (w * 16 + r) * HD + d);
            o.x += f * v.x;
            o.y += f * v.y;
            o.z += f * v.z;
            o.w += f * v.w;
            L += f * sl[w * 16 + r];
        }
        *reinterpret_cast<float4*>(po + r * HD + d) = o;
        if (d == 0) {
            pm[r] = M;
            pl[r] = L;
        }
    }
    cluster.sync();  // every CTA's (po, pm, pl) complete and visible to the cluster

    for (int t = threadIdx.x; t < nsplit * 16; t += kThreads) {
        const int q = t / 16, r = t % 16;
        if (r < c.group) {
            cw[t] = cluster.map_shared_rank(pm, static_cast<unsigned>(q))[r];
            cl[t] = cluster.map_shared_rank(pl, static_cast<unsigned>(q))[r];
        }
    }
    __syncthreads();
    if (static_cast<int>(threadIdx.x) < c.group) {  // weights of row r: exp2(m_q − M) / L, 0 for an empty chunk
        const int r = threadIdx.x;
        float M = -INFINITY;
        for (int q = 0; q < nsplit; ++q) M = fmaxf(M, cw[q * 16 + r]);
        float L = 0.0f;
        for (int q = 0; q < nsplit; ++q) {
            const float m = cw[q * 16 + r];
            if (m != -INFINITY) L += exp2f(m - M) * cl[q * 16 + r];
        }
        const float inv = 1.0f / L;
        for (int q = 0; q < nsplit; ++q) {
            const float m = cw[q * 16 + r];
            cw[q * 16 + r] = m == -INFINITY ? 0.0f : exp2f(m - M) * inv;
        }
    }
    __syncthreads();

    // CTA sp: units sp·128 + tid, stepping by nsplit·128; the (at most 16) remote loads of a unit are independent.
#pragma unroll
    for (int k = 0; k < kUnits; ++k) {
        const int u = sp * kThreads + static_cast<int>(threadIdx.x) + k * nsplit * kThreads;
        if (u >= units) continue;
        const int r = (u * 4) / HD, d = (u * 4) % HD;
        float4 o = make_float4(0.0f, 0.0f, 0.0f, 0.0f);
#pragma unroll
        for (int q = 0; q < 16; ++q) {
            if (q < nsplit) {
                const float f = cw[q * 16 + r];
                const float4 v = *reinterpret_cast<const float4*>(
                    cluster.map_shared_rank(po, static_cast<unsigned>(q)) + r * HD + d);
                o.x += f * v.x;
                o.y += f * v.y;
                o.z += f * v.z;
                o.w += f * v.w;
            }
        }
        const int h = kvh * c.group + r;
        __nv_bfloat162 g01, g23;
        std::memcpy(&g01, &gate[k].x, sizeof(g01));
        std::memcpy(&g23, &gate[k].y, sizeof(g23));
        auto sig = [](float x) { return 1.0f / (1.0f + expf(-x)); };
        bf16* op = out + static_cast<int64_t>(b) * c.hq * HD + static_cast<int64_t>(h) * HD + d;
        *reinterpret_cast<__nv_bfloat162*>(op) =
            __floats2bfloat162_rn(o.x * sig(__low2float(g01)), o.y * sig(__high2float(g01)));
        *reinterpret_cast<__nv_bfloat162*>(op + 2) =
            __floats2bfloat162_rn(o.z * sig(__low2float(g23)), o.w * sig(__high2float(g23)));
    }
    cluster.sync();  // no CTA exits while another still reads its shared memory
#else
    __trap();  // launched only on devices with clusters (compute capability >= 9)
#endif
}

Common make_common(const AttentionShape& s, const float* q_norm, const float* k_norm, const KvCache& cache) {
    QINFER_CHECK(s.hq > 0 && s.hkv > 0 && s.hq % s.hkv == 0, "gated attention: Hq (", s.hq,
                 ") must be a positive multiple of Hkv (", s.hkv, ")");
    QINFER_CHECK(s.hq / s.hkv <= 16, "gated attention: at most 16 query heads per kv head (got ", s.hq / s.hkv, ")");
    QINFER_CHECK(s.head_dim % 16 == 0 && s.head_dim >= 16 && s.head_dim <= 256,
                 "gated attention CUDA: head_dim must be a multiple of 16 in [16, 256], got ", s.head_dim);
    QINFER_CHECK(s.rotary_dim >= 0 && s.rotary_dim % 2 == 0 && s.rotary_dim <= s.head_dim,
                 "gated attention: rotary_dim ", s.rotary_dim, " must be even and <= head_dim ", s.head_dim);
    Common c{};
    c.hq = s.hq;
    c.hkv = s.hkv;
    c.hd = s.head_dim;
    c.group = s.hq / s.hkv;
    c.qkv_dim = 2LL * s.hq * s.head_dim + 2LL * s.hkv * s.head_dim;
    c.eps = s.eps;
    c.scale_log2 = (1.0f / std::sqrt(static_cast<float>(s.head_dim))) * 1.4426950408889634f;
    c.q_norm = q_norm;
    c.k_norm = k_norm;
    c.kc = cache.k;
    c.vc = cache.v;
    c.max_ctx = cache.max_ctx;
    return c;
}

Rope make_rope(const AttentionShape& s) {
    Rope r{};
    r.half = s.rotary_dim / 2;
    if (r.half > 0) kernels::cpu::rope_inv_freq(s.rotary_dim, s.rope_theta, r.inv_freq);
    return r;
}

// Splits per (sequence, kv head): enough CTAs for ~2 per SM, at most one per 64-key tile of max_ctx.
int decode_splits(const AttentionShape& s, int64_t B, int64_t max_ctx) {
    const int64_t ctas = std::max<int64_t>(1, B * s.hkv);
    int64_t ns = (2 * sm_count() + ctas - 1) / ctas;
    ns = std::min<int64_t>(ns, (max_ctx + kTile - 1) / kTile);
    return static_cast<int>(std::max<int64_t>(ns, 1));
}

// Calls f(std::integral_constant<int, HD>) for the runtime head_dim.
template <class F>
void dispatch_hd(int hd, F&& f) {
    switch (hd) {
#define QINFER_ATTN_HD(N) \
    case N: f(std::integral_constant<int, N>{}); break;
        QINFER_ATTN_HD(16) QINFER_ATTN_HD(32) QINFER_ATTN_HD(48) QINFER_ATTN_HD(64) QINFER_ATTN_HD(80)
        QINFER_ATTN_HD(96) QINFER_ATTN_HD(112) QINFER_ATTN_HD(128) QINFER_ATTN_HD(160) QINFER_ATTN_HD(192)
        QINFER_ATTN_HD(256)
#undef QINFER_ATTN_HD
        default: QINFER_FAIL("gated attention CUDA: head_dim ", hd, " is not instantiated");
    }
}


// ---- fused decode planning (host) ----

// Compute capability >= 9 (thread-block clusters, distributed shared memory) on the current device.
bool has_clusters() {
    static const bool v = [] {
        int dev = 0, major = 0;
        QINFER_CUDA_CHECK(cudaGetDevice(&dev));
        QINFER_CUDA_CHECK(cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, dev));
        return major >= 9;
    }();
    return v;
}

DecodeKernel resolve(DecodeKernel k) {
    if (k == DecodeKernel::Auto) return has_clusters() ? DecodeKernel::Fused : DecodeKernel::SplitCombine;
    QINFER_CHECK(k != DecodeKernel::Fused || has_clusters(),
                 "gated_attention_decode: the fused kernel needs thread-block clusters (compute capability >= 9)");
    return k;
}

constexpr int kClusterSizes[] = {1, 2, 4, 8, 16};

// How many clusters of each size in kClusterSizes can be resident at once (0: that size cannot launch). Also sets
// the kernel's shared-memory and non-portable-cluster attributes. Once per head_dim, on first use.
template <int HD>
const std::array<int, 5>& fused_active_clusters() {
    static const std::array<int, 5> v = [] {
        QINFER_CUDA_CHECK(cudaFuncSetAttribute(fused_decode_kernel<HD>, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                               static_cast<int>(fused_smem<HD>())));
        QINFER_CUDA_CHECK(cudaFuncSetAttribute(fused_decode_kernel<HD>, cudaFuncAttributeNonPortableClusterSizeAllowed, 1));
        std::array<int, 5> a{};
        for (size_t i = 0; i < a.size(); ++i) {
            const int cs = kClusterSizes[i];
            cudaLaunchConfig_t cfg{};
            cfg.gridDim = dim3(static_cast<unsigned>(cs));
            cfg.blockDim = dim3(kThreads);
            cfg.dynamicSmemBytes = fused_smem<HD>();
            cudaLaunchAttribute attr[1];
            attr[0].id = cudaLaunchAttributeClusterDimension;
            attr[0].val.clusterDim.x = static_cast<unsigned>(cs);
            attr[0].val.clusterDim.y = 1;
            attr[0].val.clusterDim.z = 1;
            cfg.attrs = attr;
            cfg.numAttrs = 1;
            int n = 0;
            if (cudaOccupancyMaxActiveClusters(&n, fused_decode_kernel<HD>, &cfg) != cudaSuccess) {
                (void)cudaGetLastError();  // a size the device cannot do: not a sticky error
                n = 0;
            }
            a[i] = n;
        }
        QINFER_CHECK(a[0] > 0, "gated_attention_decode: the fused kernel cannot be resident (head_dim ", HD, ")");
        return a;
    }();
    return v;
}

// Cluster size cs (= key splits) for B sequences: the largest cs whose B·Hkv clusters are all resident at once
// (one wave: A(cs) >= B·Hkv, A from the device), at most one split per 64-key tile of max_ctx; 1 if not even single
// CTAs fit one wave. A second wave would pay the whole per-CTA latency again (prologue, first tile, merge): the first
// fused version minimised waves/cs instead and picked 16 splits in 3 waves at B = 8, 1.65× slower than the old
// 3-launch path there (device run 2026-11-24). H100, hd 256, Hkv 2 (A(16) = 7): B = 1 → 16, B = 64 → 1.
template <int HD>
int fused_splits(const AttentionShape& s, int64_t B, int64_t max_ctx) {
    const std::array<int, 5>& active = fused_active_clusters<HD>();
    const int64_t groups = std::max<int64_t>(1, B * s.hkv);
    const int64_t tiles = std::max<int64_t>(1, (max_ctx + kTile - 1) / kTile);
    int best = 1;
    for (size_t i = 0; i < active.size(); ++i) {
        const int cs = kClusterSizes[i];
        if (cs <= tiles && active[i] >= groups) best = cs;
    }
    return best;
}

template <int HD, int R>
void launch_prefill(const Common& c, const Rope& rope, const bf16* qkv, int64_t T, int slot, int64_t pos0, bf16* out,
                    cudaStream_t stream) {
    constexpr size_t smem = prefill_smem<HD, R>();
    static const bool attr_set = [] {
        QINFER_CUDA_CHECK(cudaFuncSetAttribute(prefill_kernel<HD, R>, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                               static_cast<int>(smem)));
        return true;
    }();
    (void)attr_set;
    const dim3 grid(c.hq, static_cast<unsigned>((T + R - 1) / R));
    launch(prefill_kernel<HD, R>, grid, prefill_threads<R>(), smem, stream, c, rope, qkv, static_cast<int>(T), slot,
           static_cast<int>(pos0), out);
}

}  // namespace

bool prefill_tile_supported(PrefillTile tile, int head_dim, int rotary_dim) {
    return tile != PrefillTile::Wgmma || attn::prefill_wgmma_supported(head_dim, rotary_dim);
}

void gated_attention_prefill(const AttentionShape& s, const bf16* qkv, int64_t T, int slot, int64_t pos0,
                             const float* q_norm, const float* k_norm, const KvCache& cache, bf16* out,
                             cudaStream_t stream, PrefillTile tile) {
    QINFER_CHECK(T >= 1 && pos0 >= 0 && pos0 + T <= cache.max_ctx, "gated_attention_prefill: pos0 ", pos0, " + T ", T,
                 " exceeds max_ctx ", cache.max_ctx);
    QINFER_CHECK(cache.max_ctx < (int64_t{1} << 31), "gated_attention_prefill: max_ctx must fit int32");
    const Common c = make_common(s, q_norm, k_norm, cache);
    const Rope rope = make_rope(s);
    const bool big_grid = 2 * s.hq * ((T + 127) / 128) >= sm_count();
    // Decided before any launch: a refused explicit request leaves the cache untouched.
    const bool wgmma_ok =
        attn::prefill_wgmma_supported(s.head_dim, s.rotary_dim) && reinterpret_cast<uintptr_t>(qkv) % 16 == 0;
    QINFER_CHECK(tile != PrefillTile::Wgmma || wgmma_ok,
                 "gated_attention_prefill: the wgmma kernel needs head_dim 64, 128 or 256 (got ", s.head_dim,
                 "), rotary_dim / 2 a multiple of head_dim / 32 (rotary_dim ", s.rotary_dim,
                 "), a 16-byte-aligned qkv and an sm_90 device with an sm_90a build");
    const bool wgmma = tile == PrefillTile::Wgmma || (tile == PrefillTile::Auto && big_grid && wgmma_ok);
    launch(kv_prep_kernel, dim3(static_cast<unsigned>(T), s.hkv), 64, 0, stream, c, rope, qkv, nullptr, nullptr, slot,
           pos0);
    if (wgmma) {
        attn::launch_prefill_wgmma(c, rope, qkv, T, slot, pos0, out, stream);
        return;
    }
    const bool rows128 = tile == PrefillTile::Rows128 || (tile == PrefillTile::Auto && big_grid);
    dispatch_hd(s.head_dim, [&](auto hdc) {
        constexpr int HD = decltype(hdc)::value;
        if (rows128)
            launch_prefill<HD, 128>(c, rope, qkv, T, slot, pos0, out, stream);
        else
            launch_prefill<HD, 64>(c, rope, qkv, T, slot, pos0, out, stream);
    });
}

size_t gated_attention_decode_workspace_bytes(const AttentionShape& s, int64_t B, int64_t max_ctx,
                                              DecodeKernel kernel) {
    if (resolve(kernel) == DecodeKernel::Fused) return 0;
    // part_o f32 [B][Hq][ns][hd], then part_ml float2 [B][Hq][ns]. ns shrinks as B grows but B·ns does not always
    // (ceil), so size for the worst batch b <= B: a workspace sized for the largest batch serves every smaller one.
    int64_t worst = 0;
    for (int64_t b = 1; b <= B; ++b) worst = std::max<int64_t>(worst, b * decode_splits(s, b, max_ctx));
    return static_cast<size_t>(worst * s.hq) * (static_cast<size_t>(s.head_dim) * sizeof(float) + sizeof(float2));
}

int gated_attention_decode_splits(const AttentionShape& s, int64_t B, int64_t max_ctx, DecodeKernel kernel) {
    if (resolve(kernel) == DecodeKernel::Fused) {
        int ns = 1;
        dispatch_hd(s.head_dim, [&](auto hdc) { ns = fused_splits<decltype(hdc)::value>(s, B, max_ctx); });
        return ns;
    }
    return decode_splits(s, B, max_ctx);
}

void gated_attention_decode(const AttentionShape& s, const bf16* qkv, int64_t B, const int32_t* slots,
                            const int32_t* positions, const float* q_norm, const float* k_norm, const KvCache& cache,
                            bf16* out, void* workspace, cudaStream_t stream, DecodeKernel kernel) {
    if (B == 0) return;
    QINFER_CHECK(cache.max_ctx < (int64_t{1} << 31), "gated_attention_decode: max_ctx must fit int32");
    QINFER_CHECK(B <= 65535, "gated_attention_decode: at most 65535 sequences per call (got ", B, ")");
    const Common c = make_common(s, q_norm, k_norm, cache);
    const Rope rope = make_rope(s);
    if (resolve(kernel) == DecodeKernel::Fused) {
        dispatch_hd(s.head_dim, [&](auto hdc) {
            constexpr int HD = decltype(hdc)::value;
            const int ns = fused_splits<HD>(s, B, cache.max_ctx);
            launch_clustered(fused_decode_kernel<HD>,
                             dim3(static_cast<unsigned>(ns), static_cast<unsigned>(s.hkv), static_cast<unsigned>(B)),
                             dim3(kThreads), static_cast<unsigned>(ns), fused_smem<HD>(), stream, c, rope, qkv, slots,
                             positions, out);
        });
        return;
    }
    const int ns = decode_splits(s, B, cache.max_ctx);
    float* part_o = static_cast<float*>(workspace);
    auto* part_ml = reinterpret_cast<float2*>(part_o + B * s.hq * ns * static_cast<int64_t>(s.head_dim));
    launch(kv_prep_kernel, dim3(static_cast<unsigned>(B), s.hkv), 64, 0, stream, c, rope, qkv, slots, positions, 0, 0);
    dispatch_hd(s.head_dim, [&](auto hdc) {
        constexpr int HD = decltype(hdc)::value;
        constexpr size_t smem = decode_smem<HD>();
        static const bool attr_set = [] {
            QINFER_CUDA_CHECK(cudaFuncSetAttribute(decode_kernel<HD>, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                                   static_cast<int>(smem)));
            return true;
        }();
        (void)attr_set;
        launch(decode_kernel<HD>, dim3(ns, s.hkv, static_cast<unsigned>(B)), kThreads, smem, stream, c, rope, qkv,
               slots, positions, part_o, part_ml);
    });
    launch(decode_combine_kernel, dim3(s.hq, static_cast<unsigned>(B)), 128, 0, stream, c, qkv, positions, ns, part_o,
           part_ml, out);
}

}  // namespace qinfer::cuda
