#include "synth/synth_config.h"

#include <charconv>

#include "core/check.h"
#include "synth/presets.h"

namespace qinfer::synth {

using nlohmann::ordered_json;

ConfigOverride parse_config_override(const std::string& arg) {
    const size_t eq = arg.find('=');
    QINFER_CHECK(eq != std::string::npos && eq > 0, "--set \"", arg, "\": expected KEY=VALUE with an integer VALUE");
    ConfigOverride o;
    o.key = arg.substr(0, eq);
    const std::string v = arg.substr(eq + 1);
    const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), o.value);
    QINFER_CHECK(ec == std::errc() && end == v.data() + v.size() && !v.empty(), "--set \"", arg, "\": VALUE \"", v,
                 "\" is not an integer");
    return o;
}

ordered_json& text_section(ordered_json& config) {
    if (config.contains("text_config") && config["text_config"].is_object()) return config["text_config"];
    return config;
}

namespace {

// HF's rule when layer_types is absent (qwen3_5_architecture.md §1.3).
ordered_json layer_types_from_interval(int64_t layers, int64_t interval) {
    ordered_json types = ordered_json::array();
    for (int64_t i = 0; i < layers; ++i)
        types.push_back((i + 1) % interval == 0 ? "full_attention" : "linear_attention");
    return types;
}

void apply_override(const std::string& preset, ordered_json& config, const ConfigOverride& o) {
    ordered_json& t = text_section(config);
    const bool is_int = t.contains(o.key) && t[o.key].is_number_integer();
    QINFER_CHECK(is_int, "--set ", o.key, "=", o.value, ": the text config of preset ", preset,
                 " has no integer field \"", o.key, "\"");
    QINFER_CHECK(o.key != "num_hidden_layers", "--set num_hidden_layers: use --layers N, which also cuts layer_types");
    t[o.key] = o.value;
    if (o.key == "full_attention_interval" && t.contains("layer_types") && t["layer_types"].is_array() && o.value > 0) {
        t["layer_types"] = layer_types_from_interval(static_cast<int64_t>(t["layer_types"].size()), o.value);
    }
    if (o.key == "hidden_size" && config.contains("vision_config") && config["vision_config"].is_object() &&
        config["vision_config"].contains("out_hidden_size")) {
        config["vision_config"]["out_hidden_size"] = o.value;  // the merger projects into the text width
    }
}

}  // namespace

SynthConfig make_synth_config(const std::string& preset, int64_t layers, const std::vector<ConfigOverride>& overrides) {
    SynthConfig out;
    out.json = preset_config(preset);
    for (const ConfigOverride& o : overrides) apply_override(preset, out.json, o);
    ordered_json& t = text_section(out.json);
    const int64_t preset_layers = t.value("num_hidden_layers", int64_t{0});
    if (layers != 0) {
        QINFER_CHECK(layers >= 1 && layers <= preset_layers, "--layers ", layers, ": preset ", preset, " has ",
                     preset_layers, " layers; give 1..", preset_layers);
        t["num_hidden_layers"] = layers;
        if (t.contains("layer_types") && t["layer_types"].is_array()) {
            ordered_json cut = ordered_json::array();
            for (int64_t i = 0; i < layers; ++i) cut.push_back(t["layer_types"][static_cast<size_t>(i)]);
            t["layer_types"] = cut;
        }
    }
    out.config = parse_model_config(nlohmann::json::parse(out.json.dump()), "preset " + preset);
    return out;
}

}  // namespace qinfer::synth
