#include "io/generation_config.h"

#include "core/check.h"
#include "test_util.h"

namespace qinfer::test {
namespace {

TEST(GenerationConfig, MissingFileIsEmpty) {
    const auto dir = make_temp_dir("gencfg_none");
    const GenerationConfig g = load_generation_config(dir);
    EXPECT_TRUE(g.eos_token_ids.empty());
    EXPECT_FALSE(g.temperature.has_value());
}

TEST(GenerationConfig, ReadsQwenStyleFile) {
    // As shipped with Qwen3 instruct models.
    const auto dir = make_temp_dir("gencfg_qwen");
    write_text(dir / "generation_config.json",
               R"({"bos_token_id": 151643, "do_sample": true, "eos_token_id": [151645, 151643],
                   "pad_token_id": 151643, "temperature": 0.6, "top_k": 20, "top_p": 0.95,
                   "transformers_version": "4.51.0"})");
    const GenerationConfig g = load_generation_config(dir);
    EXPECT_EQ(g.eos_token_ids, (std::vector<int64_t>{151645, 151643}));
    EXPECT_EQ(g.do_sample, true);
    EXPECT_DOUBLE_EQ(*g.temperature, 0.6);
    EXPECT_EQ(g.top_k, 20);
    EXPECT_DOUBLE_EQ(*g.top_p, 0.95);
    EXPECT_FALSE(g.max_new_tokens.has_value());
}

TEST(GenerationConfig, ScalarEosAndErrors) {
    const auto dir = make_temp_dir("gencfg_err");
    write_text(dir / "generation_config.json", R"({"eos_token_id": 7})");
    EXPECT_EQ(load_generation_config(dir).eos_token_ids, (std::vector<int64_t>{7}));
    write_text(dir / "generation_config.json", R"({"eos_token_id": "x"})");
    EXPECT_ERROR_CONTAINS(load_generation_config(dir), "generation_config.json", "eos_token_id");
    write_text(dir / "generation_config.json", R"({"top_k": 1.5})");
    EXPECT_ERROR_CONTAINS(load_generation_config(dir), "generation_config.json", "top_k");
    write_text(dir / "generation_config.json", R"({"top_k": )");
    EXPECT_ERROR_CONTAINS(load_generation_config(dir), "generation_config.json", "invalid JSON");
}

}  // namespace
}  // namespace qinfer::test
