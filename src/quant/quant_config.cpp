// defines: the quantization-config parser and NamePattern (quant_config.h)
//
// Sources: shared/docs/quantized_checkpoints.md §2 (formats), §3 (matching), §4 (published NVIDIA configs). Where the
// doc is silent, the choice is stated next to the code:
//   - config.json `quantization_config` may sit under `text_config` (some exporters nest text fields); both places
//     present must be equal;
//   - ModelOpt fields stated in both files must agree; a field stated in one file only is taken from it (the published
//     Qwen3.6 config.json has no kv_cache field while hf_quant_config.json has kv_cache_quant_algo; the producer
//     versions of the two files differ, so producer is never compared);
//   - MIXED_PRECISION ignores config.json `config_groups` (§2.2 trap: the W4A16_NVFP4 group declares 4-bit input
//     activations); quantized_layers is authoritative;
//   - HF fine-grained FP8 (quant_method "fp8") is not in the doc. Its layout is transformers' FineGrainedFP8Config as
//     written by Qwen's *-FP8 releases: {"quant_method": "fp8", "fmt": "e4m3", "activation_scheme": "dynamic",
//     "weight_block_size": [128, 128], "modules_to_not_convert": [...]}, tensors `weight` F8_E4M3 + `weight_scale_inv`
//     F32 [ceil(N/128), ceil(K/128)] (the dequantization multiplier despite its name). modules_to_not_convert entries
//     are matched at dot boundaries (§6.4, SGLang after sgl-project/sglang#23467), not with transformers' substring /
//     endswith rule.

#include "quant/quant_config.h"

#include <fnmatch.h>

#include <algorithm>
#include <fstream>
#include <limits>
#include <regex>
#include <set>
#include <sstream>
#include <utility>

#include <nlohmann/json.hpp>

#include "core/check.h"

