// CUDA MoE glue (kernels/cuda/moe.h) against the CPU reference (kernels/cpu/moe.cpp): routing (ids exact, ties to the
// lower expert), the permutation (exactly the CPU's stable counting sort, plus its invariants), gathers and the
// weighted combine (summed in ascending expert order, as moe_experts).

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "gpu_test_util.h"
#include "kernels/cpu/moe.h"
#include "kernels/cuda/elementwise.h"
#include "kernels/cuda/moe.h"
#include "test_util.h"

namespace qinfer::test::gpu {
namespace {

struct Route {
    std::vector<int32_t> ids;
    std::vector<float> w;
};

Route cpu_route(const Tensor& logits, int64_t T, int64_t E, int64_t k, bool renorm) {
    Route r{std::vector<int32_t>(static_cast<size_t>(T * k)), std::vector<float>(static_cast<size_t>(T * k))};
    kernels::cpu::moe_route(logits.data(), T, E, k, renorm, r.ids.data(), r.w.data());
    return r;
}

Route gpu_route(const Tensor& logits, int64_t ld, int64_t T, int64_t E, int64_t k, bool renorm) {
    const auto dl = upload_f32(logits);
    auto di = poisoned(static_cast<size_t>(T * k) * 4);
    auto dw = poisoned(static_cast<size_t>(T * k) * 4);
    cuda::moe_route(dl.as<float>(), ld, T, E, k, renorm, di.as<int32_t>(), dw.as<float>(), nullptr);
    return {cuda::to_host<int32_t>(di.data(), static_cast<size_t>(T * k)),
            cuda::to_host<float>(dw.data(), static_cast<size_t>(T * k))};
}

TEST(CudaMoeRouting, RouteMatchesCpu) {
    QINFER_REQUIRE_GPU();
    struct Case {
        int64_t E, k;
    };
    for (const Case c : {Case{8, 2}, Case{256, 8}, Case{512, 10}, Case{60, 4}}) {
        for (const int64_t T : {1, 5, 300}) {
            for (const bool renorm : {true, false}) {
                const int64_t pad = c.E == 60 ? 5 : 0;  // a row stride wider than E
                const Tensor lw = randn({T, c.E + pad}, 2.0f);
                Tensor l({T, c.E});
                for (int64_t t = 0; t < T; ++t)
                    for (int64_t e = 0; e < c.E; ++e) l.data()[t * c.E + e] = lw.data()[t * (c.E + pad) + e];
                const Route ref = cpu_route(l, T, c.E, c.k, renorm);
                const Route got = gpu_route(lw, c.E + pad, T, c.E, c.k, renorm);
                const std::string what = "E=" + std::to_string(c.E) + " k=" + std::to_string(c.k) +
                                         " T=" + std::to_string(T) + (renorm ? " renorm" : "");
                // Random normal logits have no near-ties at the top, so the ids must match exactly; the weights differ
                // only by the softmax sum's order (warp tree vs sequential) and expf: rel 1e-5.
                EXPECT_EQ(got.ids, ref.ids) << what;
                for (size_t i = 0; i < ref.w.size(); ++i)
                    ASSERT_NEAR(got.w[i], ref.w[i], 1e-5 * std::abs(ref.w[i]) + 1e-9) << what << " at " << i;
            }
        }
    }
}

// moe_route_shared: the k routed slots exactly as moe_route, plus slot k = expert E with weight sigmoid(gate logit).
TEST(CudaMoeRouting, RouteSharedAddsTheSharedExpertAsLastSlot) {
    QINFER_REQUIRE_GPU();
    const int64_t E = 64, k = 4, T = 11, ldg = 3;
    const Tensor l = randn({T, E}, 2.0f);
    const Tensor g = randn({T, ldg}, 3.0f);  // the gate logit of token t at g[t * ldg]
    const Route ref = cpu_route(l, T, E, k, true);
    const auto dl = upload_f32(l), dg = upload_f32(g);
    auto di = poisoned(static_cast<size_t>(T * (k + 1)) * 4);
    auto dw = poisoned(static_cast<size_t>(T * (k + 1)) * 4);
    cuda::moe_route_shared(dl.as<float>(), E, T, E, k, true, dg.as<float>(), ldg, di.as<int32_t>(), dw.as<float>(),
                           nullptr);
    const auto ids = cuda::to_host<int32_t>(di.data(), static_cast<size_t>(T * (k + 1)));
    const auto w = cuda::to_host<float>(dw.data(), static_cast<size_t>(T * (k + 1)));
    for (int64_t t = 0; t < T; ++t) {
        for (int64_t j = 0; j < k; ++j) {
            const size_t a = static_cast<size_t>(t * (k + 1) + j), b = static_cast<size_t>(t * k + j);
            EXPECT_EQ(ids[a], ref.ids[b]) << "token " << t << " slot " << j;
            EXPECT_NEAR(w[a], ref.w[b], 1e-5 * std::abs(ref.w[b]) + 1e-9) << "token " << t << " slot " << j;
        }
        const size_t s = static_cast<size_t>(t * (k + 1) + k);
        EXPECT_EQ(ids[s], E) << "token " << t << ": the shared slot is expert E";
        const float want = 1.0f / (1.0f + std::exp(-g.data()[t * ldg]));
        EXPECT_NEAR(w[s], want, 1e-6 * want + 1e-9)
            << "token " << t << ": the shared slot's weight is its sigmoid gate";
    }
}

TEST(CudaMoeRouting, RouteTiesGoToTheLowerExpert) {
    QINFER_REQUIRE_GPU();
    for (const int64_t E : {8, 256}) {
        for (const int64_t k : {2, 8}) {
            const int64_t T = 37;
            // Logits from {0, 1, 2} (and all equal in token 0): many exactly equal probabilities.
            Tensor l({T, E});
            std::uniform_int_distribution<int> d(0, 2);
            for (int64_t i = 0; i < T * E; ++i) l.data()[i] = i < E ? 0.5f : static_cast<float>(d(rng()));
            const Route ref = cpu_route(l, T, E, k, true);
            const Route got = gpu_route(l, E, T, E, k, true);
            EXPECT_EQ(got.ids, ref.ids) << "E=" << E << " k=" << k;
            for (int64_t s = 0; s < k; ++s) EXPECT_EQ(got.ids[s], s) << "all-equal token picks experts 0..k-1";
            for (size_t i = 0; i < ref.w.size(); ++i) ASSERT_NEAR(got.w[i], ref.w[i], 1e-6);
        }
    }
}

struct Perm {
    std::vector<int32_t> offsets, src_token, sorted_pos, expert_of_row;
};

Perm gpu_permute(const std::vector<int32_t>& ids, int64_t T, int64_t k, int64_t E) {
    const int64_t n = T * k;
    const auto di = upload_i32(ids);
    auto doff = poisoned(static_cast<size_t>(E + 1) * 4);
    auto dsrc = poisoned(static_cast<size_t>(std::max<int64_t>(n, 1)) * 4);
    auto dpos = poisoned(static_cast<size_t>(std::max<int64_t>(n, 1)) * 4);
    auto dexp = poisoned(static_cast<size_t>(std::max<int64_t>(n, 1)) * 4);
    const size_t sb = cuda::moe_permute_scratch_bytes(T, k, E);
    cuda::DeviceBuffer scratch = sb ? poisoned(sb) : cuda::DeviceBuffer();
    cuda::moe_permute(di.as<int32_t>(), T, k, E, doff.as<int32_t>(), dsrc.as<int32_t>(), dpos.as<int32_t>(),
                      dexp.as<int32_t>(), scratch.data(), nullptr);
    return {cuda::to_host<int32_t>(doff.data(), static_cast<size_t>(E + 1)),
            cuda::to_host<int32_t>(dsrc.data(), static_cast<size_t>(n)),
            cuda::to_host<int32_t>(dpos.data(), static_cast<size_t>(n)),
            cuda::to_host<int32_t>(dexp.data(), static_cast<size_t>(n))};
}

// k distinct experts per token; `hot` > 0 draws them from experts [0, hot) only (skewed load: a few experts own
// many chunks' worth of rows).
std::vector<int32_t> random_ids(int64_t T, int64_t k, int64_t E, int64_t hot = 0) {
    std::vector<int32_t> ids;
    const int64_t range = hot > 0 ? hot : E;
    std::vector<int32_t> all(static_cast<size_t>(range));
    std::iota(all.begin(), all.end(), 0);
    for (int64_t t = 0; t < T; ++t) {
        std::shuffle(all.begin(), all.end(), rng());
        ids.insert(ids.end(), all.begin(), all.begin() + k);
    }
    return ids;
}

TEST(CudaMoeRouting, PermuteIsTheStableCountingSort) {
    QINFER_REQUIRE_GPU();
    struct Case {
        int64_t T, E, k, hot;
    };
    const Case cases[] = {{1, 8, 2, 0},       {5, 8, 2, 0},       {64, 256, 8, 0}, {1, 256, 8, 0},
                          {300, 256, 8, 0},   {300, 8, 2, 0},     {5, 256, 8, 0},  {8192, 256, 8, 0},
                          {8192, 256, 8, 10}, {1000, 512, 10, 0}, {65, 256, 8, 0}, {64, 8, 8, 0}};
    for (const Case& c : cases) {
        const std::vector<int32_t> ids = random_ids(c.T, c.k, c.E, c.hot);
        const Perm got = gpu_permute(ids, c.T, c.k, c.E);
        const int64_t n = c.T * c.k;
        const std::string what = "T=" + std::to_string(c.T) + " E=" + std::to_string(c.E) +
                                 " k=" + std::to_string(c.k) + " hot=" + std::to_string(c.hot);
        // Reference: the CPU's stable counting sort (kernels/cpu/moe.cpp moe_experts).
        Perm ref{std::vector<int32_t>(static_cast<size_t>(c.E + 1), 0), std::vector<int32_t>(static_cast<size_t>(n)),
                 std::vector<int32_t>(static_cast<size_t>(n)), std::vector<int32_t>(static_cast<size_t>(n))};
        for (int64_t i = 0; i < n; ++i) ++ref.offsets[static_cast<size_t>(ids[i]) + 1];
        std::partial_sum(ref.offsets.begin(), ref.offsets.end(), ref.offsets.begin());
        std::vector<int32_t> fill(ref.offsets.begin(), ref.offsets.end() - 1);
        for (int64_t i = 0; i < n; ++i) {
            const int32_t row = fill[static_cast<size_t>(ids[i])]++;
            ref.sorted_pos[i] = row;
            ref.src_token[row] = static_cast<int32_t>(i / c.k);
            ref.expert_of_row[row] = ids[i];
        }
        EXPECT_EQ(got.offsets, ref.offsets) << what;
        EXPECT_EQ(got.src_token, ref.src_token) << what;
        EXPECT_EQ(got.sorted_pos, ref.sorted_pos) << what;
        EXPECT_EQ(got.expert_of_row, ref.expert_of_row) << what;
        // Invariants, stated directly: offsets monotone from 0 to n; every (t, j) has one row, rows used once; the
        // row belongs to the pair's expert and token; tokens ascend within an expert.
        ASSERT_EQ(got.offsets.front(), 0) << what;
        ASSERT_EQ(got.offsets.back(), n) << what;
        for (int64_t e = 0; e < c.E; ++e) ASSERT_LE(got.offsets[e], got.offsets[e + 1]) << what;
        std::vector<int> used(static_cast<size_t>(n), 0);
        for (int64_t i = 0; i < n; ++i) {
            const int32_t row = got.sorted_pos[i];
            ASSERT_TRUE(row >= 0 && row < n) << what;
            ++used[row];
            ASSERT_EQ(got.src_token[row], i / c.k) << what;
            ASSERT_EQ(got.expert_of_row[row], ids[i]) << what;
        }
        for (int64_t r = 0; r < n; ++r) ASSERT_EQ(used[r], 1) << what;
        for (int64_t e = 0; e < c.E; ++e)
            for (int32_t r = got.offsets[e]; r < got.offsets[e + 1]; ++r) {
                ASSERT_EQ(got.expert_of_row[r], e) << what;
                if (r > got.offsets[e]) {
                    ASSERT_LT(got.src_token[r - 1], got.src_token[r]) << what;
                }
            }
    }
}

TEST(CudaMoeRouting, CombineMatchesCpuOrder) {
    QINFER_REQUIRE_GPU();
    struct Case {
        int64_t T, E, k, H;
    };
    for (const Case c : {Case{1, 256, 8, 2048}, Case{5, 8, 2, 2048}, Case{300, 256, 8, 2048}, Case{300, 8, 2, 33},
                         Case{5, 256, 8, 1000}}) {
        const int64_t n = c.T * c.k;
        const Tensor logits = randn({c.T, c.E}, 2.0f);
        const Route r = cpu_route(logits, c.T, c.E, c.k, true);
        const Perm p = gpu_permute(r.ids, c.T, c.k, c.E);
        for (const bool bf16y : {false, true}) {  // expert outputs as f32, and as bf16 (the model's)
            const Tensor y = bf16y ? round_to_bf16(randn({n, c.H})) : randn({n, c.H});
            const Tensor h0 = randn({c.T, c.H});
            // CPU reference (moe_experts): out = 0; out += y_e · w_e over the token's experts in ascending id; h + out.
            Tensor ref = h0;
            for (int64_t t = 0; t < c.T; ++t) {
                std::vector<int64_t> js(static_cast<size_t>(c.k));
                std::iota(js.begin(), js.end(), 0);
                std::sort(js.begin(), js.end(),
                          [&](int64_t a, int64_t b) { return r.ids[t * c.k + a] < r.ids[t * c.k + b]; });
                for (int64_t i = 0; i < c.H; ++i) {
                    float acc = 0.0f;
                    for (const int64_t j : js) acc += y.data()[p.sorted_pos[t * c.k + j] * c.H + i] * r.w[t * c.k + j];
                    ref.data()[t * c.H + i] += acc;
                }
            }
            const auto dy = bf16y ? upload_bf16(y) : upload_f32(y);
            const auto dpos = upload_i32(p.sorted_pos);
            const auto dw = cuda::to_device(std::span<const float>(r.w));
            auto dh = upload_f32(h0);
            if (bf16y)
                cuda::moe_combine(dy.as<cuda::bf16>(), dpos.as<int32_t>(), dw.as<float>(), c.T, c.k, c.H,
                                  dh.as<float>(), nullptr);
            else
                cuda::moe_combine(dy.as<float>(), dpos.as<int32_t>(), dw.as<float>(), c.T, c.k, c.H, dh.as<float>(),
                                  nullptr);
            // Same order and unfused fp32 operations as the reference (bf16 y is exact in f32); 1e-6 leaves room only
            // for a host compiler that contracts a*b+c into an FMA.
            expect_close(download_f32(dh, {c.T, c.H}), ref, 1e-6,
                         std::string("combine ") + (bf16y ? "bf16 y " : "") + "T=" + std::to_string(c.T) +
                             " k=" + std::to_string(c.k) + " H=" + std::to_string(c.H));
        }
    }
}

// moe_combine_norm = moe_combine, then rms_norm of the finished rows, in one launch: h exactly as moe_combine, and xb
// bit for bit as the two kernels for H <= 2048 (same block size and rounding); for wider H (a different thread
// mapping of the fp64 sum of squares) within one bf16 rounding of them.
TEST(CudaMoeRouting, CombineNormIsCombineThenRmsNorm) {
    QINFER_REQUIRE_GPU();
    struct Case {
        int64_t T, k, H;
    };
    for (const Case c : {Case{1, 9, 2048}, Case{8, 3, 2048}, Case{3, 9, 64}, Case{2, 9, 4096}, Case{1, 4, 8192}}) {
        const int64_t n = c.T * c.k;
        std::vector<int32_t> pos(static_cast<size_t>(n));
        std::iota(pos.begin(), pos.end(), 0);
        for (const bool bf16y : {false, true}) {  // expert outputs as f32, and as bf16 (the model's)
            const Tensor y = round_to_bf16(randn({n, c.H})), h0 = randn({c.T, c.H}, 3.0f), wts = randn({n}),
                         nw = randn({c.H}, 0.2f);
            const auto dy = bf16y ? upload_bf16(y) : upload_f32(y), dw = upload_f32(wts), dnw = upload_f32(nw);
            const auto dpos = upload_i32(pos);
            auto h1 = upload_f32(h0), h2 = upload_f32(h0);
            cuda::DeviceBuffer x1(static_cast<size_t>(c.T * c.H) * 2), x2(static_cast<size_t>(c.T * c.H) * 2);
            const float eps = 1e-6f;
            // y holds bf16 values either way, so the f32 combine of the first pass is the reference of both.
            const auto yf = upload_f32(y);
            cuda::moe_combine(yf.as<float>(), dpos.as<int32_t>(), dw.as<float>(), c.T, c.k, c.H, h1.as<float>(),
                              nullptr);
            cuda::rms_norm(h1.as<float>(), c.H, dnw.as<float>(), eps, true, c.T, c.H, x1.as<cuda::bf16>(), nullptr);
            ASSERT_TRUE(cuda::moe_combine_norm_supported(c.H));
            if (bf16y)
                cuda::moe_combine_norm(dy.as<cuda::bf16>(), dpos.as<int32_t>(), dw.as<float>(), c.T, c.k, c.H,
                                       h2.as<float>(), dnw.as<float>(), eps, true, x2.as<cuda::bf16>(), nullptr);
            else
                cuda::moe_combine_norm(dy.as<float>(), dpos.as<int32_t>(), dw.as<float>(), c.T, c.k, c.H,
                                       h2.as<float>(), dnw.as<float>(), eps, true, x2.as<cuda::bf16>(), nullptr);
            const std::string what = std::string(bf16y ? "bf16 y " : "") + "T=" + std::to_string(c.T) +
                                     " k=" + std::to_string(c.k) + " H=" + std::to_string(c.H);
            EXPECT_EQ(max_abs_diff(download_f32(h2, {c.T, c.H}), download_f32(h1, {c.T, c.H})), 0.0) << what;
            const auto a = cuda::to_host<uint16_t>(x1.data(), static_cast<size_t>(c.T * c.H));
            const auto b = cuda::to_host<uint16_t>(x2.data(), static_cast<size_t>(c.T * c.H));
            int64_t differ = 0;
            for (size_t i = 0; i < a.size(); ++i) {
                const int d = std::abs(static_cast<int>(a[i]) - static_cast<int>(b[i]));
                EXPECT_LE(d, 1) << what << " at " << i << ": more than one bf16 ulp apart";
                differ += d != 0;
            }
            if (c.H <= 2048) {
                EXPECT_EQ(differ, 0) << what << ": not bit-identical to moe_combine + rms_norm";
            }
        }
    }
    EXPECT_FALSE(cuda::moe_combine_norm_supported(8196));
    EXPECT_FALSE(cuda::moe_combine_norm_supported(1001));
}

// The error paths of the shared-slot routing and the combine + norm: refused with the reason, before any launch.
TEST(CudaMoeRouting, RouteSharedAndCombineNormRejectWhatTheyCannotRun) {
    QINFER_REQUIRE_GPU();
    const auto dl = upload_f32(randn({2, 8}));
    auto di = poisoned(2 * 3 * 4), dw = poisoned(2 * 3 * 4);
    EXPECT_ERROR_CONTAINS(
        cuda::moe_route_shared(dl.as<float>(), 8, 2, 8, 2, true, nullptr, 1, di.as<int32_t>(), dw.as<float>(), nullptr),
        "moe_route_shared", "null");
    const int64_t H = 1001;  // not a multiple of 4
    cuda::DeviceBuffer y(static_cast<size_t>(2 * H) * 4), h(static_cast<size_t>(H) * 4), nw(static_cast<size_t>(H) * 4),
        xb(static_cast<size_t>(H) * 2);
    const std::vector<int32_t> pos = {0, 1};
    const auto dpos = upload_i32(pos);
    EXPECT_ERROR_CONTAINS(
        cuda::moe_combine_norm(y.as<float>(), dpos.as<int32_t>(), dw.as<float>(), 1, 2, H, h.as<float>(),
                               nw.as<float>(), 1e-6f, true, xb.as<cuda::bf16>(), nullptr),
        "moe_combine_norm", "H = 1001");
}

}  // namespace
}  // namespace qinfer::test::gpu
