// ops::rope_inplace: NeoX-style partial rotary embedding (HF Qwen3_5TextRotaryEmbedding + apply_rotary_pos_emb).

#include <cmath>
#include <cstring>
#include <vector>

#include <gtest/gtest.h>

#include "core/check.h"
#include "ops/data/torch_refs.h"
#include "ops/op_test_util.h"
#include "ops/rope.h"
#include "ops/tolerances.h"
#include "test_util.h"

namespace qinfer {
namespace {

namespace refs = test::torch_refs;
using test::expect_close;
using test::from_array;
using test::random_tensor;

uint32_t bits_of(float f) {
    uint32_t u;
    std::memcpy(&u, &f, sizeof u);
    return u;
}

// Qwen3.5: theta 1e7, rotary_dim = int(256 · 0.25) = 64. torch computes inv_freq as 1 / (base ** (arange/dim)) in
// fp32; ours must be bit-identical so that angles at large positions agree (one ulp of 1e5 rad is ~0.008 rad).
TEST(Rope, InvFreqBitIdenticalToTorch) {
    const std::vector<float> inv = ops::rope_inv_freq(64, 1e7);
    ASSERT_EQ(inv.size(), std::size(refs::kRopeInvFreqBits_1e7_64));
    for (size_t i = 0; i < inv.size(); ++i) EXPECT_EQ(bits_of(inv[i]), refs::kRopeInvFreqBits_1e7_64[i]) << i;
}

TEST(Rope, MatchesTorchIncludingPosition100000) {
    constexpr int64_t T = 5, H = 2, hd = 256;
    ASSERT_EQ(refs::kRopePositions[4], 100000);
    Tensor x = from_array({T, H, hd}, refs::kRopeX);
    const Tensor want = from_array({T, H, hd}, refs::kRopeOut);
    const std::vector<int64_t> pos(std::begin(refs::kRopePositions), std::end(refs::kRopePositions));
    ops::rope_inplace(x, pos, 64, 1e7);
    expect_close(x, want, test::tol::kRopeTorchAtol, test::tol::kRopeTorchRtol, "rope vs torch");
    // Dims past rotary_dim are untouched (bit-identical to the input).
    const Tensor x0 = from_array({T, H, hd}, refs::kRopeX);
    for (int64_t r = 0; r < T * H; ++r) {
        for (int64_t i = 64; i < hd; ++i) ASSERT_EQ(x.data()[r * hd + i], x0.data()[r * hd + i]) << r << ", " << i;
    }
}

// Direct formula in float64 from the same fp32 angle a (h = rotary_dim / 2):
//   y_i = x_i cos a − x_{i+h} sin a,  y_{i+h} = x_{i+h} cos a + x_i sin a.
TEST(Rope, MatchesDirectFormula) {
    constexpr int64_t T = 4, H = 3, hd = 20, rd = 12;
    const std::vector<int64_t> pos = {0, 3, 17, 1000};
    const Tensor x0 = random_tensor({T, H, hd}, 21);
    Tensor x = x0;
    ops::rope_inplace(x, pos, rd, 10000.0);
    const std::vector<float> inv = ops::rope_inv_freq(rd, 10000.0);
    for (int64_t t = 0; t < T; ++t) {
        for (int64_t h = 0; h < H; ++h) {
            const float* a = x0.data() + (t * H + h) * hd;
            const float* y = x.data() + (t * H + h) * hd;
            for (int64_t i = 0; i < rd / 2; ++i) {
                const double ang = static_cast<float>(pos[t]) * inv[i];  // fp32 product, as HF
                EXPECT_NEAR(y[i], a[i] * std::cos(ang) - a[i + rd / 2] * std::sin(ang), 1e-6);
                EXPECT_NEAR(y[i + rd / 2], a[i + rd / 2] * std::cos(ang) + a[i] * std::sin(ang), 1e-6);
            }
            for (int64_t i = rd; i < hd; ++i) EXPECT_EQ(y[i], a[i]);
        }
    }
    // Position 0 is the identity.
    Tensor z = x0.rows(0, 1);
    ops::rope_inplace(z, std::vector<int64_t>{0}, rd, 10000.0);
    test::expect_same(z, x0.rows(0, 1), "position 0");
}

TEST(Rope, ArgumentErrors) {
    Tensor x({2, 1, 8});
    const std::vector<int64_t> one = {0};
    const std::vector<int64_t> two = {0, 1};
    EXPECT_ERROR_CONTAINS(ops::rope_inplace(x, one, 8, 1e4), "1 positions for 2 tokens");
    EXPECT_ERROR_CONTAINS(ops::rope_inplace(x, two, 7, 1e4), "rotary_dim", "even");
    EXPECT_ERROR_CONTAINS(ops::rope_inplace(x, two, 10, 1e4), "rotary_dim 10 exceeds head dim 8");
}

}  // namespace
}  // namespace qinfer
