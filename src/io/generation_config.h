#pragma once
// defines: qinfer::GenerationConfig, load_generation_config
//
// Generation defaults a model folder ships in `generation_config.json` (transformers' GenerationConfig): stop ids
// and default sampling parameters. Command-line flags override these; absent fields leave qinfer's defaults.
// The stop ids a generation uses are the union of config.json's eos ids (ModelConfig) and these.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <vector>

namespace qinfer {

struct GenerationConfig {
    std::vector<int64_t> eos_token_ids;    // eos_token_id: int or list
    std::optional<bool> do_sample;         // false = greedy regardless of temperature
    std::optional<double> temperature;
    std::optional<int64_t> top_k;
    std::optional<double> top_p;
    std::optional<int64_t> max_new_tokens;
};

// Reads <dir>/generation_config.json; a missing file gives an empty config. Malformed JSON or ill-typed fields are
// errors naming the file and the field.
GenerationConfig load_generation_config(const std::filesystem::path& dir);

}  // namespace qinfer
