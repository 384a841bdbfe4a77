// ops::rms_norm (zero-centred and plain), ops::rms_norm_gated, ops::l2norm_rows, and the activations.

#include <cmath>
#include <vector>

#include <gtest/gtest.h>

#include "core/check.h"
#include "ops/activation.h"
#include "ops/data/torch_refs.h"
#include "ops/norm.h"
#include "ops/op_test_util.h"
#include "ops/tolerances.h"
#include "test_util.h"

namespace qinfer {
namespace {

namespace refs = test::torch_refs;
using test::expect_close;
using test::from_array;
using test::random_tensor;

constexpr float kEps = 1e-6f;

// float64 direct formulas over the last dim.
Tensor naive_rms_norm(const Tensor& x, const Tensor& w, float eps, bool zero_centered, const Tensor* z = nullptr) {
    const int64_t D = x.dim(-1), rows = x.numel() / D;
    Tensor y(x.shape());
    for (int64_t r = 0; r < rows; ++r) {
        double ss = 0.0;
        for (int64_t i = 0; i < D; ++i) ss += static_cast<double>(x.data()[r * D + i]) * x.data()[r * D + i];
        const double inv = 1.0 / std::sqrt(ss / static_cast<double>(D) + eps);
        for (int64_t i = 0; i < D; ++i) {
            const double wi = zero_centered ? 1.0 + w.data()[i] : w.data()[i];
            double v = x.data()[r * D + i] * inv * wi;
            if (z) {
                const double zi = z->data()[r * D + i];
                v *= zi / (1.0 + std::exp(-zi));
            }
            y.data()[r * D + i] = static_cast<float>(v);
        }
    }
    return y;
}

TEST(RmsNorm, MatchesTorchQwen3_5RMSNorm) {
    const Tensor x = from_array({3, 8}, refs::kNormX);
    const Tensor w = from_array({8}, refs::kNormW);
    expect_close(ops::rms_norm(x, w, kEps, /*zero_centered=*/true), from_array({3, 8}, refs::kRmsNormZeroCentered),
                 test::tol::kTorchAtol, test::tol::kTorchRtol, "zero-centred");
    expect_close(ops::rms_norm(x, w, kEps, /*zero_centered=*/false), from_array({3, 8}, refs::kRmsNormPlain),
                 test::tol::kTorchAtol, test::tol::kTorchRtol, "plain");
}

TEST(RmsNorm, MatchesDirectFormula) {
    const Tensor x = random_tensor({2, 3, 37}, 11, -3.0f, 3.0f);  // 3-D input: normalised over the last dim
    const Tensor w = random_tensor({37}, 12);
    for (bool zc : {true, false}) {
        expect_close(ops::rms_norm(x, w, 1e-5f, zc), naive_rms_norm(x, w, 1e-5f, zc), test::tol::kF64RefAtol,
                     test::tol::kF64RefRtol, zc ? "zero-centred" : "plain");
    }
}

TEST(RmsNorm, HandDerived) {
    // x = [3, 4]: mean(x²) = 12.5, eps 0 -> x / sqrt(12.5); zero-centred w = 0 means scale 1.
    const Tensor x({1, 2}, {3, 4});
    const Tensor w({2}, {0, 1});
    const Tensor y = ops::rms_norm(x, w, 0.0f, true);
    EXPECT_FLOAT_EQ(y.data()[0], 3.0f / std::sqrt(12.5f));
    EXPECT_FLOAT_EQ(y.data()[1], 2.0f * 4.0f / std::sqrt(12.5f));
}

TEST(RmsNormGated, MatchesTorchQwen3_5RMSNormGated) {
    const Tensor x = from_array({3, 8}, refs::kNormX);
    const Tensor z = from_array({3, 8}, refs::kNormZ);
    const Tensor w = from_array({8}, refs::kNormW);
    expect_close(ops::rms_norm_gated(x, z, w, kEps), from_array({3, 8}, refs::kRmsNormGated), test::tol::kTorchAtol,
                 test::tol::kTorchRtol, "gated");
}

TEST(RmsNormGated, MatchesDirectFormula) {
    const Tensor x = random_tensor({9, 24}, 13, -2.0f, 2.0f);
    const Tensor z = random_tensor({9, 24}, 14, -4.0f, 4.0f);
    const Tensor w = random_tensor({24}, 15);
    expect_close(ops::rms_norm_gated(x, z, w, kEps), naive_rms_norm(x, w, kEps, false, &z), test::tol::kF64RefAtol,
                 test::tol::kF64RefRtol, "gated");
}

TEST(L2Norm, MatchesTorchAndPutsEpsOnTheSum) {
    // Row 2 of kNormX is ~1e-4 in size: Σx² ~ 1e-7 is comparable to eps = 1e-6, so eps-on-the-mean would fail.
    const Tensor x = from_array({3, 8}, refs::kNormX);
    expect_close(ops::l2norm_rows(x, 1e-6f), from_array({3, 8}, refs::kL2Norm), test::tol::kTorchAtol,
                 test::tol::kTorchRtol, "l2norm");
    // Hand-derived: x = [3e-4, 4e-4] -> Σx² = 2.5e-7, y = x / sqrt(2.5e-7 + 1e-6) = x / sqrt(1.25e-6).
    const Tensor y = ops::l2norm_rows(Tensor({2}, {3e-4f, 4e-4f}), 1e-6f);
    EXPECT_NEAR(y.data()[0], 3e-4 / std::sqrt(1.25e-6), 1e-6);
    EXPECT_NEAR(y.data()[1], 4e-4 / std::sqrt(1.25e-6), 1e-6);
}

TEST(Norm, ShapeMismatchIsAnError) {
    EXPECT_ERROR_CONTAINS(ops::rms_norm(Tensor({2, 8}), Tensor({7}), kEps, true), "rms_norm", "[7]", "[2, 8]");
    EXPECT_ERROR_CONTAINS(ops::rms_norm_gated(Tensor({2, 8}), Tensor({2, 7}), Tensor({8}), kEps), "rms_norm_gated",
                          "[2, 7]");
}

TEST(Activation, ScalarHelpers) {
    EXPECT_EQ(ops::sigmoid(0.0f), 0.5f);
    EXPECT_FLOAT_EQ(ops::sigmoid(2.0f), static_cast<float>(1.0 / (1.0 + std::exp(-2.0))));
    EXPECT_EQ(ops::silu(0.0f), 0.0f);
    EXPECT_FLOAT_EQ(ops::silu(-1.5f), static_cast<float>(-1.5 / (1.0 + std::exp(1.5))));
    // softplus: beta 1, threshold 20 (torch): x > 20 returns x itself, else log1p(exp(x)).
    EXPECT_EQ(ops::softplus(25.0f), 25.0f);
    EXPECT_EQ(ops::softplus(20.5f), 20.5f);
    EXPECT_FLOAT_EQ(ops::softplus(20.0f), static_cast<float>(std::log1p(std::exp(20.0))));
    EXPECT_FLOAT_EQ(ops::softplus(0.0f), static_cast<float>(std::log(2.0)));
    EXPECT_FLOAT_EQ(ops::softplus(-30.0f), static_cast<float>(std::exp(-30.0)));
}

TEST(Activation, SiluMulAndSigmoidMul) {
    const Tensor g = random_tensor({5, 7}, 16, -5.0f, 5.0f);
    const Tensor u = random_tensor({5, 7}, 17);
    const Tensor y = ops::silu_mul(g, u);
    Tensor x = u;
    ops::sigmoid_mul_inplace(x, g);
    for (int64_t i = 0; i < g.numel(); ++i) {
        const double gi = g.data()[i], ui = u.data()[i];
        EXPECT_NEAR(y.data()[i], gi / (1.0 + std::exp(-gi)) * ui, 1e-6);
        EXPECT_NEAR(x.data()[i], ui / (1.0 + std::exp(-gi)), 1e-6);
    }
    EXPECT_ERROR_CONTAINS(ops::silu_mul(Tensor({2, 3}), Tensor({3, 2})), "silu_mul", "[2, 3]", "[3, 2]");
    Tensor x2({4});
    EXPECT_ERROR_CONTAINS(ops::sigmoid_mul_inplace(x2, Tensor({2, 2})), "sigmoid_mul_inplace");
}

}  // namespace
}  // namespace qinfer
