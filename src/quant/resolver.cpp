// defines: the per-module precision resolver (resolver.h)
//
// Rules and their sources (shared/docs/quantized_checkpoints.md):
//   §0.1 / §11.2  the tensors' opinion: ModelOpt NVFP4 = weight U8 [N, K/2] + weight_scale F8_E4M3 [N, K/16] +
//                 weight_scale_2 F32|BF16 scalar (+ input_scale for W4A4); compressed-tensors NVFP4 = weight_packed +
//                 weight_scale + weight_global_scale (+ input_global_scale); FP8 = weight F8_E4M3 + weight_scale;
//                 BF16/F16/F32 weight = unquantized.
//   §0.3 / §3.2   the config's opinion: ModelOpt exclude globs with fnmatch; compressed-tensors ignore/targets exact or
//                 re: (re.match) with the `.linear` suffix; quantized_layers exact key or a parent key at a dot
//                 boundary; unlisted = unquantized for MIXED_PRECISION. Never substring matching (§10 sglang#23467).
//   §0.1          disagreement = error, printing both opinions.
//   §3.2          `language_model.` prefix variants are tried.
// Choices where the doc is silent:
//   - A W4A16 (weight-only) module may carry an input_scale: ModelOpt writes one for some W4A16_NVFP4 exports
//     (Qwen3.6-27B). It is recorded (Decision::input_scale) and unused. A W4A4 / static W8A8 module without one is an
//     error; a module whose config says dynamic activation scales but that carries one is an error.
//   - k_scale / v_scale tensors (FP8 KV cache, §1.3) are accepted on any module when the config declares a KV-cache
//     quantization, and are an error otherwise.
//   - Non-Linear kinds (router, shared_expert_gate, embeddings, norms, conv1d, A_log / dt_bias) never take the
//     config's scheme: no engine has a quantized path for them and ModelOpt disables them by default (§5, §3.1 item
//     4: routers are missing from published exclude lists although they are BF16). Quantized tensors on them, or a
//     quantized_layers key naming one exactly, are errors.
//   - Quantized fused 3-D expert tensors (`mlp.experts.gate_up_proj` without .weight) are an error: ModelOpt exports
//     per expert (§1.7) and no other quantized 3-D layout is known.
//   - Several config rules for one module: ModelOpt quantized_layers keys (exact and parent) or compressed-tensors
//     groups that disagree are an error; a module both in quantized_layers and matched by exclude_modules is an
//     error. compressed-tensors: `ignore` wins over targets; name targets (exact / re:) win over the class target
//     "Linear" (vLLM find_matched_target order).

#include "quant/resolver.h"

#include <algorithm>
#include <optional>
#include <set>
#include <sstream>

#include "core/check.h"
#include "io/safetensors.h"

