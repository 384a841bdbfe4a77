// The bundled, really trained tiny models (models/tiny-qwen35-{dense,moe}, tools/train_tiny): they load, and their
// perplexity on the first 2048 tokens of the held-out sample equals what transformers computes in fp32
// (models/<name>/eval_reference.json, made by tools/train_tiny/eval_reference.py).
// Bound: 1e-4 relative. Both sides are fp32 on the same bf16 weights; the golden tests show logits agree to ~1e-5
// relative, which moves the perplexity far less.

#include <cmath>
#include <fstream>

#include <nlohmann/json.hpp>

#include "runtime/generate.h"
#include "runtime/perplexity.h"
#include "test_util.h"
#include "tokenizer/stream_decoder.h"
#include "tokenizer/tokenizer.h"

namespace qinfer::test {
namespace {

class BundledModel : public ::testing::TestWithParam<std::string> {
protected:
    std::filesystem::path model_dir() const { return source_dir() / "models" / GetParam(); }
};

TEST_P(BundledModel, HeldOutPerplexityMatchesTransformers) {
    std::ifstream ref_in(model_dir() / "eval_reference.json");
    ASSERT_TRUE(ref_in.good());
    const nlohmann::json ref = nlohmann::json::parse(ref_in);
    const tok::Tokenizer tokenizer = tok::Tokenizer::from_dir(model_dir());
    const std::string text = read_text(source_dir() / "models" / "heldout_sample.txt");
    std::vector<int64_t> ids;
    for (int32_t id : tokenizer.encode(text)) ids.push_back(id);
    ids.resize(ref["tokens"].get<size_t>());
    const auto model = Model::load(model_dir(), LoadOptions{.progress = false});
    const PerplexityResult r = evaluate_perplexity(*model, nullptr, ids, {.ctx = ref["ctx"].get<int64_t>(), .stride = 0});
    EXPECT_EQ(r.tokens_scored, ref["tokens_scored"].get<int64_t>());
    const double want = ref["perplexity"].get<double>();
    EXPECT_NEAR(r.perplexity, want, 1e-4 * want);
}

TEST_P(BundledModel, GeneratesPythonLookingText) {
    const tok::Tokenizer tokenizer = tok::Tokenizer::from_dir(model_dir());
    const auto model = Model::load(model_dir(), LoadOptions{.progress = false});
    std::vector<int64_t> prompt;
    for (int32_t id : tokenizer.encode("def fibonacci(")) prompt.push_back(id);
    GenerateOptions opt;
    opt.max_new_tokens = 24;
    const GenerateResult r = generate(*model, prompt, opt);
    std::vector<int32_t> out(r.tokens.begin(), r.tokens.end());
    const std::string text = tokenizer.decode(out, /*skip_special_tokens=*/true);
    EXPECT_EQ(r.tokens.size(), 24u);
    // A trained model continues a Python signature with identifier characters, ')' and ':' -- not noise.
    EXPECT_NE(text.find(')'), std::string::npos) << text;
    EXPECT_NE(text.find(':'), std::string::npos) << text;
}

INSTANTIATE_TEST_SUITE_P(Models, BundledModel, ::testing::Values("tiny-qwen35-dense", "tiny-qwen35-moe"));

}  // namespace
}  // namespace qinfer::test
