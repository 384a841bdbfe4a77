#include <cmath>
#include <vector>

#include "core/check.h"
#include "runtime/sampler.h"
#include "test_util.h"

namespace qinfer::test {
namespace {

TEST(Sampler, GreedyTakesFirstMaximum) {
    Sampler s(SamplingParams{});
    EXPECT_EQ(s.sample(std::vector<float>{0.1f, 3.0f, -1.0f, 3.0f}), 1);
    EXPECT_EQ(s.sample(std::vector<float>{-5.0f}), 0);
}

TEST(Sampler, TopKOneIsGreedy) {
    Sampler s(SamplingParams{.temperature = 1.0f, .top_k = 1, .top_p = 1.0f, .seed = 7});
    for (int i = 0; i < 50; ++i) EXPECT_EQ(s.sample(std::vector<float>{0.0f, 0.5f, 0.4f}), 1);
}

TEST(Sampler, TinyTopPIsGreedy) {
    Sampler s(SamplingParams{.temperature = 1.0f, .top_k = 0, .top_p = 1e-6f, .seed = 3});
    for (int i = 0; i < 50; ++i) EXPECT_EQ(s.sample(std::vector<float>{0.0f, 0.5f, 2.0f, 1.9f}), 2);
}

TEST(Sampler, SameSeedSameTokens) {
    const SamplingParams p{.temperature = 0.8f, .top_k = 0, .top_p = 0.95f, .seed = 1234};
    Sampler a(p), b(p);
    const std::vector<float> logits{0.1f, 0.2f, 0.3f, 0.0f, -0.1f, 0.25f};
    for (int i = 0; i < 200; ++i) EXPECT_EQ(a.sample(logits), b.sample(logits));
}

TEST(Sampler, FrequenciesFollowSoftmax) {
    // logits log(1), log(2), log(3), log(4) at temperature 1 -> probabilities 0.1, 0.2, 0.3, 0.4.
    Sampler s(SamplingParams{.temperature = 1.0f, .top_k = 0, .top_p = 1.0f, .seed = 99});
    const std::vector<float> logits{std::log(1.0f), std::log(2.0f), std::log(3.0f), std::log(4.0f)};
    std::vector<int> count(4, 0);
    const int n = 40000;
    for (int i = 0; i < n; ++i) ++count[static_cast<size_t>(s.sample(logits))];
    for (int k = 0; k < 4; ++k) {
        const double p = 0.1 * (k + 1), sd = std::sqrt(p * (1 - p) / n);
        EXPECT_NEAR(static_cast<double>(count[static_cast<size_t>(k)]) / n, p, 5 * sd) << "token " << k;
    }
}

TEST(Sampler, TopKRestrictsSupport) {
    Sampler s(SamplingParams{.temperature = 2.0f, .top_k = 2, .top_p = 1.0f, .seed = 5});
    const std::vector<float> logits{1.0f, 5.0f, 4.0f, 0.0f};
    for (int i = 0; i < 500; ++i) {
        const int64_t t = s.sample(logits);
        EXPECT_TRUE(t == 1 || t == 2) << t;
    }
}

TEST(Sampler, TopPKeepsSmallestPrefixReachingMass) {
    // probabilities 0.4, 0.3, 0.2, 0.1: top_p 0.65 keeps {0.4, 0.3}.
    Sampler s(SamplingParams{.temperature = 1.0f, .top_k = 0, .top_p = 0.65f, .seed = 11});
    const std::vector<float> logits{std::log(0.4f), std::log(0.3f), std::log(0.2f), std::log(0.1f)};
    for (int i = 0; i < 500; ++i) {
        const int64_t t = s.sample(logits);
        EXPECT_TRUE(t == 0 || t == 1) << t;
    }
}

TEST(Sampler, RejectsBadParameters) {
    EXPECT_ERROR_CONTAINS(Sampler(SamplingParams{.temperature = -1.0f}), "temperature");
    EXPECT_ERROR_CONTAINS(Sampler(SamplingParams{.temperature = 1.0f, .top_k = -2}), "top-k");
    EXPECT_ERROR_CONTAINS(Sampler(SamplingParams{.temperature = 1.0f, .top_k = 0, .top_p = 0.0f}), "top-p");
    EXPECT_ERROR_CONTAINS(Sampler(SamplingParams{.temperature = 1.0f, .top_k = 0, .top_p = 1.5f}), "top-p");
}

}  // namespace
}  // namespace qinfer::test
