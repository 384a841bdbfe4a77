// qinfer synth's presets and config edits: every preset parses into the ModelConfig of the released model
// (shared/docs/qwen3_5_architecture.md §1.4 / §4), --layers and --set keep the file self-consistent, bad input names
// the problem. No weights are written here.

#include <algorithm>

#include <gtest/gtest.h>

#include "synth/presets.h"
#include "synth/sharded_writer.h"
#include "synth/synth.h"
#include "synth/synth_config.h"
#include "test_util.h"

namespace qinfer::test {
namespace {

using synth::make_synth_config;

struct Expected {
    const char* preset;
    const char* architecture;
    int64_t layers, hidden, ffn, hq, hkv, hv, experts, topk, moe_ffn, shared_ffn, vocab;
    bool tied;
};

// §1.4 table (Qwen3.5) and the Qwen3-Next-80B-A3B config (§4: vocab 151936, 512 experts, top-10).
constexpr Expected kExpected[] = {
    {"qwen3.5-0.8b", "Qwen3_5ForConditionalGeneration", 24, 1024, 3584, 8, 2, 16, 0, 0, 0, 0, 248320, true},
    {"qwen3.5-2b", "Qwen3_5ForConditionalGeneration", 24, 2048, 6144, 8, 2, 16, 0, 0, 0, 0, 248320, true},
    {"qwen3.5-4b", "Qwen3_5ForConditionalGeneration", 32, 2560, 9216, 16, 4, 32, 0, 0, 0, 0, 248320, true},
    {"qwen3.5-9b", "Qwen3_5ForConditionalGeneration", 32, 4096, 12288, 16, 4, 32, 0, 0, 0, 0, 248320, false},
    {"qwen3.5-27b", "Qwen3_5ForConditionalGeneration", 64, 5120, 17408, 24, 4, 48, 0, 0, 0, 0, 248320, false},
    {"qwen3.5-35b-a3b", "Qwen3_5MoeForConditionalGeneration", 40, 2048, 0, 16, 2, 32, 256, 8, 512, 512, 248320, false},
    {"qwen3.5-122b-a10b", "Qwen3_5MoeForConditionalGeneration", 48, 3072, 0, 32, 2, 64, 256, 8, 1024, 1024, 248320,
     false},
    {"qwen3-next-80b-a3b", "Qwen3NextForCausalLM", 48, 2048, 5120, 16, 2, 32, 512, 10, 512, 512, 151936, false},
};

TEST(SynthConfig, EveryPresetParsesToTheReleasedModel) {
    ASSERT_EQ(synth::preset_names().size(), std::size(kExpected));
    for (const Expected& e : kExpected) {
        SCOPED_TRACE(e.preset);
        const ModelConfig c = make_synth_config(e.preset, 0, {}).config;
        EXPECT_EQ(c.architecture, e.architecture);
        EXPECT_EQ(c.num_hidden_layers, e.layers);
        EXPECT_EQ(c.hidden_size, e.hidden);
        EXPECT_EQ(c.num_attention_heads, e.hq);
        EXPECT_EQ(c.num_key_value_heads, e.hkv);
        EXPECT_EQ(c.linear_num_value_heads, e.hv);
        EXPECT_EQ(c.num_experts, e.experts);
        EXPECT_EQ(c.num_experts_per_tok, e.topk);
        EXPECT_EQ(c.vocab_size, e.vocab);
        EXPECT_EQ(c.tie_word_embeddings, e.tied);
        if (e.experts > 0) {
            EXPECT_EQ(c.moe_intermediate_size, e.moe_ffn);
            EXPECT_EQ(c.shared_expert_intermediate_size, e.shared_ffn);
            EXPECT_TRUE(std::all_of(c.layer_is_moe.begin(), c.layer_is_moe.end(), [](bool b) { return b; }));
        } else {
            EXPECT_EQ(c.intermediate_size, e.ffn);
            EXPECT_FALSE(c.is_moe);
        }
        // Common to every preset (§1.4): head_dim 256, rotary 64, GDN HK 16 x 128, conv 4, 3 GDN : 1 attention.
        EXPECT_EQ(c.head_dim, 256);
        EXPECT_EQ(c.rotary_dim, 64);
        EXPECT_EQ(c.rope_theta, 1e7);
        EXPECT_EQ(c.linear_num_key_heads, 16);
        EXPECT_EQ(c.linear_key_head_dim, 128);
        EXPECT_EQ(c.linear_value_head_dim, 128);
        EXPECT_EQ(c.linear_conv_kernel_dim, 4);
        EXPECT_EQ(c.rms_norm_eps, 1e-6);
        for (int64_t i = 0; i < c.num_hidden_layers; ++i) {
            EXPECT_EQ(c.layer_types[static_cast<size_t>(i)],
                      (i + 1) % 4 == 0 ? LayerType::FullAttention : LayerType::LinearAttention);
        }
        EXPECT_FALSE(c.eos_token_ids.empty());
    }
}

TEST(SynthConfig, LayersCutsTheScheduleAndKeepsItsPattern) {
    // 27B lists layer_types explicitly: the list is cut, not left 64 long.
    const synth::SynthConfig s = make_synth_config("qwen3.5-27b", 5, {});
    EXPECT_EQ(s.config.num_hidden_layers, 5);
    EXPECT_EQ(s.json["text_config"]["layer_types"].size(), 5u);
    EXPECT_EQ(s.config.layer_types[3], LayerType::FullAttention);
    EXPECT_EQ(s.config.layer_types[4], LayerType::LinearAttention);
    // 35B-A3B has only full_attention_interval; Qwen3-Next is flat.
    EXPECT_EQ(make_synth_config("qwen3.5-35b-a3b", 4, {}).config.layer_types[3], LayerType::FullAttention);
    const synth::SynthConfig next = make_synth_config("qwen3-next-80b-a3b", 2, {});
    EXPECT_EQ(next.json["num_hidden_layers"], 2);
    EXPECT_EQ(next.config.num_hidden_layers, 2);
}

TEST(SynthConfig, SetReplacesIntegerFieldsConsistently) {
    const synth::SynthConfig s = make_synth_config(
        "qwen3.5-27b", 4, {{"vocab_size", 512}, {"hidden_size", 256}, {"full_attention_interval", 2}});
    EXPECT_EQ(s.config.vocab_size, 512);
    EXPECT_EQ(s.config.hidden_size, 256);
    EXPECT_EQ(s.json["vision_config"]["out_hidden_size"], 256);    // the vision merger projects into the text width
    EXPECT_EQ(s.config.layer_types[1], LayerType::FullAttention);  // layer_types rewritten from the new interval
    EXPECT_EQ(s.config.layer_types[2], LayerType::LinearAttention);
    const synth::ConfigOverride o = synth::parse_config_override("num_experts=16");
    EXPECT_EQ(o.key, "num_experts");
    EXPECT_EQ(o.value, 16);
}

TEST(SynthConfig, BadInputNamesTheProblem) {
    EXPECT_ERROR_CONTAINS(make_synth_config("qwen3.5-7b", 0, {}), "unknown preset \"qwen3.5-7b\"", "qwen3.5-0.8b",
                          "qwen3.5-35b-a3b", "qwen3-next-80b-a3b");
    EXPECT_ERROR_CONTAINS(make_synth_config("qwen3.5-35b-a3b", 41, {}), "--layers 41", "40 layers");
    EXPECT_ERROR_CONTAINS(make_synth_config("qwen3.5-35b-a3b", -1, {}), "--layers -1");
    EXPECT_ERROR_CONTAINS(make_synth_config("qwen3.5-35b-a3b", 0, {{"intermediate_size", 64}}),
                          "no integer field \"intermediate_size\"", "qwen3.5-35b-a3b");
    EXPECT_ERROR_CONTAINS(make_synth_config("qwen3.5-35b-a3b", 0, {{"num_hidden_layers", 2}}), "use --layers");
    // A value that does not make a model: qinfer's own config parser names the field.
    EXPECT_ERROR_CONTAINS(make_synth_config("qwen3.5-35b-a3b", 0, {{"linear_num_value_heads", 24}}),
                          "linear_num_value_heads");
    EXPECT_ERROR_CONTAINS(synth::parse_config_override("vocab_size"), "KEY=VALUE");
    EXPECT_ERROR_CONTAINS(synth::parse_config_override("vocab_size=1k"), "\"1k\" is not an integer");
    EXPECT_ERROR_CONTAINS(synth::parse_synth_layout("nvfp4"), "unknown --layout \"nvfp4\"", "nvfp4-all", "nvidia-nvfp4",
                          "qwen3.6-mixed", "fp8", "bf16");
}

TEST(SynthConfig, ByteSizes) {
    EXPECT_EQ(synth::parse_byte_size("5GB", "x"), 5'000'000'000u);
    EXPECT_EQ(synth::parse_byte_size("2GiB", "x"), 2ull << 30);
    EXPECT_EQ(synth::parse_byte_size("300KB", "x"), 300'000u);
    EXPECT_EQ(synth::parse_byte_size("4096", "x"), 4096u);
    EXPECT_ERROR_CONTAINS(synth::parse_byte_size("5 GB", "--max-shard-size"), "--max-shard-size \"5 GB\"");
    EXPECT_ERROR_CONTAINS(synth::parse_byte_size("0MB", "--max-shard-size"), "must be positive");
}

}  // namespace
}  // namespace qinfer::test
