// Mixture of experts (HF Qwen3_5MoeTopKRouter + Qwen3_5MoeExperts), fp32.
//
// moe_route, per token:
//   p_e = exp(l_e − max l) / Σ_e' exp(l_e' − max l)      softmax over ALL E (fp32, sequential sum)
//   top-k of p, ordered by (p descending, expert index ascending)
//   w_s = p_s / Σ_{s'<k} p_s'   if renormalize (sum in selection order), else w_s = p_s
// Tie rule: equal probabilities are taken lower expert index first. torch.topk (CPU, torch 2.15) does NOT promise
// any order among equal values: with all-equal inputs it returns e.g. [172, 169, 170, ...] for E=256, k=8 and
// [7, 4, 1, 3, ...] for E=512, k=8, so exact ties are a place where no engine is bit-compatible with HF; ours is the
// deterministic, documented choice.
//
// moe_experts: tokens are grouped by expert; each selected expert e runs once over its tokens X_e:
//   [G | U] = X_e · gate_up[e]ᵀ,  Y_e = (silu(G) ⊙ U) · down[e]ᵀ      (linear_into: batch-invariant per row)
//   out[t] = 0;  for e ascending: out[t] += Y_e[t] · w_{t,e}          (HF eager experts loop: ascending expert id,
//                                                                     index_add of y·w onto a zero accumulator)
// Each token's sum therefore runs in ascending expert order, independent of the batch and the thread count.

#include "kernels/cpu/moe.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

#include "core/parallel.h"
#include "kernels/cpu/activation.h"
#include "kernels/cpu/linear.h"

namespace qinfer::kernels::cpu {

void moe_route(const float* logits, int64_t T, int64_t E, int64_t k, bool renormalize, int32_t* expert, float* weight) {
    parallel_for(0, T, [&](int64_t t) {
        const float* l = logits + t * E;
        std::vector<float> p(static_cast<size_t>(E));
        const float m = *std::max_element(l, l + E);
        float sum = 0.0f;
        for (int64_t e = 0; e < E; ++e) {
            p[static_cast<size_t>(e)] = std::exp(l[e] - m);
            sum += p[static_cast<size_t>(e)];
        }
        for (float& v : p) v /= sum;

        std::vector<int32_t> idx(static_cast<size_t>(E));
        std::iota(idx.begin(), idx.end(), 0);
        std::partial_sort(idx.begin(), idx.begin() + k, idx.end(), [&](int32_t a, int32_t b) {
            const float pa = p[static_cast<size_t>(a)], pb = p[static_cast<size_t>(b)];
            return pa > pb || (pa == pb && a < b);
        });
        float sel = 0.0f;
        for (int64_t s = 0; s < k; ++s) sel += p[static_cast<size_t>(idx[static_cast<size_t>(s)])];
        for (int64_t s = 0; s < k; ++s) {
            const int32_t e = idx[static_cast<size_t>(s)];
            expert[t * k + s] = e;
            weight[t * k + s] = renormalize ? p[static_cast<size_t>(e)] / sel : p[static_cast<size_t>(e)];
        }
    }, /*work_per_item=*/32 * E);
}

void moe_experts(const float* x, int64_t T, int64_t H, int64_t k, const int32_t* expert, const float* weight,
                 const float* gate_up, const float* down, int64_t E, int64_t I, float* out) {
    // Group the (token, slot) pairs by expert with a stable counting sort: tokens stay in increasing order.
    std::vector<int64_t> start(static_cast<size_t>(E + 1), 0);
    for (int64_t i = 0; i < T * k; ++i) ++start[static_cast<size_t>(expert[i]) + 1];
    std::partial_sum(start.begin(), start.end(), start.begin());
    std::vector<int64_t> pairs(static_cast<size_t>(T * k));  // t * k + slot, grouped by expert
    {
        std::vector<int64_t> fill(start.begin(), start.end() - 1);
        for (int64_t i = 0; i < T * k; ++i) pairs[static_cast<size_t>(fill[static_cast<size_t>(expert[i])]++)] = i;
    }

    std::fill(out, out + T * H, 0.0f);
    std::vector<float> xe, gu, act, ye;  // f32 [n, H], [n, 2I], [n, I], [n, H]
    for (int64_t e = 0; e < E; ++e) {
        const int64_t p0 = start[static_cast<size_t>(e)], n = start[static_cast<size_t>(e) + 1] - p0;
        if (n == 0) continue;
        const int64_t* pe = pairs.data() + p0;
        xe.resize(static_cast<size_t>(n * H));
        gu.resize(static_cast<size_t>(n * 2 * I));
        act.resize(static_cast<size_t>(n * I));
        ye.resize(static_cast<size_t>(n * H));
        parallel_for(0, n, [&](int64_t r) {
            const float* src = x + (pe[r] / k) * H;
            std::copy(src, src + H, xe.data() + r * H);
        }, /*work_per_item=*/H);
        linear_into(xe.data(), n, H, gate_up + e * 2 * I * H, 2 * I, gu.data());
        parallel_for(0, n, [&](int64_t r) {
            const float* gr = gu.data() + r * 2 * I;
            for (int64_t i = 0; i < I; ++i) act[static_cast<size_t>(r * I + i)] = silu(gr[i]) * gr[I + i];
        }, /*work_per_item=*/16 * I);
        linear_into(act.data(), n, I, down + e * H * I, H, ye.data());
        // Each token appears at most once per expert, so rows are disjoint.
        parallel_for(0, n, [&](int64_t r) {
            const float w = weight[pe[r]];
            float* o = out + (pe[r] / k) * H;
            const float* y = ye.data() + r * H;
            for (int64_t h = 0; h < H; ++h) o[h] += y[h] * w;
        }, /*work_per_item=*/2 * H);
    }
}

}  // namespace qinfer::kernels::cpu
