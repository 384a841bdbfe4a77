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
// CTA: 384 threads, warp-specialised. Warpgroups 0 and 1 (consumers) cover 256 weight rows x 128 tokens; warpgroup
// w owns rows 128 w .. + 128 as two m64n128k16 wgmma per k16 step (warp q of the group: rows 16 q .. + 16 of each 64;
// 2 x 64 fp32 accumulators per thread). Per 64-wide k tile the 8 wgmma (4 k16 steps x 2 tiles) are issued back to
// back as one group, and the next k tile's A fragments are decoded while they run (two register buffers of a whole k
// tile; wgmma.wait_group 1). Warpgroup 2 (producer) fills a kStages-deep ring (x chunks, codes, scales) by cp.async,
// each stage guarded by two mbarriers: full (one arrival per producer thread, fired by its landed copies:
// cp.async.mbarrier.arrive) and empty (one arrival per consumer warp once the wgmma group that read the stage has
// completed). The two consumer warpgroups never wait for each other inside the main loop: one group's decode runs
// beside the other's wgmma. setmaxnreg moves registers from the producer (56) to the consumers (224). wgmma reads
// the x tile through the async proxy, so each consumer fences (fence.proxy.async) after its full-barrier wait. A CTA
// works through up to 4 tiles (kTilesPerCta: as many as leave two CTAs per SM in the grid), the ring running on
// across them, so the producer loads the next tile while the consumers store this one. Epilogue: y = acc x row
// scale x 2^7, rounded once; bf16 (the expert GEMMs) goes through a shared [token][n] tile of its own beside the
// ring (stmatrix .trans, then whole 512-byte token rows), f32 modes straight from the accumulators.
//
// Versions measured (kbench_linear --prefill, docs/perf/linear.md): step-by-step groups drained at every k tile:
// 190 us where mma.sync takes 170 (dense [12288, 2048], 1024 tokens); whole-tile groups, no-swizzle layout: still
// 1416 vs 1283 us at 8192 tokens; with the 128-byte swizzle 1036 us. An n64 wgmma for chunks of <= 64 rows (a
// runtime branch in the loop) made the 8k grouped GEMMs slower (902 vs 858 us) and was dropped. That version had
// 256 threads loading their own stages and meeting at a __syncthreads per k tile (ncu: tensor pipe 43 %, barrier
// stalls 0.8 per instruction); the warp-specialised form here, 8192 tokens x top-8 over 256 experts: gate_up
// [1024, 2048] 859 -> 680 us, down [2048, 512] 542 -> 490 us; dense [12288, 2048] at 8192 tokens 1026 -> 815 us;
// with 4 tiles per CTA and the stmatrix epilogue 665 / 417 / 802 us (the down projection, 8 k tiles per tile, paid
// its CTA start-up and fp32 epilogue on every tile).
// Tried and dropped: (1) codes / scales as bulk copies (cp.async.bulk) from one warp: the compiler issues them one
// lane at a time (uniform registers), 1.5x slower; (2) the decode's shifts as IMAD (the FMA pipe) to unload the ALU
// pipe: 774 vs 680 us; (3) no decode at all (timing only): 508 us, the ceiling this structure leaves.
// Needs sm_90a (wgmma): compiled only for that target (QINFER_WGMMA), launch_gemm_wgmma checks the device.

#include <algorithm>
#include <cstring>
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
constexpr int kStages = 6;
constexpr int kXBytes = kTokens * kTileK * 2;                    // 16 KB: 8 chunks x 16 token groups x 128 B
constexpr int kCodeBytes = kTiles * kTileCodeBytes;              // 8 KB
constexpr int kScaleBytes = kTiles * kTileScaleBytes;            // 1 KB
constexpr int kStageBytes = kXBytes + kCodeBytes + kScaleBytes;  // 25 KB (x first: 1 KB-aligned stage bases)
constexpr int kRingBytes = kStages * kStageBytes;                // 150 KB
constexpr int kOutRowBytes = kRows * 2 + 16;  // a token row of the bf16 epilogue tile, + 16: 8 rows on distinct banks
constexpr int kOutBytes = kTokens * kOutRowBytes;  // 66 KB, after the ring (the next tile's loads go on)
constexpr int kSmemBytes = kRingBytes + kOutBytes + 2 * kStages * 8;  // + the full[] and empty[] mbarriers
constexpr uint32_t kSbo = 1024;  // bytes between token groups of 8 (one 128-byte-swizzle atom: 8 rows x 128 bytes)
constexpr int kConsumers = 256;  // warpgroups 0 and 1: decode + wgmma
constexpr int kProducers = 128;  // warpgroup 2: the copies
// Registers per thread after the hand-over (setmaxnreg): the CTA starts with 384 x 168 = 64512 (launch bounds) and
// may not exceed them: 256 x 224 + 128 x 56 = 64512 (measured by ptxas's spill report: 232 / 40 spilled in the
// producer, 240 / 24 in both, 216 / 72 and 208 / 88 in the consumers).
constexpr int kConsumerRegs = 224;
constexpr int kProducerRegs = 56;

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

