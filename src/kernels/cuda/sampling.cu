// Token selection on the device (kernels/cuda/sampling.h).
//
// argmax_rows: a cluster of 8 blocks per row (sm_90 thread-block clusters); each block reduces a slice of the row to
// (max, lowest index), block 0 of the cluster combines the 8 through distributed shared memory. One launch, no
// scratch, ties to the lowest index (as the CPU sampler's std::max_element).
//
// sample_rows: one block per row, exact CPU semantics (runtime/sampler.cpp) without sorting the row. The CPU sorts
// the logits descending (ties: lower id first), keeps the top_k, then the shortest prefix whose mass reaches top_p,
// and draws from what is left. Every one of those cuts is a position in that total order (logit desc, id asc), and
// so is an inverse-CDF draw over the kept prefix; each is found with a weighted radix select over the 32-bit ordered
// key of the logit (4 passes of 8 bits, histogram weights = 1 for top-k, the token's mass for top-p and the draw;
// per-warp histograms in shared memory, so atomics collide only within a warp;
// the total weight, which top-p and the draw need, comes out of the first pass), plus, only when the cut falls
// strictly inside a run of equal logits, an index-ordered scan for the n-th tied token.
// Masses are exp((l - max) / temperature) in fp32, held as fixed point with 2^-40 resolution (uint64): every sum is
// an integer sum, so the result does not depend on the order of atomics: a (seed, counter) pair always gives the
// same token. (A token with mass < 2^-40 ≈ 9e-13 of the top token's has probability 0.) The random number is
// Philox4x32-10 (cuRAND) at subsequence counter[b].

#include <cooperative_groups.h>
#include <cub/block/block_scan.cuh>
#include <curand_kernel.h>

#include <climits>
#include <cstdint>

#include "core/check.h"
#include "kernels/cuda/check.h"
#include "kernels/cuda/launch.h"
#include "kernels/cuda/glue_common.cuh"
#include "kernels/cuda/sampling.h"

