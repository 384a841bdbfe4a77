// GEMMs over BF16 / NVFP4 / FP8 weights (linear.h): decode GEMV, tensor-core tiles (dense and grouped MoE),
// dequantize + cuBLASLt for large M, and the device weight layout.
//
// Device layout (re-laid out once at upload): BF16 and FP8 rows [E*N] are padded along K to Kp so that a row is a
// whole number of 16-byte chunks, and the padding is zero:
//   BF16   bf16 [E*N, Kp],  Kp = round_up(K, 8)   (16 B = 8 elements)
//   FP8    e4m3 [E*N, Kp],  Kp = round_up(K, 16)  (16 B = 16 elements)
//   NVFP4  fragment tiles of 16 rows x 64 k with re-encoded block scales (nvfp4_tiles.cuh), decoded on the tensor
//          cores by nvfp4_gemv.cu (decode) and nvfp4_gemm.cu (prefill); the dequantizer below reads single blocks.
//   row_scale f32 [E*N] (NVFP4 weight_scale_2 / FP8 weight_scale of the shard the row came from).
// Kernels never read x beyond K (x chunks of 8 elements are all in or all out because K % 8 == 0).
//
// Exactness: e2m1 · e4m3 has at most 6 significant bits and e4m3 alone 4, so every path's BF16 (code · block scale)
// is exact; the row scale is applied in fp32 in the epilogue. The BF16/FP8 GEMV decodes in fp32. The DequantBlas
// path folds the row scale into the BF16 scratch (one bf16 rounding per weight, ~2^-9 relative).

#include <cuda_fp16.h>
#include <cuda_fp8.h>
#include <mma.h>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "core/check.h"
#include "kernels/cuda/check.h"
#include "kernels/cuda/launch.h"
#include "kernels/cuda/gemm_common.cuh"
#include "kernels/cuda/linear.h"
#include "kernels/cuda/nvfp4_gemv.h"
#include "kernels/cuda/nvfp4_tiles.cuh"
#include "kernels/cuda/sm90.h"

