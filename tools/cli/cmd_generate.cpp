#include <algorithm>
#include <cstdio>
#include <iostream>

#include "args.h"
#include "commands.h"
#include "core/check.h"
#include "io/generation_config.h"
#include "runtime/generate.h"

namespace qinfer::cli {

int cmd_generate(const std::vector<std::string>& argv) {
    Args args("generate",
              "Generates token ids after a prompt of token ids and prints them, comma-separated, to stdout as they are\n"
              "produced; prints timing to stderr. Stops at max-new-tokens or an eos id (config.json and\n"
              "generation_config.json). Sampling defaults come from generation_config.json (do_sample, temperature,\n"
              "top_k, top_p) when present, else greedy; flags override them.",
              {},
              {{"model", "DIR", "Hugging Face model folder"},
               {"ids", "1,2,3", "prompt token ids"},
               {"max-new-tokens", "N", "tokens to generate (default 16)"},
               {"temperature", "T", "0 = greedy (default: generation_config.json, else 0)"},
               {"top-k", "K", "keep the K most likely tokens (0 = off; default: generation_config.json, else 0)"},
               {"top-p", "P", "nucleus sampling mass in (0, 1] (default: generation_config.json, else 1)"},
               {"seed", "S", "random seed for sampling (default 0)"},
               {"ignore-eos", "", "do not stop at eos ids"}},
              argv);
    if (args.help_requested()) {
        std::cout << args.usage();
        return 0;
    }
    const std::string model_dir = args.get("model");
    const GenerationConfig gen = load_generation_config(model_dir);
    GenerateOptions opt;
    const bool sample_by_default = gen.do_sample.value_or(false);
    opt.max_new_tokens = args.get_int("max-new-tokens", 16);
    opt.sampling.temperature =
        static_cast<float>(args.get_double("temperature", sample_by_default ? gen.temperature.value_or(1.0) : 0.0));
    opt.sampling.top_k = args.get_int("top-k", sample_by_default ? gen.top_k.value_or(0) : 0);
    opt.sampling.top_p = static_cast<float>(args.get_double("top-p", sample_by_default ? gen.top_p.value_or(1.0) : 1.0));
    const int64_t seed = args.get_int("seed", 0);
    QINFER_CHECK(seed >= 0, "--seed must be >= 0");
    opt.sampling.seed = static_cast<uint64_t>(seed);
    const std::vector<int64_t> prompt = parse_id_list("ids", args.get("ids"));
    Sampler validate(opt.sampling);  // reject bad sampling flags before loading the model
    (void)validate;

    const auto model = Model::load(model_dir);
    for (int64_t id : prompt) {
        QINFER_CHECK(id < model->config().vocab_size, "--ids: token id ", id, " is out of range for vocab size ",
                     model->config().vocab_size);
    }
    if (!args.has("ignore-eos")) {
        opt.stop_ids = model->config().eos_token_ids;
        for (int64_t id : gen.eos_token_ids) {
            if (std::find(opt.stop_ids.begin(), opt.stop_ids.end(), id) == opt.stop_ids.end()) opt.stop_ids.push_back(id);
        }
    }
    bool first = true;
    opt.on_token = [&](int64_t id) {
        std::printf(first ? "%lld" : ",%lld", static_cast<long long>(id));
        std::fflush(stdout);
        first = false;
    };
    const GenerateResult r = generate(*model, prompt, opt);
    std::printf("\n");
    const double decode_tokens = static_cast<double>(r.tokens.size() > 0 ? r.tokens.size() - 1 : 0);
    std::fprintf(stderr, "prefill: %zu tokens in %.3f s (%.1f tok/s); decode: %zu tokens in %.3f s (%.1f tok/s)%s\n",
                 prompt.size(), r.prefill_seconds, static_cast<double>(prompt.size()) / r.prefill_seconds,
                 r.tokens.size(), r.decode_seconds, r.decode_seconds > 0 ? decode_tokens / r.decode_seconds : 0.0,
                 r.stopped_on_id ? " [stopped at eos]" : "");
    return 0;
}

}  // namespace qinfer::cli
