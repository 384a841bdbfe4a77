// defines: parse_model_config, load_model_config, supported_architectures, layer_type_name (hf_config.h)
//
// Defaults below were checked against transformers 5.17.0 (models/qwen3_5/configuration_qwen3_5.py,
// qwen3_5_moe/configuration_qwen3_5_moe.py, qwen3_next/configuration_qwen3_next.py, modeling_rope_utils.py and the
// modeling files). Where HF silently resolves a contradiction (two places disagree, or a field HF ignores but vLLM or
// SGLang honour), this parser fails instead, because the engines would then build different models.

#include "io/hf_config.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <fstream>
#include <limits>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/check.h"

namespace qinfer {

namespace {

using nlohmann::json;

enum class Family : uint8_t { Qwen35Dense, Qwen35Moe, Qwen3Next };

struct ArchSpec {
    std::string_view architecture;
    Family family;
    bool nested;                          // the text model lives under `text_config`
    std::string_view wrapper_model_type;  // model_type of the multimodal wrapper; empty when there is none
    std::string_view text_model_type;     // model_type of the text model
};

// The registry of accepted architectures[0] values. The text-only CausalLM classes are flat in HF, but a
// multimodal config whose `architectures` was edited to the CausalLM class still carries `text_config`; then the
// text model is read from there (that is the only place HF's text model could come from).
constexpr std::array<ArchSpec, 5> kArchSpecs{{
    {"Qwen3_5ForConditionalGeneration", Family::Qwen35Dense, true, "qwen3_5", "qwen3_5_text"},
    {"Qwen3_5MoeForConditionalGeneration", Family::Qwen35Moe, true, "qwen3_5_moe", "qwen3_5_moe_text"},
    {"Qwen3_5ForCausalLM", Family::Qwen35Dense, false, "qwen3_5", "qwen3_5_text"},
    {"Qwen3_5MoeForCausalLM", Family::Qwen35Moe, false, "qwen3_5_moe", "qwen3_5_moe_text"},
    {"Qwen3NextForCausalLM", Family::Qwen3Next, false, "", "qwen3_next"},
}};

// HF class defaults that apply to every supported family (identical in all three config classes).
constexpr int64_t kDefaultHeadDim = 256;  // `head_dim: int = 256`; see the head_dim comment below
constexpr double kDefaultRmsNormEps = 1e-6;
constexpr int64_t kDefaultMaxPositionEmbeddings = 32768;
constexpr int64_t kDefaultConvKernel = 4;
constexpr int64_t kDefaultFullAttentionInterval = 4;  // `kwargs.pop("full_attention_interval", 4)`
constexpr double kDefaultRopeTheta = 10000.0;         // RotaryEmbeddingConfigMixin.default_theta
constexpr double kDefaultPartialRotaryFactor = 0.25;  // `kwargs.setdefault("partial_rotary_factor", 0.25)`
constexpr int64_t kDefaultSharedExpertIntermediate = 512;
constexpr int64_t kDefaultDecoderSparseStep = 1;

std::string json_kind(const json& v) {
    switch (v.type()) {
        case json::value_t::null:
            return "null";
        case json::value_t::boolean:
            return "boolean";
        case json::value_t::number_integer:
        case json::value_t::number_unsigned:
            return "integer";
        case json::value_t::number_float:
            return "float";
        case json::value_t::string:
            return "string";
        case json::value_t::array:
            return "array";
        case json::value_t::object:
            return "object";
        case json::value_t::binary:
            return "binary";
        case json::value_t::discarded:
            return "discarded";
    }
    return "unknown";
}

// "string \"abc\"", "float 64.5", "array": the kind plus the value when it is short enough to help.
std::string describe(const json& v) {
    std::string out = json_kind(v);
    if (v.is_primitive() && !v.is_null()) {
        std::string d = v.dump();
        if (d.size() > 40) d = d.substr(0, 37) + "...";
        out += " " + d;
    }
    return out;
}

std::string quoted(std::string_view s) {
    return str_cat("\"", s, "\"");
}

std::string format_double(double x) {
    std::ostringstream os;
    os.precision(17);
    os << x;
    return os.str();
}

// One JSON object (the top level or `text_config`) with the path prefix used in messages and the file name.
class Obj {
public:
    Obj(const json& j, std::string prefix, const std::string& source)
        : j_(j), prefix_(std::move(prefix)), source_(source) {}

    std::string path(std::string_view key) const { return str_cat(prefix_, key); }
    const std::string& source() const { return source_; }

