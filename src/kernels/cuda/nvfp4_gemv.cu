// NVFP4 decode GEMV on the tensor cores, and the upload into the tiled layout (nvfp4_gemv.h; layout and number
// formats in nvfp4_tiles.cuh).
//
// Epilogue fusion: the output may be scaled by sigmoid(gate logit) before it is stored or added (the shared expert's
// gated add: one launch fewer per MoE layer). Tried, measured slower, and removed (docs/perf-notes.md): SiLU·mul at
// the x load (every CTA and lane recomputes the activation; B = 1 step 3.59 -> 5.63 ms) and the routed experts' down
// projection + combine in one CTA per token (its k experts run one after another; B = 1 +3 %).
//
// One CTA = 4 warps = one 16-row tile of W x up to 8 tokens (dense: 8 consecutive rows of x; indexed: one row with its
// own expert; grouped: up to 8 rows of one expert); the warps split the 64-wide k tiles (warp w takes tiles
// w, w + 4, ...) and their 16 x 8 fp32 partial sums meet in shared memory. Per k tile a lane issues one 16-byte code
// load, one 2-byte scale load and (if its token exists) two 16-byte x loads, U tiles at a time before any math, so
// a lane keeps U x 16 bytes of weights in flight. Grids of more than a wave load x at the math instead (kLateX:
// 62 registers instead of 86, 8 CTAs per SM instead of 5; launch_gemv says when). Per 256 weights a warp spends ~21
// instructions (16 for decode and block scale, 1 mma, loads): about 1.7 warp instructions per SM cycle at 3 TB/s,
// half the issue rate.

#include <cub/block/block_scan.cuh>

#include <climits>
#include <cstdio>
#include <mutex>

#include "core/check.h"
#include "kernels/cuda/buffer.h"
#include "kernels/cuda/check.h"
#include "kernels/cuda/launch.h"
#include "kernels/cuda/gemm_common.cuh"
#include "kernels/cuda/glue_common.cuh"
#include "kernels/cuda/nvfp4_gemv.h"
#include "kernels/cuda/nvfp4_tiles.cuh"

