#pragma once
// defines: qinfer::synth::ConfigOverride, SynthConfig, make_synth_config, text_section
//
// The config.json `qinfer synth` writes: a preset's file (presets.h), with
//   --layers N         num_hidden_layers = N (1..L), and layer_types cut to its first N entries when the preset lists
//                      them, so the schedule keeps the preset's pattern (without layer_types, HF derives it from
//                      full_attention_interval anyway);
//   --set KEY=VALUE    an integer field of the text config replaced (testing aid: the preset's structure at smaller
//                      sizes, e.g. vocab_size=512 for a test that cannot afford a 248320-row embedding). The key must
//                      already be an integer field. full_attention_interval also rewrites a listed layer_types, and
//                      hidden_size also vision_config.out_hidden_size, so that the file stays self-consistent.
// The result is parsed with qinfer's own config parser, so a combination that does not make a valid model (a head
// count that does not divide, mrope sections that do not fit) is reported by that parser, naming the field.

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "io/hf_config.h"

namespace qinfer::synth {

struct ConfigOverride {
    std::string key;  // text-config field
    int64_t value = 0;
};
// "KEY=VALUE" -> {KEY, VALUE}; throws naming the argument when it is not of that form with an integer VALUE.
ConfigOverride parse_config_override(const std::string& arg);

struct SynthConfig {
    nlohmann::ordered_json json;  // config.json as written (without quantization_config)
    ModelConfig config;           // qinfer's parse of it
};

// layers = 0 keeps the preset's count.
SynthConfig make_synth_config(const std::string& preset, int64_t layers, const std::vector<ConfigOverride>& overrides);

// The object holding the text model's fields: text_config for the Qwen3.5 wrappers, the file itself when flat.
nlohmann::ordered_json& text_section(nlohmann::ordered_json& config);

}  // namespace qinfer::synth