    // The value of `key`, or nullptr when absent. `null` is returned as a value: most fields are not nullable in
    // HF (strict dataclasses reject None), so null is a type error unless the caller says otherwise.
    const json* raw(std::string_view key) const {
        auto it = j_.find(std::string(key));
        return it == j_.end() ? nullptr : &*it;
    }
    // Same, but an explicit null counts as absent (fields typed `X | None` in HF: token ids, rope_parameters,
    // layer_types, mlp_only_layers; HF writes them as null).
    const json* nullable(std::string_view key) const {
        const json* v = raw(key);
        return (v == nullptr || v->is_null()) ? nullptr : v;
    }
    bool has(std::string_view key) const { return raw(key) != nullptr; }

    [[noreturn]] void type_error(std::string_view key, std::string_view expected, const json& v) const {
        QINFER_FAIL(source_, ": field ", path(key), " must be ", expected, ", got ", describe(v));
    }

    int64_t to_int(std::string_view key, const json& v) const {
        if (v.is_number_unsigned()) {
            const auto u = v.get<uint64_t>();
            if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) type_error(key, "an int64", v);
            return static_cast<int64_t>(u);
        }
        if (!v.is_number_integer()) type_error(key, "an integer", v);
        return v.get<int64_t>();
    }
    // JSON has one number type; HF writes floats as "1e-06" but real configs also write `"rope_theta": 10000000`,
    // so integers are accepted wherever a float is expected.
    double to_double(std::string_view key, const json& v) const {
        if (!v.is_number()) type_error(key, "a number", v);
        return v.get<double>();
    }
    bool to_bool(std::string_view key, const json& v) const {
        if (!v.is_boolean()) type_error(key, "a boolean", v);
        return v.get<bool>();
    }
    std::string to_string(std::string_view key, const json& v) const {
        if (!v.is_string()) type_error(key, "a string", v);
        return v.get<std::string>();
    }

    std::optional<int64_t> opt_int(std::string_view key) const {
        const json* v = raw(key);
        return v ? std::optional<int64_t>(to_int(key, *v)) : std::nullopt;
    }
    std::optional<double> opt_double(std::string_view key) const {
        const json* v = raw(key);
        return v ? std::optional<double>(to_double(key, *v)) : std::nullopt;
    }
    std::optional<bool> opt_bool(std::string_view key) const {
        const json* v = raw(key);
        return v ? std::optional<bool>(to_bool(key, *v)) : std::nullopt;
    }
    std::optional<std::string> opt_string(std::string_view key) const {
        const json* v = raw(key);
        return v ? std::optional<std::string>(to_string(key, *v)) : std::nullopt;
    }
    // A token id field typed `int | None` in HF.
    std::optional<int64_t> opt_token_id(std::string_view key) const {
        const json* v = nullable(key);
        return v ? std::optional<int64_t>(to_int(key, *v)) : std::nullopt;
    }
    // Required integer: absent -> recorded in `missing` (so that one error can list them all), returns 0.
    int64_t req_int(std::string_view key, std::vector<std::string>& missing) const {
        const json* v = raw(key);
        if (v == nullptr) {
            missing.push_back(path(key));
            return 0;
        }
        return to_int(key, *v);
    }
    // Integer list typed `list[int] | None` (null or absent -> empty).
    std::vector<int64_t> opt_int_list(std::string_view key) const {
        std::vector<int64_t> out;
        const json* v = nullable(key);
        if (v == nullptr) return out;
        if (!v->is_array()) type_error(key, "an array of integers", *v);
        for (size_t i = 0; i < v->size(); ++i) {
            const std::string elem = str_cat(key, "[", i, "]");
            out.push_back(to_int(elem, (*v)[i]));
        }
        return out;
    }
    // eos_token_id: `int | list[int] | None`.
    std::vector<int64_t> opt_int_or_int_list(std::string_view key) const {
        const json* v = nullable(key);
        if (v == nullptr) return {};
        if (v->is_array()) return opt_int_list(key);
        if (!v->is_number_integer()) type_error(key, "an integer or an array of integers", *v);
        return {to_int(key, *v)};
    }

