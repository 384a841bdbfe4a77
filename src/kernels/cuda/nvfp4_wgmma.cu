// NVFP4 W4A16 prefill GEMM on Hopper's warpgroup tensor cores (wgmma): nvfp4_gemv.h launch_gemm_wgmma. Same
// operation, arguments and fragment-tile weights as nvfp4_gemm.cu's mma.sync kernel (dense or grouped by expert,
// optional gathered x rows, every OutMode), built for the 8k-token prefill's expert GEMMs, where mma.sync with 255
// registers and 2 warps per scheduler left the tensor pipe ~43 % busy (docs/perf/linear.md).
//
// Operands: the weights are wgmma's A operand from registers (M = weight rows), decoded exactly from the fragment
// tiles as in the other kernels; the tokens are B, read by wgmma straight from shared memory (N = 128 tokens).
// k order: wgmma's k16 step s of a 64-wide k tile is physical k 16 s .. 16 s + 15 in natural order, so each token's
// 64-k row (128 bytes) is eight 16-byte chunks that cp.async copies unchanged into the K-major 128-byte-swizzle
// layout: token t's row at (t / 8) * 1024 + (t % 8) * 128, chunk ch at 16-byte slot ch ^ (t % 8) (the XOR spreads
// the 8 rows of a core matrix over all banks; the no-swizzle layout ran slower than mma.sync, see below). The A
// side follows: thread (g, c) of a warp needs codes 2c, 2c+1 and 2c+8, 2c+9 of block s of rows g and g + 8, which
// sit in the 16 bytes fragment-tile lane 4 g + s stored (nvfp4_tiles.cuh); it reads them from shared memory (one
// 16-byte load per tile and step) and extracts its pairs with code_pair(word, c).
//
// CTA: 256 threads = 2 warpgroups over 256 weight rows x 128 tokens; warpgroup w owns rows 128 w .. + 128 as two
// m64n128k16 wgmma per k16 step (warp q of the group: rows 16 q .. + 16 of each 64; 2 x 64 fp32 accumulators per
// thread). Per 64-wide k tile the 8 wgmma (4 k16 steps x 2 tiles) are issued back to back as one group, and the next
// k tile's A fragments are decoded while they run (two register buffers of a whole k tile; wgmma.wait_group 1).
// kStages-deep cp.async ring (x chunks, codes, scales) as nvfp4_gemm.cu, refilled one k tile later (the stage k tile
// kt - 1 read, once its group has completed); the async proxy reads shared memory, so every thread fences
// (fence.proxy.async) its landed copies before the barrier. The CTA's rows and the epilogue (fp32 tile staged through
// shared memory, row scale x 2^7, coalesced rows of y) are nvfp4_gemm_common.cuh's, shared with nvfp4_gemm.cu.
//
// Versions measured (kbench_linear --prefill, docs/perf/linear.md): step-by-step groups drained at every k tile:
// 190 us where mma.sync takes 170 (dense [12288, 2048], 1024 tokens); whole-tile groups, no-swizzle layout: still
// 1416 vs 1283 us at 8192 tokens; with the 128-byte swizzle (this file) 1036 us. An n64 wgmma for chunks of <= 64
// rows (a runtime branch in the loop) made the 8k grouped GEMMs slower (902 vs 858 us) and was dropped.
// Needs sm_90a (wgmma): compiled only for that target (QINFER_WGMMA), launch_gemm_wgmma checks the device.

#include <type_traits>

#include "core/check.h"
#include "kernels/cuda/check.h"
#include "kernels/cuda/launch.h"
#include "kernels/cuda/gemm_common.cuh"
#include "kernels/cuda/nvfp4_gemm_common.cuh"
#include "kernels/cuda/nvfp4_gemv.h"
#include "kernels/cuda/nvfp4_tiles.cuh"
#include "kernels/cuda/sm90.cuh"
#include "kernels/cuda/sm90.h"

