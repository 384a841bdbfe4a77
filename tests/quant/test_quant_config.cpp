// Tests for quant/quant_config: parsing ModelOpt (hf_quant_config.json and config.json), compressed-tensors and HF
// fp8 quantization configs, the matching primitives (NamePattern), and every malformed-config error.
//
// Fixtures: tests/quant/data (README.md there says what each reproduces). Variants are made by editing a fixture or a
// small literal in the test, so each test states the one thing it changes.

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/check.h"
#include "quant/quant_config.h"
#include "test_util.h"

namespace qinfer::quant {
namespace {

using nlohmann::json;

json fixture(const std::string& name) {
    const auto p = test::source_dir() / "tests" / "quant" / "data" / name;
    std::ifstream f(p);
    EXPECT_TRUE(f.good()) << "missing fixture " << p;
    return json::parse(f);
}

QuantConfig parse(const json* config, const json* hf = nullptr) {
    QuantConfigFiles files;
    files.config = config;
    files.hf_quant_config = hf;
    return parse_quant_config(files);
}

QuantConfig parse_hf(const json& hf) {
    return parse(nullptr, &hf);
}

json modelopt_hf(const std::string& algo, std::vector<std::string> exclude = {}) {
    return json{
        {"producer", {{"name", "modelopt"}, {"version", "0.44.0"}}},
        {"quantization",
         {{"quant_algo", algo}, {"kv_cache_quant_algo", "FP8"}, {"group_size", 16}, {"exclude_modules", exclude}}}};
}

json with_qc(const json& qc) {
    return json{{"architectures", {"Qwen3_5MoeForConditionalGeneration"}}, {"quantization_config", qc}};
}

size_t count_kind(const std::vector<NamePattern>& v, NamePattern::Kind k) {
    size_t n = 0;
    for (const auto& p : v) n += p.kind() == k ? 1 : 0;
    return n;
}

// ---------------------------------------------------------------------------------------------------------------
// Names and schemes

TEST(QuantConfigNames, WeightFormatAndSchemeStrings) {
    EXPECT_EQ(weight_format_name(WeightFormat::BF16), "bf16");
    EXPECT_EQ(weight_format_name(WeightFormat::F16), "f16");
    EXPECT_EQ(weight_format_name(WeightFormat::F32), "f32");
    EXPECT_EQ(weight_format_name(WeightFormat::NVFP4), "nvfp4");
    EXPECT_EQ(weight_format_name(WeightFormat::FP8), "fp8");
    EXPECT_FALSE(is_quantized(WeightFormat::BF16));
    EXPECT_TRUE(is_quantized(WeightFormat::NVFP4));

    const QuantConfig c = parse_hf(modelopt_hf("NVFP4"));
    ASSERT_TRUE(c.default_scheme.has_value());
    EXPECT_EQ(scheme_str(*c.default_scheme), "nvfp4 w4a4 g16 static");
    EXPECT_EQ(scheme_str(*parse_hf(modelopt_hf("W4A16_NVFP4")).default_scheme), "nvfp4 w4a16 g16");
    EXPECT_EQ(scheme_str(*parse_hf(modelopt_hf("FP8")).default_scheme), "fp8 w8a8 per-tensor static");
    EXPECT_EQ(scheme_str(QuantScheme{}), "bf16");
}

// ---------------------------------------------------------------------------------------------------------------
// NamePattern: the matching rules, table-driven

struct MatchCase {
    std::string pattern;
    char kind;  // 'g' glob, 'c' compressed-tensors, 'm' module path
    std::string name;
    bool expected;
};

NamePattern make_pattern(const MatchCase& m) {
    switch (m.kind) {
        case 'g':
            return NamePattern::glob(m.pattern);
        case 'm':
            return NamePattern::module_path(m.pattern);
        default:
            return NamePattern::compressed_tensors(m.pattern, "test");
    }
}

TEST(QuantConfigPatterns, MatchTable) {
    const std::string L0 = "model.language_model.layers.0.";
    const std::vector<MatchCase> cases = {
        // ModelOpt fnmatch: `*` crosses dots, the whole name must match (§3.2).
        {"model.language_model.layers.0.linear_attn*", 'g', L0 + "linear_attn.in_proj_qkv", true},
        {"model.language_model.layers.0.linear_attn*", 'g', L0 + "linear_attn.in_proj_ba", true},
        {"model.language_model.layers.1.linear_attn*", 'g', "model.language_model.layers.10.linear_attn.in_proj_z",
         false},
        {"model.language_model.layers.1*", 'g', "model.language_model.layers.10.mlp.gate", true},  // the §3.2 pitfall
        {"*.mlp.shared_expert.*", 'g', L0 + "mlp.shared_expert.down_proj", true},
        {"*.mlp.shared_expert.*", 'g', L0 + "mlp.shared_expert_gate", false},
        {"lm_head", 'g', "lm_head", true},
        {"lm_head", 'g', "lm_head_extra", false},
        {"*mlp.gate", 'g', L0 + "mlp.gate", true},
        {"*mlp.gate", 'g', L0 + "mlp.gate_up_proj", false},
        {"*mlp.gate", 'g', L0 + "mlp.shared_expert.gate_proj", false},
        {"*.in_proj_a", 'g', "model.layers.0.linear_attn.in_proj_ba", false},
        {"*in_proj_a", 'g', "model.layers.0.linear_attn.in_proj_ba", false},
        {"*in_proj_qkv", 'g', "model.layers.0.linear_attn.in_proj_qkvz", false},
        {"*.in_proj_[ab]", 'g', L0 + "linear_attn.in_proj_a", true},
        {"*.experts.?.up_proj", 'g', L0 + "mlp.experts.7.up_proj", true},
        {"*.experts.?.up_proj", 'g', L0 + "mlp.experts.17.up_proj", false},
        {"model.visual*", 'g', "model.visual.blocks.0.attn.qkv", true},
        {"mtp*", 'g', "mtp.fc", true},
        {"mtp*", 'g', "model.mtp_like", false},
        // compressed-tensors: exact, or re: with re.match (anchored at the start only); .linear suffix (§3.2).
        {L0 + "linear_attn.in_proj_qkv", 'c', L0 + "linear_attn.in_proj_qkv", true},
        {L0 + "linear_attn.in_proj_qkv", 'c', L0 + "linear_attn.in_proj_qkvz", false},
        {"model.layers.0.linear_attn.in_proj_a", 'c', "model.layers.0.linear_attn.in_proj_ba", false},
        {"mlp.gate", 'c', L0 + "mlp.gate", false},  // exact, not a suffix
        {"re:.*mlp.gate$", 'c', L0 + "mlp.gate", true},
        {"re:.*mlp.gate$", 'c', L0 + "mlp.gate_up_proj", false},
        {"re:.*mlp.gate$", 'c', L0 + "mlp.shared_expert.gate_proj", false},
        {"re:mlp.gate", 'c', L0 + "mlp.gate", false},  // re.match: anchored at the start
        {"re:model.*self_attn", 'c', "model.language_model.layers.3.self_attn.q_proj", true},  // ... but not the end
        {"re:.*linear_attn.*", 'c', L0 + "linear_attn.out_proj", true},
        {L0 + "self_attn.q_proj.linear", 'c', L0 + "self_attn.q_proj", true},
        {L0 + "self_attn.q_proj.linear", 'c', L0 + "self_attn.k_proj", false},
        {"re:.*q_proj.linear$", 'c', L0 + "self_attn.q_proj", true},
        // HF fp8 modules_to_not_convert: whole dotted components, never substrings (§6.4).
        {"mlp.gate", 'm', "model.layers.0.mlp.gate", true},
        {"mlp.gate", 'm', "model.layers.0.mlp.gate_up_proj", false},
        {"mlp.gate", 'm', "model.layers.0.mlp.shared_expert_gate", false},
        {"linear_attn.in_proj_a", 'm', "model.layers.0.linear_attn.in_proj_ba", false},
        {"model.layers.1", 'm', "model.layers.10.mlp.gate", false},
        {"model.layers.1", 'm', "model.layers.1.mlp.gate", true},
        {"lm_head", 'm', "lm_head", true},
        {"model.layers.0.linear_attn.in_proj_ba", 'm', "model.layers.0.linear_attn.in_proj_ba", true},
    };
    for (const auto& c : cases) {
        EXPECT_EQ(make_pattern(c).matches(c.name), c.expected)
            << "pattern " << c.pattern << " (" << c.kind << ") vs " << c.name;
    }
}

TEST(QuantConfigPatterns, CompressedTensorsKinds) {
    EXPECT_EQ(NamePattern::compressed_tensors("Linear", "t").kind(), NamePattern::Kind::ClassName);
    EXPECT_FALSE(NamePattern::compressed_tensors("Linear", "t").matches("Linear"));  // class membership: resolver
    EXPECT_EQ(NamePattern::compressed_tensors("re:.*", "t").kind(), NamePattern::Kind::Regex);
    EXPECT_EQ(NamePattern::compressed_tensors("lm_head", "t").kind(), NamePattern::Kind::Exact);
    EXPECT_ERROR_CONTAINS(NamePattern::compressed_tensors("Embedding", "config.json: field ignore[2]"),
                          "config.json: field ignore[2]", "\"Embedding\"", "supported class names: Linear");
    EXPECT_ERROR_CONTAINS(NamePattern::compressed_tensors("re:(?<=x)y", "config.json: field ignore[0]"),
                          "config.json: field ignore[0]", "cannot compile regex", "re:(?<=x)y");
}

// ---------------------------------------------------------------------------------------------------------------
// Published configs (§4)

TEST(QuantConfigPublished, Qwen35_397B_HfQuantConfig) {
    const json hf = fixture("nvidia_qwen3_5_397b_a17b_nvfp4.hf_quant_config.json");
    const QuantConfig c = parse_hf(hf);
    EXPECT_EQ(c.producer, Producer::ModelOpt);
    EXPECT_EQ(c.source, "hf_quant_config.json");
    EXPECT_EQ(c.quant_algo, "NVFP4");
    EXPECT_EQ(c.kv_cache_quant_algo, "FP8");
    EXPECT_EQ(c.group_size, 16);
    EXPECT_EQ(c.producer_version, "0.0.1.dev538+g26cad678d");
    ASSERT_TRUE(c.default_scheme.has_value());
    EXPECT_EQ(c.default_scheme->format, WeightFormat::NVFP4);
    EXPECT_TRUE(c.default_scheme->activations_quantized);
    EXPECT_TRUE(c.default_scheme->static_input_scale);
    EXPECT_EQ(c.default_scheme->group_size, 16);
    EXPECT_EQ(c.default_scheme->weight_scales, ScaleGranularity::Group);
    EXPECT_EQ(c.exclude.size(), 184u);
    EXPECT_EQ(count_kind(c.exclude, NamePattern::Kind::Glob), 184u);
    EXPECT_EQ(c.exclude_field, "exclude_modules");
    EXPECT_EQ(c.exclude.front().text(), "lm_head");
    EXPECT_EQ(c.exclude.back().text(), "mtp.layers.0*");
    EXPECT_TRUE(c.quantized_layers.empty());
    EXPECT_FALSE(c.mixed_precision());
}

TEST(QuantConfigPublished, Qwen35_397B_BothFilesAgree) {
    const json hf = fixture("nvidia_qwen3_5_397b_a17b_nvfp4.hf_quant_config.json");
    const json cfg = fixture("nvidia_qwen3_5_397b_a17b_nvfp4.config.json");
    const QuantConfig c = parse(&cfg, &hf);
    EXPECT_EQ(c.source, "hf_quant_config.json + config.json quantization_config");
    EXPECT_EQ(c.quant_algo, "NVFP4");
    EXPECT_EQ(c.kv_cache_quant_algo, "FP8");  // config.json kv_cache_scheme {8, float} == hf FP8
    EXPECT_EQ(c.exclude.size(), 184u);

    // config.json alone: the `ignore` field, kv from kv_cache_scheme, group size from config_groups.
    const QuantConfig only_cfg = parse(&cfg);
    EXPECT_EQ(only_cfg.source, "config.json quantization_config");
    EXPECT_EQ(only_cfg.exclude_field, "ignore");
    EXPECT_EQ(only_cfg.exclude.size(), 184u);
    EXPECT_EQ(only_cfg.kv_cache_quant_algo, "FP8");
    ASSERT_TRUE(only_cfg.default_scheme.has_value());
    EXPECT_EQ(only_cfg.default_scheme->group_size, 16);
}

TEST(QuantConfigPublished, Qwen35_122B) {
    const QuantConfig c = parse_hf(fixture("nvidia_qwen3_5_122b_a10b_nvfp4.hf_quant_config.json"));
    EXPECT_EQ(c.quant_algo, "NVFP4");
    EXPECT_EQ(c.exclude.size(), 148u);
    EXPECT_EQ(c.exclude.back().text(), "mtp*");
}

TEST(QuantConfigPublished, Qwen36_35B_MixedPrecision) {
    const json hf = fixture("nvidia_qwen3_6_35b_a3b_nvfp4.hf_quant_config.json");
    const json cfg = fixture("nvidia_qwen3_6_35b_a3b_nvfp4.config.json");
    for (const QuantConfig& c : {parse_hf(hf), parse(&cfg), parse(&cfg, &hf)}) {
        SCOPED_TRACE(c.source);
        EXPECT_TRUE(c.mixed_precision());
        EXPECT_FALSE(c.default_scheme.has_value());
        EXPECT_EQ(c.quantized_layers.size(), 291u);
        size_t fp8 = 0, w4a16 = 0;
        for (const auto& [k, l] : c.quantized_layers) {
            if (l.quant_algo == "FP8") {
                ++fp8;
                EXPECT_EQ(l.scheme.format, WeightFormat::FP8) << k;
                EXPECT_EQ(l.scheme.weight_scales, ScaleGranularity::Tensor) << k;
            } else {
                ++w4a16;
                EXPECT_EQ(l.quant_algo, "W4A16_NVFP4") << k;
                // The config_groups trap (4-bit input activations declared) does not leak in: W4A16 stays W4A16.
                EXPECT_EQ(l.scheme.format, WeightFormat::NVFP4) << k;
                EXPECT_FALSE(l.scheme.activations_quantized) << k;
                EXPECT_EQ(l.scheme.group_size, 16) << k;
            }
        }
        EXPECT_EQ(fp8, 130u);
        EXPECT_EQ(w4a16, 161u);
        EXPECT_EQ(c.quantized_layers.at("lm_head").quant_algo, "W4A16_NVFP4");
        EXPECT_EQ(c.quantized_layers.at("model.language_model.layers.0.mlp.experts").quant_algo, "W4A16_NVFP4");
        EXPECT_FALSE(c.quantized_layers.contains("model.language_model.layers.0.linear_attn.in_proj_a"));
        EXPECT_EQ(c.exclude.size(), 2u);
    }
    // hf_quant_config.json states kv_cache_quant_algo, config.json does not: not a disagreement.
    EXPECT_EQ(parse(&cfg, &hf).kv_cache_quant_algo, "FP8");
    EXPECT_EQ(parse(&cfg).kv_cache_quant_algo, "");
}

TEST(QuantConfigPublished, Qwen36_27B_Dense) {
    const QuantConfig c = parse_hf(fixture("nvidia_qwen3_6_27b_nvfp4.hf_quant_config.json"));
    EXPECT_EQ(c.quantized_layers.size(), 401u);
    size_t fp8 = 0;
    for (const auto& [k, l] : c.quantized_layers) fp8 += l.quant_algo == "FP8" ? 1 : 0;
    EXPECT_EQ(fp8, 208u);
}

TEST(QuantConfigPublished, CompressedTensorsNvfp4) {
    const json cfg = fixture("ct_qwen3_5_moe_nvfp4.config.json");
    const QuantConfig c = parse(&cfg);
    EXPECT_EQ(c.producer, Producer::CompressedTensors);
    EXPECT_EQ(c.quant_algo, "nvfp4-pack-quantized");
    EXPECT_EQ(c.exclude_field, "ignore");
    EXPECT_EQ(c.kv_cache_quant_algo, "");
    ASSERT_EQ(c.groups.size(), 1u);
    EXPECT_EQ(c.groups[0].name, "group_0");
    ASSERT_EQ(c.groups[0].targets.size(), 1u);
    EXPECT_EQ(c.groups[0].targets[0].kind(), NamePattern::Kind::ClassName);
    const QuantScheme& s = c.groups[0].scheme;
    EXPECT_EQ(s.format, WeightFormat::NVFP4);
    EXPECT_TRUE(s.activations_quantized);
    EXPECT_TRUE(s.static_input_scale);  // dynamic "local": the calibrated input_global_scale is stored
    EXPECT_EQ(s.group_size, 16);
    EXPECT_EQ(count_kind(c.exclude, NamePattern::Kind::Regex), 4u);
    EXPECT_EQ(count_kind(c.exclude, NamePattern::Kind::Exact), 1u + 6u * 5u);
}

TEST(QuantConfigPublished, Qwen3NextFineGrainedFp8) {
    const json cfg = fixture("qwen3_next_80b_a3b_fp8.config.json");
    const QuantConfig c = parse(&cfg);
    EXPECT_EQ(c.producer, Producer::HfFp8);
    EXPECT_EQ(c.quant_algo, "fp8");
    EXPECT_EQ(c.exclude_field, "modules_to_not_convert");
    EXPECT_EQ(count_kind(c.exclude, NamePattern::Kind::ModulePath), c.exclude.size());
    ASSERT_TRUE(c.default_scheme.has_value());
    EXPECT_EQ(c.default_scheme->format, WeightFormat::FP8);
    EXPECT_EQ(c.default_scheme->weight_scales, ScaleGranularity::Block);
    EXPECT_EQ(c.default_scheme->block, (std::array<int64_t, 2>{128, 128}));
    EXPECT_TRUE(c.default_scheme->activations_quantized);
    EXPECT_FALSE(c.default_scheme->static_input_scale);
    EXPECT_EQ(scheme_str(*c.default_scheme), "fp8 w8a8 block 128x128 dynamic");
}

// ---------------------------------------------------------------------------------------------------------------
// Other accepted shapes

TEST(QuantConfigShapes, NoConfigIsUnquantized) {
    const json cfg = {{"architectures", {"Qwen3_5ForCausalLM"}}};
    const QuantConfig c = parse(&cfg);
    EXPECT_EQ(c.producer, Producer::None);
    EXPECT_EQ(c.source, "none");
    EXPECT_EQ(parse(nullptr).producer, Producer::None);
    json null_qc = cfg;
    null_qc["quantization_config"] = nullptr;
    EXPECT_EQ(parse(&null_qc).producer, Producer::None);
}

TEST(QuantConfigShapes, TextConfigNesting) {
    const json qc = {{"quant_method", "modelopt"}, {"quant_algo", "FP8"}, {"ignore", {"lm_head"}}};
    const json nested = {{"text_config", {{"quantization_config", qc}}}};
    const QuantConfig c = parse(&nested);
    EXPECT_EQ(c.quant_algo, "FP8");
    EXPECT_EQ(c.source, "config.json text_config.quantization_config");

    json both = nested;
    both["quantization_config"] = qc;
    EXPECT_EQ(parse(&both).source, "config.json quantization_config");  // equal: fine
    both["quantization_config"]["quant_algo"] = "NVFP4";
    EXPECT_ERROR_CONTAINS(parse(&both), "config.json", "quantization_config",
                          "text_config.quantization_config are both present and differ");
}

TEST(QuantConfigShapes, LegacyNestedFormInConfigJson) {
    const json cfg = with_qc(
        {{"quant_method", "modelopt"}, {"quantization", {{"quant_algo", "NVFP4"}, {"exclude_modules", {"lm_head"}}}}});
    const QuantConfig c = parse(&cfg);
    EXPECT_EQ(c.quant_algo, "NVFP4");
    ASSERT_EQ(c.exclude.size(), 1u);
    EXPECT_EQ(c.exclude_field, "exclude_modules");
}

TEST(QuantConfigShapes, KvCacheOnlyNullAlgo) {
    json hf = modelopt_hf("NVFP4");
    hf["quantization"]["quant_algo"] = nullptr;
    const QuantConfig c = parse_hf(hf);
    EXPECT_EQ(c.producer, Producer::ModelOpt);
    EXPECT_EQ(c.quant_algo, "");
    EXPECT_FALSE(c.default_scheme.has_value());
    EXPECT_EQ(c.kv_cache_quant_algo, "FP8");
}

TEST(QuantConfigShapes, CompressedTensorsFp8Variants) {
    auto ct = [](json weights, json acts) {
        json g = {{"targets", {"Linear"}}, {"weights", weights}};
        if (!acts.is_null()) g["input_activations"] = acts;
        return with_qc({{"quant_method", "compressed-tensors"},
                        {"format", "float-quantized"},
                        {"config_groups", {{"group_0", g}}},
                        {"ignore", {"lm_head"}},
                        {"kv_cache_scheme", {{"num_bits", 8}, {"type", "float"}}}});
    };
    {
        const json cfg = ct({{"num_bits", 8}, {"type", "float"}, {"strategy", "channel"}, {"dynamic", false}},
                            {{"num_bits", 8}, {"type", "float"}, {"strategy", "token"}, {"dynamic", true}});
        const QuantConfig c = parse(&cfg);
        const QuantScheme& s = c.groups.at(0).scheme;
        EXPECT_EQ(s.format, WeightFormat::FP8);
        EXPECT_EQ(s.weight_scales, ScaleGranularity::Channel);
        EXPECT_TRUE(s.activations_quantized);
        EXPECT_FALSE(s.static_input_scale);
        EXPECT_EQ(c.kv_cache_quant_algo, "FP8");
        EXPECT_EQ(scheme_str(s), "fp8 w8a8 per-channel dynamic");
    }
    {
        const json cfg =
            ct({{"num_bits", 8}, {"type", "float"}, {"strategy", "block"}, {"block_structure", {128, 128}}}, nullptr);
        const QuantScheme s = parse(&cfg).groups.at(0).scheme;  // a copy: parse() returns a temporary
        EXPECT_EQ(s.weight_scales, ScaleGranularity::Block);
        EXPECT_FALSE(s.activations_quantized);
        EXPECT_EQ(scheme_str(s), "fp8 w8a16 block 128x128");
    }
    {
        const json cfg = ct({{"num_bits", 8}, {"type", "float"}, {"strategy", "tensor"}},
                            {{"num_bits", 8}, {"type", "float"}, {"strategy", "tensor"}, {"dynamic", false}});
        const QuantScheme s = parse(&cfg).groups.at(0).scheme;  // a copy: parse() returns a temporary
        EXPECT_EQ(s.weight_scales, ScaleGranularity::Tensor);
        EXPECT_TRUE(s.static_input_scale);
    }
}

TEST(QuantConfigShapes, LoadFromDirectory) {
    const auto dir = test::make_temp_dir("quant_config_load");
    test::write_text(dir / "config.json", fixture("nvidia_qwen3_5_397b_a17b_nvfp4.config.json").dump());
    EXPECT_EQ(load_quant_config(dir).source, (dir / "config.json").string() + " quantization_config");
    test::write_text(dir / "hf_quant_config.json",
                     fixture("nvidia_qwen3_5_397b_a17b_nvfp4.hf_quant_config.json").dump());
    const QuantConfig c = load_quant_config(dir);
    EXPECT_EQ(c.exclude.size(), 184u);
    EXPECT_NE(c.source.find("hf_quant_config.json + "), std::string::npos);
    test::write_text(dir / "hf_quant_config.json", "{ not json");
    EXPECT_ERROR_CONTAINS(load_quant_config(dir), "hf_quant_config.json", "invalid JSON");
    EXPECT_ERROR_CONTAINS(load_quant_config(dir / "missing"), "cannot open", "config.json");
}

// ---------------------------------------------------------------------------------------------------------------
// Malformed configs: each error names the file and the field

TEST(QuantConfigErrors, UnknownQuantAlgoListsSupported) {
    EXPECT_ERROR_CONTAINS(parse_hf(modelopt_hf("INT3")), "hf_quant_config.json", "quantization.quant_algo",
                          "unknown quant_algo \"INT3\"", "supported: FP8, MIXED_PRECISION, NVFP4, W4A16_NVFP4");
    EXPECT_ERROR_CONTAINS(parse_hf(modelopt_hf("NVFP4_AWQ")), "unsupported quant_algo \"NVFP4_AWQ\"",
                          "supported: FP8, MIXED_PRECISION, NVFP4, W4A16_NVFP4");
    const json cfg = with_qc({{"quant_method", "modelopt"}, {"quant_algo", "W4A8_AWQ"}});
    EXPECT_ERROR_CONTAINS(parse(&cfg), "config.json", "quantization_config.quant_algo", "W4A8_AWQ", "supported:");
}

TEST(QuantConfigErrors, UnknownQuantMethodAndFormat) {
    const json awq = with_qc({{"quant_method", "awq"}, {"bits", 4}});
    EXPECT_ERROR_CONTAINS(parse(&awq), "config.json", "quantization_config.quant_method",
                          "unknown quant_method \"awq\"", "supported: compressed-tensors, fp8, modelopt");
    const json no_method = with_qc({{"quant_algo", "NVFP4"}});
    EXPECT_ERROR_CONTAINS(parse(&no_method), "config.json", "quantization_config.quant_method", "missing");
    const json fmt = with_qc({{"quant_method", "compressed-tensors"}, {"format", "pack-quantized"}});
    EXPECT_ERROR_CONTAINS(parse(&fmt), "quantization_config.format", "unknown format \"pack-quantized\"",
                          "supported: float-quantized, nvfp4-pack-quantized");
}

TEST(QuantConfigErrors, BothFilesDisagree) {
    const json hf = fixture("nvidia_qwen3_5_397b_a17b_nvfp4.hf_quant_config.json");
    json cfg = fixture("nvidia_qwen3_5_397b_a17b_nvfp4.config.json");
    {
        json c2 = cfg;
        c2["quantization_config"]["quant_algo"] = "W4A16_NVFP4";
        EXPECT_ERROR_CONTAINS(parse(&c2, &hf), "hf_quant_config.json quantization.quant_algo (\"NVFP4\")",
                              "config.json quantization_config.quant_algo (\"W4A16_NVFP4\")", "disagree");
    }
    {
        json c2 = cfg;
        auto& ig = c2["quantization_config"]["ignore"];
        ig.erase(ig.begin() + 2);  // drop model.language_model.layers.0.linear_attn*
        ig.push_back("model.language_model.layers.0.linear_attn.in_proj_qkvz");
        EXPECT_ERROR_CONTAINS(parse(&c2, &hf), "hf_quant_config.json quantization.exclude_modules",
                              "config.json quantization_config.ignore", "disagree",
                              "only in hf_quant_config.json: [\"model.language_model.layers.0.linear_attn*\"]",
                              "only in config.json: [\"model.language_model.layers.0.linear_attn.in_proj_qkvz\"]");
    }
    {
        json c2 = cfg;  // the same list in another order is not a disagreement
        auto& ig = c2["quantization_config"]["ignore"];
        std::reverse(ig.begin(), ig.end());
        EXPECT_EQ(parse(&c2, &hf).exclude.size(), 184u);
    }
    {
        json c2 = cfg;
        c2["quantization_config"]["kv_cache_scheme"]["num_bits"] = 4;
        EXPECT_ERROR_CONTAINS(parse(&c2, &hf), "hf_quant_config.json quantization.kv_cache_quant_algo (\"FP8\")",
                              "config.json quantization_config.kv_cache_scheme (\"NVFP4\")", "disagree");
    }
    {
        json c2 = cfg;
        c2["quantization_config"]["group_size"] = 32;
        EXPECT_ERROR_CONTAINS(parse(&c2, &hf), "hf_quant_config.json quantization.group_size (16)",
                              "config.json quantization_config.group_size (32)", "disagree");
    }
    {
        const json mhf = fixture("nvidia_qwen3_6_35b_a3b_nvfp4.hf_quant_config.json");
        json mcfg = fixture("nvidia_qwen3_6_35b_a3b_nvfp4.config.json");
        mcfg["quantization_config"]["quantized_layers"]["model.language_model.layers.0.linear_attn.in_proj_z"]
            ["quant_algo"] = "W4A16_NVFP4";
        EXPECT_ERROR_CONTAINS(parse(&mcfg, &mhf), "hf_quant_config.json quantization.quantized_layers",
                              "config.json quantization_config.quantized_layers", "disagree",
                              "\"model.language_model.layers.0.linear_attn.in_proj_z\": FP8 vs W4A16_NVFP4");
    }
    {
        const json ct = fixture("ct_qwen3_5_moe_nvfp4.config.json");
        EXPECT_ERROR_CONTAINS(parse(&ct, &hf), "hf_quant_config.json (ModelOpt)", "quantization_config.quant_method",
                              "compressed-tensors", "disagree");
    }
}

TEST(QuantConfigErrors, IllTypedAndMissingFields) {
    {
        json hf = modelopt_hf("NVFP4");
        hf["quantization"]["exclude_modules"] = "lm_head";
        EXPECT_ERROR_CONTAINS(parse_hf(hf), "hf_quant_config.json: field quantization.exclude_modules",
                              "must be an array of strings, got string \"lm_head\"");
    }
    {
        json hf = modelopt_hf("NVFP4", {"lm_head", "model.visual*"});
        hf["quantization"]["exclude_modules"].push_back(7);
        EXPECT_ERROR_CONTAINS(parse_hf(hf), "hf_quant_config.json: field quantization.exclude_modules[2]",
                              "must be a string, got integer 7");
    }
    {
        const json cfg = with_qc({{"quant_method", "modelopt"}, {"quant_algo", "NVFP4"}, {"ignore", {{"a", 1}}}});
        EXPECT_ERROR_CONTAINS(parse(&cfg), "config.json: field quantization_config.ignore",
                              "must be an array of strings, got object");
    }
    {
        json hf = modelopt_hf("NVFP4");
        hf.erase("quantization");
        EXPECT_ERROR_CONTAINS(parse_hf(hf), "hf_quant_config.json: field quantization is missing");
    }
    {
        json hf = modelopt_hf("NVFP4");
        hf["quantization"].erase("quant_algo");
        EXPECT_ERROR_CONTAINS(parse_hf(hf), "hf_quant_config.json: field quantization.quant_algo is missing");
    }
    {
        json hf = modelopt_hf("NVFP4");
        hf["quantization"]["quant_algo"] = 4;
        EXPECT_ERROR_CONTAINS(parse_hf(hf), "quantization.quant_algo must be a string, got integer 4");
    }
    {
        json hf = modelopt_hf("NVFP4");
        hf["quantization"]["group_size"] = 32;
        EXPECT_ERROR_CONTAINS(parse_hf(hf), "quantization.group_size must be 16", "got 32");
    }
    {
        json hf = modelopt_hf("NVFP4");
        hf["quantization"]["group_size"] = "16";
        EXPECT_ERROR_CONTAINS(parse_hf(hf), "quantization.group_size must be an integer, got string");
    }
    {
        const json arr = json::array();
        EXPECT_ERROR_CONTAINS(parse_hf(arr), "hf_quant_config.json: must be a JSON object, got array");
    }
    {
        const json cfg = with_qc("modelopt");
        EXPECT_ERROR_CONTAINS(parse(&cfg), "config.json: field quantization_config must be an object, got string");
    }
}

TEST(QuantConfigErrors, MixedPrecisionFields) {
    {
        json hf = modelopt_hf("MIXED_PRECISION");
        EXPECT_ERROR_CONTAINS(parse_hf(hf), "quantization.quant_algo",
                              "MIXED_PRECISION but quantized_layers is missing or empty");
    }
    {
        json hf = modelopt_hf("MIXED_PRECISION");
        hf["quantization"]["quantized_layers"] = {{"lm_head", {{"quant_algo", "MIXED_PRECISION"}}}};
        EXPECT_ERROR_CONTAINS(parse_hf(hf), "quantization.quantized_layers.lm_head.quant_algo",
                              "unknown quant_algo \"MIXED_PRECISION\"", "supported: FP8, NVFP4, W4A16_NVFP4");
    }
    {
        json hf = modelopt_hf("MIXED_PRECISION");
        hf["quantization"]["quantized_layers"] = {{"lm_head", {{"quant_algo", "W4A16_NVFP4"}, {"group_size", 32}}}};
        EXPECT_ERROR_CONTAINS(parse_hf(hf), "quantized_layers.lm_head.group_size must be 16", "got 32");
    }
    {
        json hf = modelopt_hf("MIXED_PRECISION");
        hf["quantization"]["quantized_layers"] = {{"lm_head", "FP8"}};
        EXPECT_ERROR_CONTAINS(parse_hf(hf), "quantization.quantized_layers.lm_head must be an object");
    }
    {
        json hf = modelopt_hf("NVFP4");
        hf["quantization"]["quantized_layers"] = {{"lm_head", {{"quant_algo", "FP8"}}}};
        EXPECT_ERROR_CONTAINS(parse_hf(hf), "quantization.quantized_layers",
                              "only meaningful with quant_algo MIXED_PRECISION", "\"NVFP4\"");
    }
}

TEST(QuantConfigErrors, CompressedTensorsFields) {
    auto ct = [](json group) {
        return with_qc({{"quant_method", "compressed-tensors"},
                        {"format", "nvfp4-pack-quantized"},
                        {"config_groups", {{"group_0", group}}}});
    };
    const json nvfp4_w = {{"num_bits", 4}, {"type", "float"}, {"strategy", "tensor_group"}, {"group_size", 16}};
    {
        const json cfg = ct({{"targets", {"Linear"}}, {"weights", {{"num_bits", 4}, {"type", "int"}}}});
        EXPECT_ERROR_CONTAINS(parse(&cfg), "quantization_config.config_groups.group_0.weights.type",
                              "only float weights");
    }
    {
        const json cfg =
            ct({{"targets", {"Linear"}},
                {"weights", {{"num_bits", 4}, {"type", "float"}, {"strategy", "tensor_group"}, {"group_size", 32}}}});
        EXPECT_ERROR_CONTAINS(parse(&cfg), "config_groups.group_0.weights.group_size must be 16", "got 32");
    }
    {
        const json cfg = ct({{"weights", nvfp4_w}});
        EXPECT_ERROR_CONTAINS(parse(&cfg), "config_groups.group_0.targets is missing or empty");
    }
    {
        const json cfg = ct({{"targets", {"Linear"}}, {"weights", nvfp4_w}, {"output_activations", {{"num_bits", 4}}}});
        EXPECT_ERROR_CONTAINS(parse(&cfg), "config_groups.group_0.output_activations", "not supported");
    }
    {
        const json cfg = ct({{"targets", {"Linear"}},
                             {"weights", nvfp4_w},
                             {"input_activations", {{"num_bits", 8}, {"type", "float"}}}});
        EXPECT_ERROR_CONTAINS(parse(&cfg), "input_activations.num_bits", "must be float 4 bits");
    }
    {
        json cfg =
            ct({{"targets", {"Linear"}}, {"weights", {{"num_bits", 8}, {"type", "float"}, {"strategy", "tensor"}}}});
        EXPECT_ERROR_CONTAINS(parse(&cfg), "FP8 weights need format \"float-quantized\"",
                              "the config says \"nvfp4-pack-quantized\"");
    }
    {
        json cfg = ct({{"targets", {"Linear"}}, {"weights", nvfp4_w}});
        cfg["quantization_config"]["ignore"] = {"lm_head", "re:[unclosed"};
        EXPECT_ERROR_CONTAINS(parse(&cfg), "config.json: field quantization_config.ignore[1]", "cannot compile regex",
                              "re:[unclosed");
    }
    {
        const json cfg = ct({{"targets", {"Qwen3_5MoeSparseMoeBlock"}}, {"weights", nvfp4_w}});
        EXPECT_ERROR_CONTAINS(parse(&cfg), "config_groups.group_0.targets[0]", "Qwen3_5MoeSparseMoeBlock",
                              "supported class names: Linear");
    }
}

TEST(QuantConfigErrors, HfFp8Fields) {
    auto fp8 = [](json extra) {
        json qc = {{"quant_method", "fp8"}, {"weight_block_size", {128, 128}}, {"activation_scheme", "dynamic"}};
        qc.update(extra);
        return with_qc(qc);
    };
    const json no_block = fp8({{"weight_block_size", nullptr}});
    EXPECT_ERROR_CONTAINS(parse(&no_block), "quantization_config.weight_block_size", "block-wise scales only");
    const json bad_block = fp8({{"weight_block_size", {128}}});
    EXPECT_ERROR_CONTAINS(parse(&bad_block), "weight_block_size must be two positive integers");
    const json stat = fp8({{"activation_scheme", "static"}});
    EXPECT_ERROR_CONTAINS(parse(&stat), "quantization_config.activation_scheme", "\"static\"");
    const json fmt = fp8({{"fmt", "e5m2"}});
    EXPECT_ERROR_CONTAINS(parse(&fmt), "quantization_config.fmt", "supported: e4m3");
    const json alias = fp8({{"ignored_layers", {"lm_head"}}});
    const QuantConfig c = parse(&alias);
    EXPECT_EQ(c.exclude_field, "ignored_layers");
    EXPECT_EQ(c.exclude.size(), 1u);
}

}  // namespace
}  // namespace qinfer::quant
