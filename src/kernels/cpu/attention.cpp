// Causal scaled-dot-product attention, fp32 (HF eager_attention_forward order), per query t and head h:
//   s_j = (q_t · k_j) · scale,              j = 0 .. past + t        (dot in dot_f32 order)
//   p_j = exp(s_j − max_j s_j) / Σ_j exp(s_j − max_j s_j)           (fp32, sequential sum)
//   o_t = Σ_j p_j · v_j                                              (fp32, in increasing j)
// GQA: query head h uses kv head h / (Hq / Hkv) (consecutive grouping, HF repeat_kv).

#include "kernels/cpu/attention.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/parallel.h"
#include "kernels/cpu/dot.h"

namespace qinfer::kernels::cpu {

void attention_causal(const float* q, int64_t T, int64_t Hq, const float* k, const float* v, int64_t S, int64_t Hkv,
                      int64_t hd, int64_t past, float scale, float* out) {
    (void)S;  // only keys 0 .. past + T - 1 are read
    const int64_t group = Hq / Hkv;
    parallel_for(0, T * Hq, [&](int64_t th) {
        const int64_t t = th / Hq, h = th % Hq, hk = h / group;
        const int64_t n_keys = past + t + 1;
        const float* qv = q + (t * Hq + h) * hd;
        std::vector<float> p(static_cast<size_t>(n_keys));
        float m = -INFINITY;
        for (int64_t j = 0; j < n_keys; ++j) {
            const float s = dot_f32(qv, k + (j * Hkv + hk) * hd, hd) * scale;
            p[static_cast<size_t>(j)] = s;
            m = std::max(m, s);
        }
        float sum = 0.0f;
        for (float& e : p) {
            e = std::exp(e - m);
            sum += e;
        }
        float* o = out + (t * Hq + h) * hd;
        std::fill(o, o + hd, 0.0f);
        for (int64_t j = 0; j < n_keys; ++j) {
            const float pj = p[static_cast<size_t>(j)] / sum;
            const float* vj = v + (j * Hkv + hk) * hd;
            for (int64_t d = 0; d < hd; ++d) o[d] += pj * vj[d];
        }
    }, /*work_per_item=*/2 * (past + T) * hd);
}

}  // namespace qinfer::kernels::cpu
