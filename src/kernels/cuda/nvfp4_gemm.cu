// NVFP4 W4A16 GEMM for prefill (nvfp4_gemv.h: launch_gemm): y[tokens, N] (mode)= x[tokens, K] · Wᵀ, dense or grouped
// by expert, on the tensor cores, reading the fragment tiles of nvfp4_tiles.cuh.
//
// Why this shape: the weights are the mma's A operand (M = weight rows), the tokens its B operand (N = tokens), as in
// the decode GEMV. A lane's 16 bytes of a 16 x 64 fragment tile are exactly its A fragments for 4 k steps, so the
// weights need no shared-memory transpose and no ldmatrix: they are copied raw (codes and encoded block scales) into
// shared memory by cp.async, and every warp decodes its own A fragments in registers (3 integer ops + one bf16x2 fma
// per pair, exact; nvfp4_tiles.cuh). Activations arrive by cp.async as [token, 64 k] rows; a lane's B fragments for
// the tile's 4 k steps are 16 consecutive bf16 of one token (the tile's k permutation), two 16-byte shared loads.
//
// CTA: 256 threads = 8 warps over a 256 (weight rows) x 128 (tokens) output tile; each warp owns 32 weight rows (two
// fragment tiles) x all 128 tokens (sixteen n8 groups): per 64-wide k tile 128 mma against 8 decoded A fragments
// (~160 ALU instructions), 32 16-byte shared loads of x. 255 registers (128 of accumulators), one CTA per SM,
// kStages-deep cp.async pipeline. Ran with 4 x 8 and 2 x 8 warp tiles too (Cfg): slower (docs/perf/linear.md); the
// limit now is latency with 2 warps per scheduler (ncu: issue slots 36 % busy, tensor pipe ~43 %). Grouped mode:
// blockIdx.y enumerates the 128-row chunks of every expert (chunk table built on the device, as for the GEMV), so
// there is no host synchronisation and the launch is graph-capturable. Token groups past the chunk's last row skip
// their mma. The epilogue stages the fp32 tile through shared memory (transposed to [token, n]) so the stores are
// coalesced rows of y, and applies row_scale · 2^7 there (nvfp4_tiles.cuh).
//
// Replaces the WMMA tile kernel for NVFP4 (that one decoded the weights to bf16 in shared memory through registers,
// one 32-wide k step per barrier, with every load exposed); measured in docs/perf/linear.md.

#include "core/check.h"
#include "kernels/cuda/check.h"
#include "kernels/cuda/launch.h"
#include "kernels/cuda/gemm_common.cuh"
#include "kernels/cuda/nvfp4_gemm_common.cuh"
#include "kernels/cuda/nvfp4_gemv.h"
#include "kernels/cuda/nvfp4_tiles.cuh"

