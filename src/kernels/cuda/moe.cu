// MoE glue (kernels/cuda/moe.h): routing (softmax → top-k → renormalise), the stable counting sort of (token, slot)
// pairs by expert, row gathers and the weighted combine. Everything on the device, no host sync (graph-capturable).

#include <cub/block/block_scan.cuh>

#include <cstdint>

#include "core/check.h"
#include "kernels/cuda/check.h"
#include "kernels/cuda/launch.h"
#include "kernels/cuda/glue_common.cuh"
#include "kernels/cuda/norm_row.cuh"
#include "kernels/cuda/moe.h"

namespace qinfer::cuda {
namespace {

constexpr int kMaxE = 512;       // experts (moe_route keeps E/32 logits per lane in registers; the scan is 512 wide)
constexpr int kMaxK = 32;        // slots per token
constexpr int kPerLane = kMaxE / 32;
constexpr int kChunk = 512;      // (token, slot) pairs per scatter warp: 16 per lane, preloaded
constexpr int kScanThreads = 512;
constexpr int kCombineNormCache = 8;  // float4s per thread: moe_combine_norm covers H <= 8192

// ---- moe_route: one warp per token. Lane l holds experts e = l + 32 i. Softmax in fp32 with the max subtracted
// (as kernels/cpu/moe.cpp; the sum is a warp tree, not sequential, so p may differ from the CPU in the last ulp),
// then k rounds of a warp argmax over p with ties to the lower expert id, then w = p / Σ_selected p (the sum in
// selection order, sequential, as the CPU).
// With shared_logit (moe_route_shared): each token gets k + 1 slots, the last one expert E (the shared expert) with
// weight sigmoid(shared_logit[t * ld_shared]) (glue::sigmoid_rn).
__global__ void moe_route_kernel(const float* __restrict__ logits, int64_t ld, int64_t T, int E, int k,
                                 bool renormalize, const float* __restrict__ shared_logit, int64_t ld_shared,
                                 int32_t* __restrict__ ids, float* __restrict__ weights) {
    grid_dependency_sync();  // PDL: first statement (launch.h)
    __shared__ float s_p[8][kMaxK];
    const int lane = threadIdx.x & 31, wid = threadIdx.x >> 5;
    const int64_t t = static_cast<int64_t>(blockIdx.x) * (blockDim.x >> 5) + wid;
    if (t >= T) return;
    const int slots = shared_logit != nullptr ? k + 1 : k;
    const float* l = logits + t * ld;
    float p[kPerLane];
    float m = -INFINITY;
#pragma unroll
    for (int i = 0; i < kPerLane; ++i) {
        const int e = lane + 32 * i;
        p[i] = e < E ? l[e] : -INFINITY;
        m = fmaxf(m, p[i]);
    }
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) m = fmaxf(m, __shfl_xor_sync(0xffffffffu, m, o));
    float sum = 0.0f;
#pragma unroll
    for (int i = 0; i < kPerLane; ++i) {
        const int e = lane + 32 * i;
        p[i] = e < E ? expf(__fsub_rn(p[i], m)) : 0.0f;
        sum = __fadd_rn(sum, p[i]);
    }
    sum = glue::warp_sum(sum);
#pragma unroll
    for (int i = 0; i < kPerLane; ++i) {
        const int e = lane + 32 * i;
        p[i] = e < E ? __fdiv_rn(p[i], sum) : -1.0f;  // -1: never selected
    }
    for (int s = 0; s < k; ++s) {
        float bv = -2.0f;
        int be = 0x7fffffff;
#pragma unroll
        for (int i = 0; i < kPerLane; ++i) {
            if (p[i] > bv) {  // strict: within a lane e ascends with i, so the first maximum (lowest e) wins
                bv = p[i];
                be = lane + 32 * i;
            }
        }
#pragma unroll
        for (int o = 16; o > 0; o >>= 1) {
            const float ov = __shfl_xor_sync(0xffffffffu, bv, o);
            const int oe = __shfl_xor_sync(0xffffffffu, be, o);
            if (ov > bv || (ov == bv && oe < be)) {
                bv = ov;
                be = oe;
            }
        }
#pragma unroll
        for (int i = 0; i < kPerLane; ++i)
            if (lane + 32 * i == be) p[i] = -1.0f;
        if (lane == 0) {
            ids[t * slots + s] = be;
            s_p[wid][s] = bv;
        }
    }
    __syncwarp();
    if (lane == 0) {
        float sel = 0.0f;
        for (int s = 0; s < k; ++s) sel = __fadd_rn(sel, s_p[wid][s]);
        for (int s = 0; s < k; ++s) weights[t * slots + s] = renormalize ? __fdiv_rn(s_p[wid][s], sel) : s_p[wid][s];
        if (shared_logit != nullptr) {
            ids[t * slots + k] = E;
            weights[t * slots + k] = glue::sigmoid_rn(shared_logit[t * ld_shared]);
        }
    }
}

// ---- moe_permute: stable counting sort of the n = T*k pairs i = t*k + j by expert ids[i].
// One warp scatters a chunk of kChunk consecutive pairs in index order: each round of 32 pairs, __match_any groups the
// lanes with the same expert; a pair's row is cnt[e] + (number of lower lanes in its group); the group's lowest lane
// then advances cnt[e]. Rounds run in index order, so the order within an expert is the pair order (= token order:
// a token picks an expert at most once).
__device__ __forceinline__ void scatter_chunk(const int32_t* __restrict__ ids, int n, int k, int begin, int* cnt,
                                              int32_t* __restrict__ src_token, int32_t* __restrict__ sorted_pos,
                                              int32_t* __restrict__ expert_of_row) {
    const int lane = threadIdx.x & 31;
    int ev[kChunk / 32];
#pragma unroll
    for (int s = 0; s < kChunk / 32; ++s) {
        const int i = begin + s * 32 + lane;
        ev[s] = i < n ? ids[i] : -1;
    }
#pragma unroll
    for (int s = 0; s < kChunk / 32; ++s) {
        if (begin + s * 32 >= n) break;  // warp-uniform
        const int i = begin + s * 32 + lane;
        const int e = ev[s];
        const unsigned peers = __match_any_sync(0xffffffffu, e);
        const int rank = __popc(peers & ((1u << lane) - 1u));
        const bool leader = (__ffs(peers) - 1) == lane;
        if (e >= 0) {
            const int row = cnt[e] + rank;
            src_token[row] = i / k;
            sorted_pos[i] = row;
            expert_of_row[row] = e;
        }
        __syncwarp();
        if (e >= 0 && leader) cnt[e] += __popc(peers);
        __syncwarp();
    }
}

// Small n (<= kChunk, every decode batch up to 64 tokens at k = 8): histogram, scan and scatter in one block.
__global__ void __launch_bounds__(kScanThreads) moe_permute_small_kernel(const int32_t* __restrict__ ids, int n, int k,
                                                                         int E, int32_t* __restrict__ offsets,
                                                                         int32_t* __restrict__ src_token,
                                                                         int32_t* __restrict__ sorted_pos,
                                                                         int32_t* __restrict__ expert_of_row) {
    grid_dependency_sync();  // PDL: first statement (launch.h)
    using Scan = cub::BlockScan<int, kScanThreads>;
    __shared__ typename Scan::TempStorage scan_tmp;
    __shared__ int cnt[kMaxE];
    const int tid = threadIdx.x;
    cnt[tid] = 0;
    __syncthreads();
    for (int i = tid; i < n; i += kScanThreads) atomicAdd(&cnt[ids[i]], 1);
    __syncthreads();
    const int v = tid < E ? cnt[tid] : 0;
    int off;
    Scan(scan_tmp).ExclusiveSum(v, off);
    if (tid < E) offsets[tid] = off;
    if (tid == 0) offsets[E] = n;
    __syncthreads();
    cnt[tid] = off;
    __syncthreads();
    if (tid < 32) scatter_chunk(ids, n, k, 0, cnt, src_token, sorted_pos, expert_of_row);
}

// Large n: per-chunk histograms counts[b][e] ...
__global__ void moe_permute_count_kernel(const int32_t* __restrict__ ids, int n, int E, int32_t* __restrict__ counts) {
    grid_dependency_sync();  // PDL: first statement (launch.h)
    __shared__ int cnt[kMaxE];
    for (int e = threadIdx.x; e < E; e += blockDim.x) cnt[e] = 0;
    __syncthreads();
    const int begin = blockIdx.x * kChunk;
    const int end = min(n, begin + kChunk);
    for (int i = begin + threadIdx.x; i < end; i += blockDim.x) atomicAdd(&cnt[ids[i]], 1);
    __syncthreads();
    for (int e = threadIdx.x; e < E; e += blockDim.x) counts[static_cast<int64_t>(blockIdx.x) * E + e] = cnt[e];
}

// ... an exclusive scan over chunks per expert (counts becomes the chunk's start within its expert) and over experts
// (offsets) ...
__global__ void __launch_bounds__(kScanThreads) moe_permute_scan_kernel(int n, int nb, int E,
                                                                        int32_t* __restrict__ counts,
                                                                        int32_t* __restrict__ offsets) {
    grid_dependency_sync();  // PDL: first statement (launch.h)
    using Scan = cub::BlockScan<int, kScanThreads>;
    __shared__ typename Scan::TempStorage scan_tmp;
    const int e = threadIdx.x;
    int run = 0;
    if (e < E) {
        for (int b = 0; b < nb; ++b) {
            const int64_t at = static_cast<int64_t>(b) * E + e;
            const int c = counts[at];
            counts[at] = run;
            run += c;
        }
    }
    int off;
    Scan(scan_tmp).ExclusiveSum(run, off);
    if (e < E) offsets[e] = off;
    if (e == 0) offsets[E] = n;
}

// ... and the scatter, one warp per chunk.
__global__ void moe_permute_scatter_kernel(const int32_t* __restrict__ ids, int n, int k, int E,
                                           const int32_t* __restrict__ counts, const int32_t* __restrict__ offsets,
                                           int32_t* __restrict__ src_token, int32_t* __restrict__ sorted_pos,
                                           int32_t* __restrict__ expert_of_row) {
    grid_dependency_sync();  // PDL: first statement (launch.h)
    __shared__ int cnt[kMaxE];
    for (int e = threadIdx.x; e < E; e += 32) cnt[e] = offsets[e] + counts[static_cast<int64_t>(blockIdx.x) * E + e];
    __syncwarp();
    scatter_chunk(ids, n, k, blockIdx.x * kChunk, cnt, src_token, sorted_pos, expert_of_row);
}

// ---- moe_combine: one block per token. The k rows are visited in ascending sorted row: after moe_permute that is
// ascending expert id (sorted rows are grouped by expert), as kernels/cpu/moe.cpp's moe_experts; with the identity
// positions of the indexed decode it is slot order (NUMERICS.md). acc = Σ w·y in that order from 0, then h += acc. Unfused mul/add (__fmul_rn/__fadd_rn): no FMA contraction, deterministic and order-fixed.
// kNorm > 0 (moe_combine_norm; vector path, H <= 4 * kNorm * blockDim): the block keeps its finished h row in
// registers and writes the next RMSNorm of it to xb (norm_row.cuh, the same rounding as rms_norm_kernel).
struct CombineNorm {
    const float* w = nullptr;  // f32 [H]
    float eps = 0.0f;
    bool zero_centered = false;
    bf16* xb = nullptr;  // bf16 [T, H]
};

// Expert outputs are f32 or bf16 (the model's, half the bytes); either is summed in f32.
__device__ __forceinline__ float4 load4(const float* row, int64_t c) { return reinterpret_cast<const float4*>(row)[c]; }
__device__ __forceinline__ float4 load4(const bf16* row, int64_t c) {
    const uint2 u = reinterpret_cast<const uint2*>(row)[c];  // 4 bf16 (8 bytes): bf16 -> f32 is a 16-bit shift
    return make_float4(__uint_as_float(u.x << 16), __uint_as_float(u.x & 0xffff0000u), __uint_as_float(u.y << 16),
                       __uint_as_float(u.y & 0xffff0000u));
}
__device__ __forceinline__ float load1(const float* p) { return *p; }
__device__ __forceinline__ float load1(const bf16* p) { return __bfloat162float(*p); }

template <class Y, bool kVec, int kNorm>
__global__ void moe_combine_kernel(const Y* __restrict__ y, const int32_t* __restrict__ sorted_pos,
                                   const float* __restrict__ weights, int k, int64_t H, float* __restrict__ h,
                                   CombineNorm norm) {
    grid_dependency_sync();  // PDL: first statement (launch.h)
    __shared__ int s_pos[kMaxK];
    __shared__ float s_w[kMaxK];
    const int64_t t = blockIdx.x;
    if (threadIdx.x < k) {
        const int j = threadIdx.x;
        const int pj = sorted_pos[t * k + j];
        int rank = 0;
        for (int q = 0; q < k; ++q) rank += sorted_pos[t * k + q] < pj;
        s_pos[rank] = pj;
        s_w[rank] = weights[t * k + j];
    }
    __syncthreads();
    float* hr = h + t * H;
    if constexpr (kVec) {
        // h[t, float4 c] += Σ_r w_r · y[pos_r, float4 c]; returns the new value
        // The rows are loaded 8 at a time before they are summed (in order): at B = 1 this one block is the whole
        // kernel, and one DRAM/L2 round trip per row was its latency (ncu: 10.5 us for k + 1 = 9 rows).
        const auto combine_at = [&](int64_t c) {
            float4 acc = make_float4(0.f, 0.f, 0.f, 0.f);
            float4 hv = reinterpret_cast<float4*>(hr)[c];
            for (int r0 = 0; r0 < k; r0 += 8) {
                float4 v[8];
#pragma unroll
                for (int u = 0; u < 8; ++u)
                    if (r0 + u < k)
                        v[u] = load4(y + static_cast<int64_t>(s_pos[r0 + u]) * H, c);
#pragma unroll
                for (int u = 0; u < 8; ++u) {
                    if (r0 + u >= k) break;
                    const float w = s_w[r0 + u];
                    acc.x = __fadd_rn(acc.x, __fmul_rn(v[u].x, w));
                    acc.y = __fadd_rn(acc.y, __fmul_rn(v[u].y, w));
                    acc.z = __fadd_rn(acc.z, __fmul_rn(v[u].z, w));
                    acc.w = __fadd_rn(acc.w, __fmul_rn(v[u].w, w));
                }
            }
            hv.x = __fadd_rn(hv.x, acc.x);
            hv.y = __fadd_rn(hv.y, acc.y);
            hv.z = __fadd_rn(hv.z, acc.z);
            hv.w = __fadd_rn(hv.w, acc.w);
            reinterpret_cast<float4*>(hr)[c] = hv;
            return hv;
        };
        if constexpr (kNorm > 0) {
            __shared__ double red[32];
            __shared__ float s_inv;
            float4 cache[kNorm];
#pragma unroll
            for (int j = 0; j < kNorm; ++j) {
                const int64_t c = threadIdx.x + static_cast<int64_t>(j) * blockDim.x;
                cache[j] = c < H / 4 ? combine_at(c) : make_float4(0.f, 0.f, 0.f, 0.f);
            }
            glue::rms_norm_row(cache, H, norm.w, norm.eps, norm.zero_centered, norm.xb + t * H, red, &s_inv);
        } else {
            for (int64_t c = threadIdx.x; c < H / 4; c += blockDim.x) combine_at(c);
        }
    } else {
        for (int64_t c = threadIdx.x; c < H; c += blockDim.x) {
            float acc = 0.0f;
            for (int r = 0; r < k; ++r)
                acc = __fadd_rn(acc, __fmul_rn(load1(y + static_cast<int64_t>(s_pos[r]) * H + c), s_w[r]));
            hr[c] = __fadd_rn(hr[c], acc);
        }
    }
}

int64_t num_chunks(int64_t T, int64_t k) { return (T * k + kChunk - 1) / kChunk; }

}  // namespace

