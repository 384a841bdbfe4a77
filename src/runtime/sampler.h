#pragma once
// defines: qinfer::SamplingParams, qinfer::Sampler
//
// Token sampling over one row of logits: greedy (temperature 0), or temperature → top-k → top-p (nucleus) → a draw
// from a seeded generator, so a given seed reproduces the same tokens. Order of the filters follows transformers'
// logits processors (temperature, then top-k, then top-p).

#include <cstdint>
#include <random>
#include <span>

namespace qinfer {

struct SamplingParams {
    float temperature = 0.0f;  // 0 = greedy (argmax; ties -> lowest id)
    int64_t top_k = 0;         // 0 = disabled
    float top_p = 1.0f;        // 1 = disabled; (0, 1]
    uint64_t seed = 0;
};

class Sampler {
public:
    explicit Sampler(const SamplingParams& params);  // validates the parameters (throws qinfer::Error)
    int64_t sample(std::span<const float> logits);

private:
    SamplingParams params_;
    std::mt19937_64 rng_;
};

}  // namespace qinfer
