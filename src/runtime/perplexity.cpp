#include "runtime/perplexity.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/check.h"

namespace qinfer {

namespace {

// log_softmax of one row, in double for the reductions (vocabularies are large and the sums are the point).
std::vector<double> log_softmax(const float* logits, int64_t V) {
    double mx = -INFINITY;
    for (int64_t v = 0; v < V; ++v) mx = std::max(mx, static_cast<double>(logits[v]));
    double sum = 0;
    for (int64_t v = 0; v < V; ++v) sum += std::exp(static_cast<double>(logits[v]) - mx);
    const double lse = mx + std::log(sum);
    std::vector<double> out(static_cast<size_t>(V));
    for (int64_t v = 0; v < V; ++v) out[static_cast<size_t>(v)] = static_cast<double>(logits[v]) - lse;
    return out;
}

int64_t argmax(const float* x, int64_t n) { return std::max_element(x, x + n) - x; }

}  // namespace

PerplexityResult evaluate_perplexity(const Model& model, const Model* base, std::span<const int64_t> ids,
                                     const PerplexityOptions& options,
                                     const std::function<void(int64_t, int64_t)>& progress) {
    const auto engine = cpu_engine_view(model);
    const auto base_engine = base != nullptr ? cpu_engine_view(*base) : nullptr;
    return evaluate_perplexity(*engine, base_engine.get(), ids, options, progress);
}

PerplexityResult evaluate_perplexity(Engine& model, Engine* base, std::span<const int64_t> ids,
                                     const PerplexityOptions& options,
                                     const std::function<void(int64_t, int64_t)>& progress) {
    const int64_t n = static_cast<int64_t>(ids.size());
    const int64_t ctx = options.ctx, stride = options.stride == 0 ? options.ctx : options.stride;
    QINFER_CHECK(ctx >= 2, "perplexity: --ctx must be >= 2, got ", ctx);
    QINFER_CHECK(stride >= 1 && stride <= ctx, "perplexity: --stride must be in [1, ctx = ", ctx, "], got ", stride);
    QINFER_CHECK(n >= 2, "perplexity: need at least 2 tokens, got ", n);
    const int64_t V = model.config().vocab_size;
    if (base != nullptr) {
        QINFER_CHECK(base->config().vocab_size == V, "perplexity: --base has vocab size ", base->config().vocab_size,
                     ", the model ", V);
    }
    for (int64_t id : ids) QINFER_CHECK(id >= 0 && id < V, "perplexity: token id ", id, " outside the vocabulary");

    std::vector<int64_t> starts;
    for (int64_t b = 0;; b += stride) {
        starts.push_back(b);
        if (b + ctx >= n) break;
    }
    double nll = 0, base_nll = 0;
    std::vector<double> kls;
    int64_t agree = 0, scored = 0, prev_end = 0;
    for (size_t w = 0; w < starts.size(); ++w) {
        const int64_t b = starts[w], e = std::min(b + ctx, n);
        const std::span<const int64_t> window = ids.subspan(static_cast<size_t>(b), static_cast<size_t>(e - b));
        model.reset();
        const Tensor logits = model.forward(window, /*all_logits=*/true);  // f32 [e-b, V]
        Tensor base_logits;
        if (base != nullptr) {
            base->reset();
            base_logits = base->forward(window, true);
        }
        // Predict token t (absolute) from position t-1; score t in [max(prev_end, b+1), e).
        for (int64_t t = std::max(prev_end, b + 1); t < e; ++t) {
            const float* row = logits.row(t - 1 - b);
            const std::vector<double> lp = log_softmax(row, V);
            nll -= lp[static_cast<size_t>(ids[static_cast<size_t>(t)])];
            if (base != nullptr) {
                const float* brow = base_logits.row(t - 1 - b);
                const std::vector<double> blp = log_softmax(brow, V);
                base_nll -= blp[static_cast<size_t>(ids[static_cast<size_t>(t)])];
                double kl = 0;
                for (int64_t v = 0; v < V; ++v) kl += std::exp(blp[v]) * (blp[v] - lp[v]);
                kls.push_back(std::max(0.0, kl));  // rounding can give -1e-17
                agree += argmax(row, V) == argmax(brow, V) ? 1 : 0;
            }
            ++scored;
        }
        prev_end = e;
        if (progress) progress(static_cast<int64_t>(w) + 1, static_cast<int64_t>(starts.size()));
    }
    PerplexityResult r;
    r.tokens_scored = scored;
    r.mean_nll = nll / static_cast<double>(scored);
    r.perplexity = std::exp(r.mean_nll);
    if (base != nullptr) {
        r.base_perplexity = std::exp(base_nll / static_cast<double>(scored));
        KlStats k;
        QINFER_CHECK(!kls.empty(), "perplexity: internal: no token scored against the base model");  // n >= 2 scores one
        double sum = 0, mx = 0;
        for (double v : kls) {
            sum += v;
            mx = std::max(mx, v);
        }
        k.mean = sum / static_cast<double>(kls.size());
        std::vector<double> sorted = kls;
        const size_t i99 = std::min(static_cast<size_t>(std::ceil(0.99 * static_cast<double>(sorted.size()))),
                                    sorted.size()) - 1;
        std::nth_element(sorted.begin(), sorted.begin() + static_cast<std::ptrdiff_t>(i99), sorted.end());
        k.p99 = sorted[i99];
        k.max = mx;
        k.top1_agreement = static_cast<double>(agree) / static_cast<double>(scored);
        r.kl = k;
    }
    return r;
}

}  // namespace qinfer