namespace {

void route(const float* logits, int64_t ld, int64_t T, int64_t E, int64_t k, bool renormalize,
           const float* shared_logit, int64_t ld_shared, int32_t* ids, float* weights, cudaStream_t stream) {
    QINFER_CHECK(E >= 1 && E <= kMaxE, "moe_route: E must be in [1, ", kMaxE, "], got ", E);
    QINFER_CHECK(k >= 1 && k <= E && k <= kMaxK, "moe_route: k must be in [1, min(E, ", kMaxK, ")], got ", k);
    if (T <= 0) return;
    const int warps = 8;  // tokens per block
    const auto blocks = static_cast<unsigned>((T + warps - 1) / warps);
    launch(moe_route_kernel, blocks, warps * 32, 0, stream, logits, ld, T, static_cast<int>(E), static_cast<int>(k),
           renormalize, shared_logit, ld_shared, ids, weights);
}

}  // namespace

void moe_route(const float* logits, int64_t ld, int64_t T, int64_t E, int64_t k, bool renormalize, int32_t* ids,
               float* weights, cudaStream_t stream) {
    route(logits, ld, T, E, k, renormalize, nullptr, 0, ids, weights, stream);
}

void moe_route_shared(const float* logits, int64_t ld, int64_t T, int64_t E, int64_t k, bool renormalize,
                      const float* shared_logit, int64_t ld_shared, int32_t* ids, float* weights, cudaStream_t stream) {
    QINFER_CHECK(shared_logit != nullptr, "moe_route_shared: null shared-expert gate logits");
    route(logits, ld, T, E, k, renormalize, shared_logit, ld_shared, ids, weights, stream);
}