namespace qinfer::quant {

using nlohmann::json;

// ---------------------------------------------------------------------------------------------------------------
// Enums and schemes

std::string_view weight_format_name(WeightFormat f) {
    switch (f) {
        case WeightFormat::BF16:
            return "bf16";
        case WeightFormat::F16:
            return "f16";
        case WeightFormat::F32:
            return "f32";
        case WeightFormat::NVFP4:
            return "nvfp4";
        case WeightFormat::FP8:
            return "fp8";
    }
    return "?";
}

bool is_quantized(WeightFormat f) {
    switch (f) {
        case WeightFormat::BF16:
        case WeightFormat::F16:
        case WeightFormat::F32:
            return false;
        case WeightFormat::NVFP4:
        case WeightFormat::FP8:
            return true;
    }
    return false;
}

std::string_view scale_granularity_name(ScaleGranularity g) {
    switch (g) {
        case ScaleGranularity::None:
            return "none";
        case ScaleGranularity::Tensor:
            return "tensor";
        case ScaleGranularity::Channel:
            return "channel";
        case ScaleGranularity::Group:
            return "group";
        case ScaleGranularity::Block:
            return "block";
    }
    return "?";
}

std::string scheme_str(const QuantScheme& s) {
    if (!is_quantized(s.format)) return std::string(weight_format_name(s.format));
    std::ostringstream os;
    const bool fp4 = s.format == WeightFormat::NVFP4;
    os << weight_format_name(s.format) << (fp4 ? " w4" : " w8")
       << (s.activations_quantized ? (fp4 ? "a4" : "a8") : "a16");
    switch (s.weight_scales) {
        case ScaleGranularity::None:
            break;
        case ScaleGranularity::Tensor:
            os << " per-tensor";
            break;
        case ScaleGranularity::Channel:
            os << " per-channel";
            break;
        case ScaleGranularity::Group:
            os << " g" << s.group_size;
            break;
        case ScaleGranularity::Block:
            os << " block " << s.block[0] << "x" << s.block[1];
            break;
    }
    if (s.activations_quantized) os << (s.static_input_scale ? " static" : " dynamic");
    return os.str();
}

std::string_view producer_name(Producer p) {
    switch (p) {
        case Producer::None:
            return "none";
        case Producer::ModelOpt:
            return "modelopt";
        case Producer::CompressedTensors:
            return "compressed-tensors";
        case Producer::HfFp8:
            return "fp8";
    }
    return "?";
}

const std::vector<std::string>& supported_quant_methods() {
    static const std::vector<std::string> v{"compressed-tensors", "fp8", "modelopt"};
    return v;
}
const std::vector<std::string>& supported_modelopt_algos() {
    static const std::vector<std::string> v{"FP8", "MIXED_PRECISION", "NVFP4", "W4A16_NVFP4"};
    return v;
}
const std::vector<std::string>& supported_ct_formats() {
    static const std::vector<std::string> v{"float-quantized", "nvfp4-pack-quantized"};
    return v;
}

// ---------------------------------------------------------------------------------------------------------------
// NamePattern

struct NamePattern::Compiled {
    std::regex re;
};

namespace {

bool has_glob_chars(std::string_view s) {
    return s.find_first_of("*?[") != std::string_view::npos;
}

// Python re.match: the match must start at position 0, may end anywhere.
bool regex_match_prefix(const std::regex& re, const std::string& s) {
    return std::regex_search(s, re, std::regex_constants::match_continuous);
}

}  // namespace

NamePattern NamePattern::glob(std::string text) {
    NamePattern p;
    p.text_ = std::move(text);
    p.kind_ = Kind::Glob;
    const std::string_view t = p.text_;
    if (!has_glob_chars(t)) {
        p.glob_shape_ = GlobShape::Literal;
    } else if (t.back() == '*' && !has_glob_chars(t.substr(0, t.size() - 1))) {
        p.glob_shape_ = GlobShape::Prefix;
    }
    return p;
}

NamePattern NamePattern::module_path(std::string text) {
    NamePattern p;
    p.text_ = std::move(text);
    p.kind_ = Kind::ModulePath;
    return p;
}

NamePattern NamePattern::compressed_tensors(std::string text, const std::string& where) {
    NamePattern p;
    p.text_ = std::move(text);
    if (p.text_.starts_with("re:")) {
        p.kind_ = Kind::Regex;
        try {
            p.regex_ = std::make_shared<const Compiled>(
                Compiled{std::regex(p.text_.substr(3), std::regex::ECMAScript | std::regex::optimize)});
        } catch (const std::regex_error& e) {
            QINFER_FAIL(where, ": cannot compile regex \"", p.text_, "\" (", e.what(),
                        "; regexes are read with ECMAScript syntax, which lacks some Python re features)");
        }
        return p;
    }
    const bool identifier =
        !p.text_.empty() && p.text_.find('.') == std::string::npos && p.text_[0] >= 'A' && p.text_[0] <= 'Z';
    if (identifier) {
        QINFER_CHECK(p.text_ == "Linear", where, ": class-name entry \"", p.text_,
                     "\" is not supported (supported class names: Linear)");
        p.kind_ = Kind::ClassName;
        return p;
    }
    p.kind_ = Kind::Exact;
    return p;
}

bool NamePattern::matches(std::string_view name) const {
    switch (kind_) {
        case Kind::Glob: {
            // Fast paths for the shapes ModelOpt emits (literal names and `prefix*`); same answer as fnmatch.
            switch (glob_shape_) {
                case GlobShape::Literal:
                    return name == text_;
                case GlobShape::Prefix:
                    return name.starts_with(std::string_view(text_).substr(0, text_.size() - 1));
                case GlobShape::General:
                    break;
            }
            // Python fnmatch has no escape character, hence FNM_NOESCAPE; no FNM_PATHNAME / FNM_PERIOD, so `*`
            // matches dots.
            return ::fnmatch(text_.c_str(), std::string(name).c_str(), FNM_NOESCAPE) == 0;
        }
        case Kind::Exact: {
            if (name == text_) return true;
            constexpr std::string_view kLinear = ".linear";
            return text_.ends_with(kLinear) && name == std::string_view(text_).substr(0, text_.size() - kLinear.size());
        }
        case Kind::Regex: {
            const std::string n(name);
            return regex_match_prefix(regex_->re, n) || regex_match_prefix(regex_->re, n + ".linear");
        }
        case Kind::ClassName:
            return false;
        case Kind::ModulePath: {
            // ("." + entry + ".") is a substring of ("." + name + "."): a contiguous run of whole components.
            const std::string hay = str_cat(".", name, ".");
            return hay.find(str_cat(".", text_, ".")) != std::string::npos;
        }
    }
    return false;
}

std::string_view pattern_kind_name(NamePattern::Kind k) {
    switch (k) {
        case NamePattern::Kind::Glob:
            return "glob";
        case NamePattern::Kind::Exact:
            return "exact";
        case NamePattern::Kind::Regex:
            return "regex";
        case NamePattern::Kind::ClassName:
            return "class";
        case NamePattern::Kind::ModulePath:
            return "module-path";
    }
    return "?";
}

// ---------------------------------------------------------------------------------------------------------------
// JSON field access with messages that name the file and the field.

namespace {

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

std::string describe(const json& v) {
    std::string out = json_kind(v);
    if (v.is_primitive() && !v.is_null()) {
        std::string d = v.dump();
        if (d.size() > 40) d = d.substr(0, 37) + "...";
        out += " " + d;
    }
    return out;
}

std::string join(const std::vector<std::string>& v, std::string_view sep = ", ") {
    std::string out;
    for (size_t i = 0; i < v.size(); ++i) out += (i ? std::string(sep) : std::string()) + v[i];
    return out;
}

// A JSON object at `prefix` inside file `file`.
struct Obj {
    const json& j;
    std::string file;
    std::string prefix;  // "quantization." / "quantization_config." / "quantization_config.config_groups.group_0."

    std::string path(std::string_view key) const { return str_cat(prefix, key); }
    std::string where(std::string_view key) const { return str_cat(file, ": field ", path(key)); }

