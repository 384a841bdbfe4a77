// Perplexity and KL against transformers' logits for the golden checkpoints.

#include <cmath>
#include <cstring>

#include "golden/golden_cases.h"
#include "io/safetensors.h"
#include "runtime/perplexity.h"
#include "test_util.h"

namespace qinfer::test {
namespace {

class Perplexity : public ::testing::Test {
protected:
    void SetUp() override {
        const auto dir = golden_dir() / "dense_text";
        if (!std::filesystem::exists(dir / "golden.safetensors")) GTEST_SKIP() << "golden data missing";
        golden_ = SafetensorsFile::open(dir / "golden.safetensors");
        const TensorInfo* t = golden_->find("input_ids");
        ids_.resize(static_cast<size_t>(t->numel()));
        std::memcpy(ids_.data(), t->bytes.data(), t->bytes.size());
        model_ = Model::load(dir);
    }
    std::shared_ptr<SafetensorsFile> golden_;
    std::vector<int64_t> ids_;
    std::unique_ptr<Model> model_;
};

TEST_F(Perplexity, OneWindowMatchesTransformersLogits) {
    // Reference: mean NLL of tokens 1..T-1 under transformers' fp32 logits.
    const Tensor logits = golden_->find("logits")->to_f32();
    const int64_t T = logits.dim(0), V = logits.dim(1);
    double nll = 0;
    for (int64_t t = 1; t < T; ++t) {
        const float* row = logits.row(t - 1);
        double mx = -INFINITY, sum = 0;
        for (int64_t v = 0; v < V; ++v) mx = std::max(mx, static_cast<double>(row[v]));
        for (int64_t v = 0; v < V; ++v) sum += std::exp(row[v] - mx);
        nll -= row[ids_[static_cast<size_t>(t)]] - mx - std::log(sum);
    }
    const double want = std::exp(nll / static_cast<double>(T - 1));
    const PerplexityResult r = evaluate_perplexity(*model_, nullptr, ids_, {.ctx = T, .stride = 0});
    EXPECT_EQ(r.tokens_scored, T - 1);
    EXPECT_NEAR(r.perplexity, want, 1e-4 * want);  // logits agree to ~1e-5 relative (golden tests)
}

TEST_F(Perplexity, WindowsScoreEachTokenOnce) {
    const int64_t T = static_cast<int64_t>(ids_.size());
    EXPECT_EQ(evaluate_perplexity(*model_, nullptr, ids_, {.ctx = 30, .stride = 0}).tokens_scored, T - 3);  // 3 windows
    EXPECT_EQ(evaluate_perplexity(*model_, nullptr, ids_, {.ctx = 30, .stride = 10}).tokens_scored, T - 1);
    EXPECT_ERROR_CONTAINS(evaluate_perplexity(*model_, nullptr, ids_, {.ctx = 1, .stride = 0}), "--ctx");
    EXPECT_ERROR_CONTAINS(evaluate_perplexity(*model_, nullptr, ids_, {.ctx = 8, .stride = 9}), "--stride");
}

TEST_F(Perplexity, ModelAgainstItselfHasZeroKlAndFullAgreement) {
    const PerplexityResult r = evaluate_perplexity(*model_, model_.get(), ids_, {.ctx = 40, .stride = 20});
    ASSERT_TRUE(r.kl.has_value());
    EXPECT_LT(r.kl->max, 1e-9);
    EXPECT_DOUBLE_EQ(r.kl->top1_agreement, 1.0);
    EXPECT_DOUBLE_EQ(*r.base_perplexity, r.perplexity);
}

}  // namespace
}  // namespace qinfer::test