size_t moe_permute_scratch_bytes(int64_t T, int64_t k, int64_t E) {
    const int64_t nb = num_chunks(T, k);
    return nb > 1 ? static_cast<size_t>(nb * E) * sizeof(int32_t) : 0;
}

void moe_permute(const int32_t* ids, int64_t T, int64_t k, int64_t E, int32_t* offsets, int32_t* src_token,
                 int32_t* sorted_pos, int32_t* expert_of_row, void* scratch, cudaStream_t stream) {
    QINFER_CHECK(E >= 1 && E <= kMaxE, "moe_permute: E must be in [1, ", kMaxE, "], got ", E);
    QINFER_CHECK(T >= 0 && k >= 1 && T * k < (int64_t{1} << 31), "moe_permute: bad T*k");
    const int n = static_cast<int>(T * k);
    const int64_t nb = num_chunks(T, k);
    if (nb <= 1) {
        launch(moe_permute_small_kernel, 1, kScanThreads, 0, stream, ids, n, static_cast<int>(k), static_cast<int>(E),
               offsets, src_token, sorted_pos, expert_of_row);
        return;
    }
    QINFER_CHECK(scratch != nullptr, "moe_permute: scratch of moe_permute_scratch_bytes() bytes required");
    auto* counts = static_cast<int32_t*>(scratch);
    launch(moe_permute_count_kernel, static_cast<unsigned>(nb), 256, 0, stream, ids, n, static_cast<int>(E), counts);
    launch(moe_permute_scan_kernel, 1, kScanThreads, 0, stream, n, static_cast<int>(nb), static_cast<int>(E), counts,
           offsets);
    launch(moe_permute_scatter_kernel, static_cast<unsigned>(nb), 32, 0, stream, ids, n, static_cast<int>(k),
           static_cast<int>(E), counts, offsets, src_token, sorted_pos, expert_of_row);
}

