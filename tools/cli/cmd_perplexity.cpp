#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>

#include "args.h"
#include "commands.h"
#include "device_flags.h"
#include "core/check.h"
#include "core/progress.h"
#include "runtime/perplexity.h"
#include "tokenizer/tokenizer.h"

namespace qinfer::cli {

int cmd_perplexity(const std::vector<std::string>& argv) {
    Args args("perplexity",
              "Perplexity of a text file under the model, in windows of --ctx tokens advanced by --stride (each\n"
              "window a fresh sequence; later windows score only new tokens). With --base, also the mean\n"
              "KL(base || model) per token, its 99th percentile and maximum, and top-1 agreement, over the same\n"
              "windows: how far a quantized model is from its unquantized base. The file is tokenized with the\n"
              "model folder's tokenizer.json.",
              {},
              {{"model", "DIR", "model folder (weights, tokenizer.json)"},
               {"file", "TEXT", "text file to score"},
               {"ctx", "N", "tokens per window (default 512)"},
               {"stride", "N", "tokens each window advances (default: ctx)"},
               {"base", "BASE_DIR", "reference model for KL divergence and top-1 agreement"},
               {"max-tokens", "N", "score at most the first N tokens of the file (default: all)"},
               {"json", "", "print the result as JSON"},
               device_flag(),
               max_ctx_flag()},
              argv);
    if (args.help_requested()) {
        std::cout << args.usage();
        return 0;
    }
    const std::string file = args.get("file");
    std::ifstream in(file, std::ios::binary);
    QINFER_CHECK(in.good(), "--file: cannot read ", file);
    std::ostringstream text;
    text << in.rdbuf();
    const tok::Tokenizer tokenizer = tok::Tokenizer::from_dir(args.get("model"));
    std::vector<int64_t> ids;
    for (int32_t id : tokenizer.encode(text.str())) ids.push_back(id);
    const int64_t max_tokens = args.get_int("max-tokens", 0);
    QINFER_CHECK(max_tokens >= 0, "--max-tokens must be >= 0");
    if (max_tokens > 0 && static_cast<int64_t>(ids.size()) > max_tokens) ids.resize(static_cast<size_t>(max_tokens));

    const PerplexityOptions opt{.ctx = args.get_int("ctx", 512), .stride = args.get_int("stride", 0)};
    const EngineOptions eo = engine_options(args);
    const auto model = load_engine(args.get("model"), eo);
    std::unique_ptr<Engine> base;
    if (args.has("base")) base = load_engine(args.get("base"), eo);
    PerplexityResult r;
    {
        std::unique_ptr<ProgressBar> bar;
        r = evaluate_perplexity(*model, base.get(), ids, opt, [&](int64_t done, int64_t total) {
            if (!bar) bar = std::make_unique<ProgressBar>("perplexity", static_cast<uint64_t>(total));
            bar->advance();
            (void)done;
        });
    }
    if (args.has("json")) {
        std::printf("{\"tokens\": %lld, \"mean_nll\": %.6f, \"perplexity\": %.6f", static_cast<long long>(r.tokens_scored),
                    r.mean_nll, r.perplexity);
        if (r.kl) {
            std::printf(", \"base_perplexity\": %.6f, \"kl_mean\": %.6g, \"kl_p99\": %.6g, \"kl_max\": %.6g, "
                        "\"top1_agreement\": %.6f",
                        *r.base_perplexity, r.kl->mean, r.kl->p99, r.kl->max, r.kl->top1_agreement);
        }
        std::printf("}\n");
    } else {
        std::printf("tokens scored: %lld\nperplexity:    %.4f (mean NLL %.5f nats)\n",
                    static_cast<long long>(r.tokens_scored), r.perplexity, r.mean_nll);
        if (r.kl) {
            std::printf("base perplexity: %.4f\nKL(base||model): mean %.6f, p99 %.6f, max %.6f nats\n"
                        "top-1 agreement: %.2f%%\n",
                        *r.base_perplexity, r.kl->mean, r.kl->p99, r.kl->max, 100.0 * r.kl->top1_agreement);
        }
    }
    return 0;
}

}  // namespace qinfer::cli
