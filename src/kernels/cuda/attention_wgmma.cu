// Gated attention prefill on Hopper's warpgroup tensor cores (attention_common.cuh: launch_prefill_wgmma;
// PrefillTile::Wgmma). Same operation, arguments and precision as attention.cu's prefill_kernel (q normed + roped,
// rounded to bf16; fp32 scores and softmax statistics; P rounded to bf16; fp32 P·V; o / l · σ(gate) → bf16), built for
// the 8k-token prefill, where the mma.sync kernel reached ~213 TFLOP/s (26 % of the bf16 peak) with every exp2 /
// shuffle / mma dependency exposed at 8 warps per SM (docs/perf/attention.md).
//
// CTA: 128 query rows of one head = 2 warpgroups (WG) x 64 rows, 256 threads, one CTA per SM at head_dim 256.
//   Q    normed + roped by all 8 warps into shared memory once, in the 128-byte-swizzle layout (sm90.cuh): HD / 64
//        atoms of [128 rows][128 B].
//   K, V 64-key tiles loaded by TMA from the cache (3-d tensor maps over [key][kv head][d], box 64 d x 1 x 64 keys,
//        keys past pos0 + T read as zeros), kStages-deep ring, one mbarrier per stage ("full": one arrival carrying
//        the stage's bytes).
//   Per WG and key tile: S = Q Kᵀ as HD / 16 wgmma m64n64k16 (both operands from shared memory, K-major); the online
//        softmax in registers (attention_mma.cuh's softmax_step, the C-fragment layout is wgmma's accumulator
//        layout); O += P V as 4 k16 steps of wgmma with P from registers (the mma A layout) and V from shared memory
//        in its transposed (MN-major) form, n256 at head_dim 256 (else HD / 64 x n64).
//   The two WGs are not synchronised with each other: each waits only for its tiles' "full" barrier, so one WG's
//        softmax overlaps the other's wgmma. A stage is refilled by whichever warp releases it last (a shared counter
//        per stage counts the 8 warps' releases; the 8th issues the TMA loads of the tile kStages ahead), so no thread
//        ever waits for the other WG. Every warp, also one whose rows see none of a tile's keys (WG 0's last tile on
//        the diagonal), waits for the tile's barrier before releasing it: a release for tile b then always follows
//        both WGs' releases of tile b - kStages, which keeps the count per fill exact.
//   Epilogue: as prefill_kernel (attention_common.cuh store_gated_rows), from the O accumulators.
// Heaviest (latest) query blocks first, as prefill_kernel.
//
// Needs sm_90a (wgmma, TMA), head_dim in {64, 128, 256}, rotary_dim / 2 a multiple of head_dim / 32 (the q
// prologue's lane layout) and a 16-byte-aligned qkv (its vector loads): prefill_wgmma_supported and the caller's
// alignment test, which launch_prefill_wgmma checks again.

#include <cuda.h>

#include <algorithm>
#include <type_traits>

#include "core/check.h"
#include "kernels/cuda/attention_common.cuh"
#include "kernels/cuda/attention_mma.cuh"
#include "kernels/cuda/check.h"
#include "kernels/cuda/launch.h"
#include "kernels/cuda/sm90.cuh"
#include "kernels/cuda/sm90.h"
#include "kernels/cuda/tma.h"

