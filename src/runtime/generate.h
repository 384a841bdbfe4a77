#pragma once
// defines: qinfer::GenerateOptions, qinfer::generate
//
// Autoregressive generation for one sequence: one prefill of the prompt, then single-token decode steps until
// max_new_tokens or a stop id.

#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "models/model.h"
#include "runtime/engine.h"
#include "runtime/sampler.h"

namespace qinfer {

struct GenerateOptions {
    int64_t max_new_tokens = 16;
    SamplingParams sampling;
    std::vector<int64_t> stop_ids;  // generation ends after emitting one of these (it is included in the output)
    // Called for each new token as soon as it is sampled; returning false stops generation after it (stop strings).
    std::function<bool(int64_t token)> on_token;
};

struct GenerateResult {
    std::vector<int64_t> tokens;  // new tokens only
    bool stopped_on_id = false;
    bool stopped_by_caller = false;
    double prefill_seconds = 0.0;
    double decode_seconds = 0.0;
};

// Starts a new sequence on `engine` (engine.reset()) and generates after the prompt.
GenerateResult generate(Engine& engine, std::span<const int64_t> prompt, const GenerateOptions& options);
// The same on the CPU reference model.
GenerateResult generate(const Model& model, std::span<const int64_t> prompt, const GenerateOptions& options);

}  // namespace qinfer
