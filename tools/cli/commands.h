#pragma once
// defines: the qinfer subcommands. Each takes the arguments after the subcommand name and returns an exit code;
// errors are thrown as qinfer::Error and printed by main().

#include <filesystem>
#include <string>
#include <vector>

#include "args.h"
#include "io/generation_config.h"
#include "runtime/sampler.h"

namespace qinfer::cli {

int cmd_inspect(const std::vector<std::string>& argv);
int cmd_logits(const std::vector<std::string>& argv);
int cmd_generate(const std::vector<std::string>& argv);
// The model's chat template applied to one user message (and --system / --enable-thinking from args), with
// add_generation_prompt: the prompt text for `generate --chat`.
std::string render_chat_prompt(const std::filesystem::path& model_dir, const std::string& user, const Args& args);
// The sampling flags shared by generate and chat, and their values: generation_config.json's defaults when it asks
// for sampling (else greedy), overridden by the flags. Validated.
std::vector<FlagSpec> sampling_flags();
SamplingParams sampling_from(const Args& args, const GenerationConfig& gen);

int cmd_tokenize(const std::vector<std::string>& argv);
int cmd_detokenize(const std::vector<std::string>& argv);
int cmd_chat_template(const std::vector<std::string>& argv);
int cmd_chat(const std::vector<std::string>& argv);
int cmd_perplexity(const std::vector<std::string>& argv);
int cmd_quantize(const std::vector<std::string>& argv);
int cmd_bench(const std::vector<std::string>& argv);
int cmd_synth(const std::vector<std::string>& argv);

}  // namespace qinfer::cli
