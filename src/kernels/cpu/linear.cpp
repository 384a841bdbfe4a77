// y = x·wᵀ:  y[t, n] = Σ_{k<K} x[t, k] · w[n, k], fp32 accumulation.
//
// Blocked for speed but not for different numerics: the work is cut into blocks of (kRowBlock rows of x) × (kColBlock
// rows of w), spread over threads; inside a block, register tiles of R x-rows × C w-rows compute R·C dot products at
// once with the lane structure of dot_f32 (kernels/cpu/dot.h). Every output therefore sees exactly the arithmetic of
// dot_f32(x[t], w[n], K), whichever tile or thread computes it.

#include "kernels/cpu/linear.h"

#include <algorithm>

#include "core/parallel.h"
#include "kernels/cpu/dot.h"

namespace qinfer::kernels::cpu {
namespace {

constexpr int64_t kRowBlock = 64;  // rows of x per parallel work item
constexpr int64_t kColBlock = 64;  // rows of w per parallel work item (64 × K floats stay in L2 for K ≤ ~4096)

// R rows of x starting at x (stride K) × C rows of w starting at w (stride K) -> y (row stride ldy).
template <int R, int C>
void tile(const float* x, const float* w, int64_t K, float* y, int64_t ldy) {
    float acc[R][C][kDotLanes] = {};
    const int64_t k8 = K - K % kDotLanes;
    for (int64_t i = 0; i < k8; i += kDotLanes) {
        for (int r = 0; r < R; ++r) {
            for (int c = 0; c < C; ++c) {
                for (int l = 0; l < kDotLanes; ++l) acc[r][c][l] += x[r * K + i + l] * w[c * K + i + l];
            }
        }
    }
    for (int r = 0; r < R; ++r) {
        for (int c = 0; c < C; ++c) {
            float s = dot_lanes_reduce(acc[r][c]);
            for (int64_t i = k8; i < K; ++i) s += x[r * K + i] * w[c * K + i];
            y[r * ldy + c] = s;
        }
    }
}

// Rows [t0, t1) of x × rows [n0, n1) of w.
void block(const float* x, int64_t t0, int64_t t1, int64_t K, const float* w, int64_t n0, int64_t n1, float* y,
           int64_t N) {
    constexpr int kR = 4, kC = 4;  // main tile
    constexpr int kC1 = 8;         // single-row tile (decode, leftover rows)
    int64_t t = t0;
    for (; t + kR <= t1; t += kR) {
        int64_t n = n0;
        for (; n + kC <= n1; n += kC) tile<kR, kC>(x + t * K, w + n * K, K, y + t * N + n, N);
        for (; n < n1; ++n) tile<kR, 1>(x + t * K, w + n * K, K, y + t * N + n, N);
    }
    for (; t < t1; ++t) {
        int64_t n = n0;
        for (; n + kC1 <= n1; n += kC1) tile<1, kC1>(x + t * K, w + n * K, K, y + t * N + n, N);
        for (; n < n1; ++n) tile<1, 1>(x + t * K, w + n * K, K, y + t * N + n, N);
    }
}

}  // namespace

void linear_into(const float* x, int64_t T, int64_t K, const float* w, int64_t N, float* y) {
    const int64_t row_blocks = (T + kRowBlock - 1) / kRowBlock;
    const int64_t col_blocks = (N + kColBlock - 1) / kColBlock;
    // Work item b covers column block b / row_blocks and row block b % row_blocks, so that one thread's contiguous
    // range of items reuses the same rows of w.
    parallel_for(0, row_blocks * col_blocks, [&](int64_t b) {
        const int64_t cb = b / row_blocks, rb = b % row_blocks;
        const int64_t t0 = rb * kRowBlock, t1 = std::min(T, t0 + kRowBlock);
        const int64_t n0 = cb * kColBlock, n1 = std::min(N, n0 + kColBlock);
        block(x, t0, t1, K, w, n0, n1, y, N);
    }, /*work_per_item=*/kRowBlock * kColBlock * K);
}

}  // namespace qinfer::kernels::cpu
