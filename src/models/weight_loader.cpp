#include "models/weight_loader.h"

#include <fnmatch.h>

#include <algorithm>
#include <set>
#include <sstream>

#include "core/check.h"
#include "core/parallel.h"
#include "quant/fp8.h"
#include "quant/nvfp4.h"

namespace qinfer::models {

namespace {

constexpr size_t kMaxListed = 20;  // offenders listed in one error before "... and N more"

std::string join_capped(const std::vector<std::string>& items) {
    std::ostringstream os;
    for (size_t i = 0; i < items.size() && i < kMaxListed; ++i) os << (i ? "; " : " ") << items[i];
    if (items.size() > kMaxListed) os << "; ... and " << (items.size() - kMaxListed) << " more";
    return os.str();
}

bool matches_any(const std::vector<std::string>& globs, const std::string& name) {
    return std::any_of(globs.begin(), globs.end(),
                       [&](const std::string& g) { return ::fnmatch(g.c_str(), name.c_str(), 0) == 0; });
}

bool is_plain_weight_dtype(DType t) {
    return t == DType::BF16 || t == DType::F16 || t == DType::F32 || t == DType::F64;
}

std::string absolute_name(const std::string& prefix, const ShardSource& s) {
    return s.absolute ? s.name : prefix + s.name;
}

}  // namespace

std::string module_of(const std::string& param_name) {
    constexpr std::string_view kSuffix = ".weight";
    if (param_name.size() > kSuffix.size() && param_name.ends_with(kSuffix)) {
        return param_name.substr(0, param_name.size() - kSuffix.size());
    }
    return param_name;
}

std::string detect_text_prefix(const TensorTable& table) {
    for (const auto& [name, info] : table.all()) {
        if (name.starts_with("model.language_model.")) return "model.language_model.";
    }
    return "model.";
}

namespace {

// The module of a shard's checkpoint tensor: "X" for "X.weight", the name itself for bare tensors (fused 3-D experts
// "...mlp.experts.gate_up_proj", "...linear_attn.A_log").
std::string checkpoint_module(const std::string& name) { return module_of(name); }

// Whether the shard's data is in the checkpoint: X.weight, or compressed-tensors' X.weight_packed.
const TensorInfo* find_shard_data(const TensorTable& table, const std::string& name) {
    if (const TensorInfo* t = table.find(name)) return t;
    if (name.ends_with(".weight")) return table.find(name + "_packed");
    return nullptr;
}

// Checks the stored tensors of a shard against the logical shape the spec expects, per format.
void check_shard_shape(const ShardRecord& r, std::vector<std::string>& wrong) {
    const Shape& want = r.logical_shape;
    const Shape& got = r.tensor->shape;
    const std::string where = str_cat(r.checkpoint_name, " (", r.tensor->file, ")");
    switch (r.decision.scheme.format) {
        case quant::WeightFormat::BF16:
        case quant::WeightFormat::F16:
        case quant::WeightFormat::F32:
            if (got != want) {
                wrong.push_back(str_cat(where, ": expected shape ", shape_str(want), ", checkpoint has ", shape_str(got)));
            } else if (!is_plain_weight_dtype(r.tensor->dtype)) {
                wrong.push_back(str_cat(where, ": dtype ", dtype_name(r.tensor->dtype), " is not a weight dtype"));
            }
            return;
        case quant::WeightFormat::NVFP4: {
            if (want.size() != 2) {
                wrong.push_back(str_cat(where, ": NVFP4 is only supported for 2-D linear weights"));
                return;
            }
            try {
                quant::nvfp4_check_shapes(got, r.weight_scale->shape, want[0], want[1], r.module);
            } catch (const Error& e) {
                wrong.push_back(str_cat(where, ": expected logical shape ", shape_str(want), ": ", e.what()));
            }
            return;
        }
        case quant::WeightFormat::FP8: {
            const Shape& sc = r.weight_scale->shape;
            const int64_t n_scale = numel(sc);
            if (got != want) {
                wrong.push_back(str_cat(where, ": expected shape ", shape_str(want), ", checkpoint has ", shape_str(got)));
            } else if (want.size() != 2 || (n_scale != 1 && n_scale != want[0])) {
                wrong.push_back(str_cat(r.module, ".weight_scale: shape ", shape_str(sc),
                                        " is neither per-tensor ([] or [1]) nor per-channel ([", want[0], "] or [",
                                        want[0], ", 1]) for weight ", shape_str(want)));
            }
            return;
        }
    }
}

}  // namespace

uint64_t ShardRecord::stored_bytes() const {
    uint64_t b = tensor->bytes.size();
    for (const TensorInfo* t : {weight_scale, global_scale, input_scale}) b += t ? t->bytes.size() : 0;
    return b;
}

float read_scalar(const TensorInfo& t) {
    QINFER_CHECK(t.numel() == 1 && dtype_is_float(t.dtype), "tensor ", t.name, " (", t.file,
                 ") must be a single floating-point value, got ", dtype_name(t.dtype), " ", shape_str(t.shape));
    return t.to_f32().data()[0];
}

WeightPlan plan_weights(const WeightSpec& spec, const TensorTable& table, const quant::QuantConfig& quant) {
    WeightPlan plan;
    plan.prefix = detect_text_prefix(table);
    plan.quant = quant;
    const std::map<std::string, quant::ModuleTensors> modules = quant::group_by_module(table);
    std::map<std::string, quant::Decision> decided;  // module -> decision (a module is decided once)
    std::set<std::string> consumed;
    std::vector<std::string> missing, wrong_shape, partial, precision;

    auto decide = [&](const std::string& module) -> const quant::Decision* {
        if (auto it = decided.find(module); it != decided.end()) return &it->second;
        auto m = modules.find(module);
        if (m == modules.end()) return nullptr;
        try {
            return &decided.emplace(module, quant::resolve_module(quant, m->second)).first->second;
        } catch (const Error& e) {
            precision.emplace_back(e.what());
            return nullptr;
        }
    };

    for (const ParamSpec& p : spec.params) {
        plan.params.push_back(&p);
        if (!p.tied_to.empty()) {
            plan.tied[p.name] = p.tied_to;
            // A tied head may still be written to the file; it is superseded by the embedding, as in transformers.
            for (const auto& alt : p.layouts) {
                for (const auto& sh : alt.shards) {
                    const std::string n = absolute_name(plan.prefix, sh);
                    if (table.contains(n)) {
                        consumed.insert(n);
                        plan.shadowed.push_back(n);
                    }
                }
            }
            continue;
        }
        const LayoutAlternative* chosen = nullptr;
        for (const auto& alt : p.layouts) {
            size_t present = 0;
            for (const auto& sh : alt.shards) present += find_shard_data(table, absolute_name(plan.prefix, sh)) ? 1 : 0;
            if (present == 0) continue;
            if (present != alt.shards.size()) {
                std::ostringstream os;
                os << p.name << " (" << alt.label << "): has " << present << " of " << alt.shards.size()
                   << " tensors; missing";
                size_t listed = 0;
                for (const auto& sh : alt.shards) {
                    const std::string n = absolute_name(plan.prefix, sh);
                    if (!find_shard_data(table, n) && listed++ < 4) os << ' ' << n;
                }
                if (alt.shards.size() - present > 4) os << " ...";
                partial.push_back(os.str());
                chosen = &alt;  // reported; do not also call it missing
                break;
            }
            if (chosen == nullptr) chosen = &alt;
        }
        if (chosen == nullptr) {
            std::ostringstream os;
            os << absolute_name(plan.prefix, p.layouts.front().shards.front());
            if (p.layouts.size() > 1) {
                os << " (or the " << p.layouts[1].label << " layout: "
                   << absolute_name(plan.prefix, p.layouts[1].shards.front()) << ", ...)";
            }
            missing.push_back(os.str());
            continue;
        }
        auto& records = plan.shards[p.name];
        for (const auto& sh : chosen->shards) {
            const std::string n = absolute_name(plan.prefix, sh);
            const TensorInfo* t = find_shard_data(table, n);
            if (t == nullptr) continue;  // partial layout, already reported
            const std::string module = checkpoint_module(n);
            const quant::Decision* d = decide(module);
            consumed.insert(t->name);
            if (d == nullptr) continue;  // precision error, already reported
            ShardRecord r;
            r.checkpoint_name = t->name;
            r.module = module;
            r.runtime_param = "model." + p.name;
            r.tensor = t;
            r.decision = *d;
            for (const std::string& c : d->companion_tensors) consumed.insert(c);
            if (!d->weight_scale.empty()) r.weight_scale = &table.at(d->weight_scale);
            if (!d->global_scale.empty()) r.global_scale = &table.at(d->global_scale);
            if (!d->input_scale.empty()) r.input_scale = &table.at(d->input_scale);
            r.logical_shape = sh.shape;
            r.role = p.role;
            r.packed = chosen->shards.size() > 1;
            r.layout = chosen->label;
            r.dst_offset = sh.dst_offset;
            r.relayout = sh.relayout;
            const size_t before = wrong_shape.size();
            check_shard_shape(r, wrong_shape);
            if (wrong_shape.size() == before) records.push_back(std::move(r));
        }
        // One GEMM when every shard has the same scheme; otherwise each shard runs in its own format.
        const bool agree = std::all_of(records.begin(), records.end(), [&](const ShardRecord& r) {
            return quant::same_scheme(r.decision, records.front().decision);
        });
        for (ShardRecord& r : records) r.fused = r.packed && agree;
    }

    std::vector<std::string> unconsumed;
    for (const auto& [name, info] : table.all()) {
        if (consumed.contains(name)) continue;
        if (matches_any(spec.ignore, name)) {
            plan.ignored.push_back(name);
            continue;
        }
        unconsumed.push_back(str_cat(name, " ", dtype_name(info->dtype), ' ', shape_str(info->shape)));
    }

    std::ostringstream err;
    if (!missing.empty()) err << " | missing tensors (" << missing.size() << "):" << join_capped(missing);
    if (!partial.empty()) err << " | incomplete layouts (" << partial.size() << "):" << join_capped(partial);
    if (!precision.empty()) err << " | precision (" << precision.size() << "):" << join_capped(precision);
    if (!wrong_shape.empty()) err << " | wrong shapes or dtypes (" << wrong_shape.size() << "):" << join_capped(wrong_shape);
    if (!unconsumed.empty()) {
        err << " | unexpected tensors, neither used by the model nor ignored (" << unconsumed.size()
            << "):" << join_capped(unconsumed);
    }
    if (!err.str().empty()) {
        std::string files;
        for (const auto& f : table.files()) files += (files.empty() ? "" : ", ") + f.string();
        QINFER_FAIL("checkpoint does not match the model (", files, "; text prefix '", plan.prefix,
                    "'; quantization: ", quant.source, "):", err.str());
    }
    return plan;
}

namespace {

// Exact dequantization of one shard to fp32 in its checkpoint shape.
Tensor dequantize_shard(const ShardRecord& r) {
    switch (r.decision.scheme.format) {
        case quant::WeightFormat::BF16:
        case quant::WeightFormat::F16:
        case quant::WeightFormat::F32:
            return r.tensor->to_f32();
        case quant::WeightFormat::NVFP4: {
            const int64_t N = r.logical_shape[0], K = r.logical_shape[1];
            float global = read_scalar(*r.global_scale);
            if (r.decision.reciprocal_global_scales) global = 1.0f / global;  // compressed-tensors stores 1/scale
            Tensor out({N, K});
            const auto bytes = [](const TensorInfo* t) {
                return std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(t->bytes.data()), t->bytes.size());
            };
            quant::nvfp4_dequantize(bytes(r.tensor), bytes(r.weight_scale), global, N, K, out.span());
            return out;
        }
        case quant::WeightFormat::FP8: {
            const int64_t N = r.logical_shape[0], K = r.logical_shape[1];
            const Tensor scale = r.weight_scale->to_f32();
            Tensor out({N, K});
            quant::fp8_dequantize(
                std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(r.tensor->bytes.data()), r.tensor->bytes.size()),
                scale.span(), scale.numel() == 1 ? quant::ScaleKind::PerTensor : quant::ScaleKind::PerChannel, N, K,
                out.span());
            return out;
        }
    }
    QINFER_FAIL("internal: unknown weight format for ", r.checkpoint_name);
}

}  // namespace

