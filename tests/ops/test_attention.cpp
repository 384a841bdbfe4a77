// ops::attention_causal: causal mask, GQA mapping, decode against a cache (past > 0).

#include <algorithm>
#include <cmath>
#include <ostream>
#include <vector>

#include <gtest/gtest.h>

#include "core/check.h"
#include "ops/attention.h"
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

// float64 attention straight from the definition.
Tensor naive_attention(const Tensor& q, const Tensor& k, const Tensor& v, int64_t past, double scale) {
    const int64_t T = q.dim(0), Hq = q.dim(1), hd = q.dim(2), Hkv = k.dim(1);
    Tensor o(q.shape());
    for (int64_t t = 0; t < T; ++t) {
        for (int64_t h = 0; h < Hq; ++h) {
            const int64_t hk = h / (Hq / Hkv), n = past + t + 1;
            std::vector<double> s(static_cast<size_t>(n));
            for (int64_t j = 0; j < n; ++j) {
                double d = 0.0;
                for (int64_t i = 0; i < hd; ++i)
                    d += static_cast<double>(q.data()[(t * Hq + h) * hd + i]) * k.data()[(j * Hkv + hk) * hd + i];
                s[static_cast<size_t>(j)] = d * scale;
            }
            double m = -INFINITY;
            for (double e : s) m = std::max(m, e);
            double sum = 0.0;
            for (double& e : s) sum += (e = std::exp(e - m));
            for (int64_t i = 0; i < hd; ++i) {
                double acc = 0.0;
                for (int64_t j = 0; j < n; ++j)
                    acc += s[static_cast<size_t>(j)] / sum * v.data()[(j * Hkv + hk) * hd + i];
                o.data()[(t * Hq + h) * hd + i] = static_cast<float>(acc);
            }
        }
    }
    return o;
}

TEST(Attention, MatchesTorchEagerGqaWithPast) {
    const Tensor q = from_array({3, 4, 8}, refs::kAttnQ);
    const Tensor k = from_array({5, 2, 8}, refs::kAttnK);
    const Tensor v = from_array({5, 2, 8}, refs::kAttnV);
    expect_close(ops::attention_causal(q, k, v, /*past=*/2, 1.0f / std::sqrt(8.0f)),
                 from_array({3, 4, 8}, refs::kAttnO), test::tol::kTorchAtol, test::tol::kTorchRtol,
                 "attention vs torch");
}

struct AttnShape {
    int64_t T, S, Hq, Hkv, hd;
};

void PrintTo(const AttnShape& s, std::ostream* os) {
    *os << "T=" << s.T << " S=" << s.S << " Hq=" << s.Hq << " Hkv=" << s.Hkv << " hd=" << s.hd;
}

class AttentionShapes : public ::testing::TestWithParam<AttnShape> {};

TEST_P(AttentionShapes, MatchesNaive) {
    const auto [T, S, Hq, Hkv, hd] = GetParam();
    const Tensor q = random_tensor({T, Hq, hd}, 31, -2.0f, 2.0f);
    const Tensor k = random_tensor({S, Hkv, hd}, 32, -2.0f, 2.0f);
    const Tensor v = random_tensor({S, Hkv, hd}, 33);
    const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
    expect_close(ops::attention_causal(q, k, v, S - T, scale), naive_attention(q, k, v, S - T, scale),
                 test::tol::kF64RefAtol, test::tol::kF64RefRtol, "attention");
}

INSTANTIATE_TEST_SUITE_P(Ops, AttentionShapes,
                         ::testing::Values(AttnShape{1, 1, 1, 1, 1}, AttnShape{7, 7, 6, 2, 12},
                                           AttnShape{5, 9, 6, 3, 17}, AttnShape{1, 33, 4, 1, 64},
                                           AttnShape{3, 3, 2, 2, 256}),
                         [](const auto& p) {
                             const AttnShape& s = p.param;
                             return str_cat("T", s.T, "_S", s.S, "_Hq", s.Hq, "_Hkv", s.Hkv, "_hd", s.hd);
                         });