namespace qinfer::cuda {

namespace {

int64_t round_up(int64_t v, int64_t m) { return (v + m - 1) / m * m; }

int64_t k_padded(WeightFormat f, int64_t k) {
    switch (f) {
        case WeightFormat::BF16: return round_up(k, 8);
        case WeightFormat::FP8: return round_up(k, 16);
        case WeightFormat::NVFP4: return nvfp4::padded_k(k);
    }
    return k;
}
int64_t data_row_bytes(WeightFormat f, int64_t kp) {
    switch (f) {
        case WeightFormat::BF16: return kp * 2;
        case WeightFormat::FP8: return kp;
        case WeightFormat::NVFP4: return kp / 2;
    }
    return kp;
}

GemmPath g_path = GemmPath::Auto;

// ------------------------------------------------------------------------------------------------ device helpers

// Two e4m3 bytes (low 16 bits of v) -> float2 (exact).
__device__ __forceinline__ float2 e4m3x2_to_f32(uint32_t v) {
    const __half2_raw h = __nv_cvt_fp8x2_to_halfraw2(static_cast<__nv_fp8x2_storage_t>(v & 0xffffu), __NV_E4M3);
    return __half22float2(__half2(h));
}
__device__ __forceinline__ void bf16x2_to_f32(uint32_t v, float& lo, float& hi) {
    lo = __uint_as_float(v << 16);
    hi = __uint_as_float(v & 0xffff0000u);
}

// Decodes the 8 elements of piece p (0 .. EPC/8) of a 16-byte chunk of a BF16 / FP8 row into wf (without the row
// scale). (NVFP4 has its own layout and decoders: nvfp4_tiles.cuh.)
template <WeightFormat F>
__device__ __forceinline__ void decode_piece(const uint4& raw, int p, float* wf) {
    static_assert(F != WeightFormat::NVFP4, "NVFP4 rows are tiled");
    if constexpr (F == WeightFormat::BF16) {
#pragma unroll
        for (int q = 0; q < 4; ++q) bf16x2_to_f32(word_of(raw, q), wf[2 * q], wf[2 * q + 1]);
    } else {
#pragma unroll
        for (int q = 0; q < 2; ++q) {
            const uint32_t word = word_of(raw, 2 * p + q);
            const float2 a = e4m3x2_to_f32(word), b = e4m3x2_to_f32(word >> 16);
            wf[4 * q] = a.x; wf[4 * q + 1] = a.y; wf[4 * q + 2] = b.x; wf[4 * q + 3] = b.y;
        }
    }
}

template <WeightFormat F>
constexpr int elems_per_chunk() {
    return F == WeightFormat::BF16 ? 8 : (F == WeightFormat::FP8 ? 16 : 32);
}

// ------------------------------------------------------------------------------------------------ GEMV (decode)

struct GemvArgs {
    const uint8_t* w;
    const float* rs;
    int64_t row_bytes;
    int n, k, chunks;
    int64_t expert;
    const bf16* x;
    int64_t ldx;
    int m;
    const int32_t* x_row;
    const int32_t* expert_idx;
    void* y;
    int64_t ldy;
    OutMode mode;
    const uint8_t* extra_w;  // indexed mode: rows whose expert is extra_expert read this one expert (see nvfp4_gemv.h)
    const float* extra_rs;
    int extra_expert;
};

// BF16 / FP8 (NVFP4: nvfp4_gemv.cu). One warp per RW output columns n (weight rows), MT rows of x per block row
// (grid.y). Each lane streams 16-byte
// chunks of the weight rows (U chunks x RW rows in flight), decodes in registers, and accumulates fp32 partial dot
// products; a warp-shuffle reduction finishes them. Indexed mode (expert_idx != null): grid.y = output row r, with
// its own expert and x row.
template <WeightFormat F, int MT, int RW>
__global__ void __launch_bounds__(128, 1) gemv_kernel(GemvArgs a) {
    constexpr int EPC = elems_per_chunk<F>();
    constexpr int U = 2;
    const int warp = static_cast<int>(threadIdx.x >> 5), lane = static_cast<int>(threadIdx.x & 31);
    const int n0 = (static_cast<int>(blockIdx.x) * 4 + warp) * RW;
    if (a.expert_idx == nullptr && n0 < a.n) {  // dense: this warp's RW weight rows are contiguous and known already
        const int64_t rows = min(RW, a.n - n0);
        prefetch_l2(a.w + (a.expert * a.n + n0) * a.row_bytes, rows * a.row_bytes, lane, 32);
    }
    grid_dependency_sync();  // PDL (launch.h); only weight prefetches before it
    if (n0 >= a.n) return;
    int64_t e, yr0;
    const bf16* xb;
    int mc;
    const uint8_t* wbase = a.w;
    const float* rsp = a.rs;
    if (a.expert_idx) {
        const int r = static_cast<int>(blockIdx.y);
        e = a.expert_idx[r];
        if (a.extra_w != nullptr && e == a.extra_expert) {  // uniform per block
            wbase = a.extra_w;
            rsp = a.extra_rs;
            e = 0;
        }
        xb = a.x + static_cast<int64_t>(a.x_row[r]) * a.ldx;
        mc = 1;
        yr0 = r;
    } else {
        const int m0 = static_cast<int>(blockIdx.y) * MT;
        e = a.expert;
        xb = a.x + static_cast<int64_t>(m0) * a.ldx;
        mc = min(MT, a.m - m0);
        yr0 = m0;
    }
    const uint8_t* wr[RW];
#pragma unroll
    for (int i = 0; i < RW; ++i) {
        const int64_t row = e * a.n + n0 + min(i, a.n - 1 - n0);
        wr[i] = wbase + row * a.row_bytes;
    }
    float acc[RW][MT];
#pragma unroll
    for (int i = 0; i < RW; ++i)
#pragma unroll
        for (int m = 0; m < MT; ++m) acc[i][m] = 0.0f;

    for (int c0 = lane; c0 < a.chunks; c0 += 32 * U) {
        uint4 wv[U][RW];
#pragma unroll
        for (int u = 0; u < U; ++u) {
            const int c = c0 + u * 32;
#pragma unroll
            for (int i = 0; i < RW; ++i)
                wv[u][i] = c < a.chunks ? ld_stream(wr[i] + static_cast<int64_t>(c) * 16) : make_uint4(0, 0, 0, 0);
        }
#pragma unroll
        for (int u = 0; u < U; ++u) {
            const int c = c0 + u * 32;
#pragma unroll
            for (int p = 0; p < EPC / 8; ++p) {
                const int kb = c * EPC + p * 8;
                // beyond the row (c >= chunks) or in the zero padding of the last chunk: x has nothing there
                if (c >= a.chunks || kb >= a.k) continue;
                float wf[RW][8];
#pragma unroll
                for (int i = 0; i < RW; ++i) decode_piece<F>(wv[u][i], p, wf[i]);
#pragma unroll
                for (int m = 0; m < MT; ++m) {
                    if (m < mc) {
                        const uint4 xv = __ldg(reinterpret_cast<const uint4*>(xb + m * a.ldx + kb));
                        float xf[8];
                        bf16x2_to_f32(xv.x, xf[0], xf[1]);
                        bf16x2_to_f32(xv.y, xf[2], xf[3]);
                        bf16x2_to_f32(xv.z, xf[4], xf[5]);
                        bf16x2_to_f32(xv.w, xf[6], xf[7]);
#pragma unroll
                        for (int i = 0; i < RW; ++i)
#pragma unroll
                            for (int j = 0; j < 8; ++j) acc[i][m] = fmaf(wf[i][j], xf[j], acc[i][m]);
                    }
                }
            }
        }
    }
#pragma unroll
    for (int i = 0; i < RW; ++i)
#pragma unroll
        for (int m = 0; m < MT; ++m) {
            float v = acc[i][m];
#pragma unroll
            for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
            acc[i][m] = v;
        }
    if (lane == 0) {
#pragma unroll
        for (int i = 0; i < RW; ++i) {
            const int n = n0 + i;
            if (n < a.n) {
                const float rs = rsp ? rsp[e * a.n + n] : 1.0f;
#pragma unroll
                for (int m = 0; m < MT; ++m)
                    if (m < mc) store_out(a.y, (yr0 + m) * a.ldy + n, acc[i][m] * rs, a.mode);
            }
        }
    }
}

// ------------------------------------------------------------------------------------------------ tensor-core tiles

struct TcArgs {
    const uint8_t* w;
    const float* rs;
    int64_t row_bytes;
    int n, k, kp;
    int64_t expert;
    const int4* tiles;       // grouped: chunk table of 128-row tiles (nvfp4::build_chunk_table); null for dense
    const int32_t* x_gather;  // grouped, optional: row r reads x[x_gather[r]]
    const bf16* x;
    int64_t ldx;
    int64_t m;
    void* y;
    int64_t ldy;
    OutMode mode;
};

constexpr int kBM = 128, kBN = 128, kBK = 32, kLDS = kBK + 8;

__device__ __forceinline__ uint32_t pack_bf16x2(float lo, float hi) {
    const __nv_bfloat162 v = __floats2bfloat162_rn(lo, hi);
    uint32_t r;
    memcpy(&r, &v, 4);
    return r;
}

// Raw weight bytes of one thread's part of a [kBN, kBK] tile: row tid/2, elements (tid%2)*16 .. +16.
struct WRaw {
    uint4 a, b;   // BF16: two 16-byte pieces; FP8: a
};

template <WeightFormat F>
__device__ __forceinline__ void tc_load_w(const TcArgs& a, int64_t e, int n0, int kt, WRaw& r) {
    const int tid = static_cast<int>(threadIdx.x);
    const int row = tid >> 1, half = tid & 1;
    const int n = n0 + row;
    const int kb = kt * kBK + half * 16;  // first element
    r.a = r.b = make_uint4(0, 0, 0, 0);
    if (n >= a.n || kb >= a.kp) return;
    const uint8_t* base = a.w + (e * a.n + n) * a.row_bytes;  // BF16 / FP8
    if constexpr (F == WeightFormat::BF16) {
        r.a = ld_stream(base + static_cast<int64_t>(kb) * 2);
        if (kb + 8 < a.kp) r.b = ld_stream(base + static_cast<int64_t>(kb + 8) * 2);
    } else {
        static_assert(F == WeightFormat::FP8, "NVFP4 has its own GEMM (nvfp4_gemm.cu)");
        r.a = ld_stream(base + kb);
    }
}

template <WeightFormat F>
__device__ __forceinline__ void tc_store_w(const WRaw& r, bf16* bs) {
    const int tid = static_cast<int>(threadIdx.x);
    const int row = tid >> 1, half = tid & 1;
    uint4* dst = reinterpret_cast<uint4*>(bs + row * kLDS + half * 16);
    if constexpr (F == WeightFormat::BF16) {
        dst[0] = r.a;
        dst[1] = r.b;
    } else {
        static_assert(F == WeightFormat::FP8, "NVFP4 has its own GEMM (nvfp4_gemm.cu)");
        const uint32_t w[4] = {r.a.x, r.a.y, r.a.z, r.a.w};
        uint32_t o[8];
#pragma unroll
        for (int q = 0; q < 4; ++q) {
            const float2 lo = e4m3x2_to_f32(w[q]), hi = e4m3x2_to_f32(w[q] >> 16);
            o[2 * q] = pack_bf16x2(lo.x, lo.y);
            o[2 * q + 1] = pack_bf16x2(hi.x, hi.y);
        }
        dst[0] = make_uint4(o[0], o[1], o[2], o[3]);
        dst[1] = make_uint4(o[4], o[5], o[6], o[7]);
    }
}

// BF16 / FP8 (NVFP4: nvfp4_gemm.cu). y[rows of the tile, n0 .. n0+128) (mode)= x · W[e]ᵀ · row_scale. 256 threads =
// 8 warps as 2 (M) x 4 (N), each warp 64 x 32 of the 128 x 128 tile with 16x16x16 bf16 mma (WMMA), fp32 accumulation. x tiles arrive by cp.async, weight
// tiles by registers (decoded to bf16 into shared memory), double-buffered. Grouped mode: blockIdx.y enumerates the
// 128-row tiles of every expert in order (the chunk table built on the device from the offsets); surplus blocks exit.
template <WeightFormat F>
__global__ void __launch_bounds__(256) tc_kernel(TcArgs a) {
    grid_dependency_sync();  // PDL: first statement (launch.h)
    using namespace nvcuda;
    __shared__ __align__(128) bf16 As[2][kBM * kLDS];
    __shared__ __align__(128) bf16 Bs[2][kBN * kLDS];
    __shared__ __align__(128) float Cs[8][256];

    int64_t e = a.expert, row0 = 0;
    int rows = 0;
    if (a.tiles) {
        const int t = static_cast<int>(blockIdx.y);
        if (t >= a.tiles[0].w) return;  // surplus block (the grid is sized for the worst case)
        const int4 tile = a.tiles[1 + t];
        e = tile.x;
        row0 = tile.y;
        rows = tile.z;
    } else {
        row0 = static_cast<int64_t>(blockIdx.y) * kBM;
        rows = static_cast<int>(min(static_cast<int64_t>(kBM), a.m - row0));
        if (rows <= 0) return;
    }
    const int n0 = static_cast<int>(blockIdx.x) * kBN;
    const int tid = static_cast<int>(threadIdx.x), warp = tid >> 5, lane = tid & 31;
    const int wm = warp >> 2, wn = warp & 3;
    const int KT = (a.kp + kBK - 1) / kBK;

    auto load_x = [&](int kt, int buf) {
#pragma unroll
        for (int j = 0; j < 2; ++j) {
            const int r = (tid >> 2) + j * 64, ch = tid & 3;
            const int kk = kt * kBK + ch * 8;
            const bool ok = r < rows && kk < a.k;
            const int64_t xr = a.x_gather != nullptr && ok ? a.x_gather[row0 + r] : row0 + r;
            const bf16* src = ok ? a.x + xr * a.ldx + kk : a.x;
            cp_async16(&As[buf][r * kLDS + ch * 8], src, ok ? 16 : 0);
        }
        cp_async_commit();
    };

    wmma::fragment<wmma::accumulator, 16, 16, 16, float> acc[4][2];
#pragma unroll
    for (int i = 0; i < 4; ++i)
#pragma unroll
        for (int j = 0; j < 2; ++j) wmma::fill_fragment(acc[i][j], 0.0f);

    WRaw raw;
    tc_load_w<F>(a, e, n0, 0, raw);
    load_x(0, 0);
    tc_store_w<F>(raw, Bs[0]);
    cp_async_wait<0>();
    __syncthreads();

    for (int kt = 0; kt < KT; ++kt) {
        const int cur = kt & 1;
        const bool more = kt + 1 < KT;
        if (more) {
            tc_load_w<F>(a, e, n0, kt + 1, raw);
            load_x(kt + 1, cur ^ 1);
        }
#pragma unroll
        for (int kk = 0; kk < kBK; kk += 16) {
            wmma::fragment<wmma::matrix_a, 16, 16, 16, bf16, wmma::row_major> af[4];
            wmma::fragment<wmma::matrix_b, 16, 16, 16, bf16, wmma::col_major> bfr[2];
#pragma unroll
            for (int i = 0; i < 4; ++i) wmma::load_matrix_sync(af[i], &As[cur][(wm * 64 + i * 16) * kLDS + kk], kLDS);
#pragma unroll
            for (int j = 0; j < 2; ++j) wmma::load_matrix_sync(bfr[j], &Bs[cur][(wn * 32 + j * 16) * kLDS + kk], kLDS);
#pragma unroll
            for (int i = 0; i < 4; ++i)
#pragma unroll
                for (int j = 0; j < 2; ++j) wmma::mma_sync(acc[i][j], af[i], bfr[j], acc[i][j]);
        }
        if (more) {
            tc_store_w<F>(raw, Bs[cur ^ 1]);
            cp_async_wait<0>();
        }
        __syncthreads();
    }

    const int r = lane >> 1, c0 = (lane & 1) * 8;
#pragma unroll
    for (int i = 0; i < 4; ++i)
#pragma unroll
        for (int j = 0; j < 2; ++j) {
            wmma::store_matrix_sync(Cs[warp], acc[i][j], 16, wmma::mem_row_major);
            __syncwarp();
            const int lr = wm * 64 + i * 16 + r;
            if (lr < rows) {
                const int64_t yrow = row0 + lr;
#pragma unroll
                for (int c = 0; c < 8; ++c) {
                    const int n = n0 + wn * 32 + j * 16 + c0 + c;
                    if (n < a.n) {
                        const float rs = a.rs ? a.rs[e * a.n + n] : 1.0f;
                        store_out(a.y, yrow * a.ldy + n, Cs[warp][r * 16 + c0 + c] * rs, a.mode);
                    }
                }
            }
            __syncwarp();
        }
}

// ------------------------------------------------------------------------------------------------ dequantize to bf16

// The dequantizers write the weight exactly (an E4M3 value, or an E2M1 code times its E4M3 block scale times 2^-7,
// fits bf16's 8-bit significand) and leave the row scale to the GEMM's alpha (dequant_blas), so the GEMM multiplies
// the checkpoint's own weights. fold_scale multiplies it in instead (one bf16 rounding per weight): only for weights
// whose scale changes every few rows (per-channel FP8), where one GEMM per scale would be too many.

// FP8: out[r, 0:Kp] = bf16(W[row0 + r, :] (· row_scale[row0 + r] when fold_scale)) for r < rows; one thread per
// 16-byte chunk.
__global__ void dequant_fp8_kernel(const uint8_t* w, const float* rs, int64_t row_bytes, int chunks, int64_t row0,
                                   int64_t rows, int kp, bool fold_scale, bf16* out) {
    grid_dependency_sync();  // PDL: first statement (launch.h)
    constexpr int EPC = elems_per_chunk<WeightFormat::FP8>();
    const int64_t idx = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
    if (idx >= rows * chunks) return;
    const int64_t r = idx / chunks;
    const int c = static_cast<int>(idx % chunks);
    const int64_t grow = row0 + r;
    const uint4 raw = ld_stream(w + grow * row_bytes + static_cast<int64_t>(c) * 16);
    const float rsv = fold_scale ? rs[grow] : 1.0f;
    uint4* dst = reinterpret_cast<uint4*>(out + r * kp + static_cast<int64_t>(c) * EPC);
#pragma unroll
    for (int p = 0; p < EPC / 8; ++p) {
        float wf[8];
        decode_piece<WeightFormat::FP8>(raw, p, wf);
        dst[p] = make_uint4(pack_bf16x2(wf[0] * rsv, wf[1] * rsv), pack_bf16x2(wf[2] * rsv, wf[3] * rsv),
                            pack_bf16x2(wf[4] * rsv, wf[5] * rsv), pack_bf16x2(wf[6] * rsv, wf[7] * rsv));
    }
}

// NVFP4: out[r, 0:Kp] for rows grow0 + r (global row = e * n + row in expert): code · block scale · 2^-7, times
// row_scale · 2^7 when fold_scale; one thread per block of 16.
__global__ void dequant_nvfp4_kernel(const uint8_t* w, const uint8_t* sc, const float* rs, int64_t n, int64_t np_tiles,
                                     int64_t kt64, int64_t grow0, int64_t rows, int kp, bool fold_scale, bf16* out) {
    grid_dependency_sync();  // PDL: first statement (launch.h)
    const int blocks = kp / 16;
    const int64_t idx = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
    if (idx >= rows * blocks) return;
    const int64_t r = idx / blocks, b = idx % blocks, grow = grow0 + r;
    const nvfp4::BlockAt at = nvfp4::block_at(grow / n, grow % n, b, np_tiles, kt64);
    const uint2 v = ld_stream8(w + at.code);
    const uint32_t sp = nvfp4::scale_pair(sc[at.scale]);
    const uint32_t words[2] = {v.x, v.y};
    uint32_t o[8];
#pragma unroll
    for (int q = 0; q < 8; ++q) o[q] = nvfp4::scaled_pair(words[q >> 2], q & 3, sp);  // exact: code * scale * 2^-7
    if (fold_scale) {
        const float post = rs[grow] * nvfp4::kPostScale;
#pragma unroll
        for (int q = 0; q < 8; ++q) {
            float lo, hi;
            bf16x2_to_f32(o[q], lo, hi);
            o[q] = pack_bf16x2(lo * post, hi * post);
        }
    }
    uint4* dst = reinterpret_cast<uint4*>(out + r * kp + b * 16);
    dst[0] = make_uint4(o[0], o[1], o[2], o[3]);
    dst[1] = make_uint4(o[4], o[5], o[6], o[7]);
}

// ------------------------------------------------------------------------------------------------ host side

void check_io(const DeviceWeight& w, const bf16* x, int64_t ldx, const void* y, int64_t ldy, const char* fn) {
    QINFER_CHECK(w.n() > 0 && !w.data().empty(), fn, ": weight is not allocated");
    QINFER_CHECK(x != nullptr && y != nullptr, fn, ": null x or y for weight [", w.experts(), ", ", w.n(), ", ",
                 w.k(), "]");
    QINFER_CHECK(ldx >= w.k() && ldx % 8 == 0 && reinterpret_cast<uintptr_t>(x) % 16 == 0, fn,
                 ": x must be 16-byte aligned with ldx a multiple of 8 and >= K (weight [", w.experts(), ", ", w.n(),
                 ", ", w.k(), "], ldx ", ldx, ")");
    QINFER_CHECK(ldy >= w.n(), fn, ": ldy ", ldy, " < N ", w.n(), " (weight [", w.experts(), ", ", w.n(), ", ",
                 w.k(), "])");
}

GemvArgs gemv_args(const DeviceWeight& w, const bf16* x, int64_t ldx, void* y, int64_t ldy, OutMode mode) {
    GemvArgs a{};
    const int64_t kp = k_padded(w.format(), w.k());
    a.w = w.data().as<uint8_t>();
    a.rs = w.row_scale().as<float>();
    a.row_bytes = data_row_bytes(w.format(), kp);
    a.n = static_cast<int>(w.n());
    a.k = static_cast<int>(w.k());
    a.chunks = static_cast<int>(a.row_bytes / 16);
    a.x = x;
    a.ldx = ldx;
    a.y = y;
    a.ldy = ldy;
    a.mode = mode;
    return a;
}

template <WeightFormat F, int MT, int RW>
void launch_gemv_t(const GemvArgs& a, int gy, cudaStream_t s) {
    const int gx = static_cast<int>((a.n + 4 * RW - 1) / (4 * RW));
    launch(gemv_kernel<F, MT, RW>, dim3(gx, gy), 128, 0, s, a);
}

template <WeightFormat F, int MT>
void launch_gemv_rw(const GemvArgs& a, int gy, cudaStream_t s) {
    // 4 rows per warp when there are enough warps to fill the GPU twice over; else 1 (small N: more parallelism).
    const int64_t blocks4 = (a.n + 15) / 16 * static_cast<int64_t>(gy);
    if (blocks4 >= 2 * sm_count())
        launch_gemv_t<F, MT, 4>(a, gy, s);
    else
        launch_gemv_t<F, MT, 1>(a, gy, s);
}

template <WeightFormat F>
void launch_gemv_f(const GemvArgs& a, int64_t m_rows, bool indexed, cudaStream_t s) {
    if (indexed) return launch_gemv_rw<F, 1>(a, static_cast<int>(m_rows), s);
    const int64_t m = m_rows;
    if (m <= 1) return launch_gemv_rw<F, 1>(a, 1, s);
    if (m <= 2) return launch_gemv_rw<F, 2>(a, 1, s);
    if (m <= 4) return launch_gemv_rw<F, 4>(a, 1, s);
    launch_gemv_rw<F, 8>(a, static_cast<int>((m + 7) / 8), s);
}

// m: the rows of x the kernel walks (dense M, the grouped row bound, 1 for indexed rows).
nvfp4::GemvArgs nvfp4_gemv_args(const DeviceWeight& w, const bf16* x, int64_t ldx, int64_t m, void* y, int64_t ldy,
                                 OutMode mode) {
    QINFER_CHECK(m <= INT32_MAX, "linear: too many rows (", m, ")");
    nvfp4::GemvArgs a{};
    a.m = static_cast<int>(m);
    a.codes = w.data().as<uint8_t>();
    a.scales = w.scales().as<uint8_t>();
    a.row_scale = w.row_scale().as<float>();
    a.n = static_cast<int>(w.n());
    a.k = static_cast<int>(w.k());
    a.np_tiles = nvfp4::padded_rows(w.n()) / nvfp4::kTileRows;
    a.kt = nvfp4::padded_k(w.k()) / nvfp4::kTileK;
    a.x = x;
    a.ldx = ldx;
    a.y = y;
    a.ldy = ldy;
    a.mode = mode;
    return a;
}

// The decode GEMV over any format: dense (expert, M rows of x) or indexed (x_row / expert_idx per output row).
// `extra` (indexed only): rows whose expert is w.experts() read that single-expert weight instead.
void launch_gemv(const DeviceWeight& w, int64_t expert, const bf16* x, int64_t ldx, int64_t m_rows,
                 const int32_t* x_row, const int32_t* expert_idx, void* y, int64_t ldy, OutMode mode, cudaStream_t s,
                 const DeviceWeight* extra = nullptr) {
    const bool indexed = expert_idx != nullptr;
    if (w.format() == WeightFormat::NVFP4) {
        nvfp4::GemvArgs a = nvfp4_gemv_args(w, x, ldx, indexed ? 1 : m_rows, y, ldy, mode);
        a.expert = expert;
        a.x_row = x_row;
        a.expert_idx = expert_idx;
        if (extra != nullptr) {
            a.extra_codes = extra->data().as<uint8_t>();
            a.extra_scales = extra->scales().as<uint8_t>();
            a.extra_row_scale = extra->row_scale().as<float>();
            a.extra_expert = static_cast<int>(w.experts());
        }
        return nvfp4::launch_gemv(a, m_rows, indexed, s);
    }
    QINFER_CHECK(m_rows <= 65535LL * (indexed ? 1 : 8), "linear: too many rows for the GEMV grid (", m_rows, ")");
    GemvArgs a = gemv_args(w, x, ldx, y, ldy, mode);
    a.expert = expert;
    a.m = indexed ? 1 : static_cast<int>(m_rows);
    a.x_row = x_row;
    a.expert_idx = expert_idx;
    if (extra != nullptr) {
        a.extra_w = extra->data().as<uint8_t>();
        a.extra_rs = extra->row_scale().as<float>();
        a.extra_expert = static_cast<int>(w.experts());
    }
    if (w.format() == WeightFormat::BF16) return launch_gemv_f<WeightFormat::BF16>(a, m_rows, indexed, s);
    launch_gemv_f<WeightFormat::FP8>(a, m_rows, indexed, s);
}

TcArgs tc_args(const DeviceWeight& w, const bf16* x, int64_t ldx, int64_t m, void* y, int64_t ldy, OutMode mode) {
    TcArgs a{};
    const int64_t kp = k_padded(w.format(), w.k());
    a.w = w.data().as<uint8_t>();
    a.rs = w.row_scale().as<float>();
    a.row_bytes = data_row_bytes(w.format(), kp);
    a.n = static_cast<int>(w.n());
    a.k = static_cast<int>(w.k());
    a.kp = static_cast<int>(kp);
    a.x = x;
    a.ldx = ldx;
    a.m = m;
    a.y = y;
    a.ldy = ldy;
    a.mode = mode;
    return a;
}

void launch_tc(WeightFormat f, const TcArgs& a, int64_t tiles_y, cudaStream_t s) {
    QINFER_CHECK(tiles_y <= 65535, "linear: too many row tiles for the tensor-core grid (", tiles_y, ")");
    const dim3 grid(static_cast<unsigned>((a.n + kBN - 1) / kBN), static_cast<unsigned>(tiles_y));
    switch (f) {
        case WeightFormat::BF16:
            launch(tc_kernel<WeightFormat::BF16>, grid, 256, 0, s, a);
            break;
        case WeightFormat::FP8:
            launch(tc_kernel<WeightFormat::FP8>, grid, 256, 0, s, a);
            break;
        case WeightFormat::NVFP4:
            QINFER_CHECK(false, "linear: NVFP4 runs nvfp4::launch_gemm, not the WMMA tile kernel");
    }
}

// y[M, N] (mode)= x[M, K] · W[N, K]ᵀ with W bf16 row-major (row stride ldw), through cuBLASLt (column-major view:
// Dᵀ[N, M] = Wᵀᵀ · xᵀ, i.e. A = W as K x N with op T, B = x as K x M).
// alpha scales the product (a dequantized weight's row scale); AddF32 adds alpha · x Wᵀ to y.
void lt_gemm(GemmContext& ctx, const bf16* W, int64_t ldw, int64_t n, int64_t k, const bf16* x, int64_t ldx, int64_t m,
             void* y, int64_t ldy, OutMode mode, cudaStream_t s, float alpha = 1.0f) {
    const cudaDataType_t yt = mode == OutMode::StoreBF16 ? CUDA_R_16BF : CUDA_R_32F;
    cublasLtMatmulDesc_t op = nullptr;
    cublasLtMatrixLayout_t la = nullptr, lb = nullptr, lc = nullptr;
    cublasLtMatmulPreference_t pref = nullptr;
    QINFER_CUBLAS_CHECK(cublasLtMatmulDescCreate(&op, CUBLAS_COMPUTE_32F, CUDA_R_32F));
    const cublasOperation_t tA = CUBLAS_OP_T, tB = CUBLAS_OP_N;
    QINFER_CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(op, CUBLASLT_MATMUL_DESC_TRANSA, &tA, sizeof tA));
    QINFER_CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(op, CUBLASLT_MATMUL_DESC_TRANSB, &tB, sizeof tB));
    QINFER_CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&la, CUDA_R_16BF, static_cast<uint64_t>(k), static_cast<uint64_t>(n), ldw));
    QINFER_CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&lb, CUDA_R_16BF, static_cast<uint64_t>(k), static_cast<uint64_t>(m), ldx));
    QINFER_CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&lc, yt, static_cast<uint64_t>(n), static_cast<uint64_t>(m), ldy));
    QINFER_CUBLAS_CHECK(cublasLtMatmulPreferenceCreate(&pref));
    const size_t ws = ctx.workspace_bytes();
    QINFER_CUBLAS_CHECK(cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &ws, sizeof ws));
    // The heuristic assumes 256-byte aligned matrices unless told otherwise; a scale run's rows start anywhere.
    const auto alignment = [](const void* p) {
        uint32_t a = 256;
        while (a > 1 && reinterpret_cast<uintptr_t>(p) % a != 0) a /= 2;
        return a;
    };
    const uint32_t al_a = alignment(W), al_b = alignment(x), al_c = alignment(y);
    QINFER_CUBLAS_CHECK(
        cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES, &al_a, sizeof al_a));
    QINFER_CUBLAS_CHECK(
        cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES, &al_b, sizeof al_b));
    QINFER_CUBLAS_CHECK(
        cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES, &al_c, sizeof al_c));
    QINFER_CUBLAS_CHECK(
        cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES, &al_c, sizeof al_c));
    cublasLtMatmulHeuristicResult_t heur{};
    int found = 0;
    QINFER_CUBLAS_CHECK(cublasLtMatmulAlgoGetHeuristic(ctx.handle(), op, la, lb, lc, lc, pref, 1, &heur, &found));
    QINFER_CHECK(found > 0, "linear: cuBLASLt has no algorithm for [", m, ", ", k, "] x [", n, ", ", k, "]ᵀ");
    const float beta = mode == OutMode::AddF32 ? 1.0f : 0.0f;
    QINFER_CUBLAS_CHECK(cublasLtMatmul(ctx.handle(), op, &alpha, W, la, x, lb, &beta, y, lc, y, lc, &heur.algo,
                                       ctx.workspace(), ws, s));
    cublasLtMatmulPreferenceDestroy(pref);
    cublasLtMatrixLayoutDestroy(lc);
    cublasLtMatrixLayoutDestroy(lb);
    cublasLtMatrixLayoutDestroy(la);
    cublasLtMatmulDescDestroy(op);
}