namespace qinfer::cuda::nvfp4 {

namespace {

constexpr int kTokensPerCta = kGemmTokens;  // 128
constexpr int kStages = 4;
constexpr int kXStride = kTileK * 2 + 16;  // bytes per token row in shared memory (pad: no bank conflicts)
constexpr int kXBytes = kTokensPerCta * kXStride;  // 18432
constexpr int kWarpTiles = 2, kWarpGroups = 16;  // the configuration launched (see launch_gemm)

// A warp owns WT fragment tiles (16 WT weight rows) x NG token groups of 8 (8 NG tokens); the CTA's 8 warps are
// kWarpsR (weight rows) x kWarpsT (tokens): warp (wr, wt) owns tiles WT wr .. + WT and tokens 8 NG wt .. + 8 NG.
template <int WT, int NG>
struct Cfg {
    static constexpr int kWarpsT = kTokensPerCta / (8 * NG);
    static constexpr int kWarpsR = 8 / kWarpsT;
    static_assert(NG % 4 == 0 && kWarpsT * 8 * NG == kTokensPerCta, "token groups come in blocks of 4");
    static constexpr int kTiles = kWarpsR * WT;
    static constexpr int kRows = kTiles * kTileRows;
    static constexpr int kACodeBytes = kTiles * kTileCodeBytes;
    static constexpr int kAScaleBytes = kTiles * kTileScaleBytes;
    static constexpr int kStageBytes = kACodeBytes + kAScaleBytes + kXBytes;
    static constexpr int kOutStride = kRows + 4;  // floats per token row of the epilogue stage (reuses the buffers)
    static constexpr int kSmemBytes = kStages * kStageBytes > kTokensPerCta * kOutStride * 4
                                          ? kStages * kStageBytes
                                          : kTokensPerCta * kOutStride * 4;
    static_assert(kStageBytes % 16 == 0, "stages must stay 16-byte aligned");
};

// One 64-wide k tile of a warp: WT fragment tiles x (up to) NG token groups x 4 k steps. FULL: all NG groups hold
// rows (no per-mma guard); else only the first ngrp.
template <int WT, int NG, bool FULL>
__device__ __forceinline__ void ktile_mma(const uint8_t* sb, int wr, int lane, const uint8_t* xb, int ngrp,
                                          float (&c)[WT][NG][4]) {
    using C = Cfg<WT, NG>;
    uint4 q[WT];
    uint32_t sg[WT], sg8[WT];
#pragma unroll
    for (int i = 0; i < WT; ++i) {
        q[i] = *reinterpret_cast<const uint4*>(sb + (wr * WT + i) * kTileCodeBytes + lane * 16);
        const uint32_t s16 =
            *reinterpret_cast<const uint16_t*>(sb + C::kACodeBytes + (wr * WT + i) * kTileScaleBytes + lane * 2);
        sg[i] = scale_pair(s16);
        sg8[i] = scale_pair(s16 >> 8);
    }
#pragma unroll
    for (int jh = 0; jh < 2; ++jh) {  // k steps 0, 1 (codes 0-7, x 0-7) then 2, 3 (codes 8-15, x 8-15)
        uint32_t af[2][WT][4];
#pragma unroll
        for (int j2 = 0; j2 < 2; ++j2)
#pragma unroll
            for (int i = 0; i < WT; ++i) {
                const int p = 2 * j2;
                const uint32_t wg = jh == 0 ? q[i].x : q[i].y, wg8 = jh == 0 ? q[i].z : q[i].w;
                af[j2][i][0] = scaled_pair(wg, p, sg[i]);
                af[j2][i][1] = scaled_pair(wg8, p, sg8[i]);
                af[j2][i][2] = scaled_pair(wg, p + 1, sg[i]);
                af[j2][i][3] = scaled_pair(wg8, p + 1, sg8[i]);
            }
        // Token groups in blocks of 4: the two k steps of a block's groups run back to back, so an accumulator's
        // consecutive mma are 4 WT mma apart (ncu showed mma waiting on mma at 2 apart).
#pragma unroll
        for (int nb = 0; nb < NG; nb += 4) {
            if (!FULL && nb >= ngrp) break;
            uint4 xv[4];
#pragma unroll
            for (int u = 0; u < 4; ++u)
                if (FULL || nb + u < ngrp)
                    xv[u] = *reinterpret_cast<const uint4*>(xb + (nb + u) * 8 * kXStride + jh * 16);
#pragma unroll
            for (int j2 = 0; j2 < 2; ++j2)
#pragma unroll
                for (int u = 0; u < 4; ++u)
#pragma unroll
                    for (int i = 0; i < WT; ++i)
                        if (FULL || nb + u < ngrp)
                            mma_bf16(c[i][nb + u], af[j2][i], word_of(xv[u], 2 * j2), word_of(xv[u], 2 * j2 + 1));
        }
    }
}

template <int WT, int NG>
__global__ void __launch_bounds__(256, 1) gemm_kernel(GemvArgs a) {
    grid_dependency_sync();  // PDL: first statement (launch.h)
    using C = Cfg<WT, NG>;
    extern __shared__ __align__(16) uint8_t smem[];
    int64_t e = 0, row0 = 0;
    int rows = 0;
    if (!cta_rows(a, kTokensPerCta, e, row0, rows)) return;  // surplus block: uniform per block
    const int rt0 = static_cast<int>(blockIdx.x) * C::kTiles;
    const int tid = static_cast<int>(threadIdx.x), warp = tid >> 5, lane = tid & 31;
    const int g = lane >> 2, t = lane & 3;
    const int wr = warp % C::kWarpsR, wt = warp / C::kWarpsR;
    const int KT = static_cast<int>(a.kt);
    // n8 token groups of this warp that hold at least one row of the chunk (the rest skip their mma)
    const int ngrp = max(0, min(NG, (rows - wt * 8 * NG + 7) / 8));

    // The pipeline's copies: per thread, sources at k tile 0 computed once (tile kt adds kt * 512 / 64 / 128 bytes),
    // so a stage costs a few adds per copy instead of the 64-bit index arithmetic (ncu: that was ~1 instruction per
    // mma).
    constexpr int kCodeCopies = C::kACodeBytes / 16 / 256;  // 16-byte code chunks per thread per stage
    static_assert(C::kACodeBytes % (16 * 256) == 0 && C::kAScaleBytes / 16 <= 256, "copy split assumes these sizes");
    const int c_tl = tid >> 5;  // code chunk j of this thread: tile c_tl + 8 j, lane chunk tid % 32
    const uint8_t* code_src = a.codes + ((e * a.np_tiles + rt0 + c_tl) * a.kt) * kTileCodeBytes + (tid & 31) * 16;
    const int64_t code_jstride = 8 * a.kt * kTileCodeBytes;
    const bool scale_copy = tid < C::kAScaleBytes / 16;  // scale chunk: tile tid / 4, 16 bytes (tid % 4) of its 64
    const bool scale_ok = scale_copy && rt0 + (tid >> 2) < a.np_tiles;
    const uint8_t* scale_src =
        a.scales + ((e * a.np_tiles + rt0 + (tid >> 2)) * a.kt) * kTileScaleBytes + (tid & 3) * 16;
    const int x_r = tid >> 3, x_ch = tid & 7;  // x chunk j: token x_r + 32 j, k chunk x_ch (8 bf16)
    // Row x_r + 32 j of the chunk reads x row row0 + x_r + 32 j, or that row's entry of x_gather (the MoE's token
    // permutation: the GEMM gathers its own rows instead of a gather kernel writing a permuted copy of x). Kept as
    // 32-bit row numbers (4 registers; 64-bit pointers spilled at 255 registers), the address formed per stage.
    int x_row[kTokensPerCta / 32];
#pragma unroll
    for (int j = 0; j < kTokensPerCta / 32; ++j) {
        const int64_t r = row0 + x_r + 32 * j;
        const bool live = x_r + 32 * j < rows;
        x_row[j] = static_cast<int>(a.x_gather != nullptr ? (live ? a.x_gather[r] : 0) : r);
    }
    const bf16* x_base = a.x + x_ch * 8;
    auto load_stage = [&](int kt, int st) {
        uint8_t* sb = smem + st * C::kStageBytes;
#pragma unroll
        for (int j = 0; j < kCodeCopies; ++j) {
            const bool ok = rt0 + c_tl + 8 * j < a.np_tiles;
            const uint8_t* src = ok ? code_src + j * code_jstride + kt * kTileCodeBytes : a.codes;
            cp_async16(sb + (c_tl + 8 * j) * kTileCodeBytes + (tid & 31) * 16, src, ok ? 16 : 0);
        }
        if (scale_copy)
            cp_async16(sb + C::kACodeBytes + tid * 16, scale_ok ? scale_src + kt * kTileScaleBytes : a.scales,
                       scale_ok ? 16 : 0);
        uint8_t* xs = sb + C::kACodeBytes + C::kAScaleBytes + x_r * kXStride + x_ch * 16;
        const bool k_ok = kt * kTileK + x_ch * 8 < a.k;  // K % 16 == 0: a chunk is all in or all out
#pragma unroll
        for (int j = 0; j < kTokensPerCta / 32; ++j) {
            const bool ok = k_ok && x_r + 32 * j < rows;
            cp_async16(xs + 32 * j * kXStride, ok ? x_base + x_row[j] * a.ldx + kt * kTileK : a.x, ok ? 16 : 0);
        }
    };

    float c[WT][NG][4];
#pragma unroll
    for (int i = 0; i < WT; ++i)
#pragma unroll
        for (int n = 0; n < NG; ++n)
#pragma unroll
            for (int v = 0; v < 4; ++v) c[i][n][v] = 0.0f;

#pragma unroll
    for (int s = 0; s < kStages - 1; ++s) {
        if (s < KT) load_stage(s, s);
        cp_async_commit();
    }
    for (int kt = 0; kt < KT; ++kt) {
        cp_async_wait<kStages - 2>();  // this thread's copies of stage kt have landed
        __syncthreads();               // everyone's have; and everyone is done reading stage kt - 1
        {
            const int nk = kt + kStages - 1;
            if (nk < KT) load_stage(nk, nk % kStages);
            cp_async_commit();  // (possibly empty: keeps the group count uniform)
        }
        const uint8_t* sb = smem + (kt % kStages) * C::kStageBytes;
        const uint8_t* xb = sb + C::kACodeBytes + C::kAScaleBytes + (wt * 8 * NG + g) * kXStride + t * 32;
        if (ngrp == NG)
            ktile_mma<WT, NG, true>(sb, wr, lane, xb, NG, c);
        else if (ngrp > 0)
            ktile_mma<WT, NG, false>(sb, wr, lane, xb, ngrp, c);
    }

    // Epilogue: fp32 tile -> shared [token, n] -> y rows.
    // c[i][n]: (row g, token 2t), (g, 2t+1), (g+8, 2t), (g+8, 2t+1).
    cp_async_wait<0>();
    __syncthreads();
    float* cs = reinterpret_cast<float*>(smem);
#pragma unroll
    for (int i = 0; i < WT; ++i)
#pragma unroll
        for (int n = 0; n < NG; ++n)
#pragma unroll
            for (int v = 0; v < 4; ++v) {
                const int nl = (wr * WT + i) * kTileRows + g + (v >> 1) * 8;
                const int tl = wt * 8 * NG + n * 8 + 2 * t + (v & 1);
                cs[tl * C::kOutStride + nl] = c[i][n][v];
            }
    __syncthreads();
    store_staged_tile<C::kRows>(a, cs, C::kOutStride, e, row0, rows);
}

template <int WT, int NG>
void launch_wt(const GemvArgs& b, int64_t gy, cudaStream_t s) {
    using C = Cfg<WT, NG>;
    static const bool configured = [] {
        QINFER_CUDA_CHECK(
            cudaFuncSetAttribute(gemm_kernel<WT, NG>, cudaFuncAttributeMaxDynamicSharedMemorySize, C::kSmemBytes));
        return true;
    }();
    (void)configured;
    const int64_t gx = (b.np_tiles + C::kTiles - 1) / C::kTiles;
    launch(gemm_kernel<WT, NG>, dim3(static_cast<unsigned>(gx), static_cast<unsigned>(gy)), 256, C::kSmemBytes, s, b);
}

}  // namespace

GemvArgs prepare_gemm(const GemvArgs& a, int64_t rows, int64_t* gy, cudaStream_t s) {
    QINFER_CHECK(a.sigmoid_gate == nullptr && a.expert_idx == nullptr, "nvfp4 GEMM: no gated or indexed mode");
    // grouped: every expert's last chunk may be partial: at most ceil(m / 128) + E chunks
    *gy = (rows + kGemmTokens - 1) / kGemmTokens + (a.offsets ? a.num_experts : 0);
    QINFER_CHECK(*gy <= 65535, "linear: too many rows for the NVFP4 GEMM grid (", rows, ")");
    if (a.offsets) {
        QINFER_CHECK(a.chunks != nullptr, "linear_grouped: no chunk table scratch");
        build_chunk_table(a.offsets, a.num_experts, a.m, kGemmTokens, a.chunks, s);
    }
    GemvArgs b = a;
    const size_t out_bytes = a.mode == OutMode::StoreBF16 ? 2 : 4;
    b.vec_store = a.ldy % 4 == 0 && reinterpret_cast<uintptr_t>(a.y) % (4 * out_bytes) == 0;
    return b;
}

void launch_gemm(const GemvArgs& a, int64_t rows, cudaStream_t s) {
    int64_t gy = 0;
    const GemvArgs b = prepare_gemm(a, rows, &gy, s);
    // 2 tiles x 16 token groups per warp (CTA 256 weight rows x 128 tokens): measured best of (4, 8), (2, 16), (2, 8)
    // (docs/perf/linear.md). A dense GEMM of at most 64 rows (decode of 9..64 sequences) runs 2 tiles x 8 groups
    // (CTA 128 weight rows x 64 live tokens): twice the CTAs, so a [12288, 2048] weight spreads over 96 SMs, not 48.
    if (!a.offsets && rows <= 64)
        launch_wt<kWarpTiles, 8>(b, gy, s);
    else
        launch_wt<kWarpTiles, kWarpGroups>(b, gy, s);
}

}  // namespace qinfer::cuda::nvfp4
