// ops::gated_delta_rule_recurrent / _chunked and ops::gdn_gates.
// Both forms are checked against torch (HF torch_recurrent_gated_delta_rule / torch_chunk_gated_delta_rule) and a
// float64 loop, and against each other (outputs AND final state) over odd shapes, chunk sizes and split points.

#include <cmath>
#include <string>
#include <ostream>
#include <vector>

#include <gtest/gtest.h>

#include "core/check.h"
#include "ops/data/torch_refs.h"
#include "ops/gated_delta_rule.h"
#include "ops/op_test_util.h"
#include "ops/tolerances.h"
#include "test_util.h"

namespace qinfer {
namespace {

namespace refs = test::torch_refs;
using test::expect_close;
using test::from_array;
using test::random_tensor;

struct GdnInputs {
    Tensor q, k, v, g, beta;  // [T, HK, dk] ×2, [T, HV, dv], [T, HV] ×2
};

// Random inputs in the ranges a real layer produces: g = −softplus(·)·0.7 <= 0, beta in (0, 1).
GdnInputs random_inputs(int64_t T, int64_t HK, int64_t HV, int64_t dk, int64_t dv, uint32_t seed) {
    GdnInputs in{random_tensor({T, HK, dk}, seed, -2.0f, 2.0f), random_tensor({T, HK, dk}, seed + 1, -2.0f, 2.0f),
                 random_tensor({T, HV, dv}, seed + 2, -2.0f, 2.0f), random_tensor({T, HV}, seed + 3, -3.0f, 2.0f),
                 random_tensor({T, HV}, seed + 4, -3.0f, 3.0f)};
    for (float& x : in.g.span()) x = -0.7f * std::log1p(std::exp(x));
    for (float& x : in.beta.span()) x = 1.0f / (1.0f + std::exp(-x));
    return in;
}

GdnInputs slice(const GdnInputs& in, int64_t t0, int64_t t1) {
    return {in.q.rows(t0, t1), in.k.rows(t0, t1), in.v.rows(t0, t1), in.g.rows(t0, t1), in.beta.rows(t0, t1)};
}

Tensor run_recurrent(const GdnInputs& in, Tensor& state) {
    return ops::gated_delta_rule_recurrent(in.q, in.k, in.v, in.g, in.beta, state);
}
Tensor run_chunked(const GdnInputs& in, Tensor& state, int64_t chunk) {
    return ops::gated_delta_rule_chunked(in.q, in.k, in.v, in.g, in.beta, state, chunk);
}

// float64 recurrence straight from the formulas (l2norm with eps on the sum, q / sqrt(dk), decay first).
Tensor f64_recurrent(const GdnInputs& in, Tensor& state) {
    const int64_t T = in.q.dim(0), HK = in.q.dim(1), dk = in.q.dim(2), HV = in.v.dim(1), dv = in.v.dim(2);
    Tensor o({T, HV, dv});
    for (int64_t h = 0; h < HV; ++h) {
        const int64_t hk = h / (HV / HK);
        std::vector<double> S(static_cast<size_t>(dk * dv));
        for (int64_t e = 0; e < dk * dv; ++e) S[e] = state.data()[h * dk * dv + e];
        for (int64_t t = 0; t < T; ++t) {
            std::vector<double> q(dk), k(dk);
            double qq = 0, kk = 0;
            for (int64_t i = 0; i < dk; ++i) {
                q[i] = in.q.data()[(t * HK + hk) * dk + i];
                k[i] = in.k.data()[(t * HK + hk) * dk + i];
                qq += q[i] * q[i];
                kk += k[i] * k[i];
            }
            for (int64_t i = 0; i < dk; ++i) {
                q[i] = q[i] / std::sqrt(qq + 1e-6) / std::sqrt(static_cast<double>(dk));
                k[i] = k[i] / std::sqrt(kk + 1e-6);
            }
            const double decay = std::exp(static_cast<double>(in.g.data()[t * HV + h]));
            const double b = in.beta.data()[t * HV + h];
            for (double& s : S) s *= decay;
            for (int64_t j = 0; j < dv; ++j) {
                double kv = 0;
                for (int64_t i = 0; i < dk; ++i) kv += S[i * dv + j] * k[i];
                const double delta = (in.v.data()[(t * HV + h) * dv + j] - kv) * b;
                for (int64_t i = 0; i < dk; ++i) S[i * dv + j] += k[i] * delta;
            }
            for (int64_t j = 0; j < dv; ++j) {
                double acc = 0;
                for (int64_t i = 0; i < dk; ++i) acc += S[i * dv + j] * q[i];
                o.data()[(t * HV + h) * dv + j] = static_cast<float>(acc);
            }
        }
        for (int64_t e = 0; e < dk * dv; ++e) state.data()[h * dk * dv + e] = static_cast<float>(S[e]);
    }
    return o;
}

#define QINFER_GDN_REF_CASE(P, T, HK, HV, DK, DV)                                       \
    GdnInputs {                                                                         \
        from_array({T, HK, DK}, refs::k##P##Q), from_array({T, HK, DK}, refs::k##P##K), \
            from_array({T, HV, DV}, refs::k##P##V), from_array({T, HV}, refs::k##P##G), \
            from_array({T, HV}, refs::k##P##Beta)                                       \
    }

// ---- torch references

TEST(GatedDeltaRule, RecurrentMatchesTorchOneHead) {
    const GdnInputs in = QINFER_GDN_REF_CASE(Gdn1, 5, 1, 1, 4, 3);
    Tensor state = from_array({1, 4, 3}, refs::kGdn1S0);  // zeros
    const Tensor o = run_recurrent(in, state);
    expect_close(o, from_array({5, 1, 3}, refs::kGdn1O), test::tol::kGdnTorchAtol, test::tol::kGdnTorchRtol, "o");
    expect_close(state, from_array({1, 4, 3}, refs::kGdn1S), test::tol::kGdnTorchAtol, test::tol::kGdnTorchRtol,
                 "state");
}

TEST(GatedDeltaRule, BothFormsMatchTorchGqaWithInitialState) {
    const GdnInputs in = QINFER_GDN_REF_CASE(Gdn2, 7, 1, 2, 4, 3);
    const Tensor s0 = from_array({2, 4, 3}, refs::kGdn2S0);
    Tensor sr = s0;
    expect_close(run_recurrent(in, sr), from_array({7, 2, 3}, refs::kGdn2O), test::tol::kGdnTorchAtol,
                 test::tol::kGdnTorchRtol, "recurrent o");
    expect_close(sr, from_array({2, 4, 3}, refs::kGdn2S), test::tol::kGdnTorchAtol, test::tol::kGdnTorchRtol,
                 "recurrent state");
    for (int64_t chunk : {4, 64}) {
        Tensor sc = s0;
        const Tensor oc = run_chunked(in, sc, chunk);
        // torch's chunked function with C = 4 (the closest counterpart) and its recurrent one both serve as refs.
        expect_close(oc, from_array({7, 2, 3}, refs::kGdn2OChunk4), test::tol::kGdnTorchAtol, test::tol::kGdnTorchRtol,
                     str_cat("chunked o, chunk ", chunk));
        expect_close(sc, from_array({2, 4, 3}, refs::kGdn2SChunk4), test::tol::kGdnTorchAtol, test::tol::kGdnTorchRtol,
                     str_cat("chunked state, chunk ", chunk));
    }
}

TEST(GatedDeltaRule, RecurrentMatchesFloat64Loop) {
    const GdnInputs in = random_inputs(40, 2, 4, 8, 5, 61);
    const Tensor s0 = random_tensor({4, 8, 5}, 66, -0.5f, 0.5f);
    Tensor s = s0, s64 = s0;
    const Tensor o = run_recurrent(in, s);
    expect_close(o, f64_recurrent(in, s64), test::tol::kGdnF64Atol, test::tol::kGdnF64Rtol, "o");
    expect_close(s, s64, test::tol::kGdnF64Atol, test::tol::kGdnF64Rtol, "state");
}

// ---- chunked == recurrent

struct GdnCase {
    int64_t T, HK, HV, dk, dv, chunk;
    bool initial_state;
};

std::string case_name(const GdnCase& c) {
    return str_cat("T", c.T, "_HK", c.HK, "_HV", c.HV, "_dk", c.dk, "_dv", c.dv, "_C", c.chunk,
                   c.initial_state ? "_s0" : "_zero");
}

void PrintTo(const GdnCase& c, std::ostream* os) {
    *os << case_name(c);
}

class GdnChunkedVsRecurrent : public ::testing::TestWithParam<GdnCase> {};

TEST_P(GdnChunkedVsRecurrent, OutputsAndFinalState) {
    const GdnCase c = GetParam();
    const GdnInputs in = random_inputs(c.T, c.HK, c.HV, c.dk, c.dv, 71 + static_cast<uint32_t>(c.T));
    const Tensor s0 = c.initial_state ? random_tensor({c.HV, c.dk, c.dv}, 77, -0.5f, 0.5f) : Tensor({c.HV, c.dk, c.dv});
    Tensor sr = s0, sc = s0;
    const Tensor orec = run_recurrent(in, sr);
    const Tensor ochk = run_chunked(in, sc, c.chunk);
    expect_close(ochk, orec, test::tol::kGdnChunkAtol, test::tol::kGdnChunkRtol, "o");
    expect_close(sc, sr, test::tol::kGdnChunkAtol, test::tol::kGdnChunkRtol, "state");
}

std::vector<GdnCase> chunk_cases() {
    std::vector<GdnCase> cases;
    for (int64_t T : {1, 3, 63, 64, 65, 130}) {
        for (int64_t chunk : {64, 4}) {
            cases.push_back({T, 2, 4, 8, 6, chunk, false});  // HV > HK, dk != dv
            cases.push_back({T, 1, 3, 5, 16, chunk, true});  // 3 value heads on 1 key head, from a non-zero state
        }
    }
    cases.push_back({130, 2, 2, 16, 16, 1, true});  // chunk 1: every token is its own chunk
    cases.push_back({130, 2, 2, 16, 16, 7, true});
    cases.push_back({20, 1, 1, 4, 4, 200, false});  // chunk longer than the sequence
    return cases;
}

INSTANTIATE_TEST_SUITE_P(Ops, GdnChunkedVsRecurrent, ::testing::ValuesIn(chunk_cases()),
                         [](const auto& p) { return case_name(p.param); });

// Running [0, T1) then [T1, T) with the carried state equals running [0, T) at once, for the chunked form, for the
// recurrent form, and for chunked prefill followed by recurrent decode (how the engine uses them).
TEST(GatedDeltaRule, SplitInvariance) {
    const int64_t T = 100, HK = 2, HV = 4, dk = 8, dv = 8;
    const GdnInputs in = random_inputs(T, HK, HV, dk, dv, 81);
    const Tensor s0 = random_tensor({HV, dk, dv}, 86, -0.5f, 0.5f);
    Tensor s_all = s0;
    const Tensor o_all = run_chunked(in, s_all, 64);
    Tensor s_rec = s0;
    const Tensor o_rec = run_recurrent(in, s_rec);
    for (int64_t T1 : {1, 37, 64, 99}) {
        Tensor s = s0;
        Tensor o1 = run_chunked(slice(in, 0, T1), s, 64);
        Tensor o2 = run_chunked(slice(in, T1, T), s, 64);
        std::vector<float> o = o1.vec();
        o.insert(o.end(), o2.vec().begin(), o2.vec().end());
        const std::string what = str_cat("chunked split at ", T1);
        expect_close(Tensor(o_all.shape(), o), o_all, test::tol::kGdnChunkAtol, test::tol::kGdnChunkRtol, what);
        expect_close(s, s_all, test::tol::kGdnChunkAtol, test::tol::kGdnChunkRtol, what + " state");

        // Recurrent split is exact: the per-token arithmetic is identical.
        Tensor sr = s0;
        Tensor r1 = run_recurrent(slice(in, 0, T1), sr);
        Tensor r2 = run_recurrent(slice(in, T1, T), sr);
        std::vector<float> r = r1.vec();
        r.insert(r.end(), r2.vec().begin(), r2.vec().end());
        EXPECT_EQ(r, o_rec.vec()) << "recurrent split at " << T1;
        test::expect_same(sr, s_rec, "recurrent split state");

        // Prefill (chunked) then decode token by token (recurrent).
        Tensor sd = s0;
        std::vector<float> d = run_chunked(slice(in, 0, T1), sd, 64).vec();
        for (int64_t t = T1; t < T; ++t) {
            const Tensor ot = run_recurrent(slice(in, t, t + 1), sd);
            d.insert(d.end(), ot.vec().begin(), ot.vec().end());
        }
        expect_close(Tensor(o_rec.shape(), d), o_rec, test::tol::kGdnChunkAtol, test::tol::kGdnChunkRtol,
                     str_cat("prefill+decode split at ", T1));
        expect_close(sd, s_rec, test::tol::kGdnChunkAtol, test::tol::kGdnChunkRtol, "prefill+decode state");
    }
}

TEST(GatedDeltaRule, ThreadCountInvariant) {
    const GdnInputs in = random_inputs(70, 2, 6, 8, 4, 91);
    const Tensor s0 = random_tensor({6, 8, 4}, 96);
    auto run = [&](int threads, bool chunked) {
        return test::with_threads(threads, [&] {
            Tensor s = s0;
            Tensor o = chunked ? run_chunked(in, s, 16) : run_recurrent(in, s);
            std::vector<float> all = o.vec();
            all.insert(all.end(), s.vec().begin(), s.vec().end());
            return all;
        });
    };
    for (bool chunked : {false, true}) EXPECT_EQ(run(1, chunked), run(3, chunked)) << "chunked=" << chunked;
}

TEST(GatedDeltaRule, ShapeErrors) {
    const GdnInputs in = random_inputs(3, 1, 2, 4, 3, 101);
    Tensor bad_state({2, 3, 4});  // dk and dv swapped
    EXPECT_ERROR_CONTAINS(run_recurrent(in, bad_state), "gated_delta_rule_recurrent",
                          "state must be [HV, dk, dv] = [2, 4, 3]", "[2, 3, 4]");
    Tensor state({2, 4, 3});
    EXPECT_ERROR_CONTAINS(ops::gated_delta_rule_chunked(in.q, in.k, in.v, in.g.rows(0, 2), in.beta, state, 64),
                          "gated_delta_rule_chunked", "g must be [T, HV] = [3, 2]");
    EXPECT_ERROR_CONTAINS(run_chunked(in, state, 0), "chunk size must be >= 1");
    const Tensor qk2({3, 2, 4});
    EXPECT_ERROR_CONTAINS(
        ops::gated_delta_rule_recurrent(qk2, qk2, Tensor({3, 3, 3}), Tensor({3, 3}), Tensor({3, 3}), state),
        "3 value heads are not a multiple of 2 key heads");
}

// ---- gates

TEST(GdnGates, MatchesTorchIncludingSoftplusThreshold) {
    const Tensor a = from_array({2, 4}, refs::kGatesA);
    const Tensor b = from_array({2, 4}, refs::kGatesB);
    Tensor g, beta;
    ops::gdn_gates(a, b, from_array({4}, refs::kGatesALog), from_array({4}, refs::kGatesDtBias), g, beta);
    expect_close(g, from_array({2, 4}, refs::kGatesG), test::tol::kTorchAtol, test::tol::kTorchRtol, "g");
    expect_close(beta, from_array({2, 4}, refs::kGatesBeta), test::tol::kTorchAtol, test::tol::kTorchRtol, "beta");
    // Element [1, 2] has a + dt_bias > 20: softplus returns its argument, g = −exp(A_log)·(a + dt_bias).
    const float arg = refs::kGatesA[6] + refs::kGatesDtBias[2];
    ASSERT_GT(arg, 20.0f);
    EXPECT_EQ(g.data()[6], -std::exp(refs::kGatesALog[2]) * arg);
}

TEST(GdnGates, ShapeErrors) {
    Tensor g, beta;
    EXPECT_ERROR_CONTAINS(ops::gdn_gates(Tensor({2, 4}), Tensor({2, 4}), Tensor({3}), Tensor({4}), g, beta),
                          "A_log must be [HV] = [4]", "[3]");
}

}  // namespace
}  // namespace qinfer
