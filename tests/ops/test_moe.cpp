// ops::moe_route and ops::moe_experts.

#include <cmath>
#include <vector>

#include <gtest/gtest.h>

#include "core/check.h"
#include "ops/data/torch_refs.h"
#include "ops/moe.h"
#include "ops/op_test_util.h"
#include "ops/tolerances.h"
#include "test_util.h"

namespace qinfer {
namespace {

namespace refs = test::torch_refs;
using test::expect_close;
using test::from_array;
using test::random_tensor;

TEST(MoeRoute, MatchesTorchQwen3_5MoeTopKRouter) {
    const ops::Routing r = ops::moe_route(from_array({3, 8}, refs::kRouteLogits), 2, /*renormalize=*/true);
    ASSERT_EQ(r.T, 3);
    ASSERT_EQ(r.k, 2);
    for (size_t i = 0; i < 6; ++i) EXPECT_EQ(r.expert[i], refs::kRouteExperts[i]) << i;
    expect_close(r.weight, refs::kRouteWeights, test::tol::kTorchAtol, test::tol::kTorchRtol, "weights");
}

TEST(MoeRoute, RenormalizeOnOff) {
    // logits log(1), log(2), log(4), log(3): p = [1, 2, 4, 3] / 10; top-2 = experts 2, 3.
    const Tensor logits({1, 4}, {0.0f, std::log(2.0f), std::log(4.0f), std::log(3.0f)});
    const ops::Routing off = ops::moe_route(logits, 2, false);
    EXPECT_EQ(off.expert, (std::vector<int32_t>{2, 3}));
    EXPECT_NEAR(off.weight[0], 0.4, 1e-6);
    EXPECT_NEAR(off.weight[1], 0.3, 1e-6);
    const ops::Routing on = ops::moe_route(logits, 2, true);
    EXPECT_EQ(on.expert, (std::vector<int32_t>{2, 3}));
    EXPECT_NEAR(on.weight[0], 4.0 / 7.0, 1e-6);
    EXPECT_NEAR(on.weight[1], 3.0 / 7.0, 1e-6);
    EXPECT_FLOAT_EQ(on.weight[0] + on.weight[1], 1.0f);
}

// Equal probabilities go to the lower expert index first. (torch.topk on CPU has no defined order among ties: for
// 8 equal values it returned [4, 7, 6, 5, 2, 1, 0, 3] in torch 2.15, so ties are deliberately not matched to torch.)
TEST(MoeRoute, TiesLowerIndexFirst) {
    const ops::Routing all_equal = ops::moe_route(Tensor({1, 8}), 3, true);
    EXPECT_EQ(all_equal.expert, (std::vector<int32_t>{0, 1, 2}));
    for (float w : all_equal.weight) EXPECT_FLOAT_EQ(w, 1.0f / 3.0f);
    EXPECT_FLOAT_EQ(ops::moe_route(Tensor({1, 8}), 3, false).weight[0], 1.0f / 8.0f);

    // One clear winner, then a four-way tie for the remaining two slots.
    const ops::Routing partial = ops::moe_route(Tensor({1, 6}, {5, 1, 1, 1, 1, 0}), 3, false);
    EXPECT_EQ(partial.expert, (std::vector<int32_t>{0, 1, 2}));
    // Ties among the selected, out of index order in the input.
    const ops::Routing mixed = ops::moe_route(Tensor({1, 6}, {1, 3, 3, 0, 3, 2}), 3, false);
    EXPECT_EQ(mixed.expert, (std::vector<int32_t>{1, 2, 4}));
}

TEST(MoeRoute, ArgumentErrors) {
    EXPECT_ERROR_CONTAINS(ops::moe_route(Tensor({2, 4}), 5, true), "top_k 5 must be in [1, 4]");
    EXPECT_ERROR_CONTAINS(ops::moe_route(Tensor({8}), 2, true), "router logits must be [T, E]");
    EXPECT_ERROR_CONTAINS(ops::moe_route(Tensor({2, 3}, {0, 0, 0, 0, NAN, 0}), 1, true),
                          "router logit of token 1, expert 1 is nan");
}

// float64 dense reference: for each token and slot, run the expert MLP and add w·y.
Tensor naive_moe(const Tensor& x, const ops::Routing& r, const Tensor& gate_up, const Tensor& down) {
    const int64_t T = x.dim(0), H = x.dim(1), I = down.dim(2);
    Tensor out({T, H});
    for (int64_t t = 0; t < T; ++t) {
        std::vector<double> acc(static_cast<size_t>(H), 0.0);
        for (int64_t s = 0; s < r.k; ++s) {
            const int64_t e = r.expert[static_cast<size_t>(t * r.k + s)];
            const double w = r.weight[static_cast<size_t>(t * r.k + s)];
            std::vector<double> act(static_cast<size_t>(I));
            for (int64_t i = 0; i < I; ++i) {
                double gsum = 0, usum = 0;
                for (int64_t h = 0; h < H; ++h) {
                    gsum += static_cast<double>(gate_up.data()[(e * 2 * I + i) * H + h]) * x.data()[t * H + h];
                    usum += static_cast<double>(gate_up.data()[(e * 2 * I + I + i) * H + h]) * x.data()[t * H + h];
                }
                act[static_cast<size_t>(i)] = gsum / (1.0 + std::exp(-gsum)) * usum;
            }
            for (int64_t h = 0; h < H; ++h) {
                double y = 0;
                for (int64_t i = 0; i < I; ++i) y += down.data()[(e * H + h) * I + i] * act[static_cast<size_t>(i)];
                acc[static_cast<size_t>(h)] += w * y;
            }
        }
        for (int64_t h = 0; h < H; ++h) out.data()[t * H + h] = static_cast<float>(acc[static_cast<size_t>(h)]);
    }
    return out;
}

TEST(MoeExperts, MatchesNaiveDenseLoop) {
    const int64_t T = 7, E = 5, k = 2, H = 12, I = 9;
    const Tensor x = random_tensor({T, H}, 111);
    const Tensor gate_up = random_tensor({E, 2 * I, H}, 112);
    const Tensor down = random_tensor({E, H, I}, 113);
    for (bool renorm : {true, false}) {
        const ops::Routing r = ops::moe_route(random_tensor({T, E}, 114, -2.0f, 2.0f), k, renorm);
        expect_close(ops::moe_experts(x, r, gate_up, down), naive_moe(x, r, gate_up, down), test::tol::kF64RefAtol,
                     test::tol::kF64RefRtol, renorm ? "renormalised" : "raw weights");
    }
}

// A token's output does not depend on the other tokens in the batch or on the thread count (fixed per-token order:
// ascending expert id; linear is batch-invariant).
TEST(MoeExperts, BatchAndThreadInvariantBitwise) {
    const int64_t T = 13, E = 6, k = 3, H = 16, I = 10;
    const Tensor x = random_tensor({T, H}, 121);
    const Tensor gate_up = random_tensor({E, 2 * I, H}, 122);
    const Tensor down = random_tensor({E, H, I}, 123);
    const ops::Routing r = ops::moe_route(random_tensor({T, E}, 124, -2.0f, 2.0f), k, true);
    const Tensor all = ops::moe_experts(x, r, gate_up, down);
    for (int64_t t = 0; t < T; ++t) {
        ops::Routing rt{.T = 1,
                        .k = k,
                        .expert = {r.expert.begin() + t * k, r.expert.begin() + (t + 1) * k},
                        .weight = {r.weight.begin() + t * k, r.weight.begin() + (t + 1) * k}};
        test::expect_same(ops::moe_experts(x.rows(t, t + 1), rt, gate_up, down), all.rows(t, t + 1),
                          str_cat("token ", t));
    }
    test::expect_same(test::with_threads(1, [&] { return ops::moe_experts(x, r, gate_up, down); }), all, "1 thread");
    test::expect_same(test::with_threads(3, [&] { return ops::moe_experts(x, r, gate_up, down); }), all, "3 threads");
}

TEST(MoeExperts, ArgumentErrors) {
    const Tensor x({2, 4}), gate_up({3, 6, 4}), down({3, 4, 3});
    ops::Routing r{.T = 2, .k = 2, .expert = {0, 1, 2, 2}, .weight = {0.5f, 0.5f, 0.5f, 0.5f}};
    EXPECT_ERROR_CONTAINS(ops::moe_experts(x, r, gate_up, down), "token 1 selects expert 2 twice");
    r.expert = {0, 1, 3, 0};
    EXPECT_ERROR_CONTAINS(ops::moe_experts(x, r, gate_up, down), "selects expert 3, outside [0, 3)");
    r.expert = {0, 1, 2, 0};
    EXPECT_ERROR_CONTAINS(ops::moe_experts(x, r, gate_up, Tensor({3, 4, 2})), "down must be [E, H, I] = [3, 4, 3]");
}

}  // namespace
}  // namespace qinfer
