#pragma once
// defines: qinfer::synth::PresetSource, preset_sources, preset_names, preset_config
//
// The model presets of `qinfer synth`: the config.json of a released model per name, kept in the repository under
// configs/presets/<name>.json (sources and which values are unverified: configs/presets/README.md) and compiled into
// the library by cmake/embed_presets.cmake.

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace qinfer::synth {

struct PresetSource {
    std::string_view name;  // file name without .json: "qwen3.5-35b-a3b"
    std::string_view json;  // the file's text
};

// Every compiled-in preset, sorted by name (generated source).
const std::vector<PresetSource>& preset_sources();

std::vector<std::string> preset_names();
// The preset's config.json, key order kept. Throws qinfer::Error listing the valid names for an unknown one.
nlohmann::ordered_json preset_config(const std::string& name);

}  // namespace qinfer::synth