    void check_positive(std::string_view key, int64_t value) const {
        QINFER_CHECK(value > 0, source_, ": field ", path(key), " must be positive, got ", value);
    }

private:
    const json& j_;
    std::string prefix_;
    const std::string& source_;
};

std::string join(const std::vector<std::string>& items, std::string_view sep) {
    std::string out;
    for (size_t i = 0; i < items.size(); ++i) {
        if (i) out += sep;
        out += items[i];
    }
    return out;
}

std::string supported_list() {
    return join(supported_architectures(), ", ");
}

const ArchSpec& resolve_architecture(const Obj& top) {
    const json* archs = top.raw("architectures");
    QINFER_CHECK(archs != nullptr && !archs->is_null(), top.source(),
                 ": field architectures is missing; supported architectures: ", supported_list());
    if (!archs->is_array()) top.type_error("architectures", "an array of strings", *archs);
    QINFER_CHECK(!archs->empty(), top.source(),
                 ": field architectures is empty; supported architectures: ", supported_list());
    const std::string name = top.to_string("architectures[0]", (*archs)[0]);
    for (const ArchSpec& spec : kArchSpecs) {
        if (spec.architecture == name) return spec;
    }
    QINFER_FAIL(top.source(), ": unsupported architecture ", quoted(name),
                "; supported architectures: ", supported_list());
}

// model_type must agree with the architecture: an MoE class over a dense model_type (or Qwen3.5 over Qwen3-Next)
// is a contradiction HF would only notice as shape errors at weight load.
void check_model_type(const Obj& o, const ArchSpec& spec, const std::vector<std::string_view>& allowed) {
    const std::optional<std::string> mt = o.opt_string("model_type");
    if (!mt) return;
    if (std::find(allowed.begin(), allowed.end(), std::string_view(*mt)) != allowed.end()) return;
    std::vector<std::string> names;
    for (std::string_view a : allowed) names.push_back(quoted(a));
    QINFER_FAIL(o.source(), ": field ", o.path("model_type"), " is ", quoted(*mt), ", but architecture ",
                spec.architecture, " expects ", join(names, " or "));
}

LayerType parse_layer_type(const Obj& t, size_t index, const json& v) {
    const std::string key = str_cat("layer_types[", index, "]");
    const std::string s = t.to_string(key, v);
    if (s == "linear_attention") return LayerType::LinearAttention;
    if (s == "full_attention") return LayerType::FullAttention;
    // transformers' remap_legacy_layer_types (configuration_utils.py), applied by all three config classes.
    if (s == "attention") return LayerType::FullAttention;
    if (s == "mamba" || s == "conv") return LayerType::LinearAttention;
    QINFER_FAIL(t.source(), ": field ", t.path(key), " is ", quoted(s),
                "; expected \"linear_attention\" or \"full_attention\"");
}

// HF __post_init__: layer i is full attention iff (i+1) % full_attention_interval == 0.
LayerType layer_type_from_interval(int64_t i, int64_t interval) {
    return (i + 1) % interval == 0 ? LayerType::FullAttention : LayerType::LinearAttention;
}

std::vector<LayerType> resolve_layer_types(const Obj& t, int64_t num_layers) {
    const std::optional<int64_t> interval = t.opt_int("full_attention_interval");
    if (interval) t.check_positive("full_attention_interval", *interval);

    std::vector<LayerType> types;
    const json* lt = t.nullable("layer_types");
    if (lt == nullptr) {
        const int64_t k = interval.value_or(kDefaultFullAttentionInterval);
        for (int64_t i = 0; i < num_layers; ++i) types.push_back(layer_type_from_interval(i, k));
        return types;
    }
    if (!lt->is_array()) t.type_error("layer_types", "an array of strings", *lt);
    QINFER_CHECK(static_cast<int64_t>(lt->size()) == num_layers, t.source(), ": field ", t.path("layer_types"), " has ",
                 lt->size(), " entries, but ", t.path("num_hidden_layers"), " is ", num_layers);
    for (size_t i = 0; i < lt->size(); ++i) types.push_back(parse_layer_type(t, i, (*lt)[i]));
    // HF uses layer_types and ignores the interval, SGLang uses the interval (layers_block_type) and ignores
    // layer_types: if both are given they must describe the same schedule.
    if (interval) {
        for (int64_t i = 0; i < num_layers; ++i) {
            const LayerType want = layer_type_from_interval(i, *interval);
            QINFER_CHECK(types[i] == want, t.source(), ": field ", t.path("layer_types"), " disagrees with ",
                         t.path("full_attention_interval"), " = ", *interval, " at index ", i, " (",
                         quoted(layer_type_name(types[i])), " vs ", quoted(layer_type_name(want)), ")");
        }
    }
    return types;
}

// RoPE settings can come from `rope_parameters` (transformers >= 5 writes it), legacy `rope_scaling` (same dict
// under its old name; HF lets it override rope_parameters) and the flat `rope_theta` / `partial_rotary_factor`
// (older checkpoints, and HF 5 writes `partial_rotary_factor` flat as well). The dict wins over the flat field, as in
// HF: transformers 5.17 save_pretrained writes a flat `partial_rotary_factor: 0.25` (its back-compat default) even when
// rope_parameters says 0.5, and uses 0.5 (seen in tests/golden/data/dense_text_prefix). The flat field is read only
// when no dict has the key. Two dicts (rope_parameters vs rope_scaling) that disagree are an error.
struct RopeSource {
    const json* dict = nullptr;  // rope_parameters / rope_scaling (or their "full_attention" entry)
    std::string path;            // prefix of the key in messages, e.g. "text_config.rope_parameters."
};

struct RopeValue {
    const json* value = nullptr;
    std::string path;
};

class RopeResolver {
public:
    explicit RopeResolver(const Obj& t) : t_(t) {
        add_dict("rope_parameters");
        add_dict("rope_scaling");
    }