void dequant_blas(const DeviceWeight& w, int64_t expert, const bf16* x, int64_t m, int64_t ldx, void* y, int64_t ldy,
                  OutMode mode, GemmContext& ctx, cudaStream_t s) {
    const int64_t kp = k_padded(w.format(), w.k());
    const int64_t row_bytes = data_row_bytes(w.format(), kp);
    if (w.format() == WeightFormat::BF16) {
        lt_gemm(ctx, w.data().as<bf16>() + expert * w.n() * kp, kp, w.n(), w.k(), x, ldx, m, y, ldy, mode, s);
        return;
    }
    // Dequantize in slices of at most 32M elements (64 MB of scratch), each followed by its GEMM.
    const int64_t slice = std::max<int64_t>(128, std::min<int64_t>(w.n(), (int64_t{32} << 20) / kp));
    bf16* scratch = static_cast<bf16*>(ctx.scratch(static_cast<size_t>(slice * kp) * 2));
    const int chunks = static_cast<int>(row_bytes / 16);
    const size_t ysz = mode == OutMode::StoreBF16 ? 2 : 4;
    const float unit = w.format() == WeightFormat::NVFP4 ? nvfp4::kPostScale : 1.0f;  // the dequantized values' 2^-7
    constexpr size_t kMaxRuns = 8;  // scale runs per slice run as separate GEMMs; more are folded into the weights
    std::vector<DeviceWeight::ScaleRun> runs;
    for (int64_t n0 = 0; n0 < w.n(); n0 += slice) {
        const int64_t rows = std::min(slice, w.n() - n0);
        const int64_t grow0 = expert * w.n() + n0;
        // The scale runs over this slice's flattened rows [grow0, grow0 + rows), clipped to it.
        runs.clear();
        for (const DeviceWeight::ScaleRun& r : w.scale_runs()) {
            const int64_t a = std::max(r.row0, grow0), b = std::min(r.row0 + r.rows, grow0 + rows);
            if (a < b) runs.push_back({a, b - a, r.scale});
        }
        QINFER_CHECK(!runs.empty() && runs.front().row0 == grow0 && runs.back().row0 + runs.back().rows == grow0 + rows,
                     "linear: rows [", grow0, ", ", grow0 + rows, ") of a ", weight_format_name(w.format()),
                     " weight were never uploaded");
        const bool fold = runs.size() > kMaxRuns;
        const uint8_t* wd = w.data().as<uint8_t>();
        const float* rs = w.row_scale().as<float>();
        if (w.format() == WeightFormat::FP8) {
            const unsigned blocks = static_cast<unsigned>((rows * chunks + 255) / 256);
            launch(dequant_fp8_kernel, blocks, 256, 0, s, wd, rs, row_bytes, chunks, grow0, rows, static_cast<int>(kp),
                   fold, scratch);
        } else {
            const int64_t nthreads = rows * (kp / 16);
            launch(dequant_nvfp4_kernel, static_cast<unsigned>((nthreads + 255) / 256), 256, 0, s, wd,
                   w.scales().as<uint8_t>(), rs, w.n(), nvfp4::padded_rows(w.n()) / nvfp4::kTileRows,
                   kp / nvfp4::kTileK, grow0, rows, static_cast<int>(kp), fold, scratch);
        }
        if (fold) {
            lt_gemm(ctx, scratch, kp, rows, w.k(), x, ldx, m, static_cast<char*>(y) + n0 * ysz, ldy, mode, s);
            continue;
        }
        for (const DeviceWeight::ScaleRun& r : runs) {
            const int64_t off = r.row0 - grow0;  // within the slice
            lt_gemm(ctx, scratch + off * kp, kp, r.rows, w.k(), x, ldx, m, static_cast<char*>(y) + (n0 + off) * ysz,
                    ldy, mode, s, r.scale * unit);
        }
    }
}

}  // namespace

