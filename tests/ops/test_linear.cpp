// ops::linear (y = x·wᵀ) and ops::embedding.

#include <cstdint>
#include <ostream>
#include <vector>

#include <gtest/gtest.h>

#include "core/check.h"
#include "kernels/cpu/dot.h"
#include "ops/embedding.h"
#include "ops/linear.h"
#include "ops/op_test_util.h"
#include "ops/tolerances.h"
#include "test_util.h"

namespace qinfer {
namespace {

using test::expect_close;
using test::random_tensor;

// y[t, n] = Σ_k x[t, k]·w[n, k] in float64.
Tensor naive_linear(const Tensor& x, const Tensor& w) {
    const int64_t T = x.dim(0), K = x.dim(1), N = w.dim(0);
    Tensor y({T, N});
    for (int64_t t = 0; t < T; ++t) {
        for (int64_t n = 0; n < N; ++n) {
            double s = 0.0;
            for (int64_t k = 0; k < K; ++k) s += static_cast<double>(x.data()[t * K + k]) * w.data()[n * K + k];
            y.data()[t * N + n] = static_cast<float>(s);
        }
    }
    return y;
}

struct LinearShape {
    int64_t T, K, N;
};

void PrintTo(const LinearShape& s, std::ostream* os) {
    *os << "T=" << s.T << " K=" << s.K << " N=" << s.N;
}

class LinearShapes : public ::testing::TestWithParam<LinearShape> {};

TEST_P(LinearShapes, MatchesNaiveTripleLoop) {
    const auto [T, K, N] = GetParam();
    const Tensor x = random_tensor({T, K}, 1);
    const Tensor w = random_tensor({N, K}, 2);
    expect_close(ops::linear(x, w), naive_linear(x, w), test::tol::kF64RefAtol, test::tol::kF64RefRtol, "linear");
}

// Odd sizes, K with and without a tail after the 8-lane blocks, and T/N crossing the 4-row tiles and 64-row blocks.
INSTANTIATE_TEST_SUITE_P(Ops, LinearShapes,
                         ::testing::Values(LinearShape{1, 1, 1}, LinearShape{3, 127, 5}, LinearShape{17, 64, 33},
                                           LinearShape{1, 70, 9}, LinearShape{130, 13, 131}, LinearShape{4, 8, 4},
                                           LinearShape{2, 0, 3}, LinearShape{0, 5, 3}),
                         [](const auto& p) { return str_cat("T", p.param.T, "_K", p.param.K, "_N", p.param.N); });

// Every output is dot_f32(x[t], w[n]) exactly, whatever tile computed it: a row alone (decode) gives the same bits
// as the same row inside a batch (prefill), and the thread count does not matter.
TEST(Linear, BatchAndThreadInvariantBitwise) {
    const int64_t T = 69, K = 131, N = 75;
    const Tensor x = random_tensor({T, K}, 3);
    const Tensor w = random_tensor({N, K}, 4);
    const Tensor y = ops::linear(x, w);
    for (int64_t t = 0; t < T; ++t) {
        const Tensor yt = ops::linear(x.rows(t, t + 1), w);
        for (int64_t n = 0; n < N; ++n) {
            ASSERT_EQ(y.data()[t * N + n], yt.data()[n]) << "row " << t << " col " << n;
            ASSERT_EQ(y.data()[t * N + n], kernels::cpu::dot_f32(x.row(t), w.row(n), K)) << t << ", " << n;
        }
    }
    test::expect_same(test::with_threads(1, [&] { return ops::linear(x, w); }), y, "1 thread");
    test::expect_same(test::with_threads(3, [&] { return ops::linear(x, w); }), y, "3 threads");
}

TEST(Linear, KeepsLeadingDims) {
    const Tensor x = random_tensor({2, 3, 10}, 5);
    const Tensor w = random_tensor({7, 10}, 6);
    const Tensor y = ops::linear(x, w);
    EXPECT_EQ(y.shape(), Shape({2, 3, 7}));
    test::expect_same(y.reshaped({6, 7}), ops::linear(x.reshaped({6, 10}), w));
}

TEST(Linear, HandDerived) {
    const Tensor x({2, 3}, {1, 2, 3, -1, 0.5f, 0});
    const Tensor w({2, 3}, {1, 0, 0, 1, 1, 1});
    EXPECT_EQ(ops::linear(x, w).vec(), (std::vector<float>{1, 6, -1, -0.5f}));
}

TEST(Linear, ShapeMismatchIsAnError) {
    EXPECT_ERROR_CONTAINS(ops::linear(Tensor({2, 5}), Tensor({3, 4})), "linear", "[2, 5]", "[3, 4]", "K");
    EXPECT_ERROR_CONTAINS(ops::linear(Tensor({2, 4}), Tensor({3, 4, 1})), "linear", "w must be [N, K]");
}

TEST(Embedding, GathersRows) {
    const Tensor table = random_tensor({11, 6}, 7);
    const std::vector<int64_t> ids = {3, 0, 10, 3};
    const Tensor out = ops::embedding(table, ids);
    ASSERT_EQ(out.shape(), Shape({4, 6}));
    for (size_t t = 0; t < ids.size(); ++t) {
        for (int64_t h = 0; h < 6; ++h) EXPECT_EQ(out.data()[t * 6 + h], table.data()[ids[t] * 6 + h]);
    }
    EXPECT_EQ(ops::embedding(table, {}).shape(), Shape({0, 6}));
}

TEST(Embedding, OutOfRangeIdNamesIdAndVocab) {
    const Tensor table({100, 4});
    const std::vector<int64_t> too_big = {1, 100};
    EXPECT_ERROR_CONTAINS(ops::embedding(table, too_big), "token id 100", "vocab size 100", "position 1");
    const std::vector<int64_t> negative = {-3};
    EXPECT_ERROR_CONTAINS(ops::embedding(table, negative), "token id -3", "vocab size 100");
}

}  // namespace
}  // namespace qinfer
