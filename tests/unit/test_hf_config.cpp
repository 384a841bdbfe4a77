// Tests for io/hf_config: the typed view of config.json.
//
// Fixtures (tests/unit/data/configs/):
//   hf_*.json       written by transformers 5.17 save_pretrained() for tiny models of each architecture
//                   (generate_hf_configs.py, which also printed the layer plans / rotary dims asserted below);
//   qwen3_5_27b.json, qwen3_5_35b_a3b.json, qwen3_next_80b_a3b.json
//                   hand-written in the layout of the released checkpoints, values from
//                   shared/docs/qwen3_5_architecture.md §1.4 / §4.
// Variants are made by editing a fixture's JSON in the test, so each test states the one thing it changes.

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/check.h"
#include "io/hf_config.h"
#include "test_util.h"

namespace qinfer {
namespace {

using nlohmann::json;

constexpr LayerType kLin = LayerType::LinearAttention;
constexpr LayerType kFull = LayerType::FullAttention;

std::filesystem::path fixture_path(const std::string& name) {
    return test::source_dir() / "tests" / "unit" / "data" / "configs" / name;
}

json load_fixture(const std::string& name) {
    std::ifstream f(fixture_path(name));
    EXPECT_TRUE(f.good()) << "missing fixture " << fixture_path(name);
    return json::parse(f);
}

ModelConfig parse(const json& j) {
    return parse_model_config(j, "test.json");
}

// HF's rule when layer_types is absent: layer i is full attention iff (i+1) % interval == 0.
std::vector<LayerType> interval_types(int64_t n, int64_t interval) {
    std::vector<LayerType> v;
    for (int64_t i = 0; i < n; ++i) v.push_back((i + 1) % interval == 0 ? kFull : kLin);
    return v;
}

struct Expected {
    std::string file = {};
    std::string architecture = {};
    std::string model_type = {};
    std::string text_model_type = {};
    bool nested = false;
    bool is_moe = false;
    int64_t vocab_size = 0;
    int64_t hidden_size = 0;
    int64_t num_hidden_layers = 0;
    int64_t intermediate_size = 0;
    int64_t num_attention_heads = 0;
    int64_t num_key_value_heads = 0;
    int64_t head_dim = 0;
    double rope_theta = 0;
    int64_t rotary_dim = 0;
    std::vector<int64_t> mrope_section = {};
    bool mrope_interleaved = false;
    int64_t max_position_embeddings = 0;
    int64_t linear_key_head_dim = 0;
    int64_t linear_value_head_dim = 0;
    int64_t linear_num_key_heads = 0;
    int64_t linear_num_value_heads = 0;
    std::vector<LayerType> layer_types = {};
    std::vector<bool> layer_is_moe = {};
    int64_t num_experts = 0;
    int64_t num_experts_per_tok = 0;
    int64_t moe_intermediate_size = 0;
    int64_t shared_expert_intermediate_size = 0;
    bool norm_topk_prob = true;
    bool tie_word_embeddings = false;
    std::vector<int64_t> eos_token_ids = {};
    int64_t bos_token_id = -1;
};

std::vector<Expected> fixture_table() {
    const std::vector<bool> dense4(4, false), moe4(4, true);
    // clang-format off
    return {
        // ---- written by transformers 5.17 (tiny models)
        {.file = "hf_qwen3_5.json", .architecture = "Qwen3_5ForConditionalGeneration", .model_type = "qwen3_5",
         .text_model_type = "qwen3_5_text", .nested = true, .is_moe = false, .vocab_size = 320, .hidden_size = 64,
         .num_hidden_layers = 4, .intermediate_size = 96, .num_attention_heads = 4, .num_key_value_heads = 2,
         .head_dim = 32, .rope_theta = 1e6, .rotary_dim = 8, .mrope_section = {2, 1, 1}, .mrope_interleaved = true,
         .max_position_embeddings = 32768, .linear_key_head_dim = 16, .linear_value_head_dim = 24,
         .linear_num_key_heads = 2, .linear_num_value_heads = 4, .layer_types = interval_types(4, 4),
         .layer_is_moe = dense4, .tie_word_embeddings = false, .eos_token_ids = {7}, .bos_token_id = 6},
        {.file = "hf_qwen3_5_moe.json", .architecture = "Qwen3_5MoeForConditionalGeneration",
         .model_type = "qwen3_5_moe", .text_model_type = "qwen3_5_moe_text", .nested = true, .is_moe = true,
         .vocab_size = 320, .hidden_size = 64, .num_hidden_layers = 4, .intermediate_size = 0, .num_attention_heads = 4,
         .num_key_value_heads = 2, .head_dim = 32, .rope_theta = 1e6, .rotary_dim = 8, .mrope_section = {2, 1, 1},
         .mrope_interleaved = true, .max_position_embeddings = 32768, .linear_key_head_dim = 16,
         .linear_value_head_dim = 24, .linear_num_key_heads = 2, .linear_num_value_heads = 4,
         .layer_types = interval_types(4, 4), .layer_is_moe = moe4, .num_experts = 8, .num_experts_per_tok = 2,
         .moe_intermediate_size = 32, .shared_expert_intermediate_size = 48, .eos_token_ids = {7, 8}},
        {.file = "hf_qwen3_5_text.json", .architecture = "Qwen3_5ForCausalLM", .model_type = "qwen3_5_text",
         .text_model_type = "qwen3_5_text", .nested = false, .is_moe = false, .vocab_size = 320, .hidden_size = 64,
         .num_hidden_layers = 4, .intermediate_size = 96, .num_attention_heads = 4, .num_key_value_heads = 2,
         .head_dim = 32, .rope_theta = 10000.0, .rotary_dim = 8, .max_position_embeddings = 32768,
         .linear_key_head_dim = 16, .linear_value_head_dim = 24, .linear_num_key_heads = 2, .linear_num_value_heads = 4,
         .layer_types = interval_types(4, 2), .layer_is_moe = dense4, .tie_word_embeddings = true},
        {.file = "hf_qwen3_5_moe_text.json", .architecture = "Qwen3_5MoeForCausalLM", .model_type = "qwen3_5_moe_text",
         .text_model_type = "qwen3_5_moe_text", .nested = false, .is_moe = true, .vocab_size = 320, .hidden_size = 64,
         .num_hidden_layers = 4, .intermediate_size = 0, .num_attention_heads = 4, .num_key_value_heads = 2,
         .head_dim = 32, .rope_theta = 5e6, .rotary_dim = 8, .max_position_embeddings = 32768,
         .linear_key_head_dim = 16, .linear_value_head_dim = 24, .linear_num_key_heads = 2, .linear_num_value_heads = 4,
         .layer_types = interval_types(4, 4), .layer_is_moe = moe4, .num_experts = 8, .num_experts_per_tok = 2,
         .moe_intermediate_size = 32, .shared_expert_intermediate_size = 48, .eos_token_ids = {9}},
        {.file = "hf_qwen3_next.json", .architecture = "Qwen3NextForCausalLM", .model_type = "qwen3_next",
         .text_model_type = "qwen3_next", .nested = false, .is_moe = true, .vocab_size = 320, .hidden_size = 64,
         .num_hidden_layers = 4, .intermediate_size = 0, .num_attention_heads = 4, .num_key_value_heads = 2,
         .head_dim = 32, .rope_theta = 1e7, .rotary_dim = 8, .max_position_embeddings = 32768,
         .linear_key_head_dim = 16, .linear_value_head_dim = 24, .linear_num_key_heads = 2, .linear_num_value_heads = 4,
         .layer_types = interval_types(4, 4), .layer_is_moe = moe4, .num_experts = 8, .num_experts_per_tok = 2,
         .moe_intermediate_size = 32, .shared_expert_intermediate_size = 40, .norm_topk_prob = false,
         .eos_token_ids = {300}, .bos_token_id = 299},
        // decoder_sparse_step 2 + mlp_only_layers [3]: HF built MoE blocks in layers 1 and 5 only
        // (layer 3 is excluded, even layers fail (i+1) % 2 == 0).
        {.file = "hf_qwen3_next_sparse_step.json", .architecture = "Qwen3NextForCausalLM", .model_type = "qwen3_next",
         .text_model_type = "qwen3_next", .nested = false, .is_moe = true, .vocab_size = 320, .hidden_size = 64,
         .num_hidden_layers = 6, .intermediate_size = 96, .num_attention_heads = 4, .num_key_value_heads = 2,
         .head_dim = 32, .rope_theta = 10000.0, .rotary_dim = 8, .max_position_embeddings = 32768,
         .linear_key_head_dim = 16, .linear_value_head_dim = 24, .linear_num_key_heads = 2, .linear_num_value_heads = 4,
         .layer_types = interval_types(6, 3), .layer_is_moe = {false, true, false, false, false, true},
         .num_experts = 8, .num_experts_per_tok = 2, .moe_intermediate_size = 32,
         .shared_expert_intermediate_size = 40},
        // ---- released-checkpoint layouts
        {.file = "qwen3_5_27b.json", .architecture = "Qwen3_5ForConditionalGeneration", .model_type = "qwen3_5",
         .text_model_type = "qwen3_5_text", .nested = true, .is_moe = false, .vocab_size = 248320, .hidden_size = 5120,
         .num_hidden_layers = 64, .intermediate_size = 17408, .num_attention_heads = 24, .num_key_value_heads = 4,
         .head_dim = 256, .rope_theta = 1e7, .rotary_dim = 64, .mrope_section = {11, 11, 10}, .mrope_interleaved = true,
         .max_position_embeddings = 262144, .linear_key_head_dim = 128, .linear_value_head_dim = 128,
         .linear_num_key_heads = 16, .linear_num_value_heads = 48, .layer_types = interval_types(64, 4),
         .layer_is_moe = std::vector<bool>(64, false), .tie_word_embeddings = false, .eos_token_ids = {248044},
         .bos_token_id = 248044},
        // layer_types absent (from full_attention_interval), partial_rotary_factor only inside rope_parameters,
        // tie_word_embeddings only at the top level.
        {.file = "qwen3_5_35b_a3b.json", .architecture = "Qwen3_5MoeForConditionalGeneration",
         .model_type = "qwen3_5_moe", .text_model_type = "qwen3_5_moe_text", .nested = true, .is_moe = true,
         .vocab_size = 248320, .hidden_size = 2048, .num_hidden_layers = 40, .intermediate_size = 0,
         .num_attention_heads = 16, .num_key_value_heads = 2, .head_dim = 256, .rope_theta = 1e7, .rotary_dim = 64,
         .mrope_section = {11, 11, 10}, .mrope_interleaved = true, .max_position_embeddings = 262144,
         .linear_key_head_dim = 128, .linear_value_head_dim = 128, .linear_num_key_heads = 16,
         .linear_num_value_heads = 32, .layer_types = interval_types(40, 4),
         .layer_is_moe = std::vector<bool>(40, true), .num_experts = 256, .num_experts_per_tok = 8,
         .moe_intermediate_size = 512, .shared_expert_intermediate_size = 512, .eos_token_ids = {248044}},
        // Flat rope_theta / partial_rotary_factor with "rope_scaling": null (transformers 4.57 layout).
        {.file = "qwen3_next_80b_a3b.json", .architecture = "Qwen3NextForCausalLM", .model_type = "qwen3_next",
         .text_model_type = "qwen3_next", .nested = false, .is_moe = true, .vocab_size = 151936, .hidden_size = 2048,
         .num_hidden_layers = 48, .intermediate_size = 0, .num_attention_heads = 16, .num_key_value_heads = 2,
         .head_dim = 256, .rope_theta = 1e7, .rotary_dim = 64, .max_position_embeddings = 262144,
         .linear_key_head_dim = 128, .linear_value_head_dim = 128, .linear_num_key_heads = 16,
         .linear_num_value_heads = 32, .layer_types = interval_types(48, 4),
         .layer_is_moe = std::vector<bool>(48, true), .num_experts = 512, .num_experts_per_tok = 10,
         .moe_intermediate_size = 512, .shared_expert_intermediate_size = 512, .eos_token_ids = {151645},
         .bos_token_id = 151643},
    };
    // clang-format on
}

void expect_matches(const ModelConfig& c, const Expected& e) {
    EXPECT_EQ(c.architecture, e.architecture);
    EXPECT_EQ(c.model_type, e.model_type);
    EXPECT_EQ(c.text_model_type, e.text_model_type);
    EXPECT_EQ(c.nested_text_config, e.nested);
    EXPECT_EQ(c.is_moe, e.is_moe);
    EXPECT_EQ(c.vocab_size, e.vocab_size);
    EXPECT_EQ(c.hidden_size, e.hidden_size);
    EXPECT_EQ(c.num_hidden_layers, e.num_hidden_layers);
    EXPECT_EQ(c.intermediate_size, e.intermediate_size);
    EXPECT_EQ(c.rms_norm_eps, 1e-6);
    EXPECT_EQ(c.hidden_act, "silu");
    EXPECT_EQ(c.num_attention_heads, e.num_attention_heads);
    EXPECT_EQ(c.num_key_value_heads, e.num_key_value_heads);
    EXPECT_EQ(c.head_dim, e.head_dim);
    EXPECT_FALSE(c.attention_bias);
    EXPECT_TRUE(c.attn_output_gate);
    EXPECT_EQ(c.rope_theta, e.rope_theta);
    EXPECT_EQ(c.partial_rotary_factor, 0.25);
    EXPECT_EQ(c.rotary_dim, e.rotary_dim);
    EXPECT_EQ(c.mrope_section, e.mrope_section);
    EXPECT_EQ(c.mrope_interleaved, e.mrope_interleaved);
    EXPECT_EQ(c.rope_type, "default");
    EXPECT_EQ(c.max_position_embeddings, e.max_position_embeddings);
    EXPECT_EQ(c.linear_conv_kernel_dim, 4);
    EXPECT_EQ(c.linear_key_head_dim, e.linear_key_head_dim);
    EXPECT_EQ(c.linear_value_head_dim, e.linear_value_head_dim);
    EXPECT_EQ(c.linear_num_key_heads, e.linear_num_key_heads);
    EXPECT_EQ(c.linear_num_value_heads, e.linear_num_value_heads);
    EXPECT_EQ(c.layer_types, e.layer_types);
    EXPECT_EQ(c.layer_is_moe, e.layer_is_moe);
    EXPECT_EQ(c.num_experts, e.num_experts);
    EXPECT_EQ(c.num_experts_per_tok, e.num_experts_per_tok);
    EXPECT_EQ(c.moe_intermediate_size, e.moe_intermediate_size);
    EXPECT_EQ(c.shared_expert_intermediate_size, e.shared_expert_intermediate_size);
    EXPECT_EQ(c.norm_topk_prob, e.norm_topk_prob);
    EXPECT_EQ(c.tie_word_embeddings, e.tie_word_embeddings);
    EXPECT_EQ(c.eos_token_ids, e.eos_token_ids);
    EXPECT_EQ(c.bos_token_id, e.bos_token_id);
    EXPECT_EQ(c.pad_token_id, -1);
}

TEST(HfConfig, ParsesEveryFixture) {
    for (const Expected& e : fixture_table()) {
        SCOPED_TRACE(e.file);
        expect_matches(parse(load_fixture(e.file)), e);
    }
}

TEST(HfConfig, LoadModelConfigReadsConfigJsonFromDirectory) {
    for (const Expected& e : fixture_table()) {
        SCOPED_TRACE(e.file);
        const auto dir = test::make_temp_dir("hf_config");
        std::filesystem::copy_file(fixture_path(e.file), dir / "config.json");
        expect_matches(load_model_config(dir), e);
        std::filesystem::remove_all(dir);
    }
}

TEST(HfConfig, LoadModelConfigErrorsNameTheFile) {
    const auto dir = test::make_temp_dir("hf_config_err");
    const std::string path = (dir / "config.json").string();  // outlives the macro's list of C strings
    EXPECT_ERROR_CONTAINS(load_model_config(dir), "cannot open", path.c_str());
    test::write_text(dir / "config.json", "{\"architectures\": [");
    EXPECT_ERROR_CONTAINS(load_model_config(dir), "invalid JSON", path.c_str());
    // Errors from parsing name the file path, not "config.json" in the abstract.
    json j = load_fixture("hf_qwen3_5.json");
    j["text_config"].erase("vocab_size");
    test::write_text(dir / "config.json", j.dump());
    EXPECT_ERROR_CONTAINS(load_model_config(dir), path.c_str(), "text_config.vocab_size");
    std::filesystem::remove_all(dir);
}

TEST(HfConfig, DerivedQuantities) {
    const ModelConfig c = parse(load_fixture("qwen3_5_27b.json"));
    EXPECT_EQ(c.linear_key_dim(), 16 * 128);
    EXPECT_EQ(c.linear_value_dim(), 48 * 128);
    EXPECT_EQ(c.linear_conv_dim(), 2 * 16 * 128 + 48 * 128);
    EXPECT_EQ(c.num_full_attention_layers(), 16);
    EXPECT_EQ(c.num_linear_attention_layers(), 48);
    EXPECT_EQ(layer_type_name(LayerType::LinearAttention), "linear_attention");
    EXPECT_EQ(layer_type_name(LayerType::FullAttention), "full_attention");
}

// ---------------------------------------------------------------- architectures and model types

TEST(HfConfig, SupportedArchitecturesAreTheFiveFamilies) {
    const std::vector<std::string> want = {"Qwen3_5ForConditionalGeneration", "Qwen3_5MoeForConditionalGeneration",
                                           "Qwen3_5ForCausalLM", "Qwen3_5MoeForCausalLM", "Qwen3NextForCausalLM"};
    EXPECT_EQ(supported_architectures(), want);
}

TEST(HfConfig, UnknownArchitectureListsSupportedOnes) {
    json j = load_fixture("hf_qwen3_5_text.json");
    j["architectures"] = {"LlamaForCausalLM"};
    EXPECT_ERROR_CONTAINS(parse(j), "test.json", "unsupported architecture \"LlamaForCausalLM\"",
                          "Qwen3_5ForConditionalGeneration", "Qwen3_5MoeForConditionalGeneration", "Qwen3_5ForCausalLM",
                          "Qwen3_5MoeForCausalLM", "Qwen3NextForCausalLM");
    j.erase("architectures");
    EXPECT_ERROR_CONTAINS(parse(j), "architectures is missing", "Qwen3NextForCausalLM");
    j["architectures"] = json::array();
    EXPECT_ERROR_CONTAINS(parse(j), "architectures is empty", "Qwen3NextForCausalLM");
    j["architectures"] = "Qwen3_5ForCausalLM";
    EXPECT_ERROR_CONTAINS(parse(j), "field architectures must be an array of strings, got string");
    EXPECT_ERROR_CONTAINS(parse(json::array()), "test.json", "JSON object");
}

TEST(HfConfig, ModelTypeMustMatchArchitecture) {
    struct Case {
        std::string file, arch, where, model_type, expect;
    };
    const std::vector<Case> cases = {
        // MoE architecture over a dense text model
        {"hf_qwen3_5_text.json", "Qwen3_5MoeForCausalLM", "", "", "\"qwen3_5_moe_text\""},
        // dense architecture over a MoE model
        {"hf_qwen3_5_moe_text.json", "Qwen3_5ForCausalLM", "", "", "\"qwen3_5_text\""},
        // wrapper and text_config disagree
        {"hf_qwen3_5.json", "", "text_config", "qwen3_5_moe_text", "\"qwen3_5_text\""},
        {"hf_qwen3_5_moe.json", "", "", "qwen3_5", "\"qwen3_5_moe\""},
        {"hf_qwen3_next.json", "", "", "qwen3_5_text", "\"qwen3_next\""},
    };
    for (const Case& k : cases) {
        SCOPED_TRACE(k.file + " " + k.arch + " " + k.model_type);
        json j = load_fixture(k.file);
        if (!k.arch.empty()) j["architectures"] = {k.arch};
        if (!k.model_type.empty()) (k.where.empty() ? j : j[k.where])["model_type"] = k.model_type;
        EXPECT_ERROR_CONTAINS(parse(j), "model_type", "expects", k.expect.c_str());
    }
}

TEST(HfConfig, ModelTypeMayBeAbsentOrTheLegacyWrapperNameInTextConfig) {
    json j = load_fixture("hf_qwen3_5_moe.json");
    j.erase("model_type");
    j["text_config"].erase("model_type");
    ModelConfig c = parse(j);
    EXPECT_EQ(c.model_type, "qwen3_5_moe");
    EXPECT_EQ(c.text_model_type, "qwen3_5_moe_text");
    j["text_config"]["model_type"] = "qwen3_5_moe";  // old checkpoints repeat the wrapper's type
    EXPECT_NO_THROW(parse(j));
}

TEST(HfConfig, CausalLmArchitectureWithTextConfigUsesIt) {
    json j = load_fixture("hf_qwen3_5.json");
    j["architectures"] = {"Qwen3_5ForCausalLM"};
    const ModelConfig c = parse(j);
    EXPECT_TRUE(c.nested_text_config);
    EXPECT_EQ(c.architecture, "Qwen3_5ForCausalLM");
    EXPECT_EQ(c.model_type, "qwen3_5");
    EXPECT_EQ(c.hidden_size, 64);
    EXPECT_EQ(c.mrope_section, (std::vector<int64_t>{2, 1, 1}));
}

TEST(HfConfig, NestedArchitectureRequiresTextConfigAndNextForbidsIt) {
    json flat = load_fixture("hf_qwen3_5_text.json");
    flat["architectures"] = {"Qwen3_5ForConditionalGeneration"};
    flat["model_type"] = "qwen3_5";
    EXPECT_ERROR_CONTAINS(parse(flat), "Qwen3_5ForConditionalGeneration", "text_config, which is missing");

    json next = load_fixture("hf_qwen3_next.json");
    next["text_config"] = json::object();
    EXPECT_ERROR_CONTAINS(parse(next), "Qwen3NextForCausalLM", "flat config", "text_config");

    json bad = load_fixture("hf_qwen3_5.json");
    bad["text_config"] = json::array();
    EXPECT_ERROR_CONTAINS(parse(bad), "field text_config must be an object, got array");
}

// ---------------------------------------------------------------- required fields and types

TEST(HfConfig, MissingFieldsAreListedTogether) {
    json j = load_fixture("hf_qwen3_5.json");
    for (const char* k : {"vocab_size", "hidden_size", "linear_num_value_heads", "intermediate_size"}) {
        j["text_config"].erase(k);
    }
    EXPECT_ERROR_CONTAINS(parse(j), "test.json", "missing required fields", "text_config.vocab_size",
                          "text_config.hidden_size", "text_config.linear_num_value_heads",
                          "text_config.intermediate_size", "Qwen3_5ForConditionalGeneration");

    json moe = load_fixture("hf_qwen3_5_moe_text.json");
    for (const char* k : {"num_key_value_heads", "num_experts", "num_experts_per_tok", "moe_intermediate_size"}) {
        moe.erase(k);
    }
    EXPECT_ERROR_CONTAINS(parse(moe), "missing required fields", "num_key_value_heads", "num_experts,",
                          "num_experts_per_tok", "moe_intermediate_size");

    json one = load_fixture("hf_qwen3_5_text.json");
    one.erase("linear_key_head_dim");
    EXPECT_ERROR_CONTAINS(parse(one), "missing required field linear_key_head_dim");
}

TEST(HfConfig, ConditionallyRequiredFields) {
    // The MoE text config has no intermediate_size (HF deletes it); a Qwen3.5 dense config needs no MoE fields.
    EXPECT_NO_THROW(parse(load_fixture("hf_qwen3_5_moe.json")));
    json dense = load_fixture("hf_qwen3_5_text.json");
    dense.erase("intermediate_size");
    EXPECT_ERROR_CONTAINS(parse(dense), "missing required field intermediate_size");

    // Qwen3-Next: intermediate_size is needed only when some layer is dense.
    json all_moe = load_fixture("hf_qwen3_next.json");
    all_moe.erase("intermediate_size");
    EXPECT_EQ(parse(all_moe).intermediate_size, 0);
    json sparse = load_fixture("hf_qwen3_next_sparse_step.json");
    sparse.erase("intermediate_size");
    EXPECT_ERROR_CONTAINS(parse(sparse), "missing required field intermediate_size");
    // ... and num_experts decides whether it is MoE at all (HF's default of 512 is not assumed).
    json next = load_fixture("hf_qwen3_next.json");
    next.erase("num_experts");
    next.erase("num_hidden_layers");
    EXPECT_ERROR_CONTAINS(parse(next), "missing required fields num_hidden_layers, num_experts");
}

TEST(HfConfig, TypeErrorsNameTheField) {
    struct Case {
        std::string key;
        json value;
        std::string expect;
    };
    const std::vector<Case> cases = {
        {"hidden_size", "64", "field text_config.hidden_size must be an integer, got string"},
        {"hidden_size", 64.5, "field text_config.hidden_size must be an integer, got float"},
        {"vocab_size", nullptr, "field text_config.vocab_size must be an integer, got null"},
        {"num_hidden_layers", true, "field text_config.num_hidden_layers must be an integer, got boolean"},
        {"rms_norm_eps", "1e-6", "field text_config.rms_norm_eps must be a number, got string"},
        {"tie_word_embeddings", 1, "field text_config.tie_word_embeddings must be a boolean, got integer"},
        {"hidden_act", 1, "field text_config.hidden_act must be a string, got integer"},
        {"head_dim", nullptr, "field text_config.head_dim must be an integer, got null"},
        {"eos_token_id", "x", "field text_config.eos_token_id must be an integer or an array of integers"},
        {"eos_token_id", json::array({1, "x"}), "field text_config.eos_token_id[1] must be an integer, got string"},
        {"layer_types", "full_attention", "field text_config.layer_types must be an array of strings, got string"},
        {"rope_parameters", 5, "field text_config.rope_parameters must be an object, got integer"},
        {"model_type", 3, "field text_config.model_type must be a string, got integer"},
    };
    for (const Case& k : cases) {
        SCOPED_TRACE(k.key + " = " + k.value.dump());
        json j = load_fixture("hf_qwen3_5.json");
        j["text_config"][k.key] = k.value;
        EXPECT_ERROR_CONTAINS(parse(j), "test.json: ", k.expect.c_str());
    }
}

TEST(HfConfig, SizesMustBePositiveAndDivisible) {
    struct Case {
        std::string key;
        int64_t value;
        std::string expect;
    };
    const std::vector<Case> cases = {
        {"hidden_size", 0, "field hidden_size must be positive, got 0"},
        {"head_dim", -2, "field head_dim must be positive, got -2"},
        {"linear_conv_kernel_dim", 0, "field linear_conv_kernel_dim must be positive"},
        // HV % HK != 0 (HK = 2)
        {"linear_num_value_heads", 5, "linear_num_value_heads (5) must be a multiple of linear_num_key_heads (2)"},
        // Hq % Hkv != 0 (Hq = 4)
        {"num_key_value_heads", 3, "num_attention_heads (4) must be a multiple of num_key_value_heads (3)"},
    };
    for (const Case& k : cases) {
        SCOPED_TRACE(k.key);
        json j = load_fixture("hf_qwen3_5_text.json");
        j[k.key] = k.value;
        EXPECT_ERROR_CONTAINS(parse(j), k.expect.c_str());
    }
}

TEST(HfConfig, UnsupportedFeaturesAreRejected) {
    json j = load_fixture("hf_qwen3_5.json");
    j["text_config"]["hidden_act"] = "gelu";
    EXPECT_ERROR_CONTAINS(parse(j), "text_config.hidden_act", "\"gelu\"", "silu");

    j = load_fixture("hf_qwen3_5.json");
    j["text_config"]["attention_bias"] = true;
    EXPECT_ERROR_CONTAINS(parse(j), "text_config.attention_bias");

    j = load_fixture("hf_qwen3_5.json");
    j["text_config"]["attn_output_gate"] = false;
    EXPECT_ERROR_CONTAINS(parse(j), "text_config.attn_output_gate");
    j["text_config"]["attn_output_gate"] = true;  // what the real checkpoints carry
    EXPECT_TRUE(parse(j).attn_output_gate);
}

TEST(HfConfig, DefaultsMatchTransformers) {
    json j = load_fixture("hf_qwen3_next.json");
    for (const char* k :
         {"rms_norm_eps", "linear_conv_kernel_dim", "max_position_embeddings", "hidden_act", "attention_bias",
          "head_dim", "shared_expert_intermediate_size", "norm_topk_prob", "rope_parameters", "partial_rotary_factor",
          "layer_types", "tie_word_embeddings", "decoder_sparse_step", "mlp_only_layers"}) {
        j.erase(k);
    }
    const ModelConfig c = parse(j);
    EXPECT_EQ(c.rms_norm_eps, 1e-6);
    EXPECT_EQ(c.linear_conv_kernel_dim, 4);
    EXPECT_EQ(c.max_position_embeddings, 32768);
    EXPECT_EQ(c.hidden_act, "silu");
    EXPECT_FALSE(c.attention_bias);
    EXPECT_EQ(c.head_dim, 256);  // HF class default, not hidden_size / num_attention_heads (= 16 here)
    EXPECT_EQ(c.shared_expert_intermediate_size, 512);
    EXPECT_TRUE(c.norm_topk_prob);
    EXPECT_EQ(c.rope_theta, 10000.0);
    EXPECT_EQ(c.partial_rotary_factor, 0.25);
    EXPECT_EQ(c.rotary_dim, 64);
    EXPECT_EQ(c.layer_types, interval_types(4, 4));
    EXPECT_EQ(c.layer_is_moe, std::vector<bool>(4, true));
    EXPECT_FALSE(c.tie_word_embeddings);
}

// ---------------------------------------------------------------- hybrid schedule

TEST(HfConfig, LayerTypesFromIntervalWhenAbsent) {
    json j = load_fixture("hf_qwen3_5.json");
    j["text_config"].erase("layer_types");
    EXPECT_EQ(parse(j).layer_types, interval_types(4, 4));  // default interval 4
    j["text_config"]["full_attention_interval"] = 3;
    ModelConfig c = parse(j);
    EXPECT_EQ(c.layer_types, (std::vector<LayerType>{kLin, kLin, kFull, kLin}));
    EXPECT_EQ(c.num_full_attention_layers(), 1);
    EXPECT_EQ(c.num_linear_attention_layers(), 3);
    j["text_config"]["layer_types"] = nullptr;  // HF writes null when unset
    EXPECT_EQ(parse(j).layer_types, interval_types(4, 3));
    j["text_config"]["full_attention_interval"] = 0;
    EXPECT_ERROR_CONTAINS(parse(j), "full_attention_interval must be positive");
}

TEST(HfConfig, ExplicitLayerTypesWin) {
    json j = load_fixture("hf_qwen3_5.json");
    j["text_config"]["layer_types"] = {"full_attention", "linear_attention", "linear_attention", "full_attention"};
    EXPECT_EQ(parse(j).layer_types, (std::vector<LayerType>{kFull, kLin, kLin, kFull}));
    // transformers remaps legacy names (remap_legacy_layer_types).
    j["text_config"]["layer_types"] = {"mamba", "attention", "linear_attention", "full_attention"};
    EXPECT_EQ(parse(j).layer_types, (std::vector<LayerType>{kLin, kFull, kLin, kFull}));
}

TEST(HfConfig, BadLayerTypes) {
    json j = load_fixture("hf_qwen3_5.json");
    j["text_config"]["layer_types"] = {"linear_attention", "linear_attention", "sliding_attention", "full_attention"};
    EXPECT_ERROR_CONTAINS(parse(j), "text_config.layer_types[2]", "\"sliding_attention\"");
    j["text_config"]["layer_types"] = {"linear_attention", 7, "linear_attention", "full_attention"};
    EXPECT_ERROR_CONTAINS(parse(j), "text_config.layer_types[1] must be a string, got integer");
    j["text_config"]["layer_types"] = {"linear_attention", "linear_attention", "full_attention"};
    EXPECT_ERROR_CONTAINS(parse(j), "text_config.layer_types has 3 entries", "text_config.num_hidden_layers is 4");
}

TEST(HfConfig, LayerTypesMustAgreeWithExplicitInterval) {
    // The real checkpoints carry both; SGLang reads the interval and HF the list.
    json j = load_fixture("qwen3_5_27b.json");
    EXPECT_NO_THROW(parse(j));
    j["text_config"]["layer_types"][3] = "linear_attention";
    EXPECT_ERROR_CONTAINS(parse(j), "text_config.layer_types disagrees with text_config.full_attention_interval = 4",
                          "index 3");
}

TEST(HfConfig, Qwen3NextSparseStepAndMlpOnlyLayers) {
    json j = load_fixture("hf_qwen3_next_sparse_step.json");
    // Variations of the HF rule: sparse iff i not in mlp_only_layers and E > 0 and (i+1) % step == 0.
    j["decoder_sparse_step"] = 3;
    j["mlp_only_layers"] = {2};
    ModelConfig c = parse(j);
    EXPECT_EQ(c.layer_is_moe, (std::vector<bool>{false, false, false, false, false, true}));
    EXPECT_TRUE(c.is_moe);
    EXPECT_EQ(c.intermediate_size, 96);

    j["decoder_sparse_step"] = 1;
    j["mlp_only_layers"] = json::array();
    c = parse(j);
    EXPECT_EQ(c.layer_is_moe, std::vector<bool>(6, true));
    EXPECT_EQ(c.intermediate_size, 0);  // no dense layer uses it

    // num_experts 0 -> a dense model; MoE fields are not needed and read as 0.
    j = load_fixture("hf_qwen3_next_sparse_step.json");
    j["num_experts"] = 0;
    j.erase("num_experts_per_tok");
    j.erase("moe_intermediate_size");
    c = parse(j);
    EXPECT_FALSE(c.is_moe);
    EXPECT_EQ(c.layer_is_moe, std::vector<bool>(6, false));
    EXPECT_EQ(c.num_experts, 0);
    EXPECT_EQ(c.shared_expert_intermediate_size, 0);
    EXPECT_EQ(c.intermediate_size, 96);

    j = load_fixture("hf_qwen3_next_sparse_step.json");
    j["mlp_only_layers"] = {6};  // a 1-based index would look like this
    EXPECT_ERROR_CONTAINS(parse(j), "mlp_only_layers[0] = 6", "[0, 6)");
    j["mlp_only_layers"] = {"3"};
    EXPECT_ERROR_CONTAINS(parse(j), "field mlp_only_layers[0] must be an integer, got string");
    j["mlp_only_layers"] = nullptr;
    EXPECT_NO_THROW(parse(j));
    j["decoder_sparse_step"] = 0;
    EXPECT_ERROR_CONTAINS(parse(j), "field decoder_sparse_step must be positive");
}

TEST(HfConfig, MoeChecks) {
    json j = load_fixture("hf_qwen3_5_moe_text.json");
    j["num_experts_per_tok"] = 9;
    EXPECT_ERROR_CONTAINS(parse(j), "num_experts_per_tok (9) must not exceed num_experts (8)");
    j = load_fixture("hf_qwen3_5_moe_text.json");
    j["moe_intermediate_size"] = 0;
    EXPECT_ERROR_CONTAINS(parse(j), "field moe_intermediate_size must be positive");
    j = load_fixture("hf_qwen3_5_moe_text.json");
    j["shared_expert_intermediate_size"] = 0;  // no shared expert
    EXPECT_EQ(parse(j).shared_expert_intermediate_size, 0);
    j.erase("shared_expert_intermediate_size");
    EXPECT_EQ(parse(j).shared_expert_intermediate_size, 512);
}

TEST(HfConfig, Qwen35MoeRejectsFieldsHfIgnoresButOtherEnginesHonour) {
    json j = load_fixture("hf_qwen3_5_moe.json");
    j["text_config"]["norm_topk_prob"] = true;  // agrees with HF's unconditional renormalisation
    j["text_config"]["mlp_only_layers"] = json::array();
    j["text_config"]["decoder_sparse_step"] = 1;
    ModelConfig c = parse(j);
    EXPECT_TRUE(c.norm_topk_prob);
    EXPECT_EQ(c.layer_is_moe, std::vector<bool>(4, true));

    j["text_config"]["norm_topk_prob"] = false;
    EXPECT_ERROR_CONTAINS(parse(j), "text_config.norm_topk_prob must be true");
    j["text_config"].erase("norm_topk_prob");
    j["text_config"]["mlp_only_layers"] = {1};
    EXPECT_ERROR_CONTAINS(parse(j), "text_config.mlp_only_layers must be empty");
    j["text_config"].erase("mlp_only_layers");
    j["text_config"]["decoder_sparse_step"] = 2;
    EXPECT_ERROR_CONTAINS(parse(j), "text_config.decoder_sparse_step must be 1");
}

// ---------------------------------------------------------------- RoPE

TEST(HfConfig, RopeFromFlatFieldsOnly) {
    json j = load_fixture("hf_qwen3_5_text.json");
    j.erase("rope_parameters");
    j["rope_theta"] = 500000;  // an integer, as real configs write it
    j["partial_rotary_factor"] = 0.5;
    const ModelConfig c = parse(j);
    EXPECT_EQ(c.rope_theta, 500000.0);
    EXPECT_EQ(c.partial_rotary_factor, 0.5);
    EXPECT_EQ(c.rotary_dim, 16);
    EXPECT_EQ(c.rope_type, "default");
}

TEST(HfConfig, RopeFromDictOnly) {
    json j = load_fixture("hf_qwen3_5.json");
    j["text_config"].erase("partial_rotary_factor");
    j["text_config"]["rope_parameters"] = {
        {"rope_type", "default"}, {"rope_theta", 2e6}, {"partial_rotary_factor", 0.5}, {"mrope_section", {4, 2, 2}}};
    const ModelConfig c = parse(j);
    EXPECT_EQ(c.rope_theta, 2e6);
    EXPECT_EQ(c.rotary_dim, 16);
    EXPECT_EQ(c.mrope_section, (std::vector<int64_t>{4, 2, 2}));
    EXPECT_FALSE(c.mrope_interleaved);
}

TEST(HfConfig, RopeDefaultsWhenAbsentEverywhere) {
    json j = load_fixture("hf_qwen3_5.json");
    j["text_config"].erase("partial_rotary_factor");
    j["text_config"].erase("rope_parameters");
    const ModelConfig c = parse(j);
    EXPECT_EQ(c.rope_theta, 10000.0);
    EXPECT_EQ(c.partial_rotary_factor, 0.25);
    EXPECT_EQ(c.rotary_dim, 8);
    EXPECT_TRUE(c.mrope_section.empty());
}

TEST(HfConfig, RopeDictWinsOverFlatFieldsAsInTransformers) {
    // transformers 5.17 save_pretrained writes a flat partial_rotary_factor 0.25 next to rope_parameters even when
    // they differ, and uses rope_parameters (tests/golden/data/dense_text_prefix). The flat fields are fallbacks.
    json j = load_fixture("hf_qwen3_5.json");
    j["text_config"]["rope_theta"] = 10000.0;  // rope_parameters says 1e6
    EXPECT_EQ(parse(j).rope_theta, 1e6);

    j = load_fixture("hf_qwen3_5.json");
    j["text_config"]["partial_rotary_factor"] = 0.5;  // rope_parameters says 0.25
    EXPECT_EQ(parse(j).partial_rotary_factor, 0.25);
}

TEST(HfConfig, RopeDictsThatDisagreeNameBothPlaces) {
    json j = load_fixture("hf_qwen3_5.json");
    j["text_config"]["rope_scaling"] = {{"rope_type", "default"}, {"rope_theta", 3e6}};
    EXPECT_ERROR_CONTAINS(parse(j), "test.json", "text_config.rope_parameters.rope_theta",
                          "text_config.rope_scaling.rope_theta");
}

TEST(HfConfig, LegacyRopeScaling) {
    json j = load_fixture("hf_qwen3_5_text.json");
    j.erase("rope_parameters");
    j["rope_scaling"] = {{"type", "default"}, {"rope_theta", 3e6}, {"partial_rotary_factor", 0.25}};
    EXPECT_EQ(parse(j).rope_theta, 3e6);
    j["rope_scaling"] = nullptr;  // as in the Qwen3-Next release
    EXPECT_EQ(parse(j).rope_theta, 10000.0);
}

TEST(HfConfig, PerLayerTypeRopeParameters) {
    json j = load_fixture("hf_qwen3_5_text.json");
    j["rope_parameters"] = {{"full_attention", {{"rope_type", "default"}, {"rope_theta", 7e5}}}};
    EXPECT_EQ(parse(j).rope_theta, 7e5);
}

TEST(HfConfig, UnsupportedRopeType) {
    json j = load_fixture("hf_qwen3_5.json");
    j["text_config"]["rope_parameters"]["rope_type"] = "yarn";
    j["text_config"]["rope_parameters"]["factor"] = 4.0;
    EXPECT_ERROR_CONTAINS(parse(j), "unsupported rope_type \"yarn\"", "text_config.rope_parameters.rope_type");

    j = load_fixture("hf_qwen3_5_text.json");
    j.erase("rope_parameters");
    j["rope_scaling"] = {{"type", "mrope"}, {"mrope_section", {2, 1, 1}}};
    EXPECT_ERROR_CONTAINS(parse(j), "unsupported rope_type \"mrope\"", "rope_scaling.type");

    j = load_fixture("hf_qwen3_5_text.json");
    j["rope_parameters"]["type"] = "linear";  // disagrees with rope_type "default"
    EXPECT_ERROR_CONTAINS(parse(j), "rope_parameters.rope_type", "rope_parameters.type");
}

TEST(HfConfig, RotaryDimChecks) {
    json j = load_fixture("hf_qwen3_5.json");
    j["text_config"]["rope_parameters"]["mrope_section"] = {2, 2, 2};
    EXPECT_ERROR_CONTAINS(parse(j), "text_config.rope_parameters.mrope_section sums to 6", "rotary dim 8");
    j["text_config"]["rope_parameters"]["mrope_section"] = {2, -1, 3};
    EXPECT_ERROR_CONTAINS(parse(j), "mrope_section[1] must be a non-negative integer");

    j = load_fixture("hf_qwen3_5_text.json");
    j["partial_rotary_factor"] = 0.09375;  // int(32 * 0.09375) = 3: odd
    j["rope_parameters"]["partial_rotary_factor"] = 0.09375;
    EXPECT_ERROR_CONTAINS(parse(j), "= 3 must be even");
    j["partial_rotary_factor"] = 1.5;
    j["rope_parameters"]["partial_rotary_factor"] = 1.5;
    EXPECT_ERROR_CONTAINS(parse(j), "partial_rotary_factor must be in (0, 1]");
    j["partial_rotary_factor"] = 1.0;
    j["rope_parameters"]["partial_rotary_factor"] = 1.0;
    EXPECT_EQ(parse(j).rotary_dim, 32);
    j["rope_parameters"]["partial_rotary_factor"] = nullptr;
    EXPECT_ERROR_CONTAINS(parse(j), "rope_parameters.partial_rotary_factor must not be null");
}

// ---------------------------------------------------------------- embeddings and special tokens

TEST(HfConfig, TieWordEmbeddingsAtEitherLevel) {
    struct Case {
        json top, text;  // null = absent
        bool want;
    };
    const std::vector<Case> cases = {
        {nullptr, nullptr, false}, {true, nullptr, true}, {nullptr, true, true},
        // Both present and different: the multimodal wrapper (architectures[0]) ties by the top level, as HF does.
        {false, true, false},      {true, false, true},   {true, true, true},
    };
    for (const Case& k : cases) {
        SCOPED_TRACE("top=" + k.top.dump() + " text=" + k.text.dump());
        json j = load_fixture("hf_qwen3_5.json");
        j.erase("tie_word_embeddings");
        j["text_config"].erase("tie_word_embeddings");
        if (!k.top.is_null()) j["tie_word_embeddings"] = k.top;
        if (!k.text.is_null()) j["text_config"]["tie_word_embeddings"] = k.text;
        EXPECT_EQ(parse(j).tie_word_embeddings, k.want);
    }
}

TEST(HfConfig, EosTokenIdsIntOrListAtEitherLevel) {
    json j = load_fixture("hf_qwen3_5.json");  // text_config eos 7
    j["eos_token_id"] = {8, 7, 9, 8};
    EXPECT_EQ(parse(j).eos_token_ids, (std::vector<int64_t>{7, 8, 9}));

    j["text_config"]["eos_token_id"] = nullptr;
    j["eos_token_id"] = 11;
    EXPECT_EQ(parse(j).eos_token_ids, (std::vector<int64_t>{11}));

    j["text_config"]["eos_token_id"] = {5, 5, 6};
    j.erase("eos_token_id");
    EXPECT_EQ(parse(j).eos_token_ids, (std::vector<int64_t>{5, 6}));

    j["text_config"]["eos_token_id"] = json::array();
    EXPECT_TRUE(parse(j).eos_token_ids.empty());
    j["text_config"]["eos_token_id"] = -3;
    EXPECT_ERROR_CONTAINS(parse(j), "eos_token_id must be non-negative");
}

TEST(HfConfig, BosAndPadAtEitherLevel) {
    json j = load_fixture("hf_qwen3_5.json");  // text_config bos 6, pad null
    j["bos_token_id"] = 1;
    j["pad_token_id"] = 2;
    ModelConfig c = parse(j);
    EXPECT_EQ(c.bos_token_id, 6);  // text_config wins
    EXPECT_EQ(c.pad_token_id, 2);  // only at the top level
    j["text_config"].erase("bos_token_id");
    EXPECT_EQ(parse(j).bos_token_id, 1);
    j["pad_token_id"] = "x";
    EXPECT_ERROR_CONTAINS(parse(j), "field pad_token_id must be an integer, got string");
}

}  // namespace
}  // namespace qinfer
