#pragma once
// defines: qinfer::PerplexityOptions, KlStats, PerplexityResult, evaluate_perplexity
//
// Perplexity over a token stream in windows of `ctx` tokens advanced by `stride` (transformers' sliding-window
// recipe): each window is a fresh sequence; the first window scores every token after its first, later windows score
// only the tokens the previous window did not, with the window's earlier tokens as context. With a base model, the
// same windows also give, per scored token, KL(base || model) over the full vocabulary and whether both models' most
// likely next token agree (llama.cpp's KL-divergence mode reports the same statistics).

#include <cstdint>
#include <functional>
#include <optional>
#include <span>

#include "models/model.h"
#include "runtime/engine.h"

namespace qinfer {

struct PerplexityOptions {
    int64_t ctx = 512;    // tokens per window (>= 2)
    int64_t stride = 0;   // tokens the window advances; 0 = ctx (non-overlapping windows)
};

struct KlStats {
    double mean = 0;            // mean KL(base || model) in nats per scored token
    double p99 = 0;             // 99th percentile
    double max = 0;
    double top1_agreement = 0;  // fraction of scored tokens where both argmaxes agree
};

struct PerplexityResult {
    int64_t tokens_scored = 0;
    double mean_nll = 0;     // nats per token
    double perplexity = 0;   // exp(mean_nll)
    std::optional<double> base_perplexity;
    std::optional<KlStats> kl;
};

// `progress(done, total)` is called after each window. Throws if ids has fewer than 2 tokens or options are invalid.
PerplexityResult evaluate_perplexity(Engine& model, Engine* base, std::span<const int64_t> ids,
                                     const PerplexityOptions& options,
                                     const std::function<void(int64_t done, int64_t total)>& progress = {});
// The same on CPU reference models.
PerplexityResult evaluate_perplexity(const Model& model, const Model* base, std::span<const int64_t> ids,
                                     const PerplexityOptions& options,
                                     const std::function<void(int64_t done, int64_t total)>& progress = {});

}  // namespace qinfer