    // First dict that has `key`, else the flat field when `flat`; fails when two dicts disagree.
    RopeValue find(std::string_view key, bool flat) const {
        RopeValue found;
        auto consider = [&](const json* v, std::string path) {
            if (v == nullptr) return;
            // HF would carry the None into the rotary embedding (crash, or a 1.0 factor); refuse it.
            if (v->is_null()) QINFER_FAIL(t_.source(), ": field ", path, " must not be null");
            if (found.value == nullptr) {
                found = {v, std::move(path)};
            } else if (!same(*found.value, *v)) {
                QINFER_FAIL(t_.source(), ": ", found.path, " = ", found.value->dump(), " disagrees with ", path, " = ",
                            v->dump());
            }
        };
        for (const RopeSource& s : sources_) {
            auto it = s.dict->find(std::string(key));
            if (it != s.dict->end()) consider(&*it, s.path + std::string(key));
        }
        if (flat && found.value == nullptr) consider(t_.raw(key), t_.path(key));
        return found;
    }

    // rope_type, or its legacy spelling `type`.
    RopeValue find_type() const {
        const RopeValue a = find("rope_type", false);
        const RopeValue b = find("type", false);
        if (a.value && b.value && !same(*a.value, *b.value)) {
            QINFER_FAIL(t_.source(), ": ", a.path, " = ", a.value->dump(), " disagrees with ", b.path, " = ",
                        b.value->dump());
        }
        return a.value ? a : b;
    }

    double number(const RopeValue& v) const {
        if (!v.value->is_number())
            QINFER_FAIL(t_.source(), ": field ", v.path, " must be a number, got ", describe(*v.value));
        return v.value->get<double>();
    }

private:
    static bool same(const json& a, const json& b) {
        // 10000000 and 1e7 are the same theta.
        if (a.is_number() && b.is_number()) return a.get<double>() == b.get<double>();
        return a == b;
    }

    void add_dict(std::string_view key) {
        const json* d = t_.nullable(key);
        if (d == nullptr) return;
        if (!d->is_object()) t_.type_error(key, "an object", *d);
        std::string path = t_.path(key) + ".";
        // Per-layer-type form ({"full_attention": {...}, ...}, standardize_rope_params case 2): only full-attention
        // layers use RoPE here.
        auto full = d->find("full_attention");
        if (full != d->end() && full->is_object()) {
            d = &*full;
            path += "full_attention.";
        }
        sources_.push_back({d, std::move(path)});
    }