// ------------------------------------------------------------------------------------------------ public API

const char* weight_format_name(WeightFormat f) {
    switch (f) {
        case WeightFormat::BF16: return "bf16";
        case WeightFormat::NVFP4: return "nvfp4";
        case WeightFormat::FP8: return "fp8";
    }
    return "?";
}

void set_gemm_path(GemmPath p) { g_path = p; }
const char* gemm_path_name(GemmPath p) {
    switch (p) {
        case GemmPath::Auto: return "auto";
        case GemmPath::Gemv: return "gemv";
        case GemmPath::TensorCore: return "tensorcore";
        case GemmPath::DequantBlas: return "dequant+cublaslt";
        case GemmPath::Wgmma:
            return "wgmma";
    }
    return "?";
}

DeviceWeight::DeviceWeight(WeightFormat format, int64_t experts, int64_t n, int64_t k)
    : format_(format), experts_(experts), n_(n), k_(k) {
    QINFER_CHECK(experts > 0 && n > 0 && k > 0, "DeviceWeight: bad shape [", experts, ", ", n, ", ", k, "]");
    QINFER_CHECK(format != WeightFormat::NVFP4 || k % 16 == 0, "DeviceWeight: NVFP4 weight [", experts, ", ", n, ", ",
                 k, "] needs K % 16 == 0");
    QINFER_CHECK(k % 8 == 0, "DeviceWeight: ", weight_format_name(format), " weight [", experts, ", ", n, ", ", k,
                 "] needs K % 8 == 0 (16-byte activation loads)");
    QINFER_CHECK(experts * n < (int64_t{1} << 31) && k < (int64_t{1} << 30), "DeviceWeight: weight [", experts, ", ", n,
                 ", ", k, "] too large");
    const int64_t kp = k_padded(format, k);
    const int64_t rows = experts * n;
    if (format == WeightFormat::NVFP4) {
        const int64_t tiled_rows = experts * nvfp4::padded_rows(n);  // every expert padded to whole 16-row tiles
        data_ = DeviceBuffer(static_cast<size_t>(tiled_rows * kp / 2));
        scales_ = DeviceBuffer(static_cast<size_t>(tiled_rows * (kp / 16)));
        QINFER_CUDA_CHECK(cudaMemset(scales_.data(), 0, scales_.bytes()));
    } else {
        data_ = DeviceBuffer(static_cast<size_t>(rows * data_row_bytes(format, kp)));
    }
    QINFER_CUDA_CHECK(cudaMemset(data_.data(), 0, data_.bytes()));
    if (format != WeightFormat::BF16) row_scale_ = DeviceBuffer(static_cast<size_t>(rows) * sizeof(float));
}