namespace qinfer::cuda::attn {
namespace {

constexpr int kRows = 128;               // query rows per CTA (2 warpgroups x 64)
constexpr int kKeys = 64;                // keys per K/V tile
constexpr int kCtaThreads = 256;         // 2 warpgroups
constexpr int kReleases = kCtaThreads / 32;  // warps that release each stage
constexpr uint32_t kGroupStride = 1024;  // bytes between 8-row groups of a 128-byte-swizzle atom

template <int HD>
struct Cfg {
    static constexpr int kAtoms = HD / 64;             // 128-byte column atoms per row
    static constexpr int kStages = HD >= 256 ? 2 : 3;  // 2 x 64 KB at head_dim 256
    static constexpr int kQAtom = kRows * 128;         // 16 KB: one atom of the Q tile
    static constexpr int kTileAtom = kKeys * 128;      // 8 KB: one atom of a K or V tile
    static constexpr int kQBytes = kAtoms * kQAtom;
    static constexpr int kTileBytes = kAtoms * kTileAtom;
    static constexpr int kStageBytes = 2 * kTileBytes;  // K tile, then V tile
    static constexpr int kBarOffset = kQBytes + kStages * kStageBytes;
    static constexpr int kSmem = kBarOffset + kStages * 16 + 1024;  // + barriers and counters, 1 KB alignment slack
};

// Byte offset of element (r, d) of a [rows][HD] bf16 tile in the 128-byte-swizzle layout with `atom` bytes per atom.
__device__ __forceinline__ int sw128_offset(int r, int d, int atom) {
    return (d >> 6) * atom + (r >> 3) * 1024 + (r & 7) * 128 + ((((d >> 3) & 7) ^ (r & 7)) << 4) + (d & 7) * 2;
}

template <int HD>
__global__ void __launch_bounds__(kCtaThreads, 1)
    prefill_wgmma_kernel(Common c, Rope rope, const bf16* __restrict__ qkv, int T, int pos0, bf16* __restrict__ out,
                         const __grid_constant__ CUtensorMap kmap, const __grid_constant__ CUtensorMap vmap) {
    grid_dependency_sync();  // PDL: first statement (launch.h)
    using C = Cfg<HD>;
    extern __shared__ uint8_t smem_raw[];
    uint8_t* smem = smem_raw + ((1024 - (sm90::smem_addr(smem_raw) & 1023)) & 1023);
    uint8_t* sQ = smem;
    uint64_t* full = reinterpret_cast<uint64_t*>(smem + C::kBarOffset);
    int* released = reinterpret_cast<int*>(full + C::kStages);
    const int tid = static_cast<int>(threadIdx.x), warp = tid >> 5, lane = tid & 31;
    const int wg = warp >> 2, wq = warp & 3;
    const int h = static_cast<int>(blockIdx.x);
    const int qblk = static_cast<int>(gridDim.y - 1 - blockIdx.y);  // heaviest (latest) query blocks first
    const int m0 = qblk * kRows;
    const int kvh = h / c.group;
    const int kv_end = min(pos0 + m0 + kRows, pos0 + T);
    const int nblk = (kv_end + kKeys - 1) / kKeys;
    const auto stage = [&](int st) { return smem + C::kQBytes + st * C::kStageBytes; };

    // One thread: TMA loads of key tile b (K and V, every atom) into its stage.
    const auto fill = [&](int b) {
        const int st = b % C::kStages;
        uint8_t* sk = stage(st);
        sm90::mbar_arrive_expect_tx(&full[st], C::kStageBytes);
#pragma unroll
        for (int a = 0; a < C::kAtoms; ++a) {
            sm90::tma_load_3d(sk + a * C::kTileAtom, &kmap, &full[st], a * 64, kvh, b * kKeys);
            sm90::tma_load_3d(sk + C::kTileBytes + a * C::kTileAtom, &vmap, &full[st], a * 64, kvh, b * kKeys);
        }
    };
    if (tid == 0) {
        for (int st = 0; st < C::kStages; ++st) {
            sm90::mbar_init(&full[st], 1);
            released[st] = 0;
        }
        sm90::mbar_init_fence();
        sm90::fence_proxy_async_smem();
        for (int b = 0; b < min(C::kStages, nblk); ++b) fill(b);
    }

    // q rows (16 per warp): normed + roped, bf16 into the swizzled Q tile (rows past T are zeros). Lane l holds
    // elements d0 = kE l .. d0 + kE - 1 of a row (one vector load, one shared store into a single 16-byte chunk), so
    // a row costs one load round trip and the rotary partner d ± half is lane l ± half / kE (launch_prefill_wgmma
    // requires half % kE == 0). Same formulas as norm_rope_row (the sum of squares is added in another order).
    {
        constexpr int kE = HD / 32;
        const int d0 = kE * lane, half = rope.half;
        const bool rot = d0 < 2 * half;
        const int partner = d0 < half ? lane + half / kE : lane - half / kE;
        float wv[kE], freq[kE];
#pragma unroll
        for (int e = 0; e < kE; ++e) {
            wv[e] = 1.0f + c.q_norm[d0 + e];
            freq[e] = rot ? rope.inv_freq[d0 + e < half ? d0 + e : d0 + e - half] : 0.0f;
        }
        using Vec = std::conditional_t<kE == 8, uint4, std::conditional_t<kE == 4, uint2, uint32_t>>;
        Vec raw[4];
        for (int i0 = 0; i0 < 16; i0 += 4) {
#pragma unroll
            for (int u = 0; u < 4; ++u) {  // four rows' loads in flight
                const int t = m0 + warp * 16 + i0 + u;
                raw[u] = Vec{};
                if (t < T)
                    raw[u] = *reinterpret_cast<const Vec*>(qkv + static_cast<int64_t>(t) * c.qkv_dim +
                                                           static_cast<int64_t>(h) * 2 * HD + d0);
            }
#pragma unroll
            for (int u = 0; u < 4; ++u) {
                const int r = warp * 16 + i0 + u;
                const bf16* xb = reinterpret_cast<const bf16*>(&raw[u]);
                float x[kE], ss = 0.0f;
#pragma unroll
                for (int e = 0; e < kE; ++e) {
                    x[e] = __bfloat162float(xb[e]);
                    ss += x[e] * x[e];
                }
#pragma unroll
                for (int off = 16; off > 0; off >>= 1) ss += __shfl_xor_sync(0xffffffffu, ss, off);
                const float rn = 1.0f / sqrtf(ss / static_cast<float>(HD) + c.eps);
                const float fpos = static_cast<float>(pos0 + m0 + r);
                Vec packed;
                bf16* yb = reinterpret_cast<bf16*>(&packed);
#pragma unroll
                for (int e = 0; e < kE; ++e) {
                    float y = x[e] * rn * wv[e];
                    const float yp = __shfl_sync(0xffffffffu, y, partner);
                    if (rot) {
                        float sn, cs;
                        sincosf(fpos * freq[e], &sn, &cs);
                        y = d0 < half ? y * cs + (-yp) * sn : y * cs + yp * sn;
                    }
                    yb[e] = __float2bfloat16_rn(y);
                }
                *reinterpret_cast<Vec*>(sQ + sw128_offset(r, d0, C::kQAtom)) = packed;
            }
        }
    }
    sm90::fence_proxy_async_smem();  // the Q tile's generic stores, before wgmma reads them
    __syncthreads();                 // ... and the barriers' initialisation

    WarpState<HD> st;
    st.init();
    float(&o)[HD / 2] = reinterpret_cast<float(&)[HD / 2]>(st.o);
    const int g = lane >> 2;
    const int first = pos0 + m0 + wg * 64;  // position of this warpgroup's first row
    const int lim0 = first + wq * 16 + g, lim1 = lim0 + 8;
    const uint8_t* qa = sQ + wg * 64 * 128;  // this warpgroup's 64 rows inside each Q atom
    for (int b = 0; b < nblk; ++b) {
        const int stg = b % C::kStages;
        sm90::mbar_wait(&full[stg], static_cast<uint32_t>((b / C::kStages) & 1));
        __syncwarp();                   // the lanes may leave the wait loop apart; wgmma needs the warp converged
        if (b * kKeys <= first + 63) {  // some row of this warpgroup sees a key of the tile
            const uint8_t* sk = stage(stg);
            const uint8_t* sv = sk + C::kTileBytes;
            float s[8][4];
            float(&sf)[32] = reinterpret_cast<float(&)[32]>(s);
            sm90::wgmma_fence();  // s was read by the previous tile's softmax
#pragma unroll
            for (int k = 0; k < HD / 16; ++k) {
                const int a = k >> 2, kb = (k & 3) * 32;
                sm90::wgmma_m64n64k16_ss(sf, sm90::sw128_desc(qa + a * C::kQAtom + kb, kGroupStride),
                                         sm90::sw128_desc(sk + a * C::kTileAtom + kb, kGroupStride), k > 0);
            }
            sm90::wgmma_commit();
            sm90::wgmma_wait<0>();
            softmax_step<HD, 8>(st, s, b * kKeys, lim0, lim1, c.scale_log2);
            uint32_t p[4][4];
#pragma unroll
            for (int kk = 0; kk < 4; ++kk) p_fragment(s, kk, p[kk]);
            sm90::wgmma_fence();  // o (rescaled) and p were written by this thread
#pragma unroll
            for (int kk = 0; kk < 4; ++kk) {
                const uint8_t* vk = sv + kk * 2 * kGroupStride;  // keys 16 kk .. 16 kk + 15: two 8-row groups
                if constexpr (HD == 256) {
                    sm90::wgmma_m64n256k16_rs_tb(o, p[kk], sm90::sw128_desc(vk, kGroupStride, C::kTileAtom), 1);
                } else {
#pragma unroll
                    for (int a = 0; a < C::kAtoms; ++a)
                        sm90::wgmma_m64n64k16_rs_tb(reinterpret_cast<float(&)[32]>(o[a * 32]), p[kk],
                                                    sm90::sw128_desc(vk + a * C::kTileAtom, kGroupStride), 1);
                }
            }
            sm90::wgmma_commit();
            sm90::wgmma_wait<0>();
        }
        // Release the stage: this warp's wgmma reads of it are complete. The last of the 8 warps refills it.
        if (lane == 0) {
            __threadfence_block();
            if (atomicAdd(&released[stg], 1) == kReleases - 1) {
                released[stg] = 0;  // ordered before the refill's mbarrier arrival (release) below
                if (b + C::kStages < nblk) fill(b + C::kStages);
            }
        }
        __syncwarp();
    }
    store_gated_rows(c, st, qkv, h, m0 + wg * 64 + wq * 16 + g, T, out);
}

template <int HD>
void launch_hd(const Common& c, const Rope& rope, const bf16* qkv, int64_t T, int slot, int64_t pos0, bf16* out,
               cudaStream_t stream) {
    using C = Cfg<HD>;
    static const bool attr_set = [] {
        QINFER_CUDA_CHECK(
            cudaFuncSetAttribute(prefill_wgmma_kernel<HD>, cudaFuncAttributeMaxDynamicSharedMemorySize, C::kSmem));
        return true;
    }();
    (void)attr_set;
    // Tensor maps over this slot's keys [0, pos0 + T): [key][kv head][d], d contiguous.
    const int64_t slot_off = static_cast<int64_t>(slot) * c.max_ctx * c.hkv * HD;
    const uint64_t dims[3] = {static_cast<uint64_t>(HD), static_cast<uint64_t>(c.hkv), static_cast<uint64_t>(pos0 + T)};
    const uint64_t strides[2] = {static_cast<uint64_t>(HD) * 2, static_cast<uint64_t>(c.hkv) * HD * 2};
    const uint32_t box[3] = {64, 1, kKeys};
    const CUtensorMap kmap = tma_map_bf16_3d(c.kc + slot_off, dims, strides, box, "KV cache k");
    const CUtensorMap vmap = tma_map_bf16_3d(c.vc + slot_off, dims, strides, box, "KV cache v");
    const dim3 grid(static_cast<unsigned>(c.hq), static_cast<unsigned>((T + kRows - 1) / kRows));
    cuda::launch(prefill_wgmma_kernel<HD>, grid, kCtaThreads, C::kSmem, stream, c, rope, qkv, static_cast<int>(T),
                 static_cast<int>(pos0), out, kmap, vmap);
}

}  // namespace

bool prefill_wgmma_supported(int hd, int rotary_dim) {
    const bool dims = (hd == 64 || hd == 128 || hd == 256) && (rotary_dim / 2) % (hd / 32) == 0;
    return dims && sm90a_available();
}

void launch_prefill_wgmma(const Common& c, const Rope& rope, const bf16* qkv, int64_t T, int slot, int64_t pos0,
                          bf16* out, cudaStream_t stream) {
    QINFER_CHECK(prefill_wgmma_supported(c.hd, 2 * rope.half) && reinterpret_cast<uintptr_t>(qkv) % 16 == 0,
                 "gated attention wgmma prefill: called outside prefill_wgmma_supported (head_dim ", c.hd,
                 ", rotary_dim ", 2 * rope.half, ") or with an unaligned qkv");
    switch (c.hd) {
        case 64:
            launch_hd<64>(c, rope, qkv, T, slot, pos0, out, stream);
            break;
        case 128:
            launch_hd<128>(c, rope, qkv, T, slot, pos0, out, stream);
            break;
        default:
            launch_hd<256>(c, rope, qkv, T, slot, pos0, out, stream);
            break;
    }
}

}  // namespace qinfer::cuda::attn
