// ops::causal_conv1d_silu: the GDN short conv with carried state.

#include <cmath>
#include <vector>

#include <gtest/gtest.h>

#include "core/check.h"
#include "ops/conv1d.h"
#include "ops/data/torch_refs.h"
#include "ops/op_test_util.h"
#include "ops/tolerances.h"
#include "test_util.h"

namespace qinfer {
namespace {

namespace refs = test::torch_refs;
using test::expect_close;
using test::from_array;
using test::random_tensor;

// float64 direct formula: y[t, c] = silu(Σ_j w[c, j] · x_ext[t + j, c]), x_ext = concat(state0, x).
Tensor naive_conv(const Tensor& x, const Tensor& w, const Tensor& state0) {
    const int64_t T = x.dim(0), C = x.dim(1), K = w.dim(1);
    Tensor y({T, C});
    for (int64_t t = 0; t < T; ++t) {
        for (int64_t c = 0; c < C; ++c) {
            double acc = 0.0;
            for (int64_t j = 0; j < K; ++j) {
                const int64_t i = t + j;  // index into x_ext
                const double xe = i < K - 1 ? state0.data()[c * (K - 1) + i] : x.data()[(i - (K - 1)) * C + c];
                acc += w.data()[c * K + j] * xe;
            }
            y.data()[t * C + c] = static_cast<float>(acc / (1.0 + std::exp(-acc)));
        }
    }
    return y;
}

// HF causal_conv1d_fn (F.conv1d with padding K-1, then SiLU) from a fresh sequence: state starts at zero.
TEST(Conv1d, MatchesTorchCausalConv1dFn) {
    const Tensor x = from_array({6, 3}, refs::kConvX);
    const Tensor w = from_array({3, 4}, refs::kConvW);
    Tensor state({3, 3});
    expect_close(ops::causal_conv1d_silu(x, w, state), from_array({6, 3}, refs::kConvY), test::tol::kTorchAtol,
                 test::tol::kTorchRtol, "conv1d vs torch");
    // The new state is the last K-1 = 3 inputs, oldest first: state[c, m] = x[3 + m, c].
    for (int64_t c = 0; c < 3; ++c) {
        for (int64_t m = 0; m < 3; ++m) EXPECT_EQ(state.data()[c * 3 + m], x.data()[(3 + m) * 3 + c]);
    }
}

TEST(Conv1d, MatchesDirectFormulaFromNonZeroState) {
    const int64_t T = 11, C = 70, K = 4;  // C crosses the 64-channel parallel block
    const Tensor x = random_tensor({T, C}, 51, -2.0f, 2.0f);
    const Tensor w = random_tensor({C, K}, 52);
    const Tensor s0 = random_tensor({C, K - 1}, 53, -2.0f, 2.0f);
    Tensor state = s0;
    expect_close(ops::causal_conv1d_silu(x, w, state), naive_conv(x, w, s0), test::tol::kF64RefAtol,
                 test::tol::kF64RefRtol, "conv1d");
}

// Feeding x in pieces (including pieces shorter than K-1, and an empty one) gives the same outputs and final state
// as all at once, bit for bit (every output sums the same K products in the same order).
TEST(Conv1d, StateContinuationInPieces) {
    for (int64_t K : {1, 2, 4, 5}) {
        const int64_t T = 15, C = 5;
        const Tensor x = random_tensor({T, C}, 54);
        const Tensor w = random_tensor({C, K}, 55);
        const Tensor s0 = random_tensor({C, K - 1}, 56);
        Tensor state_all = s0;
        const Tensor y_all = ops::causal_conv1d_silu(x, w, state_all);

        Tensor state = s0;
        std::vector<float> y;
        int64_t t0 = 0;
        for (int64_t len : {1, 2, 0, 1, 5, 3, 1, 2}) {
            const Tensor yp = ops::causal_conv1d_silu(x.rows(t0, t0 + len), w, state);
            y.insert(y.end(), yp.vec().begin(), yp.vec().end());
            t0 += len;
        }
        ASSERT_EQ(t0, T);
        EXPECT_EQ(y, y_all.vec()) << "K=" << K;
        test::expect_same(state, state_all, str_cat("final state, K=", K));
    }
}

TEST(Conv1d, ShortInputShiftsState) {
    // K = 4, state [c=1, 3] = [a, b, c]; one input d -> state [b, c, d]; y = silu(w0 a + w1 b + w2 c + w3 d).
    Tensor state({1, 3}, {1, 2, 3});
    const Tensor w({1, 4}, {0.5f, -1, 0.25f, 2});
    const Tensor y = ops::causal_conv1d_silu(Tensor({1, 1}, {4}), w, state);
    EXPECT_EQ(state.vec(), (std::vector<float>{2, 3, 4}));
    const float pre = 0.5f * 1 - 1 * 2 + 0.25f * 3 + 2 * 4;  // 7.25
    EXPECT_FLOAT_EQ(y.data()[0], pre / (1.0f + std::exp(-pre)));
}

TEST(Conv1d, ShapeErrors) {
    Tensor bad_state({3, 2});
    EXPECT_ERROR_CONTAINS(ops::causal_conv1d_silu(Tensor({2, 3}), Tensor({3, 4}), bad_state),
                          "state must be [C, K-1] = [3, 3]", "[3, 2]");
    Tensor state({3, 3});
    EXPECT_ERROR_CONTAINS(ops::causal_conv1d_silu(Tensor({2, 4}), Tensor({3, 4}), state), "channels");
}

}  // namespace
}  // namespace qinfer