namespace qinfer::cuda {
namespace {

namespace cg = cooperative_groups;

__device__ __forceinline__ bool better(float v, int i, float bv, int bi) { return v > bv || (v == bv && i < bi); }

// ---- argmax_rows
constexpr int kArgmaxCluster = 8;
constexpr int kArgmaxThreads = 512;

template <bool kVec>
__global__ void __cluster_dims__(kArgmaxCluster, 1, 1) __launch_bounds__(kArgmaxThreads)
    argmax_kernel(const float* __restrict__ logits, int64_t ld, int V, int32_t* __restrict__ out) {
    grid_dependency_sync();  // PDL: first statement (launch.h)
    __shared__ float s_v[32];
    __shared__ int s_i[32];
    cg::cluster_group cluster = cg::this_cluster();
    const int rank = static_cast<int>(cluster.block_rank());
    const int64_t b = blockIdx.y;
    const float* row = logits + b * ld;
    // Slice of the row for this block, a multiple of 4 long.
    const int slice = ((V + kArgmaxCluster - 1) / kArgmaxCluster + 3) / 4 * 4;
    const int lo = rank * slice;
    const int hi = min(V, lo + slice);
    float bv = -INFINITY;
    int bi = INT_MAX;
    if constexpr (kVec) {
        const int nvec = hi > lo ? (hi - lo) / 4 : 0;
        const float4* r4 = reinterpret_cast<const float4*>(row + lo);
        for (int q = threadIdx.x; q < nvec; q += kArgmaxThreads) {
            const float4 v = __ldg(r4 + q);
            const int i = lo + 4 * q;
            if (better(v.x, i, bv, bi)) bv = v.x, bi = i;
            if (better(v.y, i + 1, bv, bi)) bv = v.y, bi = i + 1;
            if (better(v.z, i + 2, bv, bi)) bv = v.z, bi = i + 2;
            if (better(v.w, i + 3, bv, bi)) bv = v.w, bi = i + 3;
        }
        for (int i = lo + 4 * nvec + threadIdx.x; i < hi; i += kArgmaxThreads) {
            const float v = row[i];
            if (better(v, i, bv, bi)) bv = v, bi = i;
        }
    } else {
        for (int i = lo + threadIdx.x; i < hi; i += kArgmaxThreads) {
            const float v = row[i];
            if (better(v, i, bv, bi)) bv = v, bi = i;
        }
    }
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) {
        const float ov = __shfl_xor_sync(0xffffffffu, bv, o);
        const int oi = __shfl_xor_sync(0xffffffffu, bi, o);
        if (better(ov, oi, bv, bi)) bv = ov, bi = oi;
    }
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    if (lane == 0) s_v[warp] = bv, s_i[warp] = bi;
    __syncthreads();
    if (warp == 0) {
        bv = lane < kArgmaxThreads / 32 ? s_v[lane] : -INFINITY;
        bi = lane < kArgmaxThreads / 32 ? s_i[lane] : INT_MAX;
#pragma unroll
        for (int o = 16; o > 0; o >>= 1) {
            const float ov = __shfl_xor_sync(0xffffffffu, bv, o);
            const int oi = __shfl_xor_sync(0xffffffffu, bi, o);
            if (better(ov, oi, bv, bi)) bv = ov, bi = oi;
        }
        if (lane == 0) s_v[0] = bv, s_i[0] = bi;  // warp 0 read its entries before this write (shuffles sync)
    }
    cluster.sync();
    if (rank == 0 && threadIdx.x == 0) {
        float v = s_v[0];
        int i = s_i[0];
        for (int r = 1; r < kArgmaxCluster; ++r) {
            const float ov = *cluster.map_shared_rank(&s_v[0], r);
            const int oi = *cluster.map_shared_rank(&s_i[0], r);
            if (better(ov, oi, v, i)) v = ov, i = oi;
        }
        out[b] = i == INT_MAX ? 0 : i;  // all NaN: 0, as std::max_element
    }
    cluster.sync();  // keep every block's shared memory alive until block 0 has read it
}

// ---- sample_rows
constexpr int kSampleThreads = 512;
constexpr int kSampleWarps = kSampleThreads / 32;
constexpr double kFixedScale = 1099511627776.0;  // 2^40

__device__ __forceinline__ uint32_t f2key(float f) {
    if (f == 0.0f) f = 0.0f;  // -0 == +0, as the CPU comparison
    const uint32_t u = __float_as_uint(f);
    return (u & 0x80000000u) ? ~u : (u | 0x80000000u);
}
__device__ __forceinline__ float key2f(uint32_t k) {
    return __uint_as_float((k & 0x80000000u) ? (k & 0x7fffffffu) : ~k);
}

struct Cut {  // keeps (key > key_) or (key == key_ and i <= idx); off: keeps everything
    bool on = false;
    uint32_t key = 0;
    int idx = INT_MAX;
    __device__ bool keep(int i, uint32_t k) const { return !on || k > key || (k == key && i <= idx); }
};

struct SampleSmem {
    unsigned long long whist[kSampleWarps][256];  // per-warp histograms: no cross-warp contention
    unsigned long long hist[256];
    unsigned long long red[32];
    typename cub::BlockScan<int, kSampleThreads>::TempStorage scan;
    uint32_t prefix;
    unsigned long long w_above, w_eq, target;
    int found;
    float mx;
};

// Calls f(i, l, valid) for 4 consecutive elements per thread and step (one float4 load when the row is 16-byte
// aligned), with a warp-uniform trip count so that f may use warp collectives; valid is false past the row's end.
template <class F>
__device__ __forceinline__ void for_row4(const float* row, int V, F&& f) {
    const bool vec = (reinterpret_cast<uintptr_t>(row) & 15) == 0;
    const int nq = (V + 3) / 4;
    for (int q0 = 0; q0 < nq; q0 += kSampleThreads) {
        const int q = q0 + static_cast<int>(threadIdx.x);
        const int i0 = 4 * q;
        float v[4];
        if (vec && i0 + 3 < V) {
            const float4 x = __ldg(reinterpret_cast<const float4*>(row) + q);
            v[0] = x.x, v[1] = x.y, v[2] = x.z, v[3] = x.w;
        } else {
#pragma unroll
            for (int j = 0; j < 4; ++j) v[j] = i0 + j < V ? __ldg(row + i0 + j) : 0.0f;
        }
#pragma unroll
        for (int j = 0; j < 4; ++j) f(i0 + j, v[j], i0 + j < V);
    }
}

// hist[bin] += w into the warp's own histogram: a shared-memory atomic whose result is unused (no dependency, so the
// loop does not wait on it); only lanes of the same warp can collide on an address.
__device__ __forceinline__ void warp_hist_add(unsigned long long* hist, int bin, unsigned long long w) {
    if (bin >= 0) atomicAdd(hist + bin, w);
}

struct Select {
    uint32_t key;
    unsigned long long w_gt, w_eq, target;
};

// The key at weighted position `target` (1-based) of the filtered elements in descending key order: W(> key) <
// target <= W(>= key), target = target_of(total filtered weight) (computed after the first pass, whose histogram
// holds the total). target_of must return a value in [1, total].
template <class Wt, class F, class Tg>
__device__ Select radix_select(const float* row, int V, const Wt& weight, const F& filt, const Tg& target_of,
                               SampleSmem& sm) {
    const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
    if (tid == 0) sm.prefix = 0, sm.w_above = 0, sm.w_eq = 0;
    uint32_t mask = 0;
    for (int shift = 24; shift >= 0; shift -= 8) {
        for (int q = tid; q < kSampleWarps * 256; q += kSampleThreads) (&sm.whist[0][0])[q] = 0;
        __syncthreads();
        const uint32_t prefix = sm.prefix;
        for_row4(row, V, [&](int i, float l, bool valid) {
            int bin = -1;
            unsigned long long w = 0;
            if (valid) {
                const uint32_t key = f2key(l);
                if ((key & mask) == prefix && filt(i, key)) {
                    w = weight(l);
                    if (w) bin = static_cast<int>((key >> shift) & 255u);
                }
            }
            warp_hist_add(sm.whist[warp], bin, w);
        });
        __syncthreads();
        for (int b = tid; b < 256; b += kSampleThreads) {
            unsigned long long h = 0;
            for (int w = 0; w < kSampleWarps; ++w) h += sm.whist[w][b];
            sm.hist[b] = h;
        }
        __syncthreads();
        if (tid < 32) {
            // Lane L holds bins 255-8L ... 248-8L (descending key order positions 8L .. 8L+7).
            unsigned long long s = 0;
            for (int j = 0; j < 8; ++j) s += sm.hist[255 - (8 * lane + j)];
            unsigned long long incl = s;
#pragma unroll
            for (int o = 1; o < 32; o <<= 1) {
                const unsigned long long up = __shfl_up_sync(0xffffffffu, incl, o);
                if (lane >= o) incl += up;
            }
            if (shift == 24) {
                const unsigned long long total = __shfl_sync(0xffffffffu, incl, 31);
                if (lane == 0) sm.target = target_of(total);
                __syncwarp();
            }
            const unsigned long long target = sm.target;
            unsigned long long cum = sm.w_above + (incl - s);
            int hit = -1;
            unsigned long long hit_before = 0, hit_w = 0;
            for (int j = 0; j < 8; ++j) {
                const unsigned long long h = sm.hist[255 - (8 * lane + j)];
                if (hit < 0 && cum + h >= target) hit = 255 - (8 * lane + j), hit_before = cum, hit_w = h;
                cum += h;
            }
            const unsigned ballot = __ballot_sync(0xffffffffu, hit >= 0);
            const int first = ballot ? __ffs(ballot) - 1 : -1;
            __syncwarp();
            if (first == lane) {
                sm.prefix = prefix | (static_cast<uint32_t>(hit) << shift);
                sm.w_above = hit_before;
                sm.w_eq = hit_w;
            }
            // first < 0 cannot happen for a valid target; the prefix then stays (bin 0) and the result is the
            // smallest key: still a valid token.
        }
        mask |= 255u << shift;
        __syncthreads();
    }
    Select r{sm.prefix, sm.w_above, sm.w_eq, sm.target};
    __syncthreads();  // sm reused by the next call
    return r;
}

// Index of the n-th (1-based) filtered element with key == key, in index order; INT_MAX if there is none. Only runs
// when a cut falls strictly inside a run of equal logits.
template <class F>
__device__ int tie_index(const float* row, int V, uint32_t key, const F& filt, int n, SampleSmem& sm) {
    using Scan = cub::BlockScan<int, kSampleThreads>;
    if (threadIdx.x == 0) sm.found = INT_MAX;
    __syncthreads();
    int run = 0;
    for (int base = 0; base < V; base += kSampleThreads) {
        const int i = base + static_cast<int>(threadIdx.x);
        int flag = 0;
        if (i < V) {
            const uint32_t k = f2key(row[i]);
            flag = (k == key && filt(i, k)) ? 1 : 0;
        }
        int pre, total;
        Scan(sm.scan).ExclusiveSum(flag, pre, total);
        if (flag && run + pre + 1 == n) sm.found = i;
        run += total;
        __syncthreads();
        if (sm.found != INT_MAX || run >= n) break;  // uniform: all threads read the same values
    }
    const int r = sm.found;
    __syncthreads();
    return r;
}

// Cut after the weighted position target_of(total) (weights per token: w(key)): the key and, when the position falls
// strictly inside a run of equal keys, the index of the last kept tied token (else INT_MAX: all of them).
template <class Wt, class F, class Tg>
__device__ Cut cut_at(const float* row, int V, const Wt& weight, const F& filt, const Tg& target_of, SampleSmem& sm) {
    const Select s = radix_select(row, V, weight, filt, target_of, sm);
    Cut c;
    c.on = true;
    c.key = s.key;
    const unsigned long long unit = weight(key2f(s.key));  // every tied token weighs the same
    const unsigned long long ties = unit ? s.w_eq / unit : 0;
    const unsigned long long need = unit ? (s.target - s.w_gt + unit - 1) / unit : 0;
    c.idx = (need >= ties || need == 0) ? INT_MAX : tie_index(row, V, s.key, filt, static_cast<int>(need), sm);
    return c;
}

__global__ void __launch_bounds__(kSampleThreads)
    sample_kernel(const float* __restrict__ logits, int64_t ld, int V, float temperature, int top_k, float top_p,
                  uint64_t seed, const uint64_t* __restrict__ counter, int32_t* __restrict__ out) {
    grid_dependency_sync();  // PDL: first statement (launch.h)
    __shared__ SampleSmem sm;
    const int64_t b = blockIdx.x;
    const float* row = logits + b * ld;

    float mx = -INFINITY;
    for_row4(row, V, [&](int, float l, bool valid) {
        if (valid) mx = fmaxf(mx, l);
    });
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, o));
    if ((threadIdx.x & 31) == 0) sm.red[threadIdx.x >> 5] = __float_as_uint(mx);  // reuse as 32-bit storage
    __syncthreads();
    if (threadIdx.x == 0) {
        float m = -INFINITY;
        for (int w = 0; w < kSampleWarps; ++w) m = fmaxf(m, __uint_as_float(static_cast<uint32_t>(sm.red[w])));
        sm.mx = m;
    }
    __syncthreads();
    mx = sm.mx;
    __syncthreads();

    const auto count = [](float) -> unsigned long long { return 1ull; };
    const auto mass = [mx, temperature](float l) -> unsigned long long {
        const float p = expf(__fdiv_rn(__fsub_rn(l, mx), temperature));  // in [0, 1]
        return static_cast<unsigned long long>(__double2ull_rn(static_cast<double>(p) * kFixedScale));
    };
    const auto all = [](int, uint32_t) { return true; };

    Cut ck;  // top-k
    if (top_k > 0 && top_k < V) {
        const unsigned long long kk = static_cast<unsigned long long>(top_k);
        ck = cut_at(row, V, count, all, [kk](unsigned long long) { return kk; }, sm);
    }
    const auto keep_k = [ck](int i, uint32_t k) { return ck.keep(i, k); };

    Cut cp;  // top-p over the top-k survivors: shortest prefix with mass >= top_p * Z
    if (top_p < 1.0f) {
        const double tp = top_p;
        cp = cut_at(row, V, mass, keep_k, [tp](unsigned long long Z) {
            unsigned long long t = static_cast<unsigned long long>(ceil(tp * static_cast<double>(Z)));
            return t < 1 ? 1ull : (t > Z ? Z : t);
        }, sm);
    }
    const auto keep = [ck, cp](int i, uint32_t k) { return ck.keep(i, k) && cp.keep(i, k); };

    // Inverse CDF over the kept tokens in (logit desc, id asc) order: position floor(u * S) + 1 of the total mass S.
    curandStatePhilox4_32_10_t st;
    curand_init(seed, counter[b], 0, &st);
    const uint4 r = curand4(&st);
    const unsigned long long bits = (static_cast<unsigned long long>(r.x) << 32) | r.y;
    const double u = static_cast<double>(bits >> 11) * 0x1.0p-53;  // [0, 1)
    const Cut pick = cut_at(row, V, mass, keep, [u](unsigned long long S) {
        unsigned long long t = static_cast<unsigned long long>(u * static_cast<double>(S)) + 1;  // [1, S]
        return t > S ? S : t;
    }, sm);
    int tok = pick.idx;
    if (tok == INT_MAX) {
        // The pick is the last kept token with that key (the only one when the key is not tied): one parallel pass.
        if (threadIdx.x == 0) sm.found = -1;
        __syncthreads();
        int last = -1;
        for_row4(row, V, [&](int i, float l, bool valid) {
            if (!valid) return;
            const uint32_t k = f2key(l);
            if (k == pick.key && keep(i, k)) last = max(last, i);
        });
        if (last >= 0) atomicMax(&sm.found, last);
        __syncthreads();
        tok = sm.found < 0 ? 0 : sm.found;
    }
    if (threadIdx.x == 0) out[b] = tok;
}

}  // namespace

