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
// the x tile through the async proxy, so each consumer fences (fence.proxy.async) after its full-barrier wait. The
// CTA's rows and the epilogue (fp32 tile staged through shared memory, row scale x 2^7, coalesced rows of y) are
// nvfp4_gemm_common.cuh's, shared with nvfp4_gemm.cu.
//
// Versions measured (kbench_linear --prefill, docs/perf/linear.md): step-by-step groups drained at every k tile:
// 190 us where mma.sync takes 170 (dense [12288, 2048], 1024 tokens); whole-tile groups, no-swizzle layout: still
// 1416 vs 1283 us at 8192 tokens; with the 128-byte swizzle 1036 us. An n64 wgmma for chunks of <= 64 rows (a
// runtime branch in the loop) made the 8k grouped GEMMs slower (902 vs 858 us) and was dropped. That version had
// 256 threads loading their own stages and meeting at a __syncthreads per k tile (ncu: tensor pipe 43 %, barrier
// stalls 0.8 per instruction); the warp-specialised form here, 8192 tokens x top-8 over 256 experts: gate_up
// [1024, 2048] 859 -> 680 us, down [2048, 512] 542 -> 490 us; dense [12288, 2048] at 8192 tokens 1026 -> 815 us.
// Tried and dropped: (1) codes / scales as bulk copies (cp.async.bulk) from one warp: the compiler issues them one
// lane at a time (uniform registers), 1.5x slower; (2) the decode's shifts as IMAD (the FMA pipe) to unload the ALU
// pipe: 774 vs 680 us; (3) no decode at all (timing only): 508 us, the ceiling this structure leaves.
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
constexpr int kStages = 6;
constexpr int kXBytes = kTokens * kTileK * 2;                    // 16 KB: 8 chunks x 16 token groups x 128 B
constexpr int kCodeBytes = kTiles * kTileCodeBytes;              // 8 KB
constexpr int kScaleBytes = kTiles * kTileScaleBytes;            // 1 KB
constexpr int kStageBytes = kXBytes + kCodeBytes + kScaleBytes;  // 25 KB (x first: 1 KB-aligned stage bases)
constexpr int kOutStride = kRows + 4;                            // floats per token row of the epilogue stage
constexpr int kMainBytes =
    kStages * kStageBytes > kTokens* kOutStride * 4 ? kStages* kStageBytes : kTokens* kOutStride * 4;
constexpr int kSmemBytes = kMainBytes + 2 * kStages * 8;  // + the full[] and empty[] mbarriers
constexpr uint32_t kSbo = 1024;  // bytes between token groups of 8 (one 128-byte-swizzle atom: 8 rows x 128 bytes)
constexpr int kConsumers = 256;  // warpgroups 0 and 1: decode + wgmma
constexpr int kProducers = 128;  // warpgroup 2: the copies
// Registers per thread after the hand-over (setmaxnreg): the CTA starts with 384 x 168 = 64512 (launch bounds) and
// may not exceed them: 256 x 224 + 128 x 56 = 64512 (232 / 40 spilled in the producer, 240 / 24 in both).
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