    const Obj& t_;
    std::vector<RopeSource> sources_;
};

void resolve_rope(const Obj& t, ModelConfig& c) {
    const RopeResolver rope(t);
    const std::string& src = t.source();

    if (const RopeValue type = rope.find_type(); type.value) {
        if (!type.value->is_string())
            QINFER_FAIL(src, ": field ", type.path, " must be a string, got ", describe(*type.value));
        c.rope_type = type.value->get<std::string>();
        QINFER_CHECK(c.rope_type == "default", src, ": unsupported rope_type ", quoted(c.rope_type), " (field ",
                     type.path, "); only \"default\" is supported");
    }

    c.rope_theta = kDefaultRopeTheta;
    if (const RopeValue theta = rope.find("rope_theta", true); theta.value) c.rope_theta = rope.number(theta);
    QINFER_CHECK(c.rope_theta > 0, src, ": rope_theta must be positive, got ", format_double(c.rope_theta));

    c.partial_rotary_factor = kDefaultPartialRotaryFactor;
    std::string factor_path = "partial_rotary_factor (default)";
    if (const RopeValue f = rope.find("partial_rotary_factor", true); f.value) {
        c.partial_rotary_factor = rope.number(f);
        factor_path = f.path;
    }
    QINFER_CHECK(c.partial_rotary_factor > 0 && c.partial_rotary_factor <= 1, src, ": field ", factor_path,
                 " must be in (0, 1], got ", format_double(c.partial_rotary_factor));

    // HF: dim = int(head_dim * partial_rotary_factor), inv_freq over arange(0, dim, 2). An odd dim would give
    // cos/sin of width dim+1 and silently misalign the rotated half.
    c.rotary_dim = static_cast<int64_t>(static_cast<double>(c.head_dim) * c.partial_rotary_factor);
    QINFER_CHECK(c.rotary_dim > 0 && c.rotary_dim % 2 == 0 && c.rotary_dim <= c.head_dim, src,
                 ": rotary dim int(head_dim * partial_rotary_factor) = int(", c.head_dim, " * ",
                 format_double(c.partial_rotary_factor), ") = ", c.rotary_dim,
                 " must be even, positive and <= head_dim");

    if (const RopeValue s = rope.find("mrope_section", false); s.value) {
        if (!s.value->is_array())
            QINFER_FAIL(src, ": field ", s.path, " must be an array of integers, got ", describe(*s.value));
        int64_t sum = 0;
        for (size_t i = 0; i < s.value->size(); ++i) {
            const json& e = (*s.value)[i];
            QINFER_CHECK(e.is_number_integer() && e.get<int64_t>() >= 0, src, ": field ", s.path, "[", i,
                         "] must be a non-negative integer, got ", describe(e));
            c.mrope_section.push_back(e.get<int64_t>());
            sum += c.mrope_section.back();
        }
        // Each section counts frequency pairs: together they must cover the rotary dims exactly.
        QINFER_CHECK(2 * sum == c.rotary_dim, src, ": field ", s.path, " sums to ", sum, ", but 2 * ", sum,
                     " != rotary dim ", c.rotary_dim, " (head_dim ", c.head_dim, " * partial_rotary_factor ",
                     format_double(c.partial_rotary_factor), ")");
    }
    if (const RopeValue m = rope.find("mrope_interleaved", false); m.value) {
        if (!m.value->is_boolean())
            QINFER_FAIL(src, ": field ", m.path, " must be a boolean, got ", describe(*m.value));
        c.mrope_interleaved = m.value->get<bool>();
    }
}

void append_unique(std::vector<int64_t>& out, const std::vector<int64_t>& ids) {
    for (int64_t id : ids) {
        if (std::find(out.begin(), out.end(), id) == out.end()) out.push_back(id);
    }
}

}  // namespace

std::string_view layer_type_name(LayerType t) {
    switch (t) {
        case LayerType::LinearAttention:
            return "linear_attention";
        case LayerType::FullAttention:
            return "full_attention";
    }
    return "unknown";
}

int64_t ModelConfig::num_full_attention_layers() const {
    return std::count(layer_types.begin(), layer_types.end(), LayerType::FullAttention);
}

int64_t ModelConfig::num_linear_attention_layers() const {
    return std::count(layer_types.begin(), layer_types.end(), LayerType::LinearAttention);
}

const std::vector<std::string>& supported_architectures() {
    static const std::vector<std::string> names = [] {
        std::vector<std::string> v;
        for (const ArchSpec& spec : kArchSpecs) v.emplace_back(spec.architecture);
        return v;
    }();
    return names;
}

