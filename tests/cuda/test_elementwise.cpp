// CUDA elementwise kernels (kernels/cuda/elementwise.h) against the CPU reference ops on random inputs, odd shapes
// included (H = 33 and 1000 take the scalar paths, 2048 / 8192 the 16-byte vector paths).

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "core/dtype.h"
#include "gpu_test_util.h"
#include "kernels/cuda/elementwise.h"
#include "ops/activation.h"
#include "ops/embedding.h"
#include "ops/norm.h"

namespace qinfer::test::gpu {
namespace {

// Fraction of elements that are bit-identical.
double frac_equal(const Tensor& a, const Tensor& b) {
    int64_t eq = 0;
    for (int64_t i = 0; i < a.numel(); ++i) eq += a.data()[i] == b.data()[i];
    return static_cast<double>(eq) / static_cast<double>(a.numel());
}

TEST(CudaElementwise, EmbeddingIsAnExactGather) {
    QINFER_REQUIRE_GPU();
    for (const int64_t H : {2048, 1000, 33}) {
        for (const int64_t T : {1, 5, 300}) {
            const int64_t V = 1000;
            const Tensor table = round_to_bf16(randn({V, H}));
            std::vector<int64_t> ids64(static_cast<size_t>(T));
            std::vector<int32_t> ids(static_cast<size_t>(T));
            std::uniform_int_distribution<int64_t> d(0, V - 1);
            for (int64_t t = 0; t < T; ++t) ids64[t] = d(rng()), ids[t] = static_cast<int32_t>(ids64[t]);
            ids[0] = static_cast<int32_t>(V - 1), ids64[0] = V - 1;  // the last row
            const Tensor ref = ops::embedding(table, ids64);
            const auto dt = upload_bf16(table);
            const auto di = upload_i32(ids);
            auto dh = poisoned(static_cast<size_t>(T * H) * 4);
            cuda::embedding(dt.as<cuda::bf16>(), V, H, di.as<int32_t>(), T, dh.as<float>(), nullptr);
            // bf16 -> f32 is exact: the output must equal the table rows bit for bit.
            EXPECT_EQ(max_abs_diff(download_f32(dh, {T, H}), ref), 0.0) << "H=" << H << " T=" << T;
        }
    }
}

TEST(CudaElementwise, RmsNormMatchesCpu) {
    QINFER_REQUIRE_GPU();
    struct Case { int64_t T, H, pad; bool zc; };
    const Case cases[] = {{1, 2048, 0, true}, {5, 2048, 0, false}, {300, 2048, 0, true}, {5, 1000, 0, true},
                          {300, 33, 0, true}, {1, 33, 0, false}, {5, 8192, 0, true}, {3, 4100, 0, false}, {5, 2048, 3, true},
                          {300, 1000, 8, false}};
    for (const Case& c : cases) {
        const int64_t ldx = c.H + c.pad;
        const Tensor xw = randn({c.T, ldx}, 3.0f);
        Tensor x({c.T, c.H});
        for (int64_t t = 0; t < c.T; ++t)
            for (int64_t i = 0; i < c.H; ++i) x.data()[t * c.H + i] = xw.data()[t * ldx + i];
        const Tensor w = randn({c.H}, 0.3f);
        const Tensor ref = round_to_bf16(ops::rms_norm(x, w, 1e-6f, c.zc));
        const auto dx = upload_f32(xw);
        const auto dw = upload_f32(w);
        auto dy = poisoned(static_cast<size_t>(c.T * c.H) * 2);
        cuda::rms_norm(dx.as<float>(), ldx, dw.as<float>(), 1e-6f, c.zc, c.T, c.H, dy.as<cuda::bf16>(), nullptr);
        const Tensor y = download_bf16(dy, {c.T, c.H});
        // Same fp32 operation order as kernels/cpu/norm.cpp; only the fp64 sum of squares is added in another order,
        // which can move the fp32 mean by one ulp and flip a bf16 rounding now and then (one bf16 ulp = 2^-8 rel).
        // So: rel L2 <= 1e-3 (far below one bf16 ulp everywhere, ~2e-3) and >= 99 % of elements bit-identical.
        const std::string what = "rms_norm T=" + std::to_string(c.T) + " H=" + std::to_string(c.H);
        expect_close(y, ref, 1e-3, what);
        EXPECT_GE(frac_equal(y, ref), 0.99) << what;
    }
}

// Plain, and with the shared expert's gate: out = bf16(sigmoid(g_t) · silu(gate) · up), the gate logit in column 0 of a
// [T, 3] matrix.
TEST(CudaElementwise, SiluMulMatchesCpu) {
    QINFER_REQUIRE_GPU();
    for (const int64_t I : {512, 1000, 33}) {
        for (const int64_t T : {1, 5, 300}) {
            for (const bool gated : {false, true}) {
                const Tensor gu = round_to_bf16(randn({T, 2 * I}, 2.0f));
                const int64_t ld_gate = 3;
                const Tensor gate = randn({T, ld_gate}, 2.0f);
                Tensor g({T, I}), u({T, I});
                for (int64_t t = 0; t < T; ++t)
                    for (int64_t i = 0; i < I; ++i) {
                        g.data()[t * I + i] = gu.data()[t * 2 * I + i];
                        u.data()[t * I + i] = gu.data()[t * 2 * I + I + i];
                    }
                Tensor ref = ops::silu_mul(g, u);
                if (gated)
                    for (int64_t t = 0; t < T; ++t) {
                        const float sg = ops::sigmoid(gate.data()[t * ld_gate]);
                        for (int64_t i = 0; i < I; ++i) ref.data()[t * I + i] *= sg;
                    }
                ref = round_to_bf16(ref);
                const auto dgu = upload_bf16(gu);
                const auto dg = upload_f32(gate);
                auto dout = poisoned(static_cast<size_t>(T * I) * 2);
                cuda::silu_mul(dgu.as<cuda::bf16>(), T, I, dout.as<cuda::bf16>(), nullptr,
                               gated ? dg.as<float>() : nullptr, ld_gate);
                const Tensor out = download_bf16(dout, {T, I});
                // Same formula x / (1 + e^-x) · up (· 1 / (1 + e^-g)) in fp32; CUDA's expf may differ from the host
                // exp by an ulp, which flips a bf16 rounding rarely: rel L2 <= 1e-3 and >= 99 % bit-identical.
                const std::string what = std::string("silu_mul") + (gated ? " gated" : "") + " T=" + std::to_string(T) +
                                         " I=" + std::to_string(I);
                expect_close(out, ref, 1e-3, what);
                EXPECT_GE(frac_equal(out, ref), 0.99) << what;
            }
        }
    }
}

}  // namespace
}  // namespace qinfer::test::gpu
