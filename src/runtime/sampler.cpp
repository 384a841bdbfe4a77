#include "runtime/sampler.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

#include "core/check.h"

namespace qinfer {

Sampler::Sampler(const SamplingParams& params) : params_(params), rng_(params.seed) {
    QINFER_CHECK(std::isfinite(params.temperature) && params.temperature >= 0.0f,
                 "temperature must be a finite number >= 0, got ", params.temperature);
    QINFER_CHECK(params.top_k >= 0, "top-k must be >= 0, got ", params.top_k);
    QINFER_CHECK(params.top_p > 0.0f && params.top_p <= 1.0f, "top-p must be in (0, 1], got ", params.top_p);
}

int64_t Sampler::sample(std::span<const float> logits) {
    QINFER_CHECK(!logits.empty(), "cannot sample from empty logits");
    const int64_t n = static_cast<int64_t>(logits.size());
    if (params_.temperature == 0.0f) {
        return std::max_element(logits.begin(), logits.end()) - logits.begin();  // first maximum
    }
    // Candidates sorted by logit, descending; ties keep the lower id first (stable).
    std::vector<int64_t> idx(static_cast<size_t>(n));
    std::iota(idx.begin(), idx.end(), 0);
    std::stable_sort(idx.begin(), idx.end(), [&](int64_t a, int64_t b) { return logits[a] > logits[b]; });
    int64_t keep = n;
    if (params_.top_k > 0) keep = std::min(keep, params_.top_k);

    std::vector<double> p(static_cast<size_t>(keep));
    const double mx = logits[idx[0]] / params_.temperature;
    double sum = 0.0;
    for (int64_t i = 0; i < keep; ++i) {
        p[i] = std::exp(logits[idx[i]] / static_cast<double>(params_.temperature) - mx);
        sum += p[i];
    }
    if (params_.top_p < 1.0f) {
        // Smallest prefix whose probability mass reaches top_p (always at least one token).
        double cum = 0.0;
        int64_t cut = keep;
        for (int64_t i = 0; i < keep; ++i) {
            cum += p[i] / sum;
            if (cum >= params_.top_p) {
                cut = i + 1;
                break;
            }
        }
        keep = cut;
        p.resize(static_cast<size_t>(keep));
    }
    std::discrete_distribution<int64_t> dist(p.begin(), p.end());
    return idx[static_cast<size_t>(dist(rng_))];
}

}  // namespace qinfer