namespace qinfer::quant {

namespace {

// ---------------------------------------------------------------------------------------------------------------
// Names

std::string_view last_component(std::string_view name) {
    const size_t dot = name.rfind('.');
    return dot == std::string_view::npos ? name : name.substr(dot + 1);
}

std::string dq(std::string_view s) {
    return str_cat("\"", s, "\"");
}

// The module name as written, then the same module under the other HF roots a producer may have used (§3.2):
// model.language_model.X <-> language_model.model.X <-> model.X, and lm_head <-> language_model.lm_head.
std::vector<std::string> name_variants(const std::string& m) {
    std::vector<std::string> v{m};
    static constexpr std::string_view kRoots[] = {"model.language_model.", "language_model.model.", "model."};
    for (std::string_view root : kRoots) {
        if (!m.starts_with(root)) continue;
        const std::string rest = m.substr(root.size());
        for (std::string_view other : kRoots) {
            if (other != root) v.push_back(str_cat(other, rest));
        }
        break;
    }
    if (m == "lm_head" || m.starts_with("lm_head.")) v.push_back("language_model." + m);
    if (m.starts_with("language_model.lm_head")) v.push_back(m.substr(std::string_view("language_model.").size()));
    return v;
}

std::string variant_note(const std::string& module, const std::string& variant) {
    return variant == module ? std::string() : str_cat(" (matched as ", dq(variant), ")");
}

struct PatternHit {
    const NamePattern* pattern = nullptr;
    std::string variant;
};

// Whether one pattern matches any variant of the name; ClassName "Linear" matches when `is_linear`.
std::optional<PatternHit> match_one(const NamePattern& p, const std::vector<std::string>& variants, bool is_linear) {
    if (p.kind() == NamePattern::Kind::ClassName) {
        return is_linear ? std::optional<PatternHit>(PatternHit{&p, variants.front()}) : std::nullopt;
    }
    for (const std::string& v : variants) {
        if (p.matches(v)) return PatternHit{&p, v};
    }
    return std::nullopt;
}

// The first pattern in list order that matches.
std::optional<PatternHit> first_match(const std::vector<NamePattern>& patterns,
                                      const std::vector<std::string>& variants, bool is_linear) {
    for (const NamePattern& p : patterns) {
        if (auto h = match_one(p, variants, is_linear)) return h;
    }
    return std::nullopt;
}

// ---------------------------------------------------------------------------------------------------------------
// The config's opinion

struct Opinion {
    std::optional<QuantScheme> scheme;  // nullopt = unquantized
    std::string reason;
};

std::string exclude_reason(const QuantConfig& c, const PatternHit& h, const std::string& module) {
    return str_cat(c.exclude_field, " ", dq(h.pattern->text()), variant_note(module, h.variant));
}

struct LayerHit {
    std::string key;
    const QuantizedLayer* layer = nullptr;
    std::string variant;
};

// quantized_layers keys equal to a variant of the name or to one of its dot-boundary parents, most specific first.
std::vector<LayerHit> quantized_layer_hits(const QuantConfig& c, const std::vector<std::string>& variants) {
    std::vector<LayerHit> hits;
    std::set<std::string> seen;
    for (const std::string& v : variants) {
        std::string_view p = v;
        while (true) {
            auto it = c.quantized_layers.find(std::string(p));
            if (it != c.quantized_layers.end() && seen.insert(it->first).second) {
                hits.push_back(LayerHit{it->first, &it->second, v});
            }
            const size_t dot = p.rfind('.');
            if (dot == std::string_view::npos) break;
            p = p.substr(0, dot);
        }
    }
    std::stable_sort(hits.begin(), hits.end(),
                     [](const LayerHit& a, const LayerHit& b) { return a.key.size() > b.key.size(); });
    return hits;
}

Opinion modelopt_opinion(const QuantConfig& c, const std::string& m, const std::vector<std::string>& variants) {
    const std::optional<PatternHit> ex = first_match(c.exclude, variants, false);
    if (c.mixed_precision()) {
        const std::vector<LayerHit> hits = quantized_layer_hits(c, variants);
        if (!hits.empty()) {
            for (const LayerHit& h : hits) {
                QINFER_CHECK(h.layer->scheme == hits.front().layer->scheme, "module ", m, ": quantized_layers keys ",
                             dq(hits.front().key), " (", hits.front().layer->quant_algo, ") and ", dq(h.key), " (",
                             h.layer->quant_algo, ") disagree (", c.source, ")");
            }
            QINFER_CHECK(!ex.has_value(), "module ", m, ": listed in quantized_layers as ", dq(hits.front().key), " (",
                         hits.front().layer->quant_algo, ") and excluded by ", c.exclude_field, " ",
                         (ex ? dq(ex->pattern->text()) : std::string()), " (", c.source, ")");
            const LayerHit& h = hits.front();
            return Opinion{h.layer->scheme, str_cat("quantized_layers ", dq(h.key), " (", h.layer->quant_algo, ")",
                                                    variant_note(m, h.variant))};
        }
        if (ex) return Opinion{std::nullopt, exclude_reason(c, *ex, m)};
        return Opinion{std::nullopt, "not in quantized_layers"};
    }
    if (ex) return Opinion{std::nullopt, exclude_reason(c, *ex, m)};
    if (c.default_scheme) return Opinion{c.default_scheme, str_cat("default quant_algo ", c.quant_algo)};
    return Opinion{std::nullopt, "quant_algo null (KV-cache only)"};
}

Opinion ct_opinion(const QuantConfig& c, const std::string& m, const std::vector<std::string>& variants) {
    if (auto ex = first_match(c.exclude, variants, true)) return Opinion{std::nullopt, exclude_reason(c, *ex, m)};
    // Name targets first, then the class target.
    for (const bool by_class : {false, true}) {
        std::vector<std::pair<const SchemeGroup*, PatternHit>> hits;
        for (const SchemeGroup& g : c.groups) {
            for (const NamePattern& t : g.targets) {
                if ((t.kind() == NamePattern::Kind::ClassName) != by_class) continue;
                if (auto h = match_one(t, variants, true)) {
                    hits.emplace_back(&g, *h);
                    break;
                }
            }
        }
        if (hits.empty()) continue;
        for (const auto& [g, h] : hits) {
            QINFER_CHECK(g->scheme == hits.front().first->scheme, "module ", m, ": config_groups ",
                         hits.front().first->name, " (target ", dq(hits.front().second.pattern->text()), ", ",
                         scheme_str(hits.front().first->scheme), ") and ", g->name, " (target ", dq(h.pattern->text()),
                         ", ", scheme_str(g->scheme), ") both match (", c.source, ")");
        }
        const auto& [g, h] = hits.front();
        return Opinion{g->scheme, str_cat("config_groups.", g->name, " target ", dq(h.pattern->text()),
                                          variant_note(m, h.variant))};
    }
    return Opinion{std::nullopt, "no config_groups target matches"};
}

Opinion hf_fp8_opinion(const QuantConfig& c, const std::string& m, const std::vector<std::string>& variants) {
    if (auto ex = first_match(c.exclude, variants, false)) return Opinion{std::nullopt, exclude_reason(c, *ex, m)};
    if (!c.default_scheme) return Opinion{std::nullopt, "quant_method fp8 without a scheme"};
    return Opinion{c.default_scheme, str_cat("default quant_method fp8 (", scheme_str(*c.default_scheme), ")")};
}

Opinion config_opinion(const QuantConfig& c, const std::string& m, ModuleKind kind) {
    if (kind != ModuleKind::Linear) {
        if (c.mixed_precision()) {
            auto it = c.quantized_layers.find(m);
            QINFER_CHECK(it == c.quantized_layers.end(), "module ", m, ": quantized_layers lists it as ",
                         it->second.quant_algo, ", but it is a ", module_kind_name(kind),
                         ", which qinfer never quantizes (", c.source, ")");
        }
        return Opinion{std::nullopt, str_cat(module_kind_name(kind), ": never quantized")};
    }
    const std::vector<std::string> variants = name_variants(m);
    switch (c.producer) {
        case Producer::None:
            return Opinion{std::nullopt, "no quantization config"};
        case Producer::ModelOpt:
            return modelopt_opinion(c, m, variants);
        case Producer::CompressedTensors:
            return ct_opinion(c, m, variants);
        case Producer::HfFp8:
            return hf_fp8_opinion(c, m, variants);
    }
    return Opinion{std::nullopt, "?"};
}

// ---------------------------------------------------------------------------------------------------------------
// The tensors' opinion, checked against the config's

const std::vector<std::string>& known_suffixes() {
    static const std::vector<std::string> v{"",
                                            "bias",
                                            "input_global_scale",
                                            "input_scale",
                                            "k_scale",
                                            "v_scale",
                                            "weight",
                                            "weight_global_scale",
                                            "weight_packed",
                                            "weight_scale",
                                            "weight_scale_2",
                                            "weight_scale_inv",
                                            "weight_shape"};
    return v;
}

bool is_plain_float(DType t) {
    return t == DType::BF16 || t == DType::F16 || t == DType::F32;
}

bool is_scale_float(DType t) {
    return t == DType::F32 || t == DType::BF16;
}

int64_t ceil_div(int64_t a, int64_t b) {
    return (a + b - 1) / b;
}

class Checker {
public:
    Checker(const QuantConfig& c, const ModuleTensors& mt, const Opinion& op) : c_(c), mt_(mt), op_(op) {}

