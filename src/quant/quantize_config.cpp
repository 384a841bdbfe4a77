#include "quant/quantize_config.h"

#include <set>

#include "core/check.h"
#include "quant/exclude_summary.h"

namespace qinfer::quant {

using nlohmann::ordered_json;

namespace {

constexpr int kGroupSize = 16;

bool is_nvfp4_algo(const std::string& a) { return a == "NVFP4" || a == "W4A16_NVFP4"; }

// A routed expert's parent module: "<p>.mlp.experts" of "<p>.mlp.experts.<e>.<proj>".
std::string experts_parent(const std::string& module) {
    const size_t proj = module.rfind('.');
    const size_t e = module.rfind('.', proj - 1);
    return module.substr(0, e);
}

// The per-layer entry of quantized_layers / one config group: {quant_algo, group_size} (NVFP4 kinds) or {quant_algo}.
ordered_json layer_config(const std::string& algo) {
    ordered_json j;
    j["quant_algo"] = algo;
    if (is_nvfp4_algo(algo)) j["group_size"] = kGroupSize;
    return j;
}

// config_groups details as ModelOpt's convert_hf_quant_config_format writes them.
ordered_json group_details(const std::string& algo) {
    ordered_json j;
    if (algo == "FP8") {
        j["input_activations"] = {{"dynamic", false}, {"num_bits", 8}, {"type", "float"}};
        j["weights"] = {{"dynamic", false}, {"num_bits", 8}, {"type", "float"}};
    } else {
        const ordered_json fp4 = {{"dynamic", false}, {"num_bits", 4}, {"type", "float"}, {"group_size", kGroupSize}};
        if (algo == "NVFP4") j["input_activations"] = fp4;
        j["weights"] = fp4;
    }
    return j;
}

}  // namespace

std::map<std::string, std::string> modelopt_quantized_layers(const QuantPlan& plan) {
    // Experts: one parent key when every expert module under it has the same (non-empty) algorithm.
    std::map<std::string, std::set<std::string>> parent_algos;
    for (const QuantUnit& u : plan.units) {
        if (u.expert >= 0) parent_algos[experts_parent(u.module)].insert(u.algo);
    }
    std::map<std::string, std::string> out;
    for (const QuantUnit& u : plan.units) {
        if (u.algo.empty()) continue;
        if (u.expert >= 0) {
            const std::string parent = experts_parent(u.module);
            const auto& algos = parent_algos.at(parent);
            if (algos.size() == 1) {
                out[parent] = u.algo;
                continue;
            }
        }
        out[u.module] = u.algo;
    }
    return out;
}

std::vector<std::string> modelopt_exclude_modules(const QuantPlan& plan) {
    std::vector<std::string> unquantized(plan.other_linear_modules), quantized;
    for (const QuantUnit& u : plan.units) {
        if (!u.algo.empty()) {
            quantized.push_back(u.module);
        } else if (u.linear_kind) {
            unquantized.push_back(u.module);
        }
    }
    std::vector<std::string> patterns = summarise_exclude(unquantized, quantized);
    check_exclude_summary(patterns, unquantized, quantized);
    return patterns;
}

ModelOptExport modelopt_export_config(const QuantPlan& plan, const std::vector<std::string>& exclude_modules,
                                      const std::string& producer_version) {
    const bool mixed = plan.quant_algo == "MIXED_PRECISION";
    const bool uses_fp4 = mixed || is_nvfp4_algo(plan.quant_algo);
    const ordered_json producer = {{"name", "modelopt"}, {"version", producer_version}};
    ordered_json layers = ordered_json::object();
    std::map<std::string, std::vector<std::string>> targets_by_algo;
    if (mixed) {
        for (const auto& [key, algo] : modelopt_quantized_layers(plan)) {
            layers[key] = layer_config(algo);
            targets_by_algo[algo].push_back(key);
        }
    }

    ordered_json q;
    q["quant_algo"] = plan.quant_algo;
    q["kv_cache_quant_algo"] = nullptr;
    if (uses_fp4) q["group_size"] = kGroupSize;
    if (mixed) q["quantized_layers"] = layers;
    q["exclude_modules"] = exclude_modules;
    ModelOptExport e;
    e.hf_quant_config["producer"] = producer;
    e.hf_quant_config["quantization"] = q;

    ordered_json groups = ordered_json::object();
    if (mixed) {
        int i = 0;
        for (const auto& [algo, targets] : targets_by_algo) {
            ordered_json g = group_details(algo);
            g["targets"] = targets;
            groups[str_cat("group_", i++)] = g;
        }
    } else {
        ordered_json g = group_details(plan.quant_algo);
        g["targets"] = {"Linear"};
        groups["group_0"] = g;
    }
    ordered_json& c = e.quantization_config;
    c["config_groups"] = groups;
    c["ignore"] = exclude_modules;
    c["exclude_modules"] = exclude_modules;
    c["quant_algo"] = plan.quant_algo;
    if (uses_fp4) c["group_size"] = kGroupSize;
    c["kv_cache_quant_algo"] = nullptr;
    if (mixed) c["quantized_layers"] = layers;
    c["producer"] = producer;
    c["quant_method"] = "modelopt";
    return e;
}

}  // namespace qinfer::quant