namespace qinfer::cuda::nvfp4 {

namespace {

constexpr int kWarps = 4;
constexpr int kUnroll = 4;

// kLateX: each x fragment is loaded right before its mma instead of with the codes (fewer registers; launch_gemv).
template <bool kLateX>
__global__ void __launch_bounds__(kWarps * 32) gemv_kernel(GemvArgs a) {
    if (a.expert_idx == nullptr && a.offsets == nullptr) {
        // Dense: the weight tiles are known before x is; this block's row tile is contiguous in codes and in scales.
        const int64_t tile0 = (a.expert * a.np_tiles + blockIdx.x) * a.kt;
        prefetch_l2(a.codes + tile0 * kTileCodeBytes, a.kt * kTileCodeBytes, threadIdx.x, kWarps * 32);
        prefetch_l2(a.scales + tile0 * kTileScaleBytes, a.kt * kTileScaleBytes, threadIdx.x, kWarps * 32);
    }
    grid_dependency_sync();  // PDL (launch.h); only weight prefetches before it
    __shared__ float partial[kWarps - 1][32][4];
    const int warp = static_cast<int>(threadIdx.x >> 5), lane = static_cast<int>(threadIdx.x & 31);
    const int g = lane >> 2, t = lane & 3;
    const int64_t row_tile = blockIdx.x;
    int64_t e, yrow0;
    int mcount;
    const bf16* xr = nullptr;  // this lane's token (B column g); null -> zeros
    const uint8_t* codes = a.codes;
    const uint8_t* scales = a.scales;
    const float* row_scale = a.row_scale;
    if (a.expert_idx) {
        const int r = static_cast<int>(blockIdx.y);
        e = a.expert_idx[r];
        if (a.extra_codes != nullptr && e == a.extra_expert) {  // uniform per block
            codes = a.extra_codes;
            scales = a.extra_scales;
            row_scale = a.extra_row_scale;
            e = 0;
        }
        if (g == 0) xr = a.x + static_cast<int64_t>(a.x_row[r]) * a.ldx;
        yrow0 = r;
        mcount = 1;
    } else if (a.offsets) {
        // blockIdx.y = chunk id; the table (chunk_table_kernel, same stream) holds (expert, first row, rows) per chunk
        // and, in entry 0's w, the number of chunks. Surplus blocks (the grid is sized for the worst case) exit.
        const int total = a.chunks[0].w;
        const int c = static_cast<int>(blockIdx.y);
        if (c >= total) return;  // uniform per block: no thread reaches the barrier below
        const int4 ch = a.chunks[1 + c];
        e = ch.x;
        yrow0 = ch.y;
        mcount = ch.z;
        if (g < mcount)
            xr = a.x + (a.x_gather != nullptr ? static_cast<int64_t>(a.x_gather[yrow0 + g]) : yrow0 + g) * a.ldx;
    } else {
        const int m0 = static_cast<int>(blockIdx.y) * 8;
        e = a.expert;
        if (m0 + g < a.m) xr = a.x + static_cast<int64_t>(m0 + g) * a.ldx;
        yrow0 = m0;
        mcount = min(8, a.m - m0);
    }
    const int64_t tile0 = (e * a.np_tiles + row_tile) * a.kt;
    const uint8_t* cp = codes + tile0 * kTileCodeBytes + lane * 16;
    const uint16_t* sp = reinterpret_cast<const uint16_t*>(scales + tile0 * kTileScaleBytes) + lane;
    const int kt_n = static_cast<int>(a.kt);

    float c[4] = {0.0f, 0.0f, 0.0f, 0.0f};
    for (int kt0 = warp; kt0 < kt_n; kt0 += kWarps * kUnroll) {
        uint4 q[kUnroll], xa[kUnroll], xb[kUnroll];
        uint32_t s[kUnroll];
        const auto load_x = [&](int u) {
            const int k0 = (kt0 + kWarps * u) * kTileK + 16 * t;
            xa[u] = xb[u] = make_uint4(0, 0, 0, 0);
            if (xr != nullptr && k0 < a.k) {  // K % 16 == 0: a lane's 16 k are all in or all out
                xa[u] = __ldg(reinterpret_cast<const uint4*>(xr + k0));
                xb[u] = __ldg(reinterpret_cast<const uint4*>(xr + k0 + 8));
            }
        };
#pragma unroll
        for (int u = 0; u < kUnroll; ++u) {
            const int kt = kt0 + kWarps * u;
            q[u] = make_uint4(0, 0, 0, 0);
            s[u] = 0;
            if (kt < kt_n) {
                q[u] = ld_stream(cp + static_cast<int64_t>(kt) * kTileCodeBytes);
                s[u] = sp[static_cast<int64_t>(kt) * 32];
                if (!kLateX) load_x(u);
            }
        }
#pragma unroll
        for (int u = 0; u < kUnroll; ++u) {
            if (kt0 + kWarps * u >= kt_n) continue;
            if (kLateX) load_x(u);
            const uint32_t sg = scale_pair(s[u]), sg8 = scale_pair(s[u] >> 8);
#pragma unroll
            for (int j = 0; j < 4; ++j) {
                const uint32_t wg = j < 2 ? q[u].x : q[u].y;   // row g: codes 0-7 (k steps 0, 1) or 8-15 (2, 3)
                const uint32_t wg8 = j < 2 ? q[u].z : q[u].w;  // row g + 8
                const int p = 2 * (j & 1);
                const uint4& xv = j < 2 ? xa[u] : xb[u];
                // A: rows g / g + 8, k pairs (p, p + 1) of this k step -> a0..a3 (fragment order)
                const uint32_t af[4] = {scaled_pair(wg, p, sg), scaled_pair(wg8, p, sg8), scaled_pair(wg, p + 1, sg),
                                        scaled_pair(wg8, p + 1, sg8)};
                mma_bf16(c, af, word_of(xv, p), word_of(xv, p + 1));
            }
        }
    }

    if (warp > 0) {
#pragma unroll
        for (int i = 0; i < 4; ++i) partial[warp - 1][lane][i] = c[i];
    }
    __syncthreads();
    if (warp != 0) return;
#pragma unroll
    for (int w = 0; w < kWarps - 1; ++w)
#pragma unroll
        for (int i = 0; i < 4; ++i) c[i] += partial[w][lane][i];
    // c0: (row g, token 2t), c1: (g, 2t + 1), c2: (g + 8, 2t), c3: (g + 8, 2t + 1)
#pragma unroll
    for (int i = 0; i < 4; ++i) {
        const int n = static_cast<int>(row_tile) * kTileRows + g + (i >> 1) * 8;
        const int tok = 2 * t + (i & 1);
        if (n < a.n && tok < mcount) {
            float v = c[i] * (row_scale[e * a.n + n] * kPostScale);
            if (a.sigmoid_gate != nullptr)  // the shared expert's gate: s * y
                v = __fmul_rn(glue::sigmoid_rn(a.sigmoid_gate[(yrow0 + tok) * a.ld_gate]), v);
            store_out(a.y, (yrow0 + tok) * a.ldy + n, v, a.mode);
        }
    }
}

// One block: every expert's chunks of `per_chunk` grouped rows, in expert order, as int4 (expert, first row, rows, 0)
// at table[1 + chunk]; table[0].w = the number of chunks. Experts are split over the threads in contiguous ranges and
// their chunk counts prefix-summed (CUB), so no GEMV block has to scan the offsets itself.
constexpr int kTableThreads = 256;
__global__ void __launch_bounds__(kTableThreads) chunk_table_kernel(const int32_t* offsets, int num_experts, int m,
                                                                    int per_chunk, int4* table) {
    grid_dependency_sync();  // PDL: first statement (launch.h)
    using Scan = cub::BlockScan<int, kTableThreads>;
    __shared__ typename Scan::TempStorage tmp;
    const int per = (num_experts + kTableThreads - 1) / kTableThreads;
    const int e0 = static_cast<int>(threadIdx.x) * per, e1 = min(num_experts, e0 + per);
    int mine = 0;
    for (int e = e0; e < e1; ++e) {
        const int lo = offsets[e], hi = min(offsets[e + 1], m);
        mine += hi > lo ? (hi - lo + per_chunk - 1) / per_chunk : 0;
    }
    int base = 0, total = 0;
    Scan(tmp).ExclusiveSum(mine, base, total);
    for (int e = e0; e < e1; ++e) {
        const int lo = offsets[e], hi = min(offsets[e + 1], m);
        for (int r = lo; r < hi; r += per_chunk) table[1 + base++] = make_int4(e, r, min(per_chunk, hi - r), 0);
    }
    if (threadIdx.x == 0) table[0] = make_int4(0, 0, 0, total);
}

// One thread per (row, block): checkpoint bytes -> tiled layout, E4M3 scale -> encoded byte (nvfp4_tiles.cuh).
// bad: the smallest (row * blocks + block) index with a NaN or negative scale (INT_MAX if none).
__global__ void relayout_kernel(uint8_t* codes, uint8_t* scales, int64_t n, int64_t k, int64_t np_tiles, int64_t kt,
                                int64_t row0, int64_t rows, const uint8_t* src_codes, const uint8_t* src_scales,
                                int* bad) {
    grid_dependency_sync();  // PDL: first statement (launch.h)
    const int64_t blocks = k / 16;
    const int64_t idx = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
    if (idx >= rows * blocks) return;
    const int64_t r = idx / blocks, b = idx % blocks;
    const int64_t R = row0 + r, e = R / n, nn = R % n;
    const uint2 v = *reinterpret_cast<const uint2*>(src_codes + r * (k / 2) + b * 8);
    const uint32_t sc = src_scales[r * blocks + b];
    const uint32_t ee = (sc >> 3) & 15u, mm = sc & 7u;
    uint32_t enc = 0;
    bool zero = false;
    if ((sc & 0x7fu) == 0) {
        zero = true;  // +-0: the block is 0
    } else if ((sc & 0x7fu) == 0x7fu || (sc & 0x80u)) {
        atomicMin(bad, static_cast<int>(idx));
        zero = true;
    } else if (ee > 0) {
        enc = ((ee + 2) << 3) | mm;  // 2^(ee-7) (1 + mm/8): E + 9 = ee + 2
    } else {
        const uint32_t p = mm >= 4 ? 2 : (mm >= 2 ? 1 : 0);  // mm * 2^-9 = 2^(p-9) * (mm / 2^p)
        enc = (p << 3) | (((mm << (3 - p)) - 8) & 7u);
    }
    uint32_t out[2] = {0, 0};
    if (!zero) {
        constexpr int kNibbleOf[8] = {3, 7, 2, 6, 1, 5, 0, 4};
        const uint32_t in[2] = {v.x, v.y};
#pragma unroll
        for (int h = 0; h < 2; ++h)
#pragma unroll
            for (int j = 0; j < 8; ++j) out[h] |= ((in[h] >> (4 * j)) & 0xfu) << (4 * kNibbleOf[j]);
    }
    const BlockAt at = block_at(e, nn, b, np_tiles, kt);
    *reinterpret_cast<uint2*>(codes + at.code) = make_uint2(out[0], out[1]);
    scales[at.scale] = static_cast<uint8_t>(enc);
}

}  // namespace

size_t grouped_chunk_table_bytes(int64_t m, int64_t experts, int per_chunk) {
    return static_cast<size_t>((m + per_chunk - 1) / per_chunk + experts + 1) * sizeof(int4);
}

void build_chunk_table(const int32_t* offsets, int num_experts, int64_t m, int per_chunk, int4* table,
                       cudaStream_t s) {
    QINFER_CHECK(m <= INT_MAX && per_chunk > 0, "linear_grouped: bad row bound ", m);
    launch(chunk_table_kernel, 1, kTableThreads, 0, s, offsets, num_experts, static_cast<int>(m), per_chunk, table);
}

void launch_gemv(const GemvArgs& a, int64_t rows, bool indexed, cudaStream_t s) {
    // grouped: every expert's last chunk may be partial: at most ceil(m / 8) + E chunks
    const int64_t gy = indexed ? rows : (rows + 7) / 8 + (a.offsets ? a.num_experts : 0);
    QINFER_CHECK(gy <= 65535, "linear: too many rows for the NVFP4 GEMV grid (", rows, ")");
    QINFER_CHECK(a.np_tiles <= INT_MAX, "linear: too many row tiles (", a.np_tiles, ")");
    if (a.offsets) {
        QINFER_CHECK(a.chunks != nullptr, "linear_grouped: no chunk table scratch");
        build_chunk_table(a.offsets, a.num_experts, a.m, 8, a.chunks, s);
    }
    // Where x's registers go (kLateX): loading x with the codes, before the math, keeps its latency off the mma chain
    // but holds 32 more registers (86 vs 62: 5 vs 8 CTAs per SM). A grid larger than one wave at 5 CTAs per SM gains
    // more from the extra CTAs. Measured on the 35B-A3B decode step (nvfp4-all, p50, two runs each, one device call):
    // always early B = 1 / 8 / 64: 2.80 / 6.57 / 19.19 ms; always late 2.87 / 6.21 / 17.38; this rule 2.78 / 6.06 /
    // 17.40 (docs/perf-notes.md).
    const bool late_x = a.np_tiles * gy > 5 * static_cast<int64_t>(sm_count());
    launch(late_x ? gemv_kernel<true> : gemv_kernel<false>,
           dim3(static_cast<unsigned>(a.np_tiles), static_cast<unsigned>(gy)), kWarps * 32, 0, s, a);
}

void upload_rows(uint8_t* codes, uint8_t* scales, int64_t n, int64_t k, int64_t row0, int64_t rows,
                 const uint8_t* host_codes, const uint8_t* host_scales) {
    // One staging buffer for every upload (weights arrive tensor by tensor, often thousands of experts): grown as
    // needed, never freed (it dies with the CUDA context; a static DeviceBuffer would be destroyed after it).
    static std::mutex mu;
    static DeviceBuffer* staging = new DeviceBuffer();
    const std::lock_guard<std::mutex> lock(mu);
    const int64_t np_tiles = padded_rows(n) / kTileRows, kt = padded_k(k) / kTileK;
    const int64_t code_rb = k / 2, scale_rb = k / 16;
    // Slices of at most 64 MB of codes, so the staging buffer stays small whatever the tensor.
    const int64_t slice = std::max<int64_t>(1, (int64_t{64} << 20) / code_rb);
    for (int64_t s0 = 0; s0 < rows; s0 += slice) {
        const int64_t sr = std::min(slice, rows - s0);
        const size_t code_bytes = static_cast<size_t>(sr * code_rb), scale_bytes = static_cast<size_t>(sr * scale_rb);
        const size_t scale_off = (code_bytes + 15) / 16 * 16, flag_off = (scale_off + scale_bytes + 15) / 16 * 16;
        if (staging->bytes() < flag_off + 16) {
            *staging = DeviceBuffer();
            *staging = DeviceBuffer(flag_off + 16);
        }
        uint8_t* st = staging->as<uint8_t>();
        const int none = INT_MAX;
        QINFER_CUDA_CHECK(cudaMemcpy(st, host_codes + s0 * code_rb, code_bytes, cudaMemcpyHostToDevice));
        QINFER_CUDA_CHECK(cudaMemcpy(st + scale_off, host_scales + s0 * scale_rb, scale_bytes, cudaMemcpyHostToDevice));
        QINFER_CUDA_CHECK(cudaMemcpy(st + flag_off, &none, sizeof none, cudaMemcpyHostToDevice));
        const int64_t threads = sr * scale_rb;
        launch(relayout_kernel, static_cast<unsigned>((threads + 255) / 256), 256, 0, 0, codes, scales, n, k, np_tiles,
               kt, row0 + s0, sr, st, st + scale_off, reinterpret_cast<int*>(st + flag_off));
        int bad = none;
        QINFER_CUDA_CHECK(cudaMemcpy(&bad, st + flag_off, sizeof bad, cudaMemcpyDeviceToHost));
        if (bad != none) {
            const int64_t r = bad / scale_rb, b = bad % scale_rb;
            char byte[8];
            std::snprintf(byte, sizeof byte, "0x%02x", host_scales[(s0 + r) * scale_rb + b]);
            QINFER_CHECK(false, "NVFP4 weight: block scale ", byte, " of row ", row0 + s0 + r, ", k ", 16 * b, "..",
                         16 * b + 15, " is NaN or negative (E4M3 block scales must be finite and >= 0)");
        }
    }
}

}  // namespace qinfer::cuda::nvfp4
