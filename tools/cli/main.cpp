// qinfer: the command-line tool. A thin dispatcher over the library; no model logic lives here.

#include <cstdio>
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

#include "commands.h"
#include "core/check.h"

namespace {

struct Command {
    const char* name;
    const char* summary;
    int (*run)(const std::vector<std::string>&);
};

constexpr Command kCommands[] = {
    {"inspect", "explain a checkpoint: architecture, layer pattern, sizes, every linear module's format",
     qinfer::cli::cmd_inspect},
    {"logits", "run token ids through the model and write the logits as .npy", qinfer::cli::cmd_logits},
    {"generate", "generate text (or token ids) after a prompt", qinfer::cli::cmd_generate},
    {"tokenize", "text on stdin -> token ids", qinfer::cli::cmd_tokenize},
    {"detokenize", "token ids -> text", qinfer::cli::cmd_detokenize},
    {"chat-template", "render the model's chat template for a conversation", qinfer::cli::cmd_chat_template},
    {"chat", "interactive chat with a model", qinfer::cli::cmd_chat},
    {"perplexity", "perplexity of a text file; with --base, KL divergence and top-1 agreement",
     qinfer::cli::cmd_perplexity},
    {"quantize", "write an unquantized checkpoint as a ModelOpt NVFP4 / FP8 / MIXED_PRECISION checkpoint",
     qinfer::cli::cmd_quantize},
    {"bench", "measure prefill and decode speed on the GPU against the HBM roofline", qinfer::cli::cmd_bench},
    {"synth", "write a random-weight checkpoint with a released model's exact config and (quantized) layout",
     qinfer::cli::cmd_synth},
};

void print_usage(std::FILE* out) {
    std::fprintf(out, "usage: qinfer <command> [options]\n\ncommands:\n");
    for (const auto& c : kCommands) std::fprintf(out, "  %-10s %s\n", c.name, c.summary);
    std::fprintf(out, "\nRun 'qinfer <command> --help' for a command's options.\n");
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2 || std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "-h") == 0) {
        print_usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    const std::string name = argv[1];
    const std::vector<std::string> rest(argv + 2, argv + argc);
    for (const auto& c : kCommands) {
        if (name != c.name) continue;
        try {
            return c.run(rest);
        } catch (const qinfer::Error& e) {
            std::fprintf(stderr, "qinfer: error: %s\n", e.what());
            return 1;
        } catch (const std::exception& e) {
            std::fprintf(stderr, "qinfer: internal error: %s\n", e.what());
            return 3;
        }
    }
    std::fprintf(stderr, "qinfer: error: unknown command '%s' (run 'qinfer --help' for the list)\n", name.c_str());
    return 2;
}