void DeviceWeight::upload_rows(int64_t row0, int64_t rows, const void* data, const uint8_t* block_scales, float scale) {
    QINFER_CHECK(row0 >= 0 && rows >= 0 && row0 + rows <= experts_ * n_, "DeviceWeight::upload_rows: rows [", row0,
                 ", ", row0 + rows, ") outside the weight's ", experts_ * n_, " rows");
    if (rows == 0) return;
    QINFER_CHECK(data != nullptr, "DeviceWeight::upload_rows: null data");
    const int64_t kp = k_padded(format_, k_);
    if (format_ == WeightFormat::NVFP4) {
        QINFER_CHECK(block_scales != nullptr, "DeviceWeight::upload_rows: NVFP4 needs block scales");
        nvfp4::upload_rows(data_.as<uint8_t>(), scales_.as<uint8_t>(), n_, k_, row0, rows,
                           static_cast<const uint8_t*>(data), block_scales);
    } else {
        const int64_t drb = data_row_bytes(format_, kp);
        const int64_t src_rb = data_row_bytes(format_, k_);
        QINFER_CUDA_CHECK(cudaMemcpy2D(data_.as<uint8_t>() + row0 * drb, static_cast<size_t>(drb), data,
                                       static_cast<size_t>(src_rb), static_cast<size_t>(src_rb),
                                       static_cast<size_t>(rows), cudaMemcpyHostToDevice));
    }
    if (format_ != WeightFormat::BF16) {
        const std::vector<float> rs(static_cast<size_t>(rows), scale);
        QINFER_CUDA_CHECK(cudaMemcpy(row_scale_.as<float>() + row0, rs.data(), rs.size() * sizeof(float),
                                     cudaMemcpyHostToDevice));
        record_scale_run(row0, rows, scale);
    }
}

