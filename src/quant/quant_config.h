#pragma once
// defines: qinfer::quant::WeightFormat, weight_format_name, is_quantized, ScaleGranularity, scale_granularity_name,
//          QuantScheme, scheme_str, Producer, producer_name, NamePattern, QuantizedLayer, SchemeGroup, QuantConfig,
//          QuantConfigFiles, parse_quant_config, load_quant_config
//
// The quantization config of a checkpoint, as its producer wrote it (shared/docs/quantized_checkpoints.md §2, §3):
//
//   - ModelOpt: `hf_quant_config.json` {"producer", "quantization": {quant_algo, kv_cache_quant_algo, group_size,
//     exclude_modules, quantized_layers?}} and/or config.json `quantization_config` with quant_method "modelopt"
//     (flat quant_algo, ignore | exclude_modules, group_size, kv_cache_quant_algo | kv_cache_scheme,
//     quantized_layers). quant_algo NVFP4 (W4A4), W4A16_NVFP4, FP8 (W8A8 per-tensor), MIXED_PRECISION (then
//     `quantized_layers` is authoritative and unlisted layers are unquantized), or null (KV-cache-only).
//     `exclude_modules` are fnmatch globs over HF module names.
//   - compressed-tensors (quant_method "compressed-tensors"): format nvfp4-pack-quantized | float-quantized,
//     config_groups {name: {targets, weights, input_activations}}, ignore. Targets and ignore entries are exact module
//     names or `re:` regexes (Python re.match); the class name "Linear" targets every Linear module.
//   - HF fine-grained FP8 (quant_method "fp8", the format of Qwen's own *-FP8 releases, e.g. Qwen3-Next FP8):
//     block-wise FP8 weights with `weight_scale_inv`, dynamic activations, `modules_to_not_convert`. Not in the doc;
//     see quant_config.cpp for the source and the matching rule.
//
// Both ModelOpt files present: every field stated in both must agree (exclude lists compared as sets); otherwise an
// error names both files and the field. config.json's `quantization_config` is read at the top level, else under
// `text_config` (both present: they must be equal).
//
// This is only the config's opinion. The decision per module (cross-checked against the tensors) is resolver.h's.

#include <array>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace qinfer::quant {

// Storage format of one Linear weight.
enum class WeightFormat : uint8_t { BF16, F16, F32, NVFP4, FP8 };
std::string_view weight_format_name(WeightFormat f);  // "bf16" | "f16" | "f32" | "nvfp4" | "fp8"
bool is_quantized(WeightFormat f);                    // NVFP4 or FP8

// How the weight scales of a quantized weight are laid out.
enum class ScaleGranularity : uint8_t {
    None,     // unquantized
    Tensor,   // one scale for the whole weight (FP8 per-tensor)
    Channel,  // one scale per output row: [N, 1] or [N] (compressed-tensors FP8 "channel")
    Group,    // one scale per `group_size` elements along K: [N, K/group_size] (NVFP4, group 16, + a global scale)
    Block,    // one scale per block[0] x block[1] tile: [ceil(N/b0), ceil(K/b1)] (FP8 128x128)
};
std::string_view scale_granularity_name(ScaleGranularity g);  // "none" | "tensor" | "channel" | "group" | "block"

struct QuantScheme {
    WeightFormat format = WeightFormat::BF16;
    bool activations_quantized = false;  // W4A4 / W8A8: activations are quantized at runtime; false for W4A16 and
                                         // unquantized weights
    int group_size = 0;                  // Group: K elements per weight scale (NVFP4: 16); 0 otherwise
    ScaleGranularity weight_scales = ScaleGranularity::None;
    std::array<int64_t, 2> block = {0, 0};  // Block: rows x cols of one scale tile (e.g. 128 x 128); else {0, 0}
    bool static_input_scale = false;  // activations_quantized with a calibrated per-tensor input scale stored in the
                                      // checkpoint (ModelOpt input_scale, compressed-tensors input_global_scale /
                                      // input_scale); false for dynamic activation scales

    bool operator==(const QuantScheme&) const = default;
};
// "bf16", "nvfp4 w4a4 g16", "nvfp4 w4a16 g16", "fp8 w8a8 per-tensor static", "fp8 w8a8 block 128x128 dynamic", ...
std::string scheme_str(const QuantScheme& s);

enum class Producer : uint8_t { None, ModelOpt, CompressedTensors, HfFp8 };
std::string_view producer_name(Producer p);  // "none" | "modelopt" | "compressed-tensors" | "fp8"