    std::string name(const std::string& suffix) const {
        return suffix.empty() ? mt_.module : str_cat(mt_.module, ".", suffix);
    }
    const TensorMeta* get(const std::string& suffix) const {
        auto it = mt_.tensors.find(suffix);
        return it == mt_.tensors.end() ? nullptr : &it->second;
    }
    std::string desc(const std::string& suffix) const {
        const TensorMeta& t = mt_.tensors.at(suffix);
        return str_cat(name(suffix), " ", dtype_name(t.dtype), " ", shape_str(t.shape));
    }
    std::string config_view() const {
        return str_cat("config says ", (op_.scheme ? scheme_str(*op_.scheme) : std::string("unquantized")), " (",
                       op_.reason, (c_.producer == Producer::None ? std::string() : "; " + c_.source), ")");
    }
    [[noreturn]] void fail(const std::string& what) const { QINFER_FAIL("module ", mt_.module, ": ", what); }

    // Every present tensor must belong to the layout.
    void allow_only(const std::set<std::string>& allowed, std::string_view layout) const {
        for (const auto& [suffix, meta] : mt_.tensors) {
            if (allowed.contains(suffix)) continue;
            if (suffix == "k_scale" || suffix == "v_scale") continue;  // checked by check_kv_scales
            std::string expected;
            for (const auto& a : allowed) expected += str_cat(expected.empty() ? "" : ", ", a.empty() ? "<module>" : a);
            fail(str_cat("tensor ", desc(suffix), " does not belong to a ", layout, " layout (expected: ", expected,
                         ")"));
        }
    }
    void check_kv_scales() const {
        for (const char* s : {"k_scale", "v_scale"}) {
            const TensorMeta* t = get(s);
            if (t == nullptr) continue;
            if (c_.kv_cache_quant_algo.empty()) {
                fail(str_cat("has ", desc(s), " but the config declares no KV-cache quantization (", c_.source, ")"));
            }
            require_scalar(s, *t);
        }
    }
    void require_scalar(const std::string& suffix, const TensorMeta& t) const {
        if (!is_scale_float(t.dtype)) fail(str_cat(desc(suffix), ": dtype must be F32 or BF16"));
        if (numel(t.shape) != 1 || t.shape.size() > 1) {
            fail(str_cat(desc(suffix), ": must be a scalar ([] or [1])"));
        }
    }
    const TensorMeta& require(const std::string& suffix, std::string_view why) const {
        const TensorMeta* t = get(suffix);
        if (t == nullptr) fail(str_cat("missing ", name(suffix), " (", why, ")"));
        return *t;
    }