void argmax_rows(const float* logits, int64_t ld, int64_t B, int64_t V, int32_t* out, cudaStream_t stream) {
    QINFER_CHECK(V >= 1 && V < INT_MAX && B <= 65535, "argmax_rows: bad shape B=", B, " V=", V);
    if (B <= 0) return;
    const dim3 grid(kArgmaxCluster, static_cast<unsigned>(B));
    if (ld % 4 == 0 && glue::aligned16(logits))
        launch(argmax_kernel<true>, grid, kArgmaxThreads, 0, stream, logits, ld, static_cast<int>(V), out);
    else
        launch(argmax_kernel<false>, grid, kArgmaxThreads, 0, stream, logits, ld, static_cast<int>(V), out);
}

size_t sample_rows_scratch_bytes(int64_t /*B*/, int64_t /*V*/) { return 0; }

void sample_rows(const float* logits, int64_t ld, int64_t B, int64_t V, float temperature, int top_k, float top_p,
                 uint64_t seed, const uint64_t* counter, int32_t* out, void* /*scratch*/, size_t /*scratch_bytes*/,
                 cudaStream_t stream) {
    QINFER_CHECK(V >= 1 && V < INT_MAX, "sample_rows: bad V=", V);
    QINFER_CHECK(temperature > 0.0f, "sample_rows: temperature must be > 0 (use argmax_rows for greedy)");
    QINFER_CHECK(top_p > 0.0f && top_p <= 1.0f, "sample_rows: top_p must be in (0, 1], got ", top_p);
    if (B <= 0) return;
    launch(sample_kernel, static_cast<unsigned>(B), kSampleThreads, 0, stream, logits, ld, static_cast<int>(V),
           temperature, top_k, top_p, seed, counter, out);
}

}  // namespace qinfer::cuda
