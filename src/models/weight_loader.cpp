#include "models/weight_loader.h"

#include <fnmatch.h>

#include <algorithm>
#include <set>
#include <sstream>

#include "core/check.h"
#include "core/parallel.h"

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

WeightPlan plan_weights(const WeightSpec& spec, const TensorTable& table) {
    WeightPlan plan;
    plan.prefix = detect_text_prefix(table);
    std::set<std::string> consumed;
    std::vector<std::string> missing, wrong_shape, partial;

    for (const ParamSpec& p : spec.params) {
        plan.params.push_back(&p);
        if (!p.tied_to.empty()) {
            plan.tied[p.name] = p.tied_to;
            // A tied head may still be written to the file; it is superseded by the embedding, as in transformers.
            for (const auto& alt : p.layouts) {
                for (const auto& s : alt.shards) {
                    const std::string n = absolute_name(plan.prefix, s);
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
            for (const auto& s : alt.shards) present += table.contains(absolute_name(plan.prefix, s)) ? 1 : 0;
            if (present == 0) continue;
            if (present != alt.shards.size()) {
                std::ostringstream os;
                os << p.name << " (" << alt.label << "): has " << present << " of " << alt.shards.size()
                   << " tensors; missing";
                size_t listed = 0;
                for (const auto& s : alt.shards) {
                    const std::string n = absolute_name(plan.prefix, s);
                    if (!table.contains(n) && listed++ < 4) os << ' ' << n;
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
        for (const auto& s : chosen->shards) {
            const std::string n = absolute_name(plan.prefix, s);
            const TensorInfo* t = table.find(n);
            if (t == nullptr) continue;  // partial layout, already reported
            consumed.insert(n);
            if (t->shape != s.shape) {
                wrong_shape.push_back(str_cat(n, ": expected shape ", shape_str(s.shape), ", checkpoint has ",
                                              shape_str(t->shape), " (", t->file, ")"));
                continue;
            }
            if (!is_plain_weight_dtype(t->dtype)) {
                // FP8 / packed NVFP4 weights mean nothing without their scales; the quantized-checkpoint loader
                // (quant/) decides those. Converting them bare would silently produce garbage.
                wrong_shape.push_back(str_cat(n, ": dtype ", dtype_name(t->dtype),
                                              " is not a plain weight dtype (BF16, F16, F32, F64); quantized "
                                              "checkpoints are not supported by this loader"));
                continue;
            }
            records.push_back(ShardRecord{n, "model." + p.name, t, p.role, chosen->shards.size() > 1, chosen->label,
                                          s.dst_offset, s.relayout});
        }
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
    if (!wrong_shape.empty()) err << " | wrong shapes or dtypes (" << wrong_shape.size() << "):" << join_capped(wrong_shape);
    if (!unconsumed.empty()) {
        err << " | unexpected tensors, neither used by the model nor ignored (" << unconsumed.size()
            << "):" << join_capped(unconsumed);
    }
    if (!err.str().empty()) {
        std::string files;
        for (const auto& f : table.files()) files += (files.empty() ? "" : ", ") + f.string();
        QINFER_FAIL("checkpoint does not match the model (", files, "; text prefix '", plan.prefix, "'):", err.str());
    }
    return plan;
}

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
            Tensor src = r.tensor->to_f32();
            QINFER_CHECK(r.dst_offset + src.numel() <= t.numel(), "shard ", r.checkpoint_name, " overflows ", p->name);
            if (r.relayout) {
                r.relayout(src, t.data() + r.dst_offset);
            } else {
                std::copy(src.data(), src.data() + src.numel(), t.data() + r.dst_offset);
            }
            if (progress) progress(r.tensor->bytes.size());
        }
    });
    return out;
}

}  // namespace qinfer::models