// CTA b takes work tiles b, b + gridDim.x, ... (at most kTilesPerCta) of chunks x gx row blocks (row block fastest,
// so CTAs running together share chunks' x rows in L2): the producer loads a CTA's next tile while the consumers
// store this one, and the CTA's start-up (barriers, the first stage's latency) is paid once per kTilesPerCta tiles.
// The consumers' tile loop is unrolled (a fixed trip count): as a loop, ptxas spilled 16-104 bytes at every register
// split tried. dense_chunks: the dense grid's chunk count (grouped: the device table's).
template <int kTilesPerCta>
__global__ void __launch_bounds__(kConsumers + kProducers, 1) gemm_wgmma_kernel(GemvArgs a, int gx, int dense_chunks) {
    grid_dependency_sync();  // PDL: first statement (launch.h); the chunk table is a previous kernel's output
    extern __shared__ __align__(1024) uint8_t smem[];
    const int ntiles = (a.offsets ? a.chunks[0].w : dense_chunks) * gx;
    if (static_cast<int>(blockIdx.x) >= ntiles) return;                  // uniform per block, before any barrier
    uint8_t* out_tile = smem + kRingBytes;                               // bf16 [kTokens][kOutRowBytes / 2]
    uint64_t* full = reinterpret_cast<uint64_t*>(out_tile + kOutBytes);  // stage landed: 128 producer arrivals
    uint64_t* empty = full + kStages;                                    // stage read: 8 consumer warps
    const int tid = static_cast<int>(threadIdx.x);
    const int KT = static_cast<int>(a.kt);
    if (tid == 0) {
        for (int st = 0; st < kStages; ++st) {
            sm90::mbar_init(&full[st], kProducers);
            sm90::mbar_init(&empty[st], kConsumers / 32);
        }
        sm90::mbar_init_fence();
    }
    __syncthreads();

    if (tid >= kConsumers) {
        // Producer warpgroup: per work tile, thread p copies 16-byte chunk p % 8 of tokens p / 8 + 16 i (i < 8; a warp
        // reads 4 whole 128-byte rows per instruction) into the swizzled x tile, code chunks p + 128 j (j < 4: tile
        // p / 32 + 4 j, its 16 bytes p % 32) and, p < 64, scale chunk p (tile p / 4), all by cp.async from pointers
        // set up once per work tile; its arrival on full[stage] fires when they have landed. q counts k tiles over
        // the CTA's whole work list: stage q % kStages, its use q / kStages. ~40 instructions per stage and warp
        // (computing every address per stage took ~200, a fifth of the SM's issue slots). Tried: the codes and
        // scales as 32 bulk copies (cp.async.bulk, 512 / 64 bytes) from warp 0: the compiler issues them one lane
        // at a time (a uniform-register instruction), and the GEMM got 1.5x slower.
        sm90::setmaxnreg_dec<kProducerRegs>();
        const int p = tid - kConsumers;
        const int ch = p & 7, tr = (p >> 3) & 7;  // chunk; token row inside its 8-row swizzle atom
        const uint32_t x_off = ((p >> 3) >> 3) * kSbo + tr * 128 + ((ch ^ tr) * 16);  // token group (p / 8) / 8
        const bool scale_copy = p < kScaleBytes / 16;
        int q = 0;
        for (int it = 0; it < kTilesPerCta; ++it) {
            const int w = static_cast<int>(blockIdx.x) + it * static_cast<int>(gridDim.x);
            if (w >= ntiles) break;
            int64_t e = 0, row0 = 0;
            int rows = 0;
            chunk_rows(a, w / gx, kTokens, e, row0, rows);
            const int rt0 = (w % gx) * kTiles;
            // Sources as 16-byte units from a.x / a.codes / a.scales (32 bits each, not 64-bit pointers: the
            // producer has 56 registers; launch_gemm_wgmma checks the buffers fit).
            uint32_t xo[8];     // this thread's chunk of each of its tokens' rows at k = 0
            uint32_t live = 0;  // bit i: token p / 8 + 16 i exists
#pragma unroll
            for (int i = 0; i < 8; ++i) {
                const int tl = (p >> 3) + 16 * i;
                const bool lv = tl < rows;
                // a missing token copies 0 bytes from the chunk's first row (a valid address)
                const int64_t r = a.x_gather != nullptr ? a.x_gather[row0 + (lv ? tl : 0)] : row0 + (lv ? tl : 0);
                xo[i] = static_cast<uint32_t>((r * a.ldx + ch * 8) / 8);
                live |= static_cast<uint32_t>(lv) << i;
            }
            uint32_t co[4];  // code chunks at k tile 0 (a missing tile: 0 bytes from tile rt0, which exists)
            uint32_t tile_live = 0;
#pragma unroll
            for (int j = 0; j < 4; ++j) {
                const int t = (p >> 5) + 4 * j;
                const bool lv = rt0 + t < a.np_tiles;
                co[j] = static_cast<uint32_t>(((e * a.np_tiles + rt0 + (lv ? t : 0)) * a.kt * kTileCodeBytes) / 16 +
                                              (p & 31));
                tile_live |= static_cast<uint32_t>(lv) << j;
            }
            const bool scale_live = scale_copy && rt0 + (p >> 2) < a.np_tiles;
            const uint32_t so = static_cast<uint32_t>(
                ((e * a.np_tiles + rt0 + (scale_live ? p >> 2 : 0)) * a.kt * kTileScaleBytes) / 16 + (p & 3));
            for (int kt = 0; kt < KT; ++kt, ++q) {
                const int st = q % kStages;
                if (q >= kStages) sm90::mbar_wait(&empty[st], static_cast<uint32_t>(((q / kStages) + 1) & 1));
                uint8_t* sb = smem + st * kStageBytes;
                const bool k_in = kt * kTileK + ch * 8 < a.k;  // K % 16 == 0: a chunk is all in or all out
                const uint4* x16 = reinterpret_cast<const uint4*>(a.x);
#pragma unroll
                for (int i = 0; i < 8; ++i)
                    cp_async16(sb + x_off + i * 2 * kSbo, x16 + (xo[i] + kt * (kTileK / 8)),
                               k_in && ((live >> i) & 1u) ? 16 : 0);
                const uint4* c16 = reinterpret_cast<const uint4*>(a.codes);
#pragma unroll
                for (int j = 0; j < 4; ++j)
                    cp_async16(sb + kXBytes + ((p >> 5) + 4 * j) * kTileCodeBytes + (p & 31) * 16,
                               c16 + (co[j] + kt * (kTileCodeBytes / 16)), ((tile_live >> j) & 1u) ? 16 : 0);
                if (scale_copy)
                    cp_async16(sb + kXBytes + kCodeBytes + p * 16,
                               reinterpret_cast<const uint4*>(a.scales) + (so + kt * (kTileScaleBytes / 16)),
                               scale_live ? 16 : 0);
                sm90::cp_async_mbar_arrive(&full[st]);
            }
        }
        asm volatile("cp.async.wait_all;\n" ::: "memory");
        return;
    }

    // Consumers.
    sm90::setmaxnreg_inc<kConsumerRegs>();
    const int warp = tid >> 5, lane = tid & 31;
    const int g = lane >> 2, c = lane & 3;
    const int wg = warp >> 2, wq = warp & 3;
    const int tile0 = wg * 8 + wq, tile1 = tile0 + 4;
    const uint64_t desc_base = sm90::sw128_desc(smem, kSbo);
    // bf16 output rows take 16-byte stores where y's rows allow them
    const bool vec16 = a.ldy % 8 == 0 && reinterpret_cast<uintptr_t>(a.y) % 16 == 0;
    float acc[2][64];
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
    // Ring k tile q landed (the producers' arrivals carry their cp.async completion) and is visible to wgmma's reads.
    const auto wait_full = [&](int q) {
        sm90::mbar_wait(&full[q % kStages], static_cast<uint32_t>((q / kStages) & 1));
        fence_proxy_async_smem();
    };
    // Ring k tile q is read (its wgmma group has completed): one arrival per warp.
    const auto release = [&](int q) {
        __syncwarp();
        if (lane == 0) sm90::mbar_arrive(&empty[q % kStages]);
    };
#pragma unroll
    for (int it = 0; it < kTilesPerCta; ++it) {
        const int w = static_cast<int>(blockIdx.x) + it * static_cast<int>(gridDim.x);
        if (w >= ntiles) break;
        const int q0 = it * KT;  // ring k tile of this work tile's k tile 0
#pragma unroll
        for (int i = 0; i < 2; ++i)
#pragma unroll
            for (int v = 0; v < 64; ++v) acc[i][v] = 0.0f;
        wait_full(q0);
        decode_tile(q0 % kStages, af[0]);
        const auto k_tile = [&](int kt, auto bc) {
            constexpr int B = decltype(bc)::value;
            const int q = q0 + kt;
            // descriptor of step s: the stage's, start address + 32 s bytes (2 s in its 16-byte units; no carry out
            // of the 14-bit field: shared addresses < 2^18)
            const uint64_t desc0 = desc_base + static_cast<uint64_t>((q % kStages) * (kStageBytes >> 4));
            wgmma_fence();
#pragma unroll
            for (int s = 0; s < 4; ++s) {
                const uint64_t desc = desc0 + 2 * s;
                wgmma_m64n128k16(acc[0], af[B][s][0], desc);
                wgmma_m64n128k16(acc[1], af[B][s][1], desc);
            }
            wgmma_commit();
            wgmma_wait<1>();  // k tile kt - 1's group is done: its A buffer is free and its stage read
            if (kt > 0) release(q - 1);
            if (kt + 1 < KT) {
                wait_full(q + 1);
                decode_tile((q + 1) % kStages, af[B ^ 1]);
            }
        };
        for (int kt = 0; kt < KT; kt += 2) {
            k_tile(kt, std::integral_constant<int, 0>{});
            if (kt + 1 < KT) k_tile(kt + 1, std::integral_constant<int, 1>{});
        }
        wgmma_wait<0>();
        release(q0 + KT - 1);  // the producer may now load the next tile's stages while this one is stored

        // The tile's rows, read only now: live across the main loop they cost the consumers registers they lack.
        int64_t e = 0, row0 = 0;
        int rows = 0;
        chunk_rows(a, w / gx, kTokens, e, row0, rows);
        const int nb = (w % gx) * kRows;  // first weight row of the tile
        // Epilogue. acc[i][4 j + v]: weight row nb + 128 wg + 64 i + 16 wq + g + 8 (v / 2), token 8 j + 2 c + (v % 2);
        // y = acc x row scale x 2^7 (the fragment-tile encoding, nvfp4_tiles.cuh), rounded once.
        float rs[2][2];
#pragma unroll
        for (int i = 0; i < 2; ++i)
#pragma unroll
            for (int h = 0; h < 2; ++h) {
                const int n = nb + wg * 128 + i * 64 + wq * 16 + g + 8 * h;
                rs[i][h] = n < a.n ? a.row_scale[e * a.n + n] * kPostScale : 0.0f;
            }
        if (a.mode != OutMode::StoreBF16) {
            // f32 outputs (dense layers forced onto this kernel; the expert GEMMs store bf16): straight from the
            // accumulators, 4-byte stores.
#pragma unroll
            for (int i = 0; i < 2; ++i)
#pragma unroll
                for (int j = 0; j < 16; ++j)
#pragma unroll
                    for (int v = 0; v < 4; ++v) {
                        const int n = nb + wg * 128 + i * 64 + wq * 16 + g + 8 * (v >> 1);
                        const int t = 8 * j + 2 * c + (v & 1);
                        if (t < rows && n < a.n)
                            store_out(a.y, (row0 + t) * a.ldy + n, acc[i][4 * j + v] * rs[i][v >> 1], a.mode);
                    }
            continue;
        }
        // bf16: the tile goes to shared memory as [token][n] by stmatrix (transposing each 8 x 8 fragment), then out
        // as whole 512-byte token rows. The barrier before: both warpgroups are done reading the previous tile's.
        sm90::named_barrier_sync(1, kConsumers);
#pragma unroll
        for (int i = 0; i < 2; ++i)
#pragma unroll
            for (int j = 0; j < 16; j += 2) {
                uint32_t r[4];  // matrices (j, rows g), (j, rows g + 8), (j + 1, g), (j + 1, g + 8)
#pragma unroll
                for (int m = 0; m < 4; ++m) {
                    const int jj = j + (m >> 1), h = m & 1;
                    const __nv_bfloat162 b2 =
                        __floats2bfloat162_rn(acc[i][4 * jj + 2 * h] * rs[i][h], acc[i][4 * jj + 2 * h + 1] * rs[i][h]);
                    memcpy(&r[m], &b2, 4);
                }
                const int m = lane >> 3;  // the matrix whose stored row (a token) this lane addresses
                const int token = 8 * (j + (m >> 1)) + (lane & 7);
                const int n_local = wg * 128 + i * 64 + wq * 16 + 8 * (m & 1);
                sm90::stmatrix_x4_trans(out_tile + token * kOutRowBytes + n_local * 2, r[0], r[1], r[2], r[3]);
            }
        sm90::named_barrier_sync(1, kConsumers);
        const int n8 = nb + lane * 8;  // this lane's 8 outputs of a token row
        for (int t = warp; t < rows; t += kConsumers / 32) {
            const uint4 v = *reinterpret_cast<const uint4*>(out_tile + t * kOutRowBytes + lane * 16);
            bf16* dst = static_cast<bf16*>(a.y) + (row0 + t) * a.ldy + n8;
            if (vec16 && n8 + 7 < a.n) {
                *reinterpret_cast<uint4*>(dst) = v;
            } else {
                bf16 h8[8];
                memcpy(h8, &v, 16);
                for (int u = 0; u < 8 && n8 + u < a.n; ++u) dst[u] = h8[u];
            }
        }
    }
}

}  // namespace