// Decoding token t against the cache of keys 0..t gives exactly row t of full causal attention (same arithmetic per
// output); a longer cache with past = t, or rows beyond past + T changed, must not matter either.
TEST(Attention, DecodeRowsEqualFullAttention) {
    const int64_t T = 9, Hq = 4, Hkv = 2, hd = 16;
    const Tensor q = random_tensor({T, Hq, hd}, 34, -2.0f, 2.0f);
    const Tensor k = random_tensor({T, Hkv, hd}, 35, -2.0f, 2.0f);
    const Tensor v = random_tensor({T, Hkv, hd}, 36);
    const float scale = 0.25f;
    const Tensor full = ops::attention_causal(q, k, v, 0, scale);
    for (int64_t t = 0; t < T; ++t) {
        const Tensor row = ops::attention_causal(q.rows(t, t + 1), k.rows(0, t + 1), v.rows(0, t + 1), t, scale);
        test::expect_same(row, full.rows(t, t + 1), str_cat("decode row ", t));
        // Whole cache passed (keys after t are masked), and a 2-row chunk continuing at t.
        test::expect_same(ops::attention_causal(q.rows(t, t + 1), k, v, t, scale), full.rows(t, t + 1), "full cache");
        if (t + 2 <= T) {
            test::expect_same(ops::attention_causal(q.rows(t, t + 2), k.rows(0, t + 2), v.rows(0, t + 2), t, scale),
                              full.rows(t, t + 2), str_cat("chunk at ", t));
        }
    }
}

// Causal mask: changing key/value j changes no output row t < j.
TEST(Attention, FutureKeysDoNotLeak) {
    const int64_t T = 6, H = 2, hd = 8;
    const Tensor q = random_tensor({T, H, hd}, 37);
    const Tensor k = random_tensor({T, H, hd}, 38);
    const Tensor v = random_tensor({T, H, hd}, 39);
    const Tensor base = ops::attention_causal(q, k, v, 0, 1.0f);
    Tensor k2 = k, v2 = v;
    for (int64_t i = 4 * H * hd; i < k2.numel(); ++i) {
        k2.data()[i] += 5.0f;
        v2.data()[i] -= 3.0f;
    }
    const Tensor changed = ops::attention_causal(q, k2, v2, 0, 1.0f);
    test::expect_same(changed.rows(0, 4), base.rows(0, 4), "rows before the change");
    EXPECT_NE(changed.rows(4, 6).vec(), base.rows(4, 6).vec());
}

// GQA: query head h reads kv head h / (Hq/Hkv) (consecutive grouping), i.e. the same as MHA with repeat_kv.
TEST(Attention, GqaEqualsRepeatedKv) {
    const int64_t T = 4, Hq = 6, Hkv = 2, hd = 8;
    const Tensor q = random_tensor({T, Hq, hd}, 40);
    const Tensor k = random_tensor({T, Hkv, hd}, 41);
    const Tensor v = random_tensor({T, Hkv, hd}, 42);
    Tensor kr({T, Hq, hd}), vr({T, Hq, hd});
    for (int64_t t = 0; t < T; ++t) {
        for (int64_t h = 0; h < Hq; ++h) {
            for (int64_t i = 0; i < hd; ++i) {
                kr.data()[(t * Hq + h) * hd + i] = k.data()[(t * Hkv + h / 3) * hd + i];
                vr.data()[(t * Hq + h) * hd + i] = v.data()[(t * Hkv + h / 3) * hd + i];
            }
        }
    }
    test::expect_same(ops::attention_causal(q, k, v, 0, 0.5f), ops::attention_causal(q, kr, vr, 0, 0.5f), "GQA");
}

TEST(Attention, ShapeErrors) {
    EXPECT_ERROR_CONTAINS(ops::attention_causal(Tensor({2, 3, 8}), Tensor({2, 2, 8}), Tensor({2, 2, 8}), 0, 1.0f),
                          "3 query heads are not a multiple of 2 kv heads");
    EXPECT_ERROR_CONTAINS(ops::attention_causal(Tensor({2, 2, 8}), Tensor({3, 1, 8}), Tensor({3, 1, 8}), 2, 1.0f),
                          "past 2 + 2 queries exceeds the 3 keys");
    EXPECT_ERROR_CONTAINS(ops::attention_causal(Tensor({2, 2, 8}), Tensor({2, 1, 4}), Tensor({2, 1, 4}), 0, 1.0f),
                          "head dim");
}

}  // namespace
}  // namespace qinfer