namespace {

bool vec_aligned(const float* y) { return glue::aligned16(y); }  // float4 loads
bool vec_aligned(const bf16* y) { return glue::aligned8(y); }     // 4 bf16 = 8-byte loads

template <class Y>
void combine(const Y* y, const int32_t* sorted_pos, const float* weights, int64_t T, int64_t k, int64_t H, float* h,
             cudaStream_t stream) {
    QINFER_CHECK(k >= 1 && k <= kMaxK, "moe_combine: k must be in [1, ", kMaxK, "], got ", k);
    if (T <= 0 || H <= 0) return;
    const bool vec = H % 4 == 0 && vec_aligned(y) && glue::aligned16(h);
    const int threads = 256;
    if (vec)
        launch(moe_combine_kernel<Y, true, 0>, static_cast<unsigned>(T), threads, 0, stream, y, sorted_pos, weights,
               static_cast<int>(k), H, h, CombineNorm{});
    else
        launch(moe_combine_kernel<Y, false, 0>, static_cast<unsigned>(T), threads, 0, stream, y, sorted_pos, weights,
               static_cast<int>(k), H, h, CombineNorm{});
}

template <class Y>
void combine_norm(const Y* y, const int32_t* sorted_pos, const float* weights, int64_t T, int64_t k, int64_t H,
                  float* h, const float* norm_w, float eps, bool zero_centered, bf16* xb, cudaStream_t stream) {
    QINFER_CHECK(k >= 1 && k <= kMaxK, "moe_combine_norm: k must be in [1, ", kMaxK, "], got ", k);
    QINFER_CHECK(moe_combine_norm_supported(H) && vec_aligned(y) && glue::aligned16(h) && glue::aligned16(norm_w) &&
                     glue::aligned16(xb),
                 "moe_combine_norm: needs H % 4 == 0, H <= ", 4 * kCombineNormCache * 256,
                 " and aligned rows (H = ", H, ")");
    if (T <= 0) return;
    // 256 threads, as rms_norm for H <= 2048: the same bits as moe_combine followed by rms_norm there.
    const CombineNorm n{norm_w, eps, zero_centered, xb};
    if (H <= 4 * 2 * 256)
        launch(moe_combine_kernel<Y, true, 2>, static_cast<unsigned>(T), 256, 0, stream, y, sorted_pos, weights,
               static_cast<int>(k), H, h, n);
    else
        launch(moe_combine_kernel<Y, true, kCombineNormCache>, static_cast<unsigned>(T), 256, 0, stream, y,
               sorted_pos, weights, static_cast<int>(k), H, h, n);
}

}  // namespace

