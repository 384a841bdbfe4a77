// defines: the planning half of `qinfer quantize` (quantize_plan.h)

#include "quant/quantize_plan.h"

#include <fnmatch.h>

#include <algorithm>
#include <map>
#include <set>

#include "core/check.h"
#include "quant/nvfp4.h"
#include "quant/resolver.h"

namespace qinfer::quant {

std::string_view quantize_format_name(QuantizeFormat f) {
    switch (f) {
        case QuantizeFormat::Nvfp4:
            return "nvfp4";
        case QuantizeFormat::W4a16Nvfp4:
            return "w4a16_nvfp4";
        case QuantizeFormat::Fp8:
            return "fp8";
        case QuantizeFormat::Mixed:
            return "mixed";
    }
    return "?";
}

std::string_view quantize_preset_name(QuantizePreset p) {
    switch (p) {
        case QuantizePreset::NvidiaQwen35:
            return "nvidia-qwen3.5";
        case QuantizePreset::AllLinear:
            return "all-linear";
        case QuantizePreset::Qwen36Mixed:
            return "qwen3.6-mixed";
    }
    return "?";
}

QuantizeFormat parse_quantize_format(const std::string& s) {
    for (QuantizeFormat f : {QuantizeFormat::Nvfp4, QuantizeFormat::W4a16Nvfp4, QuantizeFormat::Fp8, QuantizeFormat::Mixed}) {
        if (s == quantize_format_name(f)) return f;
    }
    QINFER_FAIL("unknown --format \"", s, "\"; supported: nvfp4, w4a16_nvfp4, fp8, mixed");
}

QuantizePreset parse_quantize_preset(const std::string& s) {
    for (QuantizePreset p : {QuantizePreset::NvidiaQwen35, QuantizePreset::AllLinear, QuantizePreset::Qwen36Mixed}) {
        if (s == quantize_preset_name(p)) return p;
    }
    QINFER_FAIL("unknown --preset \"", s, "\"; supported: nvidia-qwen3.5, all-linear, qwen3.6-mixed");
}

std::string format_algo(QuantizeFormat f) {
    switch (f) {
        case QuantizeFormat::Nvfp4:
            return "NVFP4";
        case QuantizeFormat::W4a16Nvfp4:
            return "W4A16_NVFP4";
        case QuantizeFormat::Fp8:
            return "FP8";
        case QuantizeFormat::Mixed:
            return "MIXED_PRECISION";
    }
    return "?";
}

bool algo_has_input_scale(const std::string& algo) { return algo == "NVFP4" || algo == "FP8"; }

std::vector<UnitTensor> unit_tensors(const QuantUnit& u) {
    QINFER_CHECK(!u.algo.empty(), "internal: ", u.module, " is not quantized; it has no ModelOpt scale tensors");
    std::vector<UnitTensor> out;
    if (u.algo == "FP8") {
        out.push_back({u.module + ".weight", DType::F8E4M3, {u.n, u.k}, UnitTensorRole::Weight});
        out.push_back({u.module + ".weight_scale", DType::F32, {}, UnitTensorRole::WeightScale});
    } else {
        QINFER_CHECK(u.k % kNvfp4BlockSize == 0, u.module, ": K = ", u.k,
                     " is not a multiple of the NVFP4 block size ", kNvfp4BlockSize, "; --exclude it");
        out.push_back({u.module + ".weight", DType::U8, {u.n, u.k / 2}, UnitTensorRole::Weight});
        out.push_back({u.module + ".weight_scale", DType::F8E4M3, {u.n, u.k / kNvfp4BlockSize},
                       UnitTensorRole::BlockScales});
        out.push_back({u.module + ".weight_scale_2", DType::F32, {}, UnitTensorRole::GlobalScale});
    }
    if (u.input_group >= 0) out.push_back({u.module + ".input_scale", DType::F32, {}, UnitTensorRole::InputScale});
    return out;
}

namespace {

// The last and the second-to-last dot-separated components of a module name.
std::string_view component(std::string_view m, int from_end) {
    for (int i = 0; i < from_end; ++i) {
        const size_t dot = m.rfind('.');
        if (dot == std::string_view::npos) return {};
        m = m.substr(0, dot);
    }
    const size_t dot = m.rfind('.');
    return dot == std::string_view::npos ? m : m.substr(dot + 1);
}

bool one_of(std::string_view s, std::initializer_list<std::string_view> set) {
    return std::find(set.begin(), set.end(), s) != set.end();
}

struct Rule {
    std::string algo;  // "" = unquantized
    std::string reason;
};

// The Qwen3.6 releases' MIXED_PRECISION layout (quantized_checkpoints.md §4) by dot-separated components, never by
// substring (§10: in_proj_a vs in_proj_ab, mlp.gate vs mlp.gate_up_proj).
Rule qwen36_rule(const QuantUnit& u, bool stacked) {
    const std::string why = "preset qwen3.6-mixed: ";
    const std::string_view c = component(u.module, 0), parent = component(u.module, 1);
    if (stacked) return {"W4A16_NVFP4", why + "routed experts W4A16_NVFP4"};
    if (u.module == "lm_head") return {"W4A16_NVFP4", why + "lm_head W4A16_NVFP4"};
    if ((parent == "mlp" || parent == "shared_expert") && one_of(c, {"gate_proj", "up_proj", "down_proj"})) {
        return {"W4A16_NVFP4", why + "MLP W4A16_NVFP4"};
    }
    if (parent == "self_attn" && one_of(c, {"q_proj", "k_proj", "v_proj", "o_proj"})) return {"FP8", why + "self_attn FP8"};
    if (parent == "linear_attn" && one_of(c, {"in_proj_qkv", "in_proj_z", "in_proj_qkvz", "out_proj"})) {
        return {"FP8", why + "linear_attn " + std::string(c) + " FP8"};
    }
    if (parent == "linear_attn" && one_of(c, {"in_proj_a", "in_proj_b", "in_proj_ba"})) {
        return {"", why + "in_proj_a / in_proj_b stay unquantized"};
    }
    return {"", why + "no rule quantizes this module"};
}

Rule preset_rule(QuantizePreset p, QuantizeFormat f, const QuantUnit& u, bool stacked) {
    switch (p) {
        case QuantizePreset::NvidiaQwen35:
            if (stacked) return {format_algo(f), "preset nvidia-qwen3.5: routed experts"};
            return {"", "preset nvidia-qwen3.5: only routed experts are quantized"};
        case QuantizePreset::AllLinear:
            if (u.module == "lm_head") return {"", "preset all-linear: lm_head stays unquantized (ModelOpt default)"};
            return {format_algo(f), "preset all-linear"};
        case QuantizePreset::Qwen36Mixed:
            return qwen36_rule(u, stacked);
    }
    return {"", "?"};
}

// The spec's per-expert alternative of a stacked parameter: every shard 2-D, together filling the whole parameter.
const models::LayoutAlternative* per_expert_layout(const models::ParamSpec& p) {
    for (const auto& alt : p.layouts) {
        int64_t total = 0;
        bool flat = !alt.shards.empty();
        for (const auto& s : alt.shards) {
            flat = flat && s.shape.size() == 2 && !s.relayout;
            total += numel(s.shape);
        }
        if (flat && total == numel(p.shape)) return &alt;
    }
    return nullptr;
}

// Union-find over runtime parameter names, for WeightSpec::same_input.
class SameInput {
public:
    explicit SameInput(const models::WeightSpec& spec) {
        for (const auto& set : spec.same_input) {
            for (size_t i = 1; i < set.size(); ++i) parent_[root(set[i])] = root(set[0]);
        }
    }
    std::string root(const std::string& p) {
        auto it = parent_.find(p);
        if (it == parent_.end() || it->second == p) return p;
        const std::string r = root(it->second);
        parent_[p] = r;
        return r;
    }

private:
    std::map<std::string, std::string> parent_;
};

// Units of one input shard: itself, or the per-expert slices of a fused 3-D tensor.
std::vector<QuantUnit> units_of(const models::WeightPlan& wp, const models::ParamSpec& p, const models::ShardRecord& r) {
    const bool stacked = p.shape.size() == 3;
    const int64_t per_expert = stacked ? p.shape[1] * p.shape[2] : 0;
    std::vector<QuantUnit> out;
    if (r.logical_shape.size() == 2) {
        QuantUnit u;
        u.module = r.module;
        u.param = p.name;
        u.source = &r;
        u.n = r.logical_shape[0];
        u.k = r.logical_shape[1];
        u.expert = stacked ? r.dst_offset / per_expert : -1;
        out.push_back(std::move(u));
        return out;
    }
    QINFER_CHECK(r.logical_shape.size() == 3 && stacked, "quantize: ", r.checkpoint_name, " has shape ",
                 shape_str(r.logical_shape), "; only 2-D Linear weights and fused 3-D experts are supported");
    const models::LayoutAlternative* alt = per_expert_layout(p);
    QINFER_CHECK(alt != nullptr, "quantize: ", r.checkpoint_name,
                 " is a fused 3-D expert tensor and the model spec has no per-expert layout to write it in");
    for (const auto& s : alt->shards) {
        QuantUnit u;
        u.module = models::module_of(s.absolute ? s.name : wp.prefix + s.name);
        u.param = p.name;
        u.source = &r;
        u.src_offset = s.dst_offset - r.dst_offset;
        u.n = s.shape[0];
        u.k = s.shape[1];
        u.expert = s.dst_offset / per_expert;
        u.split = true;
        out.push_back(std::move(u));
    }
    return out;
}

bool glob_match(const std::string& glob, const std::string& name) {
    return ::fnmatch(glob.c_str(), name.c_str(), FNM_NOESCAPE) == 0;
}

}  // namespace

QuantPlan plan_quantization(const models::WeightPlan& wp, const models::WeightSpec& spec, QuantizeFormat format,
                            QuantizePreset preset, const std::vector<std::string>& exclude) {
    QINFER_CHECK((format == QuantizeFormat::Mixed) == (preset == QuantizePreset::Qwen36Mixed),
                 "--format ", quantize_format_name(format), " does not go with --preset ", quantize_preset_name(preset),
                 ": --format mixed is the MIXED_PRECISION preset qwen3.6-mixed, and that preset needs --format mixed");
    QuantPlan plan;
    plan.format = format;
    plan.preset = preset;
    plan.quant_algo = format_algo(format);
    std::set<std::string> used_globs;

    for (const models::ParamSpec* p : wp.params) {
        auto it = wp.shards.find(p->name);
        if (it == wp.shards.end() || p->role != models::ParamRole::Linear) continue;  // tied, or not a Linear
        const bool stacked = p->shape.size() == 3;
        for (const models::ShardRecord& r : it->second) {
            std::vector<QuantUnit> units = units_of(wp, *p, r);
            for (QuantUnit& u : units) {
                const ModuleKind kind = module_kind(u.module);
                if (kind != ModuleKind::Linear) {
                    u.reason = str_cat(module_kind_name(kind), ": never quantized");
                    u.linear_kind = kind == ModuleKind::SharedExpertGate;  // an nn.Linear with a disabled quantizer
                    continue;
                }
                Rule rule = preset_rule(preset, format, u, stacked);
                for (const std::string& g : exclude) {
                    if (!glob_match(g, u.module)) continue;
                    used_globs.insert(g);
                    if (!rule.algo.empty()) rule = {"", str_cat("--exclude \"", g, "\"")};
                }
                u.algo = rule.algo;
                u.reason = rule.reason;
            }
            const bool any = std::any_of(units.begin(), units.end(), [](const QuantUnit& u) { return !u.algo.empty(); });
            if (units.front().split && !any) {
                // Nothing of this fused tensor is quantized: it is copied as it is, one module.
                QuantUnit whole = units.front();
                whole.module = r.module;
                whole.src_offset = 0;
                whole.n = r.logical_shape[0] * r.logical_shape[1];
                whole.k = r.logical_shape[2];
                whole.expert = -1;
                whole.split = false;
                units = {whole};
            } else if (units.front().split) {
                plan.split_tensors.push_back(r.checkpoint_name);
            }
            for (QuantUnit& u : units) plan.units.push_back(std::move(u));
        }
    }
    for (const std::string& g : exclude) {
        QINFER_CHECK(used_globs.contains(g), "--exclude \"", g, "\" matches no Linear module of the checkpoint");
    }
    const bool any = std::any_of(plan.units.begin(), plan.units.end(), [](const QuantUnit& u) { return !u.algo.empty(); });
    QINFER_CHECK(any, "preset ", quantize_preset_name(preset), " with --format ", quantize_format_name(format),
                 " quantizes no module of this checkpoint",
                 preset == QuantizePreset::NvidiaQwen35 ? " (it quantizes routed experts only; the model has none)" : "");

    // Linear modules outside the text model (vision tower, MTP head): kept as they are, listed as excluded.
    for (const std::string& name : wp.ignored) {
        if (!name.ends_with(".weight")) continue;
        const std::string m = models::module_of(name);
        const ModuleKind kind = module_kind(m);
        if (kind == ModuleKind::Linear || kind == ModuleKind::SharedExpertGate) plan.other_linear_modules.push_back(m);
    }

    // Scale groups.
    SameInput same(spec);
    std::map<std::string, std::vector<std::string>> members;  // same-input root -> runtime params
    for (const models::ParamSpec* p : wp.params) {
        if (p->role == models::ParamRole::Linear && p->shape.size() == 2) members[same.root(p->name)].push_back(p->name);
    }
    std::map<std::string, int> weight_key, input_key;
    for (size_t i = 0; i < plan.units.size(); ++i) {
        QuantUnit& u = plan.units[i];
        if (u.algo.empty()) continue;
        const std::string root = same.root(u.param);
        const std::string wk = u.expert >= 0 ? str_cat(u.param, "#", u.expert) : root;
        auto [wit, wnew] = weight_key.emplace(wk, static_cast<int>(plan.weight_groups.size()));
        if (wnew) plan.weight_groups.emplace_back();
        std::vector<size_t>& group = plan.weight_groups[static_cast<size_t>(wit->second)];
        if (!group.empty()) {
            const QuantUnit& first = plan.units[group.front()];
            QINFER_CHECK(first.algo == u.algo, "quantize: ", first.module, " (", first.algo, ") and ", u.module, " (",
                         u.algo, ") are fed the same input but would get different formats; ModelOpt requires one "
                         "format per fused group (quantized_checkpoints.md §7.1)");
        }
        group.push_back(i);
        u.weight_group = wit->second;
        if (!algo_has_input_scale(u.algo)) continue;
        const std::string ik = u.expert >= 0 ? u.param : root;
        auto [iit, inew] = input_key.emplace(ik, static_cast<int>(plan.input_groups.size()));
        if (inew) plan.input_groups.push_back(u.expert >= 0 ? std::vector<std::string>{u.param} : members.at(root));
        u.input_group = iit->second;
    }
    return plan;
}

}  // namespace qinfer::quant