__global__ void __launch_bounds__(kConsumers + kProducers, 1) gemm_wgmma_kernel(GemvArgs a) {
    grid_dependency_sync();  // PDL: first statement (launch.h)
    extern __shared__ __align__(1024) uint8_t smem[];
    int64_t e = 0, row0 = 0;
    int rows = 0;
    if (!cta_rows(a, kTokens, e, row0, rows)) return;  // surplus block: uniform per block
    uint64_t* full = reinterpret_cast<uint64_t*>(smem + kMainBytes);  // stage landed: 128 producer arrivals
    uint64_t* empty = full + kStages;                                 // stage read: 8 consumer warps
    const int tid = static_cast<int>(threadIdx.x);
    const int rt0 = static_cast<int>(blockIdx.x) * kTiles;
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
        // Producer warpgroup: thread p copies 16-byte chunk p % 8 of tokens p / 8 + 16 i (i < 8; a warp reads 4 whole
        // 128-byte rows per instruction) into the swizzled x tile, code chunks p + 128 j (j < 4: tile p / 32 + 4 j,
        // its 16 bytes p % 32) and, p < 64, scale chunk p (tile p / 4), all by cp.async from pointers set up once;
        // its arrival on full[stage] fires when they have landed. ~40 instructions per stage and warp (the first
        // version computed every address per stage: ~200, a fifth of the SM's issue slots). Tried: the codes and
        // scales as 32 bulk copies (cp.async.bulk, 512 / 64 bytes) from warp 0: the compiler issues them one lane
        // at a time (a uniform-register instruction), and the GEMM got 1.5x slower.
        sm90::setmaxnreg_dec<kProducerRegs>();
        const int p = tid - kConsumers;
        const int ch = p & 7, tr = (p >> 3) & 7;  // chunk; token row inside its 8-row swizzle atom
        const bf16* xp[8];                        // this thread's chunk of each of its tokens' rows at k = 0
        uint32_t live = 0;                        // bit i: token p / 8 + 16 i exists
#pragma unroll
        for (int i = 0; i < 8; ++i) {
            const int tl = (p >> 3) + 16 * i;
            const bool lv = tl < rows;
            // a missing token copies 0 bytes from the chunk's first row (a valid address)
            const int64_t r = a.x_gather != nullptr ? a.x_gather[row0 + (lv ? tl : 0)] : row0 + (lv ? tl : 0);
            xp[i] = a.x + r * a.ldx + ch * 8;
            live |= static_cast<uint32_t>(lv) << i;
        }
        const uint32_t x_off = ((p >> 3) >> 3) * kSbo + tr * 128 + ((ch ^ tr) * 16);  // token group (p / 8) / 8
        const uint8_t* cp[4];  // code chunks at k tile 0 (a missing tile: 0 bytes from tile rt0, which exists)
        uint32_t tile_live = 0;
#pragma unroll
        for (int j = 0; j < 4; ++j) {
            const int t = (p >> 5) + 4 * j;
            const bool lv = rt0 + t < a.np_tiles;
            cp[j] = a.codes + (e * a.np_tiles + rt0 + (lv ? t : 0)) * a.kt * kTileCodeBytes + (p & 31) * 16;
            tile_live |= static_cast<uint32_t>(lv) << j;
        }
        const bool scale_copy = p < kScaleBytes / 16;
        const bool scale_live = scale_copy && rt0 + (p >> 2) < a.np_tiles;
        const uint8_t* sp =
            a.scales + (e * a.np_tiles + rt0 + (scale_live ? p >> 2 : 0)) * a.kt * kTileScaleBytes + (p & 3) * 16;
        for (int kt = 0; kt < KT; ++kt) {
            const int st = kt % kStages;
            if (kt >= kStages) sm90::mbar_wait(&empty[st], static_cast<uint32_t>(((kt / kStages) + 1) & 1));
            uint8_t* sb = smem + st * kStageBytes;
            const bool k_in = kt * kTileK + ch * 8 < a.k;  // K % 16 == 0: a chunk is all in or all out
#pragma unroll
            for (int i = 0; i < 8; ++i)
                cp_async16(sb + x_off + i * 2 * kSbo, xp[i] + kt * kTileK, k_in && ((live >> i) & 1u) ? 16 : 0);
#pragma unroll
            for (int j = 0; j < 4; ++j)
                cp_async16(sb + kXBytes + ((p >> 5) + 4 * j) * kTileCodeBytes + (p & 31) * 16,
                           cp[j] + kt * kTileCodeBytes, ((tile_live >> j) & 1u) ? 16 : 0);
            if (scale_copy)
                cp_async16(sb + kXBytes + kCodeBytes + p * 16, sp + kt * kTileScaleBytes, scale_live ? 16 : 0);
            sm90::cp_async_mbar_arrive(&full[st]);
        }
        asm volatile("cp.async.wait_all;\n" ::: "memory");
        return;
    }

    // Consumers.
    sm90::setmaxnreg_inc<kConsumerRegs>();
    const int warp = tid >> 5, lane = tid & 31;
    const int g = lane >> 2, c = lane & 3;
    const int wg = warp >> 2, wq = warp & 3;
    float acc[2][64];
#pragma unroll
    for (int i = 0; i < 2; ++i)
#pragma unroll
        for (int v = 0; v < 64; ++v) acc[i][v] = 0.0f;
    const int tile0 = wg * 8 + wq, tile1 = tile0 + 4;
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
    // Stage kt landed (the producers' arrivals carry their cp.async completion) and is visible to wgmma's reads.
    const auto wait_full = [&](int kt) {
        sm90::mbar_wait(&full[kt % kStages], static_cast<uint32_t>((kt / kStages) & 1));
        fence_proxy_async_smem();
    };
    const uint64_t desc_base = sm90::sw128_desc(smem, kSbo);
    wait_full(0);
    decode_tile(0, af[0]);
    const auto k_tile = [&](int kt, auto bc) {
        constexpr int B = decltype(bc)::value;
        // descriptor of step s: the stage's, start address + 32 s bytes (2 s in its 16-byte units; no carry out of
        // the 14-bit field: shared addresses < 2^18)
        const uint64_t desc0 = desc_base + static_cast<uint64_t>((kt % kStages) * (kStageBytes >> 4));
        wgmma_fence();
#pragma unroll
        for (int s = 0; s < 4; ++s) {
            const uint64_t desc = desc0 + 2 * s;
            wgmma_m64n128k16(acc[0], af[B][s][0], desc);
            wgmma_m64n128k16(acc[1], af[B][s][1], desc);
        }
        wgmma_commit();
        wgmma_wait<1>();  // k tile kt - 1's group is done: its A buffer is free and its stage read
        if (kt > 0) {
            __syncwarp();
            if (lane == 0) sm90::mbar_arrive(&empty[(kt - 1) % kStages]);
        }
        if (kt + 1 < KT) {
            wait_full(kt + 1);
            decode_tile((kt + 1) % kStages, af[B ^ 1]);
        }
    };
    for (int kt = 0; kt < KT; kt += 2) {
        k_tile(kt, std::integral_constant<int, 0>{});
        if (kt + 1 < KT) k_tile(kt + 1, std::integral_constant<int, 1>{});
    }
    wgmma_wait<0>();

    // Epilogue (as nvfp4_gemm.cu), over the consumer threads only (named barrier 1; the producers have left): fp32 tile
    // -> shared [token, n] -> y rows; the staged tile overlaps the stages, so both warpgroups must be past their last
    // wgmma first. acc[i][4 j + v]: row 16 wq + g + 8 (v / 2) of m64 block (wg, i), token 8 j + 2 c + (v % 2).
    sm90::named_barrier_sync(1, kConsumers);
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
    sm90::named_barrier_sync(1, kConsumers);
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
    launch(gemm_wgmma_kernel, dim3(static_cast<unsigned>(gx), static_cast<unsigned>(gy)), kConsumers + kProducers,
           kSmemBytes, s, b);
}

}  // namespace qinfer::cuda::nvfp4