    const json* raw(std::string_view key) const {
        auto it = j.find(std::string(key));
        return it == j.end() ? nullptr : &*it;
    }
    // null counts as absent
    const json* get(std::string_view key) const {
        const json* v = raw(key);
        return (v == nullptr || v->is_null()) ? nullptr : v;
    }
    [[noreturn]] void type_error(std::string_view key, std::string_view expected, const json& v) const {
        QINFER_FAIL(where(key), " must be ", expected, ", got ", describe(v));
    }
    std::string string_of(std::string_view key, const json& v) const {
        if (!v.is_string()) type_error(key, "a string", v);
        return v.get<std::string>();
    }
    int64_t int_of(std::string_view key, const json& v) const {
        if (v.is_number_unsigned()) {
            const auto u = v.get<uint64_t>();
            if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) type_error(key, "an int64", v);
            return static_cast<int64_t>(u);
        }
        if (!v.is_number_integer()) type_error(key, "an integer", v);
        return v.get<int64_t>();
    }
    std::optional<std::string> opt_string(std::string_view key) const {
        const json* v = get(key);
        return v ? std::optional<std::string>(string_of(key, *v)) : std::nullopt;
    }
    std::optional<int64_t> opt_int(std::string_view key) const {
        const json* v = get(key);
        return v ? std::optional<int64_t>(int_of(key, *v)) : std::nullopt;
    }
    std::string req_string(std::string_view key) const {
        const json* v = get(key);
        QINFER_CHECK(v != nullptr, where(key), " is missing");
        return string_of(key, *v);
    }
    // An array of strings; null -> nullopt (absent).
    std::optional<std::vector<std::string>> opt_string_list(std::string_view key) const {
        const json* v = get(key);
        if (v == nullptr) return std::nullopt;
        if (!v->is_array()) type_error(key, "an array of strings", *v);
        std::vector<std::string> out;
        for (size_t i = 0; i < v->size(); ++i) {
            const json& e = (*v)[i];
            if (!e.is_string()) {
                QINFER_FAIL(where(key), "[", i, "] must be a string, got ", describe(e));
            }
            out.push_back(e.get<std::string>());
        }
        return out;
    }
    Obj child(std::string_view key) const {
        const json* v = get(key);
        QINFER_CHECK(v != nullptr, where(key), " is missing");
        if (!v->is_object()) type_error(key, "an object", *v);
        return Obj{*v, file, str_cat(prefix, key, ".")};
    }
    std::optional<Obj> opt_child(std::string_view key) const {
        const json* v = get(key);
        if (v == nullptr) return std::nullopt;
        if (!v->is_object()) type_error(key, "an object", *v);
        return Obj{*v, file, str_cat(prefix, key, ".")};
    }
};

// ---------------------------------------------------------------------------------------------------------------
// ModelOpt

QuantScheme modelopt_scheme(const std::string& algo, int group_size) {
    QuantScheme s;
    if (algo == "NVFP4" || algo == "W4A16_NVFP4") {
        s.format = WeightFormat::NVFP4;
        s.activations_quantized = algo == "NVFP4";
        s.static_input_scale = algo == "NVFP4";  // input_scale = amax_x / (6*448), §1.6
        s.group_size = group_size;
        s.weight_scales = ScaleGranularity::Group;
    } else {  // FP8: per-tensor weight scale, static per-tensor input scale
        s.format = WeightFormat::FP8;
        s.activations_quantized = true;
        s.static_input_scale = true;
        s.weight_scales = ScaleGranularity::Tensor;
    }
    return s;
}

bool is_known_unsupported_modelopt_algo(const std::string& a) {
    static const std::set<std::string> known{"FP8_PER_CHANNEL_PER_TOKEN",
                                             "NVFP4_AWQ",
                                             "NVFP4_SVD",
                                             "W4A8_NVFP4_FP8",
                                             "W4A8_MXFP4_FP8",
                                             "MXFP8",
                                             "W4A16_AWQ",
                                             "W4A8_AWQ",
                                             "W8A16",
                                             "W8A8_SQ_PER_CHANNEL"};
    return known.contains(a);
}

void check_modelopt_algo(const std::string& algo, const std::string& where, bool allow_mixed) {
    const auto& sup = supported_modelopt_algos();
    const bool ok = std::find(sup.begin(), sup.end(), algo) != sup.end() && (allow_mixed || algo != "MIXED_PRECISION");
    if (ok) return;
    std::vector<std::string> listed;
    for (const auto& a : sup) {
        if (allow_mixed || a != "MIXED_PRECISION") listed.push_back(a);
    }
    QINFER_FAIL(where, ": ", (is_known_unsupported_modelopt_algo(algo) ? "unsupported" : "unknown"), " quant_algo \"",
                algo, "\"; supported: ", join(listed));
}

struct LayerRaw {
    std::string algo;
    std::optional<int64_t> group_size;
    bool operator==(const LayerRaw&) const = default;
};

// What one ModelOpt file says; every field optional, with the name of the field it came from.
struct ModelOptRaw {
    std::string file;
    bool algo_stated = false;
    std::string algo;  // "" = null
    std::string algo_field;
    std::optional<std::vector<std::string>> exclude;
    std::string exclude_field;
    std::optional<int64_t> group_size;
    std::string group_size_field;
    std::optional<std::string> kv;
    std::string kv_field;
    std::optional<std::map<std::string, LayerRaw>> layers;
    std::string layers_field;
    std::string version;
};

std::map<std::string, LayerRaw> parse_quantized_layers(const Obj& o, std::string_view key, const json& v) {
    std::map<std::string, LayerRaw> out;
    if (!v.is_object()) o.type_error(key, "an object {module: {quant_algo, group_size?}}", v);
    for (const auto& [name, entry] : v.items()) {
        const std::string k = str_cat(key, ".", name);
        if (!entry.is_object()) o.type_error(k, "an object {quant_algo, group_size?}", entry);
        const Obj e{entry, o.file, str_cat(o.prefix, k, ".")};
        LayerRaw l;
        l.algo = e.req_string("quant_algo");
        check_modelopt_algo(l.algo, e.where("quant_algo"), false);
        l.group_size = e.opt_int("group_size");
        out.emplace(name, std::move(l));
    }
    return out;
}

// The fields shared by hf_quant_config.json `quantization` and the flat config.json form.
void read_modelopt_fields(const Obj& o, ModelOptRaw& r, bool config_json) {
    if (const json* a = o.raw("quant_algo"); a != nullptr) {
        r.algo_stated = true;
        r.algo_field = o.path("quant_algo");
        r.algo = a->is_null() ? "" : o.string_of("quant_algo", *a);
    }
    std::optional<std::vector<std::string>> ex = o.opt_string_list("exclude_modules");
    std::string ex_field = o.path("exclude_modules");
    if (config_json) {
        auto ig = o.opt_string_list("ignore");
        if (ig && ex) {
            const std::set<std::string> a(ig->begin(), ig->end()), b(ex->begin(), ex->end());
            QINFER_CHECK(a == b, o.file, ": fields ", o.path("ignore"), " and ", o.path("exclude_modules"),
                         " disagree");
        }
        if (ig) {
            ex = std::move(ig);
            ex_field = o.path("ignore");
        }
    }
    if (ex) {
        r.exclude = std::move(ex);
        r.exclude_field = ex_field;
    }
    if (auto g = o.opt_int("group_size")) {
        r.group_size = g;
        r.group_size_field = o.path("group_size");
    }
    if (const json* kv = o.raw("kv_cache_quant_algo"); kv != nullptr && !kv->is_null()) {
        r.kv = o.string_of("kv_cache_quant_algo", *kv);
        r.kv_field = o.path("kv_cache_quant_algo");
    }
    if (const json* ql = o.get("quantized_layers"); ql != nullptr) {
        r.layers = parse_quantized_layers(o, "quantized_layers", *ql);
        r.layers_field = o.path("quantized_layers");
    }
}

// kv_cache_scheme {num_bits, type} -> "FP8" / "NVFP4".
std::string kv_from_scheme(const Obj& s) {
    const json* nb = s.get("num_bits");
    const json* ty = s.get("type");
    QINFER_CHECK(nb != nullptr && ty != nullptr, s.file, ": field ", s.prefix, "num_bits / type missing");
    const int64_t bits = s.int_of("num_bits", *nb);
    const std::string type = s.string_of("type", *ty);
    if (type == "float" && bits == 8) return "FP8";
    if (type == "float" && bits == 4) return "NVFP4";
    QINFER_FAIL(s.file, ": field ", s.prefix, " (num_bits ", bits, ", type ", type,
                ") is not a supported KV-cache scheme (supported: float 8 = FP8, float 4 = NVFP4)");
}

ModelOptRaw modelopt_from_hf_quant_config(const json& doc, const std::string& file) {
    QINFER_CHECK(doc.is_object(), file, ": must be a JSON object, got ", describe(doc));
    const Obj top{doc, file, ""};
    ModelOptRaw r;
    r.file = file;
    if (auto p = top.opt_child("producer")) {
        if (auto v = p->opt_string("version")) r.version = *v;
    }
    const Obj q = top.child("quantization");
    read_modelopt_fields(q, r, false);
    QINFER_CHECK(r.algo_stated, q.where("quant_algo"), " is missing");
    return r;
}

ModelOptRaw modelopt_from_config(const Obj& qc) {
    ModelOptRaw r;
    r.file = qc.file;
    if (auto p = qc.opt_child("producer")) {
        if (auto v = p->opt_string("version")) r.version = *v;
    }
    // Flat form first; the legacy nested form {"quantization": {...}} as a fallback (§2.2, SGLang / vLLM readers).
    read_modelopt_fields(qc, r, true);
    if (!r.algo_stated) {
        if (auto nested = qc.opt_child("quantization")) read_modelopt_fields(*nested, r, false);
    }
    QINFER_CHECK(r.algo_stated, qc.where("quant_algo"), " is missing");
    if (!r.kv) {
        if (auto kvs = qc.opt_child("kv_cache_scheme")) {
            r.kv = kv_from_scheme(*kvs);
            r.kv_field = qc.path("kv_cache_scheme");
        }
    }
    // group_size may only be stated inside config_groups[*].weights; an NVFP4 group there must say 16.
    if (auto groups = qc.opt_child("config_groups")) {
        for (const auto& [gname, g] : groups->j.items()) {
            if (!g.is_object()) groups->type_error(gname, "an object", g);
            const Obj go{g, qc.file, str_cat(groups->prefix, gname, ".")};
            auto w = go.opt_child("weights");
            if (!w) continue;
            auto bits = w->opt_int("num_bits");
            auto gs = w->opt_int("group_size");
            if (bits && *bits == 4 && gs) {
                QINFER_CHECK(*gs == 16, w->where("group_size"), " must be 16 for NVFP4, got ", *gs);
            }
        }
    }
    return r;
}

std::string dq(const std::string& s) {
    return str_cat("\"", s, "\"");
}

// Field-by-field merge of hf_quant_config.json (a) and config.json (b).
template <class T, class Show>
void merge_field(const ModelOptRaw& a, const std::optional<T>& va, const std::string& fa, const ModelOptRaw& b,
                 const std::optional<T>& vb, const std::string& fb, std::optional<T>& out, std::string& out_field,
                 Show show) {
    if (va && vb && !(*va == *vb)) {
        QINFER_FAIL(a.file, " ", fa, " (", show(*va), ") and ", b.file, " ", fb, " (", show(*vb), ") disagree");
    }
    if (va) {
        out = va;
        out_field = fa;
    } else if (vb) {
        out = vb;
        out_field = fb;
    }
}

std::string show_list_diff(const std::vector<std::string>& a, const std::string& fa, const std::vector<std::string>& b,
                           const std::string& fb) {
    const std::set<std::string> sa(a.begin(), a.end()), sb(b.begin(), b.end());
    std::vector<std::string> only_a, only_b;
    std::set_difference(sa.begin(), sa.end(), sb.begin(), sb.end(), std::back_inserter(only_a));
    std::set_difference(sb.begin(), sb.end(), sa.begin(), sa.end(), std::back_inserter(only_b));
    auto cap = [](std::vector<std::string> v) {
        constexpr size_t kMax = 8;
        const size_t n = v.size();
        if (n > kMax) {
            v.resize(kMax);
            v.push_back(str_cat("... and ", n - kMax, " more"));
        }
        for (auto& s : v) {
            if (!s.starts_with("...")) s = dq(s);
        }
        return str_cat("[", join(v), "]");
    };
    return str_cat("only in ", fa, ": ", cap(only_a), "; only in ", fb, ": ", cap(only_b));
}

ModelOptRaw merge_modelopt(const ModelOptRaw& a, const ModelOptRaw& b) {
    ModelOptRaw m;
    m.file = str_cat(a.file, " + ", b.file);
    m.version = a.version.empty() ? b.version : a.version;
    // quant_algo: both files always state it (checked when read).
    if (a.algo != b.algo) {
        QINFER_FAIL(a.file, " ", a.algo_field, " (", (a.algo.empty() ? "null" : dq(a.algo)), ") and ", b.file, " ",
                    b.algo_field, " (", (b.algo.empty() ? "null" : dq(b.algo)), ") disagree");
    }
    m.algo_stated = true;
    m.algo = a.algo;
    m.algo_field = a.algo_field;
    // exclude lists: compared as sets (order is not meaningful).
    if (a.exclude && b.exclude) {
        const std::set<std::string> sa(a.exclude->begin(), a.exclude->end()), sb(b.exclude->begin(), b.exclude->end());
        if (sa != sb) {
            QINFER_FAIL(a.file, " ", a.exclude_field, " and ", b.file, " ", b.exclude_field,
                        " disagree: ", show_list_diff(*a.exclude, a.file, *b.exclude, b.file));
        }
    }
    m.exclude = a.exclude ? a.exclude : b.exclude;
    m.exclude_field = a.exclude ? a.exclude_field : b.exclude_field;
    merge_field(a, a.group_size, a.group_size_field, b, b.group_size, b.group_size_field, m.group_size,
                m.group_size_field, [](int64_t g) { return std::to_string(g); });
    merge_field(a, a.kv, a.kv_field, b, b.kv, b.kv_field, m.kv, m.kv_field, dq);
    if (a.layers && b.layers && *a.layers != *b.layers) {
        std::string detail;
        for (const auto& [k, l] : *a.layers) {
            auto it = b.layers->find(k);
            if (it == b.layers->end()) {
                detail = str_cat(dq(k), " only in ", a.file);
            } else if (!(it->second == l)) {
                detail = str_cat(dq(k), ": ", l.algo, " vs ", it->second.algo);
            }
            if (!detail.empty()) break;
        }
        if (detail.empty()) {
            for (const auto& [k, l] : *b.layers) {
                if (!a.layers->contains(k)) {
                    detail = str_cat(dq(k), " only in ", b.file);
                    break;
                }
            }
        }
        QINFER_FAIL(a.file, " ", a.layers_field, " and ", b.file, " ", b.layers_field, " disagree (", detail, ")");
    }
    m.layers = a.layers ? a.layers : b.layers;
    m.layers_field = a.layers ? a.layers_field : b.layers_field;
    return m;
}

QuantConfig build_modelopt(const ModelOptRaw& r, const std::string& source) {
    QuantConfig c;
    c.producer = Producer::ModelOpt;
    c.source = source;
    c.producer_version = r.version;
    c.quant_algo = r.algo;
    c.kv_cache_quant_algo = r.kv.value_or("");
    const std::string algo_where = str_cat(r.file, ": field ", r.algo_field);
    if (!r.algo.empty()) check_modelopt_algo(r.algo, algo_where, true);

    // group_size: 16 for every NVFP4 use (§1.3); stated or defaulted.
    if (r.group_size) {
        const bool uses_fp4 = r.algo == "NVFP4" || r.algo == "W4A16_NVFP4" || r.algo == "MIXED_PRECISION";
        QINFER_CHECK(!uses_fp4 || *r.group_size == 16, r.file, ": field ", r.group_size_field,
                     " must be 16 (the NVFP4 block size), got ", *r.group_size);
    }
    const int gs = 16;

    for (const auto& g : r.exclude.value_or(std::vector<std::string>{})) c.exclude.push_back(NamePattern::glob(g));
    c.exclude_field =
        r.exclude.has_value() ? r.exclude_field.substr(r.exclude_field.rfind('.') + 1) : "exclude_modules";

    if (r.algo == "MIXED_PRECISION") {
        QINFER_CHECK(r.layers.has_value() && !r.layers->empty(), algo_where,
                     " is MIXED_PRECISION but quantized_layers is missing or empty");
        for (const auto& [name, l] : *r.layers) {
            if (l.algo != "FP8" && l.group_size) {
                QINFER_CHECK(*l.group_size == 16, r.file, ": field ", r.layers_field, ".", name,
                             ".group_size must be 16 (the NVFP4 block size), got ", *l.group_size);
            }
            c.quantized_layers.emplace(name, QuantizedLayer{l.algo, modelopt_scheme(l.algo, gs)});
        }
        c.group_size = gs;
    } else {
        QINFER_CHECK(!r.layers.has_value() || r.layers->empty(), r.file, ": field ", r.layers_field,
                     " is only meaningful with quant_algo MIXED_PRECISION, but quant_algo is ",
                     (r.algo.empty() ? std::string("null") : dq(r.algo)));
        if (!r.algo.empty()) {
            c.default_scheme = modelopt_scheme(r.algo, gs);
            if (c.default_scheme->format == WeightFormat::NVFP4) c.group_size = gs;
        }
    }
    return c;
}

// ---------------------------------------------------------------------------------------------------------------
// compressed-tensors

QuantScheme ct_scheme(const Obj& g, const std::string& format) {
    const Obj w = g.child("weights");
    const json* nb = w.get("num_bits");
    QINFER_CHECK(nb != nullptr, w.where("num_bits"), " is missing");
    const int64_t bits = w.int_of("num_bits", *nb);
    const std::string type = w.req_string("type");
    QINFER_CHECK(type == "float", w.where("type"), " is \"", type,
                 "\"; only float weights (NVFP4, FP8) are supported, not integer schemes");
    if (const json* dyn = w.get("dynamic"); dyn != nullptr) {
        QINFER_CHECK(dyn->is_boolean() && !dyn->get<bool>(), w.where("dynamic"), " must be false for weights, got ",
                     describe(*dyn));
    }
    QuantScheme s;
    const std::string strategy = w.opt_string("strategy").value_or("");
    if (bits == 4) {
        s.format = WeightFormat::NVFP4;
        QINFER_CHECK(strategy.empty() || strategy == "tensor_group", w.where("strategy"), " is \"", strategy,
                     "\"; 4-bit float weights must be NVFP4 (strategy tensor_group)");
        const auto gs = w.opt_int("group_size");
        QINFER_CHECK(gs.has_value(), w.where("group_size"), " is missing (NVFP4 needs 16)");
        QINFER_CHECK(*gs == 16, w.where("group_size"), " must be 16 (the NVFP4 block size), got ", *gs);
        s.group_size = 16;
        s.weight_scales = ScaleGranularity::Group;
    } else if (bits == 8) {
        s.format = WeightFormat::FP8;
        if (strategy == "tensor") {
            s.weight_scales = ScaleGranularity::Tensor;
        } else if (strategy == "channel") {
            s.weight_scales = ScaleGranularity::Channel;
        } else if (strategy == "block") {
            s.weight_scales = ScaleGranularity::Block;
            const json* bs = w.get("block_structure");
            QINFER_CHECK(bs != nullptr && bs->is_array() && bs->size() == 2 && (*bs)[0].is_number_integer() &&
                             (*bs)[1].is_number_integer() && (*bs)[0].get<int64_t>() > 0 && (*bs)[1].get<int64_t>() > 0,
                         w.where("block_structure"), " must be two positive integers for strategy block");
            s.block = {(*bs)[0].get<int64_t>(), (*bs)[1].get<int64_t>()};
        } else {
            QINFER_FAIL(w.where("strategy"), " is \"", strategy,
                        "\"; supported strategies for FP8 weights: tensor, channel, block");
        }
    } else {
        QINFER_FAIL(w.where("num_bits"), " is ", bits, "; supported float weights: 4 (NVFP4), 8 (FP8)");
    }
    const std::string want_format = s.format == WeightFormat::NVFP4 ? "nvfp4-pack-quantized" : "float-quantized";
    const std::string group_format = g.opt_string("format").value_or(format);
    QINFER_CHECK(group_format == want_format, g.where("format"), ": ",
                 (s.format == WeightFormat::NVFP4 ? "NVFP4" : "FP8"), " weights need format \"", want_format,
                 "\", the config says \"", group_format, "\"");

    if (auto a = g.opt_child("input_activations")) {
        const json* anb = a->get("num_bits");
        QINFER_CHECK(anb != nullptr, a->where("num_bits"), " is missing");
        const int64_t abits = a->int_of("num_bits", *anb);
        const std::string atype = a->req_string("type");
        const int64_t want = s.format == WeightFormat::NVFP4 ? 4 : 8;
        QINFER_CHECK(atype == "float" && abits == want, a->where("num_bits"), ": activations (", atype, " ", abits,
                     " bits) must be float ", want, " bits for these weights (W4A4 / W8A8), or absent (weight-only)");
        s.activations_quantized = true;
        const json* dyn = a->raw("dynamic");
        // false: a static scale is stored; "local" (NVFP4): per-16 scales at runtime, calibrated global scale stored
        // (input_global_scale, §1.6); true: everything dynamic, nothing stored.
        if (dyn == nullptr || (dyn->is_boolean() && !dyn->get<bool>())) {
            s.static_input_scale = true;
        } else if (dyn->is_string() && dyn->get<std::string>() == "local") {
            s.static_input_scale = true;
        } else if (dyn->is_boolean() && dyn->get<bool>()) {
            s.static_input_scale = false;
        } else {
            a->type_error("dynamic", "true, false or \"local\"", *dyn);
        }
    }
    if (const json* out = g.get("output_activations"); out != nullptr) {
        QINFER_FAIL(g.where("output_activations"), " is set; output activation quantization is not supported");
    }
    return s;
}

QuantConfig build_ct(const Obj& qc) {
    QuantConfig c;
    c.producer = Producer::CompressedTensors;
    c.source = str_cat(qc.file, " ", qc.prefix.substr(0, qc.prefix.size() - 1));
    const std::string format = qc.req_string("format");
    const auto& sup = supported_ct_formats();
    QINFER_CHECK(std::find(sup.begin(), sup.end(), format) != sup.end(), qc.where("format"), ": unknown format \"",
                 format, "\"; supported: ", join(sup));
    c.quant_algo = format;
    const Obj groups = qc.child("config_groups");
    QINFER_CHECK(!groups.j.empty(), qc.where("config_groups"), " is empty");
    for (const auto& [name, gj] : groups.j.items()) {  // nlohmann orders object keys: name order
        if (!gj.is_object()) groups.type_error(name, "an object", gj);
        const Obj g{gj, qc.file, str_cat(groups.prefix, name, ".")};
        SchemeGroup sg;
        sg.name = name;
        auto targets = g.opt_string_list("targets");
        QINFER_CHECK(targets.has_value() && !targets->empty(), g.where("targets"), " is missing or empty");
        for (size_t i = 0; i < targets->size(); ++i) {
            sg.targets.push_back(
                NamePattern::compressed_tensors((*targets)[i], str_cat(g.where("targets"), "[", i, "]")));
        }
        sg.scheme = ct_scheme(g, format);
        if (sg.scheme.format == WeightFormat::NVFP4) c.group_size = 16;
        c.groups.push_back(std::move(sg));
    }
    const auto ignore = qc.opt_string_list("ignore").value_or(std::vector<std::string>{});
    for (size_t i = 0; i < ignore.size(); ++i) {
        c.exclude.push_back(NamePattern::compressed_tensors(ignore[i], str_cat(qc.where("ignore"), "[", i, "]")));
    }
    c.exclude_field = "ignore";
    if (auto kvs = qc.opt_child("kv_cache_scheme")) c.kv_cache_quant_algo = kv_from_scheme(*kvs);
    return c;
}

// ---------------------------------------------------------------------------------------------------------------
// HF fine-grained FP8

QuantConfig build_hf_fp8(const Obj& qc) {
    QuantConfig c;
    c.producer = Producer::HfFp8;
    c.source = str_cat(qc.file, " ", qc.prefix.substr(0, qc.prefix.size() - 1));
    c.quant_algo = "fp8";
    if (auto fmt = qc.opt_string("fmt")) {
        QINFER_CHECK(*fmt == "e4m3", qc.where("fmt"), " is \"", *fmt, "\"; supported: e4m3");
    }
    const std::string act = qc.opt_string("activation_scheme").value_or("dynamic");
    QINFER_CHECK(act == "dynamic", qc.where("activation_scheme"), " is \"", act,
                 "\"; supported with quant_method fp8: dynamic");
    const json* bs = qc.get("weight_block_size");
    QINFER_CHECK(bs != nullptr, qc.where("weight_block_size"),
                 " is missing or null; quant_method fp8 is supported with block-wise scales only");
    QINFER_CHECK(bs->is_array() && bs->size() == 2 && (*bs)[0].is_number_integer() && (*bs)[1].is_number_integer() &&
                     (*bs)[0].get<int64_t>() > 0 && (*bs)[1].get<int64_t>() > 0,
                 qc.where("weight_block_size"), " must be two positive integers, got ", describe(*bs));
    QuantScheme s;
    s.format = WeightFormat::FP8;
    s.activations_quantized = true;  // per-token-group scales computed at runtime
    s.static_input_scale = false;
    s.weight_scales = ScaleGranularity::Block;
    s.block = {(*bs)[0].get<int64_t>(), (*bs)[1].get<int64_t>()};
    c.default_scheme = s;
    std::optional<std::vector<std::string>> skip = qc.opt_string_list("modules_to_not_convert");
    c.exclude_field = "modules_to_not_convert";
    if (!skip) {
        skip = qc.opt_string_list("ignored_layers");  // transformers' accepted alias
        if (skip) c.exclude_field = "ignored_layers";
    }
    for (const auto& m : skip.value_or(std::vector<std::string>{})) c.exclude.push_back(NamePattern::module_path(m));
    return c;
}

}  // namespace