void moe_combine(const float* y, const int32_t* sorted_pos, const float* weights, int64_t T, int64_t k, int64_t H,
                 float* h, cudaStream_t stream) {
    combine(y, sorted_pos, weights, T, k, H, h, stream);
}
void moe_combine(const bf16* y, const int32_t* sorted_pos, const float* weights, int64_t T, int64_t k, int64_t H,
                 float* h, cudaStream_t stream) {
    combine(y, sorted_pos, weights, T, k, H, h, stream);
}

bool moe_combine_norm_supported(int64_t H) { return H % 4 == 0 && H <= 4 * kCombineNormCache * 256; }

void moe_combine_norm(const float* y, const int32_t* sorted_pos, const float* weights, int64_t T, int64_t k, int64_t H,
                      float* h, const float* norm_w, float eps, bool zero_centered, bf16* xb, cudaStream_t stream) {
    combine_norm(y, sorted_pos, weights, T, k, H, h, norm_w, eps, zero_centered, xb, stream);
}
void moe_combine_norm(const bf16* y, const int32_t* sorted_pos, const float* weights, int64_t T, int64_t k, int64_t H,
                      float* h, const float* norm_w, float eps, bool zero_centered, bf16* xb, cudaStream_t stream) {
    combine_norm(y, sorted_pos, weights, T, k, H, h, norm_w, eps, zero_centered, xb, stream);
}

}  // namespace qinfer::cuda