ModelConfig parse_model_config(const nlohmann::json& j, const std::string& source) {
    QINFER_CHECK(j.is_object(), source, ": expected a JSON object at the top level, got ", json_kind(j));
    const Obj top(j, "", source);
    const ArchSpec& spec = resolve_architecture(top);

    ModelConfig c;
    c.architecture = std::string(spec.architecture);
    c.text_model_type = std::string(spec.text_model_type);

    // ---- where the text model lives
    const json* text_json = top.nullable("text_config");
    if (text_json != nullptr && !text_json->is_object()) top.type_error("text_config", "an object", *text_json);
    if (spec.family == Family::Qwen3Next) {
        QINFER_CHECK(text_json == nullptr, source, ": architecture ", spec.architecture,
                     " is a flat config, but the file has a text_config");
    } else if (spec.nested) {
        // HF would silently build an all-defaults text model (Qwen3_5TextConfig()) here.
        QINFER_CHECK(text_json != nullptr, source, ": architecture ", spec.architecture,
                     " keeps the text model under text_config, which is missing");
    }
    c.nested_text_config = text_json != nullptr;
    const Obj t = c.nested_text_config ? Obj(*text_json, "text_config.", source) : Obj(j, "", source);

    // ---- model types
    if (c.nested_text_config) {
        check_model_type(top, spec, {spec.wrapper_model_type});
        // Old checkpoints carry the wrapper's model_type in sub-configs (HF patches that for vision_config).
        check_model_type(t, spec, {spec.text_model_type, spec.wrapper_model_type});
        c.model_type = top.opt_string("model_type").value_or(std::string(spec.wrapper_model_type));
    } else {
        check_model_type(top, spec, {spec.text_model_type});
        c.model_type = top.opt_string("model_type").value_or(std::string(spec.text_model_type));
    }

    // ---- required sizes (all missing ones reported together)
    std::vector<std::string> missing;
    c.vocab_size = t.req_int("vocab_size", missing);
    c.hidden_size = t.req_int("hidden_size", missing);
    c.num_hidden_layers = t.req_int("num_hidden_layers", missing);
    c.num_attention_heads = t.req_int("num_attention_heads", missing);
    c.num_key_value_heads = t.req_int("num_key_value_heads", missing);
    c.linear_key_head_dim = t.req_int("linear_key_head_dim", missing);
    c.linear_value_head_dim = t.req_int("linear_value_head_dim", missing);
    c.linear_num_key_heads = t.req_int("linear_num_key_heads", missing);
    c.linear_num_value_heads = t.req_int("linear_num_value_heads", missing);

    // MLP plan inputs. Qwen3.5-MoE has no dense layers, Qwen3.5 dense no MoE; Qwen3-Next decides per layer
    // (Qwen3NextDecoderLayer: sparse iff i not in mlp_only_layers and num_experts > 0 and
    // (i+1) % decoder_sparse_step == 0), so it needs num_experts to know whether it is MoE at all.
    std::vector<int64_t> mlp_only_layers;
    int64_t decoder_sparse_step = kDefaultDecoderSparseStep;
    const bool known_layers = t.has("num_hidden_layers");
    std::optional<bool> any_moe;  // unknown while a field it depends on is missing
    std::optional<bool> any_dense;
    switch (spec.family) {
        case Family::Qwen35Dense:
            any_moe = false;
            any_dense = true;
            break;
        case Family::Qwen35Moe: {
            // HF's MoE text config has none of these three (the modular file deletes them) and always builds a
            // renormalising MoE block in every layer; SGLang's Qwen3_5TextConfig derives from its Qwen3NextConfig
            // and would honour them. A config that sets them to non-HF values is therefore ambiguous.
            QINFER_CHECK(t.opt_int_list("mlp_only_layers").empty(), source, ": field ", t.path("mlp_only_layers"),
                         " must be empty for ", spec.architecture, " (every layer is MoE in HF)");
            const std::optional<int64_t> step = t.opt_int("decoder_sparse_step");
            QINFER_CHECK(!step || *step == 1, source, ": field ", t.path("decoder_sparse_step"), " must be 1 for ",
                         spec.architecture, " (every layer is MoE in HF), got ", *step);
            const std::optional<bool> norm = t.opt_bool("norm_topk_prob");
            QINFER_CHECK(!norm || *norm, source, ": field ", t.path("norm_topk_prob"), " must be true for ",
                         spec.architecture, " (HF always renormalises the top-k weights)");
            c.num_experts = t.req_int("num_experts", missing);
            any_moe = true;
            any_dense = false;
            break;
        }
        case Family::Qwen3Next: {
            mlp_only_layers = t.opt_int_list("mlp_only_layers");
            decoder_sparse_step = t.opt_int("decoder_sparse_step").value_or(kDefaultDecoderSparseStep);
            t.check_positive("decoder_sparse_step", decoder_sparse_step);
            const bool known_experts = t.has("num_experts");
            c.num_experts = t.req_int("num_experts", missing);
            QINFER_CHECK(c.num_experts >= 0, source, ": field ", t.path("num_experts"), " must be >= 0, got ",
                         c.num_experts);
            if (known_experts && known_layers && c.num_hidden_layers > 0) {
                bool moe = false;
                bool dense = false;
                for (int64_t i = 0; i < c.num_hidden_layers; ++i) {
                    const bool excluded =
                        std::find(mlp_only_layers.begin(), mlp_only_layers.end(), i) != mlp_only_layers.end();
                    const bool sparse = !excluded && c.num_experts > 0 && (i + 1) % decoder_sparse_step == 0;
                    (sparse ? moe : dense) = true;
                }
                any_moe = moe;
                any_dense = dense;
            } else if (known_experts) {
                // num_hidden_layers is missing: still list the MoE fields an E > 0 config needs.
                any_moe = c.num_experts > 0;
                if (c.num_experts == 0) any_dense = true;
            }
            break;
        }
    }
    if (any_moe.value_or(false)) {
        c.num_experts_per_tok = t.req_int("num_experts_per_tok", missing);
        c.moe_intermediate_size = t.req_int("moe_intermediate_size", missing);
    }
    if (any_dense.value_or(false)) c.intermediate_size = t.req_int("intermediate_size", missing);

    if (!missing.empty()) {
        QINFER_FAIL(source, ": missing required field", missing.size() > 1 ? "s " : " ", join(missing, ", "),
                    " (architecture ", spec.architecture, ")");
    }

    // ---- sizes must be positive, ratios integral
    t.check_positive("vocab_size", c.vocab_size);
    t.check_positive("hidden_size", c.hidden_size);
    t.check_positive("num_hidden_layers", c.num_hidden_layers);
    t.check_positive("num_attention_heads", c.num_attention_heads);
    t.check_positive("num_key_value_heads", c.num_key_value_heads);
    t.check_positive("linear_key_head_dim", c.linear_key_head_dim);
    t.check_positive("linear_value_head_dim", c.linear_value_head_dim);
    t.check_positive("linear_num_key_heads", c.linear_num_key_heads);
    t.check_positive("linear_num_value_heads", c.linear_num_value_heads);
    QINFER_CHECK(c.num_attention_heads % c.num_key_value_heads == 0, source, ": ", t.path("num_attention_heads"), " (",
                 c.num_attention_heads, ") must be a multiple of ", t.path("num_key_value_heads"), " (",
                 c.num_key_value_heads, ")");
    QINFER_CHECK(c.linear_num_value_heads % c.linear_num_key_heads == 0, source, ": ", t.path("linear_num_value_heads"),
                 " (", c.linear_num_value_heads, ") must be a multiple of ", t.path("linear_num_key_heads"), " (",
                 c.linear_num_key_heads, ")");

    // ---- fields with HF defaults
    // head_dim: absent -> 256, the dataclass default of all three HF config classes. (The modeling code's
    // `head_dim or hidden_size // num_attention_heads` fallback never triggers for these classes: the attribute
    // always exists, and HF's strict validation rejects an explicit null.)
    c.head_dim = t.opt_int("head_dim").value_or(kDefaultHeadDim);
    t.check_positive("head_dim", c.head_dim);
    c.rms_norm_eps = t.opt_double("rms_norm_eps").value_or(kDefaultRmsNormEps);
    QINFER_CHECK(c.rms_norm_eps > 0, source, ": field ", t.path("rms_norm_eps"), " must be positive, got ",
                 format_double(c.rms_norm_eps));
    c.max_position_embeddings = t.opt_int("max_position_embeddings").value_or(kDefaultMaxPositionEmbeddings);
    t.check_positive("max_position_embeddings", c.max_position_embeddings);
    c.linear_conv_kernel_dim = t.opt_int("linear_conv_kernel_dim").value_or(kDefaultConvKernel);
    t.check_positive("linear_conv_kernel_dim", c.linear_conv_kernel_dim);

    // hidden_act drives both the MLPs and the GDN conv activation; only SiLU has kernels.
    c.hidden_act = t.opt_string("hidden_act").value_or("silu");
    QINFER_CHECK(c.hidden_act == "silu", source, ": field ", t.path("hidden_act"), " is ", quoted(c.hidden_act),
                 "; only \"silu\" is supported");
    c.attention_bias = t.opt_bool("attention_bias").value_or(false);
    QINFER_CHECK(!c.attention_bias, source, ": field ", t.path("attention_bias"),
                 " is true; only attention without bias is supported");
    // HF always gates the attention output; vLLM/SGLang read this flag (default true).
    c.attn_output_gate = t.opt_bool("attn_output_gate").value_or(true);
    QINFER_CHECK(c.attn_output_gate, source, ": field ", t.path("attn_output_gate"),
                 " is false; only gated attention (as in HF) is supported");

    // ---- hybrid schedule
    c.layer_types = resolve_layer_types(t, c.num_hidden_layers);
    c.layer_is_moe.assign(static_cast<size_t>(c.num_hidden_layers), false);
    switch (spec.family) {
        case Family::Qwen35Dense:
            break;
        case Family::Qwen35Moe:
            c.layer_is_moe.assign(c.layer_is_moe.size(), true);
            break;
        case Family::Qwen3Next:
            for (size_t k = 0; k < mlp_only_layers.size(); ++k) {
                const int64_t i = mlp_only_layers[k];
                // HF ignores out-of-range entries; they are almost certainly 1-based indices, so refuse them.
                QINFER_CHECK(i >= 0 && i < c.num_hidden_layers, source, ": field ", t.path("mlp_only_layers"), "[", k,
                             "] = ", i, " is not a layer index in [0, ", c.num_hidden_layers, ")");
            }
            for (int64_t i = 0; i < c.num_hidden_layers; ++i) {
                const bool excluded =
                    std::find(mlp_only_layers.begin(), mlp_only_layers.end(), i) != mlp_only_layers.end();
                c.layer_is_moe[static_cast<size_t>(i)] =
                    !excluded && c.num_experts > 0 && (i + 1) % decoder_sparse_step == 0;
            }
            break;
    }
    c.is_moe = std::find(c.layer_is_moe.begin(), c.layer_is_moe.end(), true) != c.layer_is_moe.end();
    const bool has_dense = std::find(c.layer_is_moe.begin(), c.layer_is_moe.end(), false) != c.layer_is_moe.end();

    // ---- MLP sizes
    if (has_dense) {
        t.check_positive("intermediate_size", c.intermediate_size);
    } else {
        c.intermediate_size = 0;  // the MoE config has no such field (HF deletes it), or no layer uses it
    }
    if (c.is_moe) {
        t.check_positive("num_experts", c.num_experts);
        t.check_positive("num_experts_per_tok", c.num_experts_per_tok);
        t.check_positive("moe_intermediate_size", c.moe_intermediate_size);
        QINFER_CHECK(c.num_experts_per_tok <= c.num_experts, source, ": field ", t.path("num_experts_per_tok"), " (",
                     c.num_experts_per_tok, ") must not exceed ", t.path("num_experts"), " (", c.num_experts, ")");
        // Width 0 = no shared expert (HF would build a zero-width MLP, contributing nothing).
        c.shared_expert_intermediate_size =
            t.opt_int("shared_expert_intermediate_size").value_or(kDefaultSharedExpertIntermediate);
        QINFER_CHECK(c.shared_expert_intermediate_size >= 0, source, ": field ",
                     t.path("shared_expert_intermediate_size"), " must be >= 0, got ",
                     c.shared_expert_intermediate_size);
        // Qwen3-Next's router honours the flag (HF default true); Qwen3.5-MoE always renormalises (checked above).
        c.norm_topk_prob = spec.family == Family::Qwen3Next ? t.opt_bool("norm_topk_prob").value_or(true) : true;
    } else {
        c.num_experts = 0;
        c.num_experts_per_tok = 0;
        c.moe_intermediate_size = 0;
        c.shared_expert_intermediate_size = 0;
    }

    // ---- RoPE (needs head_dim)
    resolve_rope(t, c);

    // ---- embeddings and special tokens
    // tie_word_embeddings (HF default false in every class). For nested configs, transformers 5.17 is not
    // self-consistent: Qwen3_5ForConditionalGeneration ties according to the *top-level* value only (its
    // _tied_weights_keys live on the wrapper, whose config is the top level), while AutoModelForCausalLM on the
    // same checkpoint builds Qwen3_5ForCausalLM from text_config and ties according to text_config only
    // (both observed by instantiating the models). qinfer runs the architecture that architectures[0] names, as
    // transformers does, so for a nested (multimodal wrapper) config the top-level value wins when present; when only
    // one level has the field, that value is used. The loader reports a tied head that is nevertheless stored.
    const std::optional<bool> tie_text = t.opt_bool("tie_word_embeddings");
    const std::optional<bool> tie_top =
        c.nested_text_config ? top.opt_bool("tie_word_embeddings") : std::optional<bool>();
    c.tie_word_embeddings = tie_top.value_or(tie_text.value_or(false));

    // Token ids: text_config first (the text model's own), then the top level; eos lists are merged.
    append_unique(c.eos_token_ids, t.opt_int_or_int_list("eos_token_id"));
    if (c.nested_text_config) append_unique(c.eos_token_ids, top.opt_int_or_int_list("eos_token_id"));
    for (int64_t id : c.eos_token_ids) {
        QINFER_CHECK(id >= 0, source, ": eos_token_id must be non-negative, got ", id);
    }
    auto token_id = [&](std::string_view key) -> int64_t {
        if (auto v = t.opt_token_id(key)) return *v;
        if (c.nested_text_config) {
            if (auto v = top.opt_token_id(key)) return *v;
        }
        return -1;
    };
    c.bos_token_id = token_id("bos_token_id");
    c.pad_token_id = token_id("pad_token_id");
    return c;
}

ModelConfig load_model_config(const std::filesystem::path& model_dir) {
    const std::filesystem::path path = model_dir / "config.json";
    std::ifstream f(path, std::ios::binary);
    QINFER_CHECK(f.good(), "cannot open ", path.string());
    std::ostringstream text;
    text << f.rdbuf();
    json j;
    try {
        j = json::parse(text.str());
    } catch (const json::parse_error& e) {
        QINFER_FAIL(path.string(), ": invalid JSON: ", e.what());
    }
    return parse_model_config(j, path.string());
}

}  // namespace qinfer