void DeviceWeight::record_scale_run(int64_t row0, int64_t rows, float scale) {
    if (rows == 0) return;
    // Appends r, merged into the last run when the two touch and share the scale.
    const auto push = [](std::vector<ScaleRun>& v, const ScaleRun& r) {
        if (!v.empty() && v.back().row0 + v.back().rows == r.row0 && v.back().scale == r.scale)
            v.back().rows += r.rows;
        else
            v.push_back(r);
    };
    if (scale_runs_.empty() || scale_runs_.back().row0 + scale_runs_.back().rows <= row0) {  // appending (usual)
        push(scale_runs_, {row0, rows, scale});
        return;
    }
    // Out of order or over earlier rows: keep the parts of earlier runs outside [row0, end), then sort and merge.
    const int64_t end = row0 + rows;
    std::vector<ScaleRun> out;
    for (const ScaleRun& r : scale_runs_) {
        if (r.row0 < row0) out.push_back({r.row0, std::min(r.row0 + r.rows, row0) - r.row0, r.scale});
        if (r.row0 + r.rows > end) {
            const int64_t b = std::max(r.row0, end);
            out.push_back({b, r.row0 + r.rows - b, r.scale});
        }
    }
    out.push_back({row0, rows, scale});
    std::sort(out.begin(), out.end(), [](const ScaleRun& a, const ScaleRun& b) { return a.row0 < b.row0; });
    scale_runs_.clear();
    for (const ScaleRun& r : out) push(scale_runs_, r);
}