std::map<std::string, Tensor> materialize_weights(const WeightPlan& plan, const std::function<void(uint64_t)>& progress) {
    std::map<std::string, Tensor> out;
    std::vector<const ParamSpec*> todo;
    for (const ParamSpec* p : plan.params) {
        if (!p->tied_to.empty()) continue;
        out.emplace(p->name, Tensor(p->shape));
        todo.push_back(p);
    }
    // Parameters are independent: convert them in parallel (each writes only its own tensor).
    std::vector<Tensor*> dst(todo.size());
    for (size_t i = 0; i < todo.size(); ++i) dst[i] = &out.at(todo[i]->name);
    parallel_for(0, static_cast<int64_t>(todo.size()), [&](int64_t i) {
        const ParamSpec* p = todo[static_cast<size_t>(i)];
        Tensor& t = *dst[static_cast<size_t>(i)];
        for (const ShardRecord& r : plan.shards.at(p->name)) {
            const Tensor src = dequantize_shard(r);
            QINFER_CHECK(r.dst_offset + src.numel() <= t.numel(), "shard ", r.checkpoint_name, " overflows ", p->name);
            if (r.relayout) {
                r.relayout(src, t.data() + r.dst_offset);
            } else {
                std::copy(src.data(), src.data() + src.numel(), t.data() + r.dst_offset);
            }
            if (progress) progress(r.stored_bytes());
        }
    });
    return out;
}

}  // namespace qinfer::models
