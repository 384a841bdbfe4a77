#include "runtime/generate.h"

#include <algorithm>
#include <chrono>

#include "core/check.h"

namespace qinfer {

GenerateResult generate(const Model& model, std::span<const int64_t> prompt, const GenerateOptions& options) {
    const auto engine = cpu_engine_view(model);
    return generate(*engine, prompt, options);
}

GenerateResult generate(Engine& model, std::span<const int64_t> prompt, const GenerateOptions& options) {
    QINFER_CHECK(!prompt.empty(), "generate needs at least one prompt token");
    QINFER_CHECK(options.max_new_tokens >= 0, "max-new-tokens must be >= 0, got ", options.max_new_tokens);
    using Clock = std::chrono::steady_clock;
    GenerateResult result;
    if (options.max_new_tokens == 0) return result;
    Sampler sampler(options.sampling);
    model.reset();

    auto t0 = Clock::now();
    Tensor logits = model.forward(prompt, /*all_logits=*/false);  // f32 [1, V]
    int64_t next = sampler.sample(std::span<const float>(logits.row(logits.dim(0) - 1), logits.dim(1)));
    auto t1 = Clock::now();
    result.prefill_seconds = std::chrono::duration<double>(t1 - t0).count();

    for (;;) {
        result.tokens.push_back(next);
        if (options.on_token && !options.on_token(next)) {
            result.stopped_by_caller = true;
            break;
        }
        if (std::find(options.stop_ids.begin(), options.stop_ids.end(), next) != options.stop_ids.end()) {
            result.stopped_on_id = true;
            break;
        }
        if (static_cast<int64_t>(result.tokens.size()) >= options.max_new_tokens) break;
        const int64_t id = next;
        logits = model.forward(std::span<const int64_t>(&id, 1), false);
        next = sampler.sample(std::span<const float>(logits.row(0), logits.dim(1)));
    }
    result.decode_seconds = std::chrono::duration<double>(Clock::now() - t1).count();
    return result;
}

}  // namespace qinfer
