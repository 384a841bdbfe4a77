#include "models/inspect.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <sstream>

#include "io/hf_config.h"
#include "io/safetensors.h"
#include "models/registry.h"
#include "models/weight_loader.h"
#include "quant/quant_config.h"

namespace qinfer::models {

namespace {

// The kind of layer a runtime module belongs to, for the summary: "linear_attn", "self_attn", "mlp" (dense),
// "mlp.experts", "mlp.shared_expert", "mlp.gate" (router), "lm_head".
std::string module_group(const std::string& runtime_param) {
    for (const char* g : {"linear_attn", "self_attn", "mlp.experts", "mlp.shared_expert_gate", "mlp.shared_expert",
                          "mlp.gate.", "lm_head"}) {
        if (runtime_param.find(g) != std::string::npos) {
            std::string name(g);
            return name.back() == '.' ? name.substr(0, name.size() - 1) : name;
        }
    }
    return "mlp";
}

std::string layer_pattern(const ModelConfig& c) {
    std::string s;
    for (size_t i = 0; i < c.layer_types.size(); ++i) {
        s += c.layer_types[i] == LayerType::FullAttention ? 'A' : 'L';
    }
    return s;
}

std::string human_bytes(uint64_t b) {
    std::ostringstream os;
    os.precision(3);
    if (b >= (1ull << 30)) {
        os << static_cast<double>(b) / (1ull << 30) << " GiB";
    } else if (b >= (1ull << 20)) {
        os << static_cast<double>(b) / (1ull << 20) << " MiB";
    } else if (b >= (1ull << 10)) {
        os << static_cast<double>(b) / (1ull << 10) << " KiB";
    } else {
        os << b << " B";
    }
    return os.str();
}

}  // namespace

nlohmann::json inspect_checkpoint(const std::filesystem::path& dir) {
    const ModelConfig c = load_model_config(dir);
    const ModelFamily& family = find_model_family(c.architecture);
    const WeightSpec spec = family.weight_spec(c);
    const TensorTable table = open_checkpoint(dir);
    const WeightPlan plan = plan_weights(spec, table, quant::load_quant_config(dir));

    nlohmann::json j;
    j["model_dir"] = dir.string();
    j["architecture"] = c.architecture;
    j["model_type"] = c.model_type;
    j["text_model_type"] = c.text_model_type;
    j["family"] = family.name;
    j["checkpoint_prefix"] = plan.prefix;
    j["config"] = {
        {"vocab_size", c.vocab_size},
        {"hidden_size", c.hidden_size},
        {"num_hidden_layers", c.num_hidden_layers},
        {"intermediate_size", c.intermediate_size},
        {"num_attention_heads", c.num_attention_heads},
        {"num_key_value_heads", c.num_key_value_heads},
        {"head_dim", c.head_dim},
        {"rotary_dim", c.rotary_dim},
        {"rope_theta", c.rope_theta},
        {"linear_num_key_heads", c.linear_num_key_heads},
        {"linear_num_value_heads", c.linear_num_value_heads},
        {"linear_key_head_dim", c.linear_key_head_dim},
        {"linear_value_head_dim", c.linear_value_head_dim},
        {"linear_conv_kernel_dim", c.linear_conv_kernel_dim},
        {"is_moe", c.is_moe},
        {"num_experts", c.num_experts},
        {"num_experts_per_tok", c.num_experts_per_tok},
        {"moe_intermediate_size", c.moe_intermediate_size},
        {"shared_expert_intermediate_size", c.shared_expert_intermediate_size},
        {"norm_topk_prob", c.norm_topk_prob},
        {"tie_word_embeddings", c.tie_word_embeddings},
        {"rms_norm_eps", c.rms_norm_eps},
        {"eos_token_ids", c.eos_token_ids},
    };
    nlohmann::json layers = nlohmann::json::array();
    for (size_t i = 0; i < c.layer_types.size(); ++i) {
        layers.push_back({{"index", i},
                          {"mixer", layer_type_name(c.layer_types[i])},
                          {"mlp", c.layer_is_moe[i] ? "moe" : "dense"}});
    }
    j["layer_pattern"] = layer_pattern(c);
    j["layers"] = layers;

    // Parameter count (logical, dequantized elements) and stored bytes (data + scales) of everything the model uses,
    // by format; and every checkpoint Linear module with its decision.
    uint64_t params = 0, bytes = 0;
    std::map<std::string, std::pair<uint64_t, uint64_t>> by_format;  // format -> (params, bytes)
    std::map<std::string, std::map<std::string, std::pair<uint64_t, uint64_t>>> by_group;  // group -> format -> (n, bytes)
    nlohmann::json modules = nlohmann::json::array();
    for (const ParamSpec* p : plan.params) {
        auto it = plan.shards.find(p->name);
        if (it == plan.shards.end()) continue;  // tied
        for (const ShardRecord& r : it->second) {
            const uint64_t n = static_cast<uint64_t>(numel(r.logical_shape));
            const uint64_t b = r.stored_bytes();
            const std::string format(quant::weight_format_name(r.decision.scheme.format));
            params += n;
            bytes += b;
            auto& d = by_format[format];
            d.first += n;
            d.second += b;
            if (r.role != ParamRole::Linear) continue;
            auto& g = by_group[module_group(r.runtime_param)][format];
            g.first += 1;
            g.second += b;
            modules.push_back({{"module", r.module},
                               {"format", format},
                               {"scheme", quant::scheme_str(r.decision.scheme)},
                               {"runtime", module_of(r.runtime_param)},
                               {"fused", r.fused},
                               {"packed", r.packed},
                               {"reason", r.decision.reason},
                               {"layout", r.layout},
                               {"shape", r.logical_shape}});
        }
    }
    j["parameters"] = params;
    j["bytes"] = bytes;
    nlohmann::json dt = nlohmann::json::object();
    for (const auto& [name, pb] : by_format) dt[name] = {{"parameters", pb.first}, {"bytes", pb.second}};
    j["by_format"] = dt;
    nlohmann::json groups = nlohmann::json::object();
    for (const auto& [group, formats] : by_group) {
        for (const auto& [format, nb] : formats) groups[group][format] = {{"modules", nb.first}, {"bytes", nb.second}};
    }
    j["linear_summary"] = groups;
    j["quantization"] = {{"producer", quant::producer_name(plan.quant.producer)},
                         {"source", plan.quant.source},
                         {"quant_algo", plan.quant.quant_algo},
                         {"kv_cache_quant_algo", plan.quant.kv_cache_quant_algo}};
    j["modules"] = modules;
    nlohmann::json tied = nlohmann::json::object();
    for (const auto& [name, target] : plan.tied) tied["model." + module_of(name)] = "model." + module_of(target);
    j["tied"] = tied;
    j["ignored_tensors"] = plan.ignored.size();
    j["ignore_patterns"] = spec.ignore;
    j["shadowed_tensors"] = plan.shadowed;
    return j;
}

std::string inspect_text(const nlohmann::json& r) {
    std::ostringstream os;
    const auto& c = r["config"];
    os << "model:        " << r["model_dir"].get<std::string>() << "\n";
    os << "architecture: " << r["architecture"].get<std::string>() << " (model_type " << r["model_type"].get<std::string>()
       << ", text " << r["text_model_type"].get<std::string>() << ", family " << r["family"].get<std::string>() << ")\n";
    os << "prefix:       " << r["checkpoint_prefix"].get<std::string>() << "\n";
    os << "layers:       " << c["num_hidden_layers"] << "  pattern " << r["layer_pattern"].get<std::string>()
       << "  (L = Gated DeltaNet, A = gated full attention)\n";
    os << "hidden:       " << c["hidden_size"] << "  vocab " << c["vocab_size"] << "  tied embeddings "
       << (c["tie_word_embeddings"].get<bool>() ? "yes" : "no") << "\n";
    os << "attention:    " << c["num_attention_heads"] << " q heads / " << c["num_key_value_heads"] << " kv heads, head_dim "
       << c["head_dim"] << ", rotary_dim " << c["rotary_dim"] << ", theta " << c["rope_theta"] << "\n";
    os << "deltanet:     " << c["linear_num_key_heads"] << " k heads x " << c["linear_key_head_dim"] << ", "
       << c["linear_num_value_heads"] << " v heads x " << c["linear_value_head_dim"] << ", conv " << c["linear_conv_kernel_dim"]
       << "\n";
    if (c["is_moe"].get<bool>()) {
        os << "moe:          " << c["num_experts"] << " experts, top-" << c["num_experts_per_tok"] << ", width "
           << c["moe_intermediate_size"] << ", shared " << c["shared_expert_intermediate_size"] << ", renormalise "
           << (c["norm_topk_prob"].get<bool>() ? "yes" : "no") << "\n";
    } else {
        os << "mlp:          dense SwiGLU, width " << c["intermediate_size"] << "\n";
    }
    os << "parameters:   " << r["parameters"].get<uint64_t>() << " (" << human_bytes(r["bytes"].get<uint64_t>())
       << " stored)\n";
    for (const auto& [name, pb] : r["by_format"].items()) {
        os << "  " << name << ": " << pb["parameters"].get<uint64_t>() << " parameters, "
           << human_bytes(pb["bytes"].get<uint64_t>()) << "\n";
    }
    const auto& q = r["quantization"];
    os << "quantization: " << q["producer"].get<std::string>();
    if (q["producer"] != "none") {
        os << " " << q["quant_algo"].get<std::string>() << " (" << q["source"].get<std::string>() << ")";
        if (!q["kv_cache_quant_algo"].get<std::string>().empty()) {
            os << ", kv cache " << q["kv_cache_quant_algo"].get<std::string>() << " (recorded, not applied)";
        }
    }
    os << "\nlinear modules by layer type:\n";
    for (const auto& [group, formats] : r["linear_summary"].items()) {
        os << "  " << group << ":";
        for (const auto& [format, nb] : formats.items()) {
            os << "  " << nb["modules"].get<uint64_t>() << " " << format << " (" << human_bytes(nb["bytes"].get<uint64_t>())
               << ")";
        }
        os << "\n";
    }
    if (r["ignored_tensors"].get<size_t>() > 0) {
        os << "ignored:      " << r["ignored_tensors"].get<size_t>() << " tensors (" << r["ignore_patterns"].dump() << ")\n";
    }
    for (const auto& [name, target] : r["tied"].items()) os << "tied:         " << name << " = " << target.get<std::string>() << "\n";
    os << "\nlinear modules (checkpoint module -> runtime module, format, why):\n";
    for (const auto& m : r["modules"]) {
        const bool packed = m["packed"].get<bool>(), fused = m["fused"].get<bool>();
        os << "  " << m["module"].get<std::string>() << " -> " << m["runtime"].get<std::string>() << "  "
           << m["scheme"].get<std::string>() << (fused ? "  (fused)" : packed ? "  (separate GEMM: shards differ)" : "")
           << "  <- " << m["reason"].get<std::string>() << "\n";
    }
    return os.str();
}

}  // namespace qinfer::models