// One exclusion / target entry with its producer's matching rule. Never matched by substring.
class NamePattern {
public:
    enum class Kind : uint8_t {
        Glob,        // ModelOpt exclude_modules: fnmatch over the whole name, `*` crosses dots (§3.2)
        Exact,       // compressed-tensors: name equality; an entry ending in ".linear" also names the module without
                     // that suffix (llm-compressor's CompressedLinear wrapper, §3.2)
        Regex,       // compressed-tensors "re:<regex>": Python re.match = anchored at the start only; tried on the name
                     // and on name + ".linear"
        ClassName,   // compressed-tensors class target; only "Linear" is supported (every quantizable Linear module)
        ModulePath,  // HF fp8 modules_to_not_convert: the entry's dotted components appear as a contiguous run of the
                     // name's components (SGLang's dot-boundary rule, §6.4): "mlp.gate" matches "layers.0.mlp.gate",
                     // never "mlp.gate_up_proj"
    };

    NamePattern() = default;
    static NamePattern glob(std::string text);
    // "re:..." -> Regex, a bare identifier starting with an upper-case letter -> ClassName, else Exact. Throws
    // qinfer::Error (naming `where`) for a regex std::regex cannot compile or an unsupported class name.
    static NamePattern compressed_tensors(std::string text, const std::string& where);
    static NamePattern module_path(std::string text);

    const std::string& text() const { return text_; }
    Kind kind() const { return kind_; }
    // True when the pattern matches the module name. ClassName patterns match nothing here: class membership is the
    // resolver's business (it knows which modules are Linear).
    bool matches(std::string_view name) const;

private:
    struct Compiled;                                              // std::regex, kept out of this header
    enum class GlobShape : uint8_t { Literal, Prefix, General };  // Glob fast paths, fixed at construction
    std::string text_;
    Kind kind_ = Kind::Exact;
    GlobShape glob_shape_ = GlobShape::General;
    std::shared_ptr<const Compiled> regex_;
};
std::string_view pattern_kind_name(NamePattern::Kind k);

// One MIXED_PRECISION `quantized_layers` entry.
struct QuantizedLayer {
    std::string quant_algo;  // "NVFP4" | "W4A16_NVFP4" | "FP8"
    QuantScheme scheme;
};

// One compressed-tensors config_group.
struct SchemeGroup {
    std::string name;                  // "group_0"
    std::vector<NamePattern> targets;  // Exact / Regex / ClassName
    QuantScheme scheme;
};

struct QuantConfig {
    Producer producer = Producer::None;
    std::string source = "none";  // where it came from, for messages: "hf_quant_config.json", "config.json
                                  // quantization_config", or both joined with " + "; "none" without a config
    std::string quant_algo;  // ModelOpt quant_algo ("" when null = KV-cache only), compressed-tensors format, "fp8"
    std::optional<QuantScheme> default_scheme;  // ModelOpt single-algo / HF fp8: every quantizable Linear module not
                                                // excluded; nullopt for MIXED_PRECISION, compressed-tensors, none
    std::vector<NamePattern> exclude;           // ModelOpt exclude_modules (Glob), compressed-tensors ignore
                                                // (Exact/Regex/ClassName), fp8 modules_to_not_convert (ModulePath)
    std::string exclude_field;                  // the field `exclude` came from, for reasons and messages
    std::map<std::string, QuantizedLayer> quantized_layers;  // MIXED_PRECISION only: module (or parent) -> scheme
    std::vector<SchemeGroup> groups;                         // compressed-tensors config_groups, in key order
    int group_size = 0;                                      // NVFP4 group size where NVFP4 is used (always 16), else 0
    std::string kv_cache_quant_algo;  // "FP8", "NVFP4", ...; "" when the KV cache is not quantized. Recorded
                                      // only: the KV cache is not the resolver's business
    std::string producer_version;     // ModelOpt producer.version when given (informational)

    bool mixed_precision() const { return producer == Producer::ModelOpt && quant_algo == "MIXED_PRECISION"; }
};

// The documents a config is parsed from; nullptr = file absent. Names are used in messages.
struct QuantConfigFiles {
    const nlohmann::json* config = nullptr;           // config.json
    const nlohmann::json* hf_quant_config = nullptr;  // hf_quant_config.json
    std::string config_name = "config.json";
    std::string hf_quant_config_name = "hf_quant_config.json";
};

// Throws qinfer::Error naming the file and field for a missing / ill-typed field, an unknown quant_method /
// quant_algo / format (listing the supported ones), or two files that disagree.
QuantConfig parse_quant_config(const QuantConfigFiles& files);

// Reads <dir>/config.json (required) and <dir>/hf_quant_config.json (optional) and parses them.
QuantConfig load_quant_config(const std::filesystem::path& model_dir);

// Values accepted, for messages and tests.
const std::vector<std::string>& supported_quant_methods();   // config.json quantization_config.quant_method
const std::vector<std::string>& supported_modelopt_algos();  // quant_algo (and quantized_layers[*].quant_algo, less
                                                             // MIXED_PRECISION)
const std::vector<std::string>& supported_ct_formats();      // compressed-tensors format

}  // namespace qinfer::quant