    // Input scale: required for static activation quantization, forbidden for dynamic, tolerated for weight-only.
    std::string check_input_scale(const std::string& suffix, const QuantScheme& s) const {
        const TensorMeta* t = get(suffix);
        if (t == nullptr) {
            if (s.activations_quantized && s.static_input_scale) {
                fail(str_cat("missing ", name(suffix), ": ", config_view(), ", which uses a static input scale"));
            }
            return "";
        }
        if (s.activations_quantized && !s.static_input_scale) {
            fail(str_cat("has ", desc(suffix), " but ", config_view(), ", whose activation scales are dynamic"));
        }
        require_scalar(suffix, *t);
        return name(suffix);
    }

private:
    const QuantConfig& c_;
    const ModuleTensors& mt_;
    const Opinion& op_;
};

}  // namespace

// ---------------------------------------------------------------------------------------------------------------

ModuleKind module_kind(std::string_view module) {
    const std::string_view c = last_component(module);
    if (c == "gate" || c == "router") return ModuleKind::Router;
    if (c == "shared_expert_gate") return ModuleKind::SharedExpertGate;
    if (c == "conv1d") return ModuleKind::Conv;
    if (c == "A_log" || c == "dt_bias") return ModuleKind::Vector;
    // Norms: a '_'-separated token starting or ending with "norm" (norm, q_norm, input_layernorm, norm1,
    // pre_fc_norm_hidden).
    size_t start = 0;
    while (start <= c.size()) {
        const size_t end = std::min(c.find('_', start), c.size());
        const std::string_view tok = c.substr(start, end - start);
        if (tok.starts_with("norm") || tok.ends_with("norm")) return ModuleKind::Norm;
        start = end + 1;
    }
    if (c == "embed_tokens" || c == "pos_embed") return ModuleKind::Embedding;
    return ModuleKind::Linear;
}

std::string_view module_kind_name(ModuleKind k) {
    switch (k) {
        case ModuleKind::Linear:
            return "linear";
        case ModuleKind::Router:
            return "router";
        case ModuleKind::SharedExpertGate:
            return "shared_expert_gate";
        case ModuleKind::Embedding:
            return "embedding";
        case ModuleKind::Norm:
            return "norm";
        case ModuleKind::Conv:
            return "conv";
        case ModuleKind::Vector:
            return "vector";
    }
    return "?";
}

Decision resolve_module(const QuantConfig& config, const ModuleTensors& mt) {
    Decision d;
    d.module = mt.module;
    d.kind = module_kind(mt.module);

    const auto& known = known_suffixes();
    for (const auto& [suffix, meta] : mt.tensors) {
        if (std::find(known.begin(), known.end(), suffix) == known.end()) {
            QINFER_FAIL("module ", mt.module, ": unexpected tensor ", mt.module, ".", suffix, " ",
                        dtype_name(meta.dtype), " ", shape_str(meta.shape),
                        " (not a weight or scale tensor qinfer knows)");
        }
    }
    std::vector<std::string> data;
    for (const char* s : {"weight", "weight_packed", ""}) {
        if (mt.tensors.contains(s)) data.emplace_back(s);
    }
    QINFER_CHECK(!data.empty(), "module ", mt.module, ": no weight tensor (looked for ", mt.module, ".weight, ",
                 mt.module, ".weight_packed, ", mt.module, ")");
    QINFER_CHECK(data.size() == 1, "module ", mt.module, ": more than one weight tensor (",
                 (data[0].empty() ? mt.module : mt.module + "." + data[0]), ", ", mt.module, ".", data[1], ")");
    const std::string ds = data[0];
    const TensorMeta& w = mt.tensors.at(ds);

    const Opinion op = config_opinion(config, mt.module, d.kind);
    d.reason = op.reason;
    const Checker ck(config, mt, op);
    d.weight = ck.name(ds);

    if (is_plain_float(w.dtype)) {
        if (op.scheme) {
            ck.fail(str_cat(ck.config_view(), " but tensor ", ck.desc(ds), " is an unquantized weight"));
        }
        if (ds == "weight_packed") ck.fail(str_cat(ck.desc(ds), ": a packed weight must be U8"));
        ck.allow_only({ds, "bias"}, "unquantized");
        ck.check_kv_scales();
        d.scheme.format = w.dtype == DType::BF16  ? WeightFormat::BF16
                          : w.dtype == DType::F16 ? WeightFormat::F16
                                                  : WeightFormat::F32;
    } else if (w.dtype == DType::U8 || w.dtype == DType::F8E4M3) {
        const bool fp4 = w.dtype == DType::U8;
        const std::string observed = fp4 ? "NVFP4-packed" : "FP8";
        if (!op.scheme) {
            ck.fail(str_cat(ck.config_view(), " but tensor ", ck.desc(ds), " is ", observed));
        }
        const QuantScheme& s = *op.scheme;
        if ((s.format == WeightFormat::NVFP4) != fp4) {
            ck.fail(str_cat(ck.config_view(), " but tensor ", ck.desc(ds), " is ", observed));
        }
        if (ds.empty()) {
            ck.fail(str_cat("tensor ", ck.desc(ds),
                            " is a quantized fused 3-D expert tensor; quantized experts are only known per expert "
                            "(<experts>.<e>.{gate,up,down}_proj.weight)"));
        }
        if (w.shape.size() != 2 || w.shape[0] <= 0 || w.shape[1] <= 0) {
            ck.fail(str_cat("tensor ", ck.desc(ds), " must be 2-D [N, ", (fp4 ? "K/2" : "K"), "]"));
        }
        const int64_t n = w.shape[0];
        if (fp4) {
            const bool ct = ds == "weight_packed";
            if (ct != (config.producer == Producer::CompressedTensors)) {
                ck.fail(str_cat("tensor ", ck.desc(ds), " uses ", (ct ? "compressed-tensors" : "ModelOpt"),
                                " NVFP4 naming, but the config is ", producer_name(config.producer), " (",
                                config.source, "), which names the packed weight ", (ct ? "weight" : "weight_packed")));
            }
            const std::string global = ct ? "weight_global_scale" : "weight_scale_2";
            const std::string input = ct ? "input_global_scale" : "input_scale";
            std::set<std::string> allowed{ds, "weight_scale", global, input, "bias"};
            if (ct) allowed.insert("weight_shape");
            ck.allow_only(allowed, ct ? "compressed-tensors NVFP4" : "ModelOpt NVFP4");
            const int64_t k = 2 * w.shape[1];
            const TensorMeta& ws = ck.require("weight_scale", "NVFP4 block scales F8_E4M3 [N, K/16]");
            const Shape want{n, ceil_div(k, s.group_size)};
            if (ws.dtype != DType::F8E4M3 || ws.shape != want) {
                ck.fail(str_cat(ck.desc("weight_scale"), ": NVFP4 block scales must be F8_E4M3 ", shape_str(want),
                                " for ", ck.desc(ds), " (K = ", k, ", group ", s.group_size, ")"));
            }
            ck.require_scalar(global, ck.require(global, "NVFP4 per-tensor global scale"));
            if (const TensorMeta* shp = ck.get("weight_shape")) {
                if ((shp->dtype != DType::I64 && shp->dtype != DType::I32) || shp->shape != Shape{2}) {
                    ck.fail(str_cat(ck.desc("weight_shape"), ": must be I64 or I32 [2]"));
                }
            }
            d.weight_scale = ck.name("weight_scale");
            d.global_scale = ck.name(global);
            d.input_scale = ck.check_input_scale(input, s);
            d.reciprocal_global_scales = ct;
        } else {
            if (ds == "weight_packed") ck.fail(str_cat(ck.desc(ds), ": a packed weight must be U8"));
            const bool inv = config.producer == Producer::HfFp8;
            const std::string scale = inv ? "weight_scale_inv" : "weight_scale";
            std::set<std::string> allowed{ds, scale, "bias"};
            if (!inv) allowed.insert("input_scale");
            ck.allow_only(allowed, inv ? "block-wise FP8 (weight_scale_inv)" : "FP8");
            const int64_t k = w.shape[1];
            const TensorMeta& ws = ck.require(scale, "FP8 weight scale");
            if (!is_scale_float(ws.dtype) && ws.dtype != DType::F16) {
                ck.fail(str_cat(ck.desc(scale), ": FP8 weight scales must be F32, BF16 or F16"));
            }
            switch (s.weight_scales) {
                case ScaleGranularity::Tensor:
                    if (numel(ws.shape) != 1 || ws.shape.size() > 1) {
                        ck.fail(str_cat(ck.desc(scale), ": per-tensor FP8 scale must be a scalar ([] or [1]); ",
                                        ck.config_view()));
                    }
                    break;
                case ScaleGranularity::Channel:
                    if (ws.shape != Shape{n, 1} && ws.shape != Shape{n}) {
                        ck.fail(str_cat(ck.desc(scale), ": per-channel FP8 scale must be [", n, ", 1] or [", n, "]; ",
                                        ck.config_view()));
                    }
                    break;
                case ScaleGranularity::Block: {
                    const Shape want{ceil_div(n, s.block[0]), ceil_div(k, s.block[1])};
                    if (ws.shape != want) {
                        ck.fail(str_cat(ck.desc(scale), ": block FP8 scale must be ", shape_str(want), " for ",
                                        ck.desc(ds), "; ", ck.config_view()));
                    }
                    break;
                }
                case ScaleGranularity::None:
                case ScaleGranularity::Group:
                    ck.fail(str_cat("FP8 with ", scale_granularity_name(s.weight_scales), " scales is not supported"));
            }
            d.weight_scale = ck.name(scale);
            if (!inv) d.input_scale = ck.check_input_scale("input_scale", s);
        }
        ck.check_kv_scales();
        d.scheme = s;
    } else {
        ck.fail(str_cat("tensor ", ck.desc(ds), ": dtype ", dtype_name(w.dtype),
                        " is not a weight format qinfer reads (BF16, F16, F32; U8 = packed NVFP4; F8_E4M3 = FP8)"));
    }

    for (const auto& [suffix, meta] : mt.tensors) {
        if (suffix != ds) d.companion_tensors.push_back(ck.name(suffix));
    }
    std::sort(d.companion_tensors.begin(), d.companion_tensors.end());
    return d;
}

bool same_scheme(const Decision& a, const Decision& b) {
    return a.scheme == b.scheme;
}

std::string decision_str(const Decision& d) {
    return str_cat(d.module, "  ", scheme_str(d.scheme), "  <- ", d.reason);
}

std::map<std::string, ModuleTensors> group_by_module(const std::map<std::string, TensorMeta>& tensors) {
    const auto& known = known_suffixes();
    std::map<std::string, ModuleTensors> out;
    for (const auto& [name, meta] : tensors) {
        std::string module = name, suffix;
        const size_t dot = name.rfind('.');
        if (dot != std::string::npos) {
            const std::string last = name.substr(dot + 1);
            // Unknown weight_* / input_* tensors (weight_zero_point, ...) stay with their module, so that
            // resolve_module reports them as unexpected tensors of that module.
            const bool scale_like = last.starts_with("weight_") || last.starts_with("input_");
            if (scale_like || std::find(known.begin(), known.end(), last) != known.end()) {
                module = name.substr(0, dot);
                suffix = last;
            }
        }
        ModuleTensors& mt = out[module];
        mt.module = module;
        mt.tensors.emplace(suffix, meta);
    }
    return out;
}

std::map<std::string, ModuleTensors> group_by_module(const TensorTable& table) {
    std::map<std::string, TensorMeta> metas;
    for (const auto& [name, info] : table.all()) metas.emplace(name, TensorMeta{info->dtype, info->shape});
    return group_by_module(metas);
}

std::vector<Decision> resolve_modules(const QuantConfig& config, const std::map<std::string, ModuleTensors>& modules) {
    constexpr size_t kMaxListed = 20;
    std::vector<Decision> out;
    std::vector<std::string> errors;
    for (const auto& [name, mt] : modules) {
        try {
            out.push_back(resolve_module(config, mt));
        } catch (const Error& e) {
            errors.emplace_back(e.what());
        }
    }
    if (!errors.empty()) {
        std::ostringstream os;
        os << "quantization plan: " << errors.size() << " module(s) failed";
        for (size_t i = 0; i < errors.size() && i < kMaxListed; ++i) os << " | " << errors[i];
        if (errors.size() > kMaxListed) os << " | ... and " << (errors.size() - kMaxListed) << " more";
        QINFER_FAIL(os.str());
    }
    return out;
}

}  // namespace qinfer::quant
