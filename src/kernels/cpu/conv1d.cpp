// Causal depthwise conv1d + SiLU with carried state (HF causal_conv1d_fn / causal_conv1d_update, K-1 state inputs):
//   y[t, c] = silu( Σ_{j=0}^{K-1} w[c, j] · x_ext[t + j, c] ),   x_ext = concat(state, x) along time,
// summed in increasing j in fp32; state <- last K-1 rows of x_ext. At sequence start the state is zeros, which
// equals F.conv1d(..., padding=K-1)[..., :T].

#include "kernels/cpu/conv1d.h"

#include <algorithm>
#include <vector>

#include "core/parallel.h"
#include "kernels/cpu/activation.h"

namespace qinfer::kernels::cpu {
namespace {
constexpr int64_t kChannelBlock = 64;  // channels per parallel work item (rows of x are read contiguously)
}

void causal_conv1d_silu(const float* x, int64_t T, int64_t C, const float* w, int64_t K, float* state, float* y) {
    const int64_t S = K - 1;  // state length
    parallel_for(0, (C + kChannelBlock - 1) / kChannelBlock, [&](int64_t b) {
        const int64_t c0 = b * kChannelBlock, c1 = std::min(C, c0 + kChannelBlock);
        // x_ext[i, c] for i in [0, T + S)
        auto ext = [&](int64_t i, int64_t c) { return i < S ? state[c * S + i] : x[(i - S) * C + c]; };
        for (int64_t t = 0; t < T; ++t) {
            for (int64_t c = c0; c < c1; ++c) {
                float acc = 0.0f;
                for (int64_t j = 0; j < K; ++j) acc += w[c * K + j] * ext(t + j, c);
                y[t * C + c] = silu(acc);
            }
        }
        // New state: x_ext[T + m, c], m < S. Read everything before writing (for T < S it overlaps the old state).
        std::vector<float> next(static_cast<size_t>(S));
        for (int64_t c = c0; c < c1; ++c) {
            for (int64_t m = 0; m < S; ++m) next[static_cast<size_t>(m)] = ext(T + m, c);
            std::copy(next.begin(), next.end(), state + c * S);
        }
    }, /*work_per_item=*/kChannelBlock * (T + K) * K);
}

}  // namespace qinfer::kernels::cpu