void DeviceWeight::copy_rows_from(int64_t row0, const DeviceWeight& src) {
    const int64_t rows = src.experts_ * src.n_;
    QINFER_CHECK(format_ != WeightFormat::NVFP4 && src.format_ == format_ && src.k_ == k_ && row0 >= 0 &&
                     row0 + rows <= experts_ * n_,
                 "DeviceWeight::copy_rows_from: ", weight_format_name(src.format_), " [", rows, ", ", src.k_,
                 "] does not fit rows [", row0, ", ", row0 + rows, ") of ", weight_format_name(format_), " [",
                 experts_ * n_, ", ", k_, "] (BF16 / FP8 only)");
    const int64_t drb = data_row_bytes(format_, k_padded(format_, k_));
    QINFER_CUDA_CHECK(cudaMemcpy(data_.as<uint8_t>() + row0 * drb, src.data_.data(), static_cast<size_t>(rows * drb),
                                 cudaMemcpyDeviceToDevice));
    if (format_ != WeightFormat::BF16) {
        QINFER_CUDA_CHECK(cudaMemcpy(row_scale_.as<float>() + row0, src.row_scale_.data(),
                                     static_cast<size_t>(rows) * sizeof(float), cudaMemcpyDeviceToDevice));
        for (const ScaleRun& r : src.scale_runs_) record_scale_run(row0 + r.row0, r.rows, r.scale);
    }
}

uint64_t DeviceWeight::bytes() const { return data_.bytes() + scales_.bytes() + row_scale_.bytes(); }
uint64_t DeviceWeight::expert_bytes() const { return experts_ > 0 ? bytes() / static_cast<uint64_t>(experts_) : 0; }

GemmContext::GemmContext() {
    QINFER_CUBLAS_CHECK(cublasLtCreate(&handle_));
    workspace_ = DeviceBuffer(size_t{32} << 20);
    // Settles (once per process, with a probe launch and a copy) whether the wgmma GEMM can run, here rather than at
    // the first large prefill, which could be inside a stream capture.
    (void)sm90a_available();
}
GemmContext::~GemmContext() {
    if (handle_) cublasLtDestroy(handle_);
}
void* GemmContext::chunk_table(size_t bytes) {
    if (chunk_table_.bytes() < bytes) {
        chunk_table_ = DeviceBuffer();
        chunk_table_ = DeviceBuffer(std::max<size_t>(bytes, size_t{4} << 20));
    }
    return chunk_table_.data();
}

void* GemmContext::scratch(size_t bytes) {
    if (scratch_.bytes() < bytes) {
        scratch_ = DeviceBuffer();  // free first: never hold both
        scratch_ = DeviceBuffer(bytes);
    }
    return scratch_.data();
}