// ---------------------------------------------------------------------------------------------------------------

QuantConfig parse_quant_config(const QuantConfigFiles& files) {
    std::optional<Obj> qc;
    if (files.config != nullptr) {
        const json& cfg = *files.config;
        QINFER_CHECK(cfg.is_object(), files.config_name, ": must be a JSON object, got ", describe(cfg));
        const Obj top{cfg, files.config_name, ""};
        const json* q_top = top.get("quantization_config");
        const json* q_text = nullptr;
        if (const json* tc = top.get("text_config"); tc != nullptr && tc->is_object()) {
            const Obj t{*tc, files.config_name, "text_config."};
            q_text = t.get("quantization_config");
        }
        if (q_top != nullptr && q_text != nullptr) {
            QINFER_CHECK(*q_top == *q_text, files.config_name,
                         ": quantization_config and text_config.quantization_config are both present and differ");
        }
        if (q_top != nullptr) {
            if (!q_top->is_object()) top.type_error("quantization_config", "an object", *q_top);
            qc.emplace(Obj{*q_top, files.config_name, "quantization_config."});
        } else if (q_text != nullptr) {
            if (!q_text->is_object()) {
                Obj{*files.config, files.config_name, ""}.type_error("text_config.quantization_config", "an object",
                                                                     *q_text);
            }
            qc.emplace(Obj{*q_text, files.config_name, "text_config.quantization_config."});
        }
    }

    std::optional<ModelOptRaw> from_config;
    if (qc) {
        const std::string method = qc->req_string("quant_method");
        if (method == "modelopt") {
            from_config = modelopt_from_config(*qc);
        } else if (method == "compressed-tensors" || method == "fp8") {
            QINFER_CHECK(files.hf_quant_config == nullptr, files.hf_quant_config_name, " (ModelOpt) and ",
                         qc->where("quant_method"), " (\"", method,
                         "\") disagree: a ModelOpt hf_quant_config.json next to a non-ModelOpt config");
            return method == "fp8" ? build_hf_fp8(*qc) : build_ct(*qc);
        } else {
            QINFER_FAIL(qc->where("quant_method"), ": unknown quant_method \"", method,
                        "\"; supported: ", join(supported_quant_methods()));
        }
    }
    std::optional<ModelOptRaw> from_hf;
    if (files.hf_quant_config != nullptr) {
        from_hf = modelopt_from_hf_quant_config(*files.hf_quant_config, files.hf_quant_config_name);
    }

    if (from_hf && from_config) {
        const ModelOptRaw merged = merge_modelopt(*from_hf, *from_config);
        return build_modelopt(merged,
                              str_cat(files.hf_quant_config_name, " + ", files.config_name, " quantization_config"));
    }
    if (from_hf) return build_modelopt(*from_hf, files.hf_quant_config_name);
    if (from_config) {
        return build_modelopt(*from_config,
                              str_cat(files.config_name, " ", qc->prefix.substr(0, qc->prefix.size() - 1)));
    }
    QuantConfig none;
    none.source = "none";
    return none;
}

namespace {

std::optional<json> read_json(const std::filesystem::path& p, bool required) {
    std::ifstream f(p);
    if (!f.good()) {
        QINFER_CHECK(!required, "cannot open ", p.string());
        return std::nullopt;
    }
    try {
        return json::parse(f);
    } catch (const json::parse_error& e) {
        QINFER_FAIL(p.string(), ": invalid JSON (", e.what(), ")");
    }
}

}  // namespace

QuantConfig load_quant_config(const std::filesystem::path& model_dir) {
    const auto cfg_path = model_dir / "config.json";
    const auto hq_path = model_dir / "hf_quant_config.json";
    const std::optional<json> cfg = read_json(cfg_path, true);
    const std::optional<json> hq = std::filesystem::exists(hq_path) ? read_json(hq_path, true) : std::optional<json>{};
    QuantConfigFiles files;
    files.config = cfg ? &*cfg : nullptr;
    files.hf_quant_config = hq ? &*hq : nullptr;
    files.config_name = cfg_path.string();
    files.hf_quant_config_name = hq_path.string();
    return parse_quant_config(files);
}

}  // namespace qinfer::quant