void launch_gemm_wgmma(const GemvArgs& a, int64_t rows, cudaStream_t s) {
    QINFER_CHECK(sm90a_available(), "nvfp4 wgmma GEMM: needs an sm_90 (Hopper) device and an sm_90a build");
    int64_t gy = 0;
    const GemvArgs b = prepare_gemm(a, rows, &gy, s);
    static const bool configured = [] {
        for (const void* f :
             {reinterpret_cast<const void*>(gemm_wgmma_kernel<1>), reinterpret_cast<const void*>(gemm_wgmma_kernel<2>),
              reinterpret_cast<const void*>(gemm_wgmma_kernel<4>)})
            QINFER_CUDA_CHECK(cudaFuncSetAttribute(f, cudaFuncAttributeMaxDynamicSharedMemorySize, kSmemBytes));
        return true;
    }();
    (void)configured;
    // the producer addresses x, codes and scales in 32-bit counts of 16-byte units
    QINFER_CHECK(b.m * b.ldx * 2 / 16 < (int64_t{1} << 32) &&
                     static_cast<int64_t>(b.num_experts > 0 ? b.num_experts : b.expert + 1) * b.np_tiles * b.kt *
                             kTileCodeBytes / 16 <
                         (int64_t{1} << 32),
                 "nvfp4 wgmma GEMM: operands of more than 64 GB");
    // gy bounds the chunk count (grouped: the device table holds the real one). Tiles per CTA: as many as keep at
    // least two CTAs per SM in the grid.
    const int64_t gx = (b.np_tiles + kTiles - 1) / kTiles;
    const int64_t tiles = gx * gy, sms = sm_count();
    const int per_cta = tiles >= 8 * sms ? 4 : tiles >= 4 * sms ? 2 : 1;
    const dim3 grid(static_cast<unsigned>((tiles + per_cta - 1) / per_cta));
    const int threads = kConsumers + kProducers;
    const int gxi = static_cast<int>(gx), gyi = static_cast<int>(gy);
    if (per_cta == 4)
        launch(gemm_wgmma_kernel<4>, grid, threads, kSmemBytes, s, b, gxi, gyi);
    else if (per_cta == 2)
        launch(gemm_wgmma_kernel<2>, grid, threads, kSmemBytes, s, b, gxi, gyi);
    else
        launch(gemm_wgmma_kernel<1>, grid, threads, kSmemBytes, s, b, gxi, gyi);
}

}  // namespace qinfer::cuda::nvfp4