void linear(const DeviceWeight& w, int64_t expert, const bf16* x, int64_t m, int64_t ldx, void* y, int64_t ldy,
            OutMode mode, GemmContext& ctx, cudaStream_t stream) {
    QINFER_CHECK(m >= 0, "linear: M = ", m);
    if (m == 0) return;
    check_io(w, x, ldx, y, ldy, "linear");
    QINFER_CHECK(expert >= 0 && expert < w.experts(), "linear: expert ", expert, " outside [0, ", w.experts(), ")");
    GemmPath path = g_path;
    if (path == GemmPath::Auto) {
        // Measured on the H100 (docs/perf/linear.md): the GEMV wins up to M = 8; from M = 64 on, dequantize +
        // cuBLASLt beats the WMMA tile kernel for every format (NVFP4 [12288, 2048]: 65 vs 83 us at M = 64,
        // 115 vs 384 us at M = 1024), so the tile kernel serves only linear_grouped.
        path = m <= 8 ? GemmPath::Gemv : GemmPath::DequantBlas;
        // NVFP4 at 9..64 rows (decode of 9..64 sequences): the tensor-core GEMM (128-row CTAs, weights read once,
        // no BF16 copy) wins where it gets >= 64 CTAs or K is short; with few CTAs over a long K its pipeline latency
        // loses to dequantize + cuBLASLt. Measured (kbench_linear --m64, M = 64, us, TC vs dequant): [12288, 2048]
        // 30 vs 49, [9216, 2048] 30 vs 37, [2048, 512] 13 vs 20; [2048, 4096] 51 vs 24, [1024, 2048] 29 vs 20,
        // [64, 2048] 29 vs 20.
        if (w.format() == WeightFormat::NVFP4 && m > 8 && m <= 64 && (w.n() >= 64 * 128 || w.k() <= 512))
            path = GemmPath::TensorCore;
    }
    switch (path) {
        case GemmPath::Auto:
        case GemmPath::Gemv: launch_gemv(w, expert, x, ldx, m, nullptr, nullptr, y, ldy, mode, stream); break;
        case GemmPath::TensorCore:
        case GemmPath::Wgmma: {
            if (w.format() == WeightFormat::NVFP4) {
                nvfp4::GemvArgs a = nvfp4_gemv_args(w, x, ldx, m, y, ldy, mode);
                a.expert = expert;
                if (path == GemmPath::Wgmma)
                    nvfp4::launch_gemm_wgmma(a, m, stream);
                else
                    nvfp4::launch_gemm(a, m, stream);
                break;
            }
            TcArgs a = tc_args(w, x, ldx, m, y, ldy, mode);
            a.expert = expert;
            launch_tc(w.format(), a, (m + kBM - 1) / kBM, stream);
            break;
        }
        case GemmPath::DequantBlas: dequant_blas(w, expert, x, m, ldx, y, ldy, mode, ctx, stream); break;
    }
}

void linear_grouped(const DeviceWeight& w, const bf16* x, int64_t m, int64_t ldx, const int32_t* offsets, void* y,
                    int64_t ldy, OutMode mode, GemmContext& ctx, cudaStream_t stream, const int32_t* x_gather) {
    QINFER_CHECK(m >= 0, "linear_grouped: M = ", m);
    if (m == 0) return;
    check_io(w, x, ldx, y, ldy, "linear_grouped");
    QINFER_CHECK(offsets != nullptr, "linear_grouped: null offsets");
    GemmPath path = g_path;
    if (path == GemmPath::Auto || path == GemmPath::DequantBlas)
        // Few rows per expert (decode of many sequences: B = 64 puts ~2 rows on each of ~220 experts): the tensor-core
        // GEMV reads each expert's weights once per 8 rows, where a 128-row tile would be nearly empty.
        // Many rows: the tile GEMM. NVFP4 with at least one full 128-row chunk per expert on average (an 8k-token
        // prefill: 256) runs on wgmma where the device has it; with fewer rows most chunks are partial, which the
        // mma.sync kernel skips in 8-token groups and wgmma (n = 128 always) does not. Measured (kbench_linear
        // --prefill, 256 experts, top-8, us, mma.sync / wgmma): 8k tokens gate_up 975 / 858, down 598 / 540; 1k tokens
        // 282 / 335, 177 / 206 (docs/perf/linear.md, seventh session).
        path = w.format() == WeightFormat::NVFP4 && m <= 8 * w.experts() ? GemmPath::Gemv
               : w.format() == WeightFormat::NVFP4 && m >= 128 * w.experts() && sm90a_available()
                   ? GemmPath::Wgmma
                   : GemmPath::TensorCore;
    if (w.format() == WeightFormat::NVFP4) {
        const bool gemv = path == GemmPath::Gemv;
        nvfp4::GemvArgs a = nvfp4_gemv_args(w, x, ldx, m, y, ldy, mode);
        a.offsets = offsets;
        a.x_gather = x_gather;
        a.num_experts = static_cast<int>(w.experts());
        a.chunks = static_cast<int4*>(
            ctx.chunk_table(nvfp4::grouped_chunk_table_bytes(m, w.experts(), gemv ? 8 : nvfp4::kGemmTokens)));
        if (gemv)
            nvfp4::launch_gemv(a, m, false, stream);
        else if (path == GemmPath::Wgmma)
            nvfp4::launch_gemm_wgmma(a, m, stream);
        else
            nvfp4::launch_gemm(a, m, stream);
        return;
    }
    TcArgs a = tc_args(w, x, ldx, m, y, ldy, mode);
    int4* tiles = static_cast<int4*>(ctx.chunk_table(nvfp4::grouped_chunk_table_bytes(m, w.experts(), kBM)));
    nvfp4::build_chunk_table(offsets, static_cast<int>(w.experts()), m, kBM, tiles, stream);
    a.tiles = tiles;
    a.x_gather = x_gather;
    // Every expert's last tile may be partial: at most ceil(m / 128) + E tiles.
    launch_tc(w.format(), a, (m + kBM - 1) / kBM + w.experts(), stream);
}

void linear_indexed(const DeviceWeight& w, const bf16* x, int64_t ldx, const int32_t* x_row, const int32_t* expert,
                    int64_t rows, void* y, int64_t ldy, OutMode mode, GemmContext& ctx, cudaStream_t stream,
                    const DeviceWeight* extra) {
    (void)ctx;
    QINFER_CHECK(rows >= 0, "linear_indexed: rows = ", rows);
    if (rows == 0) return;
    check_io(w, x, ldx, y, ldy, "linear_indexed");
    QINFER_CHECK(x_row != nullptr && expert != nullptr, "linear_indexed: null x_row or expert");
    if (extra != nullptr) {
        QINFER_CHECK(
            extra->format() == w.format() && extra->experts() == 1 && extra->n() == w.n() && extra->k() == w.k(),
            "linear_indexed: the extra expert must be one ", weight_format_name(w.format()), " [", w.n(), ", ", w.k(),
            "] weight, got ", weight_format_name(extra->format()), " [", extra->experts(), ", ", extra->n(), ", ",
            extra->k(), "]");
    }
    launch_gemv(w, 0, x, ldx, rows, x_row, expert, y, ldy, mode, stream, extra);
}

bool gated_gemv_supported(const DeviceWeight& w, int64_t m) {
    return w.format() == WeightFormat::NVFP4 && m >= 1 && m <= 8;
}

void linear_gated(const DeviceWeight& w, const bf16* x, int64_t m, int64_t ldx, void* y, int64_t ldy, OutMode mode,
                  const float* gate_logit, int64_t ld_gate, cudaStream_t stream) {
    check_io(w, x, ldx, y, ldy, "linear_gated");
    QINFER_CHECK(gated_gemv_supported(w, m), "linear_gated: needs NVFP4 weights and 1..8 rows (weight ",
                 weight_format_name(w.format()), " [", w.experts(), ", ", w.n(), ", ", w.k(), "], ", m, " rows)");
    QINFER_CHECK(gate_logit != nullptr, "linear_gated: null gate logits");
    nvfp4::GemvArgs a = nvfp4_gemv_args(w, x, ldx, m, y, ldy, mode);
    a.sigmoid_gate = gate_logit;
    a.ld_gate = ld_gate;
    nvfp4::launch_gemv(a, m, false, stream);
}

}  // namespace qinfer::cuda
