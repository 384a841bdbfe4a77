#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <optional>

#include "args.h"
#include "commands.h"
#include "device_flags.h"
#include "core/check.h"
#include "io/generation_config.h"
#include "runtime/generate.h"
#include "text_stream.h"
#include "tokenizer/tokenizer.h"

namespace qinfer::cli {

// Sampling defaults come from generation_config.json when it asks for sampling; flags override them.
SamplingParams sampling_from(const Args& args, const GenerationConfig& gen) {
    SamplingParams p;
    const bool sample = gen.do_sample.value_or(false);
    p.temperature = static_cast<float>(args.get_double("temperature", sample ? gen.temperature.value_or(1.0) : 0.0));
    p.top_k = args.get_int("top-k", sample ? gen.top_k.value_or(0) : 0);
    p.top_p = static_cast<float>(args.get_double("top-p", sample ? gen.top_p.value_or(1.0) : 1.0));
    const int64_t seed = args.get_int("seed", 0);
    QINFER_CHECK(seed >= 0, "--seed must be >= 0");
    p.seed = static_cast<uint64_t>(seed);
    Sampler validate(p);  // reject bad sampling flags before loading the model
    return p;
}

std::vector<FlagSpec> sampling_flags() {
    return {{"temperature", "T", "0 = greedy (default: generation_config.json, else 0)"},
            {"top-k", "K", "keep the K most likely tokens (0 = off; default: generation_config.json, else 0)"},
            {"top-p", "P", "nucleus sampling mass in (0, 1] (default: generation_config.json, else 1)"},
            {"seed", "S", "random seed for sampling (default 0)"}};
}

int cmd_generate(const std::vector<std::string>& argv) {
    std::vector<FlagSpec> flags = {
        {"model", "DIR", "Hugging Face model folder"},
        {"prompt", "TEXT", "prompt text (tokenized with the folder's tokenizer.json); output is streamed as text"},
        {"ids", "1,2,3", "prompt token ids instead of text; output is printed as comma-separated ids"},
        {"chat", "", "wrap --prompt as one user message with the model's chat template (add_generation_prompt)"},
        {"system", "TEXT", "with --chat: a system message first"},
        {"enable-thinking", "true|false", "with --chat: passed to the chat template (default: the template's)"},
        {"max-new-tokens", "N", "tokens to generate (default: generation_config.json, else 128)"},
        {"stop", "STR", "stop when this text appears (not printed); may be repeated", true},
        {"ignore-eos", "", "do not stop at eos ids"},
        device_flag(),
        max_ctx_flag(),
    };
    for (auto& f : sampling_flags()) flags.push_back(f);
    Args args("generate",
              "Generates after a prompt and streams the result to stdout as it is produced; prints timing (tokens/s)\n"
              "to stderr. Stops at max-new-tokens, a stop string, or an eos id (config.json and\n"
              "generation_config.json). Sampling defaults come from generation_config.json (do_sample, temperature,\n"
              "top_k, top_p) when present, else greedy; flags override them.",
              {}, flags, argv);
    if (args.help_requested()) {
        std::cout << args.usage();
        return 0;
    }
    const std::filesystem::path model_dir = args.get("model");
    QINFER_CHECK(args.has("prompt") != args.has("ids"), "generate: give exactly one of --prompt and --ids");
    QINFER_CHECK(!args.has("chat") || args.has("prompt"), "generate: --chat needs --prompt");
    const GenerationConfig gen = load_generation_config(model_dir);
    GenerateOptions opt;
    opt.sampling = sampling_from(args, gen);
    opt.max_new_tokens = args.get_int("max-new-tokens", gen.max_new_tokens.value_or(128));
    const std::vector<std::string> stop = args.get_all("stop");
    for (const auto& s : stop) QINFER_CHECK(!s.empty(), "--stop: empty stop string");

    std::optional<tok::Tokenizer> tokenizer;
    std::vector<int64_t> prompt;
    if (args.has("prompt")) {
        tokenizer = tok::Tokenizer::from_dir(model_dir);
        const std::string text = args.has("chat") ? render_chat_prompt(model_dir, args.get("prompt"), args) : args.get("prompt");
        for (int32_t id : tokenizer->encode(text)) prompt.push_back(id);
        QINFER_CHECK(!prompt.empty(), "generate: the prompt encodes to no tokens");
    } else {
        QINFER_CHECK(stop.empty(), "generate: --stop needs text output (--prompt)");
        prompt = parse_id_list("ids", args.get("ids"));
    }

    const auto model = load_engine(model_dir, engine_options(args));
    for (int64_t id : prompt) {
        QINFER_CHECK(id < model->config().vocab_size, "prompt token id ", id, " is out of range for vocab size ",
                     model->config().vocab_size);
    }
    if (!args.has("ignore-eos")) {
        opt.stop_ids = model->config().eos_token_ids;
        for (int64_t id : gen.eos_token_ids) {
            if (std::find(opt.stop_ids.begin(), opt.stop_ids.end(), id) == opt.stop_ids.end()) opt.stop_ids.push_back(id);
        }
    }
    std::optional<TextStream> text;
    bool first = true;
    if (tokenizer) {
        text.emplace(*tokenizer, stop, stdout, /*skip_special=*/true);
        opt.on_token = [&](int64_t id) { return text->push(static_cast<int32_t>(id)); };
    } else {
        opt.on_token = [&](int64_t id) {
            std::printf(first ? "%lld" : ",%lld", static_cast<long long>(id));
            std::fflush(stdout);
            first = false;
            return true;
        };
    }
    const GenerateResult r = generate(*model, prompt, opt);
    if (text) text->finish();
    std::printf("\n");
    const double decode_tokens = static_cast<double>(r.tokens.size() > 0 ? r.tokens.size() - 1 : 0);
    std::fprintf(stderr, "prefill: %zu tokens in %.3f s (%.1f tok/s); decode: %zu tokens in %.3f s (%.1f tok/s)%s\n",
                 prompt.size(), r.prefill_seconds, static_cast<double>(prompt.size()) / r.prefill_seconds,
                 r.tokens.size(), r.decode_seconds, r.decode_seconds > 0 ? decode_tokens / r.decode_seconds : 0.0,
                 r.stopped_on_id ? " [stopped at eos]" : r.stopped_by_caller ? " [stopped at a stop string]" : "");
    return 0;
}

}  // namespace qinfer::cli