namespace qinfer::cuda::nvfp4 {

namespace {

constexpr int kTokens = kGemmTokens;       // 128 tokens per CTA (B's N)
constexpr int kTiles = 16;                 // fragment tiles per CTA: 256 weight rows
constexpr int kRows = kTiles * kTileRows;  // 256
constexpr int kStages = 5;
constexpr int kXBytes = kTokens * kTileK * 2;                    // 16 KB: 8 chunks x 16 token groups x 128 B
constexpr int kCodeBytes = kTiles * kTileCodeBytes;              // 8 KB
constexpr int kScaleBytes = kTiles * kTileScaleBytes;            // 1 KB
constexpr int kStageBytes = kXBytes + kCodeBytes + kScaleBytes;  // 25 KB (x first: 1 KB-aligned stage bases)
constexpr int kOutStride = kRows + 4;                            // floats per token row of the epilogue stage
constexpr int kSmemBytes =
    kStages * kStageBytes > kTokens* kOutStride * 4 ? kStages* kStageBytes : kTokens* kOutStride * 4;
constexpr uint32_t kSbo = 1024;  // bytes between token groups of 8 (one 128-byte-swizzle atom: 8 rows x 128 bytes)

using sm90::fence_proxy_async_smem;
using sm90::wgmma_commit;
using sm90::wgmma_fence;
using sm90::wgmma_m64n128k16;
using sm90::wgmma_wait;

// A fragments of one tile for k16 step s: rows g / g + 8, codes (2c, 2c+1) and (2c+8, 2c+9) of NVFP4 block s,
// times the block scales (exact bf16, x 2^-7 as every decoder here).
__device__ __forceinline__ void decode_step(const uint8_t* codes, const uint8_t* scales, int g, int c, int s,
                                            uint32_t (&a)[4]) {
    const uint4 q = *reinterpret_cast<const uint4*>(codes + (4 * g + s) * 16);
    const uint32_t s16 = *reinterpret_cast<const uint16_t*>(scales + (4 * g + s) * 2);
    const uint32_t sg = scale_pair(s16), sg8 = scale_pair(s16 >> 8);
    a[0] = scaled_pair(q.x, c, sg);   // row g,     k 2c, 2c+1
    a[1] = scaled_pair(q.z, c, sg8);  // row g + 8, k 2c, 2c+1
    a[2] = scaled_pair(q.y, c, sg);   // row g,     k 2c+8, 2c+9
    a[3] = scaled_pair(q.w, c, sg8);  // row g + 8, k 2c+8, 2c+9
}

__global__ void __launch_bounds__(256, 1) gemm_wgmma_kernel(GemvArgs a) {
    grid_dependency_sync();  // PDL: first statement (launch.h)
    extern __shared__ __align__(1024) uint8_t smem[];
    int64_t e = 0, row0 = 0;
    int rows = 0;
    if (!cta_rows(a, kTokens, e, row0, rows)) return;  // surplus block: uniform per block
    const int rt0 = static_cast<int>(blockIdx.x) * kTiles;
    const int tid = static_cast<int>(threadIdx.x), warp = tid >> 5, lane = tid & 31;
    const int g = lane >> 2, c = lane & 3;
    const int wg = warp >> 2, wq = warp & 3;  // warpgroup, warp in the group
    const int KT = static_cast<int>(a.kt);

    // Copies per stage. Codes: 512 16-byte chunks, 2 per thread (tile tid / 32 + 8 j, lane chunk tid % 32); scales:
    // 64 chunks (threads < 64: tile tid / 4, 16 bytes tid % 4). x: 1024 chunks, 4 per thread: token (tg, r) and chunk
    // ch with r = lane % 8, tg = warp + 8 (j & 1), ch = lane / 8 + 4 (j >> 1): a warp's copies land in distinct
    // 16-byte bank groups (conflict-free) and read 64 contiguous bytes of each of 8 token rows.
    const int c_tl = tid >> 5;
    const uint8_t* code_src = a.codes + ((e * a.np_tiles + rt0 + c_tl) * a.kt) * kTileCodeBytes + (tid & 31) * 16;
    const int64_t code_jstride = 8 * a.kt * kTileCodeBytes;
    const bool scale_copy = tid < kScaleBytes / 16;
    const bool scale_ok = scale_copy && rt0 + (tid >> 2) < a.np_tiles;
    const uint8_t* scale_src =
        a.scales + ((e * a.np_tiles + rt0 + (tid >> 2)) * a.kt) * kTileScaleBytes + (tid & 3) * 16;
    const int x_r = lane & 7, x_chq = lane >> 3;
    int x_row[2];  // source rows of tokens (warp, r) and (warp + 8, r); gathered when a.x_gather is set
    bool x_live[2];
#pragma unroll
    for (int h = 0; h < 2; ++h) {
        const int tl = (warp + 8 * h) * 8 + x_r;
        x_live[h] = tl < rows;
        const int64_t r = row0 + tl;
        x_row[h] = static_cast<int>(a.x_gather != nullptr ? (x_live[h] ? a.x_gather[r] : 0) : r);
    }
    auto load_stage = [&](int kt, int st) {
        uint8_t* sb = smem + st * kStageBytes;
#pragma unroll
        for (int j = 0; j < 4; ++j) {
            const int h = j & 1, ch = x_chq + 4 * (j >> 1);
            const int tg = warp + 8 * h;
            const int k0 = kt * kTileK + ch * 8;
            const bool ok = x_live[h] && k0 < a.k;  // K % 16 == 0: a chunk is all in or all out
            cp_async16(sb + tg * kSbo + x_r * 128 + ((ch ^ x_r) * 16),
                       ok ? a.x + static_cast<int64_t>(x_row[h]) * a.ldx + k0 : a.x, ok ? 16 : 0);
        }
#pragma unroll
        for (int j = 0; j < 2; ++j) {
            const bool ok = rt0 + c_tl + 8 * j < a.np_tiles;
            const uint8_t* src = ok ? code_src + j * code_jstride + kt * kTileCodeBytes : a.codes;
            cp_async16(sb + kXBytes + (c_tl + 8 * j) * kTileCodeBytes + (tid & 31) * 16, src, ok ? 16 : 0);
        }
        if (scale_copy)
            cp_async16(sb + kXBytes + kCodeBytes + tid * 16, scale_ok ? scale_src + kt * kTileScaleBytes : a.scales,
                       scale_ok ? 16 : 0);
    };

    float acc[2][64];
#pragma unroll
    for (int i = 0; i < 2; ++i)
#pragma unroll
        for (int v = 0; v < 64; ++v) acc[i][v] = 0.0f;

#pragma unroll
    for (int s = 0; s < kStages - 1; ++s) {
        if (s < KT) load_stage(s, s);
        cp_async_commit();
    }
    // This warp's two tiles in a stage: rows 128 wg + 64 i + 16 wq.
    const int tile0 = wg * 8 + wq, tile1 = tile0 + 4;
    // A fragments of a whole k tile (4 steps x 2 tiles), double-buffered across k tiles: k tile kt + 1 is decoded
    // while k tile kt's 8 wgmma run.
    uint32_t af[2][4][2][4];  // [buffer][step][tile][reg]
    const auto decode_tile = [&](int st, uint32_t(&f)[4][2][4]) {
        const uint8_t* codes = smem + st * kStageBytes + kXBytes;
        const uint8_t* scales = codes + kCodeBytes;
#pragma unroll
        for (int s = 0; s < 4; ++s) {
            decode_step(codes + tile0 * kTileCodeBytes, scales + tile0 * kTileScaleBytes, g, c, s, f[s][0]);
            decode_step(codes + tile1 * kTileCodeBytes, scales + tile1 * kTileScaleBytes, g, c, s, f[s][1]);
        }
    };
    cp_async_wait<kStages - 2>();  // stage 0 has landed (this thread's copies)
    fence_proxy_async_smem();      // ... visible to wgmma's operand reads
    __syncthreads();               // everyone's
    decode_tile(0, af[0]);
    // One k tile with A buffer B (a compile-time index: the loop runs two k tiles per iteration, so af stays in
    // registers).
    const auto k_tile = [&](int kt, auto bc) {
        constexpr int B = decltype(bc)::value;
        const uint8_t* sb = smem + (kt % kStages) * kStageBytes;
        wgmma_fence();  // the A registers (and, the first time, the accumulators) were written by this thread
#pragma unroll
        for (int s = 0; s < 4; ++s) {
            const uint64_t desc = sm90::sw128_desc(sb + s * 32, kSbo);
            wgmma_m64n128k16(acc[0], af[B][s][0], desc);
            wgmma_m64n128k16(acc[1], af[B][s][1], desc);
        }
        wgmma_commit();
        if (kt + 1 < KT) {
            wgmma_wait<1>();               // k tile kt - 1's group is done: its A buffer and its stage are free
            cp_async_wait<kStages - 3>();  // stage kt + 1 has landed (this thread's copies)
            fence_proxy_async_smem();
            __syncthreads();  // everyone's copies; every warpgroup is past k tile kt - 1's wgmma
            {
                const int nk = kt + kStages - 1;  // into stage (kt - 1) % kStages
                if (nk < KT) load_stage(nk, nk % kStages);
                cp_async_commit();  // (possibly empty: keeps the group count uniform)
            }
            decode_tile((kt + 1) % kStages, af[B ^ 1]);
        }
    };
    for (int kt = 0; kt < KT; kt += 2) {
        k_tile(kt, std::integral_constant<int, 0>{});
        if (kt + 1 < KT) k_tile(kt + 1, std::integral_constant<int, 1>{});
    }
    wgmma_wait<0>();

    // Epilogue (as nvfp4_gemm.cu): fp32 tile -> shared [token, n] -> y rows. acc[i][4 j + v]: row 16 wq + g + 8 (v / 2)
    // of m64 block (wg, i), token 8 j + 2 c + (v % 2).
    cp_async_wait<0>();
    __syncthreads();
    float* cs = reinterpret_cast<float*>(smem);
#pragma unroll
    for (int i = 0; i < 2; ++i)
#pragma unroll
        for (int j = 0; j < 16; ++j)
#pragma unroll
            for (int v = 0; v < 4; ++v) {
                const int nl = wg * 128 + i * 64 + wq * 16 + g + (v >> 1) * 8;
                const int tl = j * 8 + 2 * c + (v & 1);
                cs[tl * kOutStride + nl] = acc[i][4 * j + v];
            }
    __syncthreads();
    store_staged_tile<kRows>(a, cs, kOutStride, e, row0, rows);
}

}  // namespace

void launch_gemm_wgmma(const GemvArgs& a, int64_t rows, cudaStream_t s) {
    QINFER_CHECK(sm90a_available(), "nvfp4 wgmma GEMM: needs an sm_90 (Hopper) device and an sm_90a build");
    int64_t gy = 0;
    const GemvArgs b = prepare_gemm(a, rows, &gy, s);
    static const bool configured = [] {
        QINFER_CUDA_CHECK(
            cudaFuncSetAttribute(gemm_wgmma_kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, kSmemBytes));
        return true;
    }();
    (void)configured;
    const int64_t gx = (b.np_tiles + kTiles - 1) / kTiles;
    launch(gemm_wgmma_kernel, dim3(static_cast<unsigned>(gx), static_cast<unsigned>(gy)), 256, kSmemBytes, s, b);
}

}  // namespace qinfer::cuda::nvfp4
