#include "synth/presets.h"

#include "core/check.h"

namespace qinfer::synth {

std::vector<std::string> preset_names() {
    std::vector<std::string> names;
    for (const PresetSource& p : preset_sources()) names.emplace_back(p.name);
    return names;
}

nlohmann::ordered_json preset_config(const std::string& name) {
    for (const PresetSource& p : preset_sources()) {
        if (p.name != name) continue;
        try {
            return nlohmann::ordered_json::parse(p.json);
        } catch (const nlohmann::json::exception& e) {
            QINFER_FAIL("preset ", name, " (configs/presets/", name, ".json): invalid JSON (", e.what(), ")");
        }
    }
    std::string valid;
    for (const std::string& n : preset_names()) valid += (valid.empty() ? "" : ", ") + n;
    QINFER_FAIL("unknown preset \"", name, "\"; valid presets: ", valid);
}

}  // namespace qinfer::synth
