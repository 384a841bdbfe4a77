// CUDA GEMMs (kernels/cuda/linear.h) against an fp32 CPU GEMM (ops::linear) on the CPU codecs' dequantized weights.
//
// Weights: random N(0, 0.05) per expert, quantized with src/quant (nvfp4_quantize / fp8_quantize, each expert with its
// own global scale, so row_scale differs per expert) or rounded to bf16; the reference uses exactly the dequantized
// values (nvfp4_dequantize / fp8_dequantize), x is rounded to bf16, so the kernels and the reference multiply the same
// numbers and differ only by fp32 summation order and the output rounding.
//
// Tolerances (rel L2 over the [M, N] result):
//  - f32 outputs, exact paths (Gemv, TensorCore, DequantBlas: its bf16 copy of the weight is exact, the row scale is
//    cuBLASLt's alpha): 1e-4. The products are the same; only the fp32 summation order differs (~1e-6 relative for
//    K <= 2048), with margin.
//  - bf16 outputs: 4e-3. One bf16 rounding of each output, <= 2^-9 = 1.95e-3 relative per element (rel L2 ~ 1e-3).
//  - DequantBlas on a weight whose scale changes every few rows (per-channel FP8): 5e-3. That case folds the row scale
//    into the bf16 copy (one rounding of each weight, <= 2^-9 relative, independent across k: ~1e-3 on the sums), plus
//    the bf16 output rounding.
// Outputs are poisoned (NaN) first; x is read through a row stride ldx > K whose padding holds NaN (a kernel reading
// beyond K fails); y uses ldy > N for some cases and the padding columns / untouched rows must stay poisoned.

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "core/dtype.h"
#include "gpu_test_util.h"
#include "kernels/cuda/linear.h"
#include "kernels/cuda/sm90.h"
#include "ops/activation.h"
#include "ops/linear.h"
#include "quant/fp8.h"
#include "quant/nvfp4.h"
#include "test_util.h"

namespace qinfer::test::gpu {
namespace {

using cuda::DeviceWeight;
using cuda::GemmPath;
using cuda::OutMode;
using cuda::WeightFormat;

struct TestWeight {
    WeightFormat f;
    int64_t E, N, K;
    std::vector<Tensor> dq;  // per expert, f32 [N, K]: exactly the values the device holds (times row scale)
    DeviceWeight dw;
};

TestWeight make_weight(WeightFormat f, int64_t E, int64_t N, int64_t K) {
    TestWeight t{f, E, N, K, {}, DeviceWeight(f, E, N, K)};
    for (int64_t e = 0; e < E; ++e) {
        // Experts get different magnitudes so that their global scales (row_scale) differ.
        const Tensor w = randn({N, K}, 0.05f * static_cast<float>(e + 1));
        if (f == WeightFormat::NVFP4) {
            const quant::Nvfp4Weight q = quant::nvfp4_quantize(w.span(), N, K);
            t.dq.push_back(quant::nvfp4_dequantize(q));
            t.dw.upload_rows(e * N, N, q.packed.data(), q.block_scales.data(), q.weight_scale_2);
        } else if (f == WeightFormat::FP8) {
            const quant::Fp8Weight q = quant::fp8_quantize(w.span(), N, K);
            t.dq.push_back(quant::fp8_dequantize(q));
            t.dw.upload_rows(e * N, N, q.values.data(), nullptr, q.scale);
        } else {
            std::vector<uint16_t> bits(static_cast<size_t>(N * K));
            for (size_t i = 0; i < bits.size(); ++i) bits[i] = f32_to_bf16(w.data()[i]);
            t.dq.push_back(round_to_bf16(w));
            t.dw.upload_rows(e * N, N, bits.data(), nullptr, 1.0f);
        }
    }
    return t;
}

// x: [M, K] values rounded to bf16, on the device with row stride ldx (padding columns NaN).
struct TestX {
    Tensor x;  // f32 [M, K], bf16 values
    cuda::DeviceBuffer d;
    int64_t ldx;
};

TestX make_x(int64_t M, int64_t K, int64_t ldx) {
    TestX t{round_to_bf16(randn({M, K})), {}, ldx};
    Tensor padded({std::max<int64_t>(M, 1), ldx});
    std::fill(padded.vec().begin(), padded.vec().end(), std::numeric_limits<float>::quiet_NaN());
    for (int64_t m = 0; m < M; ++m) std::memcpy(padded.row(m), t.x.row(m), static_cast<size_t>(K) * sizeof(float));
    t.d = upload_bf16(padded);
    return t;
}

size_t out_elem_bytes(OutMode mode) { return mode == OutMode::StoreBF16 ? 2 : 4; }

const char* mode_name(OutMode m) {
    switch (m) {
        case OutMode::StoreBF16: return "store_bf16";
        case OutMode::StoreF32: return "store_f32";
        case OutMode::AddF32: return "add_f32";
    }
    return "?";
}

// Runs `launch(y)` on a poisoned (or, for AddF32, random) [rows_alloc, ldy] output and compares rows in `check_rows`
// with ref (+ y0 for AddF32). Every other element (padding columns, untouched rows) must keep its initial bits.
template <class Launch>
void run_and_check(OutMode mode, int64_t rows_alloc, int64_t N, int64_t ldy, const Tensor& ref,
                   const std::vector<int64_t>& check_rows, double tol, const std::string& what, Launch launch) {
    const size_t es = out_elem_bytes(mode);
    cuda::DeviceBuffer y = poisoned(static_cast<size_t>(rows_alloc * ldy) * es);
    Tensor y0;
    if (mode == OutMode::AddF32) {
        // Random initial values in the checked [row, 0:N] slots; padding stays NaN.
        y0 = randn({rows_alloc, ldy});
        for (int64_t r = 0; r < rows_alloc; ++r)
            for (int64_t c = N; c < ldy; ++c) y0.row(r)[c] = std::numeric_limits<float>::quiet_NaN();
        std::vector<bool> checked(static_cast<size_t>(rows_alloc), false);
        for (int64_t r : check_rows) checked[static_cast<size_t>(r)] = true;
        for (int64_t r = 0; r < rows_alloc; ++r)
            if (!checked[static_cast<size_t>(r)])
                for (int64_t c = 0; c < ldy; ++c) y0.row(r)[c] = std::numeric_limits<float>::quiet_NaN();
        y = upload_f32(y0);
    }
    launch(y.data());
    QINFER_CUDA_CHECK(cudaDeviceSynchronize());
    const Tensor out = mode == OutMode::StoreBF16 ? download_bf16(y, {rows_alloc, ldy}) : download_f32(y, {rows_alloc, ldy});
    const int64_t R = static_cast<int64_t>(check_rows.size());
    Tensor got({R, N}), want({R, N});
    std::vector<bool> checked(static_cast<size_t>(rows_alloc), false);
    for (int64_t i = 0; i < R; ++i) {
        const int64_t r = check_rows[static_cast<size_t>(i)];
        checked[static_cast<size_t>(r)] = true;
        for (int64_t c = 0; c < N; ++c) {
            got.row(i)[c] = out.row(r)[c];
            want.row(i)[c] = ref.row(i)[c] + (mode == OutMode::AddF32 ? y0.row(r)[c] : 0.0f);
        }
    }
    expect_close(got, want, tol, what);
    // Everything not written must still be NaN (poison or the NaN padding of y0).
    int64_t clobbered = 0;
    for (int64_t r = 0; r < rows_alloc; ++r)
        for (int64_t c = 0; c < ldy; ++c)
            if ((!checked[static_cast<size_t>(r)] || c >= N) && !std::isnan(out.row(r)[c])) ++clobbered;
    EXPECT_EQ(clobbered, 0) << what << ": elements outside the result were written";
}

double tol_for(OutMode mode) {
    return mode == OutMode::StoreBF16 ? 4e-3 : 1e-4;
}

constexpr WeightFormat kFormats[] = {WeightFormat::BF16, WeightFormat::NVFP4, WeightFormat::FP8};
constexpr OutMode kModes[] = {OutMode::StoreBF16, OutMode::StoreF32, OutMode::AddF32};

struct PathReset {
    ~PathReset() { cuda::set_gemm_path(GemmPath::Auto); }
};

TEST(CudaLinear, DenseAllFormatsPathsModes) {
    QINFER_REQUIRE_GPU();
    PathReset reset;
    cuda::GemmContext ctx;
    const std::pair<int64_t, int64_t> nks[] = {{72, 64}, {1000, 528}, {256, 2048}};
    for (WeightFormat f : kFormats)
        for (auto [N, K] : nks) {
            const TestWeight w = make_weight(f, 2, N, K);
            for (int64_t M : {1, 3, 8, 17, 64, 300}) {
                const TestX x = make_x(M, K, K + 8);
                const Tensor ref = ops::linear(x.x, w.dq[1]);  // expert 1 of 2
                std::vector<int64_t> rows(static_cast<size_t>(M));
                for (int64_t r = 0; r < M; ++r) rows[static_cast<size_t>(r)] = r;
                const int64_t ldy = M % 2 ? N + 5 : N;
                for (GemmPath p :
                     {GemmPath::Auto, GemmPath::Gemv, GemmPath::TensorCore, GemmPath::DequantBlas, GemmPath::Wgmma}) {
                    cuda::set_gemm_path(p);
                    for (OutMode mode : kModes) {
                        const std::string what = str_cat(cuda::weight_format_name(f), " M=", M, " N=", N, " K=", K,
                                                         " ldy=", ldy, " ", cuda::gemm_path_name(p), " ",
                                                         mode_name(mode));
                        run_and_check(mode, M, N, ldy, ref, rows, tol_for(mode), what, [&](void* y) {
                            cuda::linear(w.dw, 1, x.d.as<cuda::bf16>(), M, x.ldx, y, ldy, mode, ctx, nullptr);
                        });
                    }
                }
            }
        }
}

// The wgmma GEMM runs 4 (or 2) work tiles per CTA once its grid has 8 (or 4) tiles per SM: the mbarrier ring runs
// on across a CTA's tiles (its phases wrap inside them here: 4 k tiles x 4 tiles > 6 stages) and each tile reuses
// the bf16 epilogue tile. The other tests' grids are far too small for that, so M is sized from the SM count. One
// partial 256-row block (N = 200), a partial last k tile (K = 208), a partial last chunk (+ 77 rows).
TEST(CudaLinear, WgmmaSeveralTilesPerCta) {
    QINFER_REQUIRE_GPU();
    if (!cuda::sm90a_available()) GTEST_SKIP() << "no sm_90a wgmma on this device";
    PathReset reset;
    cuda::GemmContext ctx;
    cuda::set_gemm_path(GemmPath::Wgmma);
    const int64_t N = 200, K = 208, ldy = N + 8;  // ldy % 8 == 0: the epilogue's 16-byte row stores
    const TestWeight w = make_weight(WeightFormat::NVFP4, 1, N, K);
    int sms = 0;
    QINFER_CUDA_CHECK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, 0));
    for (const int64_t tiles_per_sm : {8, 4}) {
        const int64_t M = tiles_per_sm * sms * 128 + 77;
        const TestX x = make_x(M, K, K);
        const Tensor ref = ops::linear(x.x, w.dq[0]);
        std::vector<int64_t> rows(static_cast<size_t>(M));
        for (int64_t r = 0; r < M; ++r) rows[static_cast<size_t>(r)] = r;
        for (OutMode mode : {OutMode::StoreBF16, OutMode::StoreF32}) {
            const std::string what =
                str_cat("nvfp4 wgmma M=", M, " (", tiles_per_sm, " tiles per SM) ", mode_name(mode));
            run_and_check(mode, M, N, ldy, ref, rows, tol_for(mode), what, [&](void* y) {
                cuda::linear(w.dw, 0, x.d.as<cuda::bf16>(), M, x.ldx, y, ldy, mode, ctx, nullptr);
            });
        }
    }
}

// A fused weight whose shards carry different scales (in_proj_qkv ‖ in_proj_z with their own global scales): every
// path applies each row's own scale. DequantBlas runs one GEMM per run of rows of one scale, at row offsets that are
// not 256-byte aligned (40 and 64 rows of bf16 output); with a scale per row (per-channel FP8: more runs than it
// splits into GEMMs) it folds the scales into its bf16 weight copy instead (5e-3, see the file comment).
TEST(CudaLinear, ShardsWithTheirOwnScalesOnEveryPath) {
    QINFER_REQUIRE_GPU();
    PathReset reset;
    cuda::GemmContext ctx;
    const int64_t K = 256, M = 80;
    const int64_t shard_rows[] = {40, 24, 64};
    for (WeightFormat f : {WeightFormat::NVFP4, WeightFormat::FP8}) {
        for (bool per_row : {false, true}) {
            if (per_row && f == WeightFormat::NVFP4) continue;  // NVFP4 has one global scale per shard
            const int64_t N = 128;
            DeviceWeight dw(f, 1, N, K);
            Tensor dq({N, K});
            int64_t row0 = 0;
            for (int64_t si = 0; si < 3; ++si) {
                const int64_t rows = shard_rows[si];
                const Tensor w = randn({rows, K}, 0.03f * static_cast<float>(si + 1));  // a different scale each
                if (f == WeightFormat::NVFP4) {
                    const quant::Nvfp4Weight q = quant::nvfp4_quantize(w.span(), rows, K);
                    const Tensor d = quant::nvfp4_dequantize(q);
                    std::copy(d.data(), d.data() + rows * K, dq.row(row0));
                    dw.upload_rows(row0, rows, q.packed.data(), q.block_scales.data(), q.weight_scale_2);
                } else {
                    for (int64_t r = 0; r < rows; r += per_row ? 1 : rows) {  // per row: each row its own scale
                        const int64_t n = per_row ? 1 : rows;
                        const Tensor part({n, K}, std::vector<float>(w.row(r), w.row(r) + n * K));
                        const quant::Fp8Weight q = quant::fp8_quantize(part.span(), n, K);
                        const Tensor d = quant::fp8_dequantize(q);
                        std::copy(d.data(), d.data() + n * K, dq.row(row0 + r));
                        dw.upload_rows(row0 + r, n, q.values.data(), nullptr, q.scale);
                    }
                }
                row0 += rows;
            }
            EXPECT_EQ(dw.scale_runs().size(), per_row ? static_cast<size_t>(N) : size_t{3});
            const TestX x = make_x(M, K, K);
            const Tensor ref = ops::linear(x.x, dq);
            std::vector<int64_t> rows(static_cast<size_t>(M));
            for (int64_t r = 0; r < M; ++r) rows[static_cast<size_t>(r)] = r;
            for (GemmPath p : {GemmPath::Gemv, GemmPath::TensorCore, GemmPath::DequantBlas, GemmPath::Wgmma}) {
                cuda::set_gemm_path(p);
                for (OutMode mode : kModes) {
                    const bool folded = p == GemmPath::DequantBlas && per_row;
                    const double tol = folded ? 5e-3 : tol_for(mode);
                    const std::string what = str_cat(cuda::weight_format_name(f), per_row ? " per-row scales " : " ",
                                                     cuda::gemm_path_name(p), " ", mode_name(mode));
                    run_and_check(mode, M, N, N, ref, rows, tol, what, [&](void* y) {
                        cuda::linear(dw, 0, x.d.as<cuda::bf16>(), M, x.ldx, y, N, mode, ctx, nullptr);
                    });
                }
            }
        }
    }
}

// The scale runs dequantize + cuBLASLt splits its GEMMs by: merged where neighbours share a scale, kept in row order
// when shards arrive out of order, and replaced where rows are uploaded again.
TEST(CudaLinear, ScaleRunsFollowTheUploads) {
    QINFER_REQUIRE_GPU();
    const int64_t N = 128, K = 16;
    DeviceWeight dw(WeightFormat::FP8, 1, N, K);
    const std::vector<uint8_t> codes(static_cast<size_t>(N * K), 0x38);  // E4M3 1.0
    const auto runs = [&] {
        std::string s;
        for (const auto& r : dw.scale_runs()) s += str_cat("[", r.row0, "+", r.rows, " x", r.scale, "]");
        return s;
    };
    dw.upload_rows(64, 64, codes.data(), nullptr, 2.0f);  // out of order: the second half first
    dw.upload_rows(0, 32, codes.data(), nullptr, 1.0f);
    dw.upload_rows(32, 32, codes.data(), nullptr, 1.0f);  // touches the run before it, same scale: merged
    EXPECT_EQ(runs(), "[0+64 x1][64+64 x2]");
    dw.upload_rows(48, 32, codes.data(), nullptr, 3.0f);  // over both: splits them
    EXPECT_EQ(runs(), "[0+48 x1][48+32 x3][80+48 x2]");
}

// Also gathered (x_gather, the MoE prefill's token permutation read in place): sorted row r reads x[gather[r]], from
// fewer x rows than M, with repeats, and the table only M long (rows past offsets[E] must not read it).
TEST(CudaLinear, GroupedWithEmptyExperts) {
    QINFER_REQUIRE_GPU();
    PathReset reset;
    cuda::GemmContext ctx;
    const std::pair<int64_t, int64_t> nks[] = {{72, 2048}, {1000, 528}};
    // Rows per expert: empty experts first, in the middle and last; one tile-crossing expert (130 > 128).
    const std::vector<int32_t> counts = {0, 37, 130, 0, 1, 64, 0};
    std::vector<int32_t> offsets = {0};
    for (int32_t c : counts) offsets.push_back(offsets.back() + c);
    const int64_t M = offsets.back();
    const int64_t m_bound = M + 20;  // an upper bound: rows >= offsets[E] must stay untouched
    const int64_t E = static_cast<int64_t>(counts.size());
    const int64_t X = 45;  // gathered: source rows
    std::vector<int32_t> gather(static_cast<size_t>(M));
    for (int64_t r = 0; r < M; ++r) gather[static_cast<size_t>(r)] = static_cast<int32_t>((r * 7 + r / 3) % X);
    const cuda::DeviceBuffer d_off = upload_i32(offsets), d_gather = upload_i32(gather);
    for (bool gathered : {false, true})
        for (WeightFormat f : kFormats)
            for (auto [N, K] : nks) {
                const TestWeight w = make_weight(f, E, N, K);
                const TestX x = make_x(gathered ? X : m_bound, K, K + 16);
                Tensor ref({M, N});
                for (int64_t e = 0; e < E; ++e) {
                    const int32_t cnt = counts[static_cast<size_t>(e)], off = offsets[static_cast<size_t>(e)];
                    if (cnt == 0) continue;
                    Tensor xe({cnt, K});
                    for (int64_t r = 0; r < cnt; ++r) {
                        const int64_t src = gathered ? gather[static_cast<size_t>(off + r)] : off + r;
                        std::memcpy(xe.row(r), x.x.row(src), static_cast<size_t>(K) * 4);
                    }
                    const Tensor ye = ops::linear(xe, w.dq[static_cast<size_t>(e)]);
                    for (int64_t r = 0; r < ye.shape()[0]; ++r)
                        std::memcpy(ref.row(off + r), ye.row(r), static_cast<size_t>(N) * 4);
                }
                std::vector<int64_t> rows(static_cast<size_t>(M));
                for (int64_t r = 0; r < M; ++r) rows[static_cast<size_t>(r)] = r;
                const int64_t ldy = N + 3;
                // NVFP4: the 8-row-chunk GEMV (Auto's choice for few rows per expert) and both tile kernels (mma.sync,
                // wgmma), each forced.
                const std::vector<GemmPath> paths =
                    f == WeightFormat::NVFP4
                        ? std::vector<GemmPath>{GemmPath::Gemv, GemmPath::TensorCore, GemmPath::Wgmma}
                        : std::vector<GemmPath>{GemmPath::Auto};
                for (GemmPath p : paths)
                    for (OutMode mode : kModes) {
                        cuda::set_gemm_path(p);
                        const std::string what =
                            str_cat(gathered ? "gathered " : "", "grouped ", cuda::weight_format_name(f), " E=", E,
                                    " M=", M, " N=", N, " K=", K, " ", cuda::gemm_path_name(p), " ", mode_name(mode));
                        run_and_check(mode, m_bound, N, ldy, ref, rows, tol_for(mode), what, [&](void* y) {
                            cuda::linear_grouped(w.dw, x.d.as<cuda::bf16>(), m_bound, x.ldx, d_off.as<int32_t>(), y,
                                                 ldy, mode, ctx, nullptr, gathered ? d_gather.as<int32_t>() : nullptr);
                        });
                    }
            }
}

TEST(CudaLinear, IndexedRepeatedExpertsAndRows) {
    QINFER_REQUIRE_GPU();
    cuda::GemmContext ctx;
    const std::pair<int64_t, int64_t> nks[] = {{72, 2048}, {1000, 528}, {512, 64}};
    const int64_t E = 6, X = 4;
    // Repeated experts (3 three times), repeated x rows (0 twice, 2 three times), x row 3 unused.
    const std::vector<int32_t> experts = {3, 3, 0, 5, 1, 3, 2, 4, 0, 5};
    const std::vector<int32_t> x_rows = {0, 0, 1, 2, 2, 1, 0, 2, 1, 0};
    const int64_t R = static_cast<int64_t>(experts.size());
    const cuda::DeviceBuffer d_e = upload_i32(experts), d_x = upload_i32(x_rows);
    for (WeightFormat f : kFormats)
        for (auto [N, K] : nks) {
            const TestWeight w = make_weight(f, E, N, K);
            const TestX x = make_x(X, K, K + 8);
            Tensor ref({R, N});
            for (int64_t r = 0; r < R; ++r) {
                Tensor xr({1, K});
                std::memcpy(xr.data(), x.x.row(x_rows[static_cast<size_t>(r)]), static_cast<size_t>(K) * 4);
                const Tensor yr = ops::linear(xr, w.dq[static_cast<size_t>(experts[static_cast<size_t>(r)])]);
                std::memcpy(ref.row(r), yr.data(), static_cast<size_t>(N) * 4);
            }
            std::vector<int64_t> rows(static_cast<size_t>(R));
            for (int64_t r = 0; r < R; ++r) rows[static_cast<size_t>(r)] = r;
            const int64_t ldy = N + 1;
            for (OutMode mode : kModes) {
                const std::string what = str_cat("indexed ", cuda::weight_format_name(f), " rows=", R, " N=", N,
                                                 " K=", K, " ", mode_name(mode));
                run_and_check(mode, R, N, ldy, ref, rows, tol_for(mode), what, [&](void* y) {
                    cuda::linear_indexed(w.dw, x.d.as<cuda::bf16>(), x.ldx, d_x.as<int32_t>(), d_e.as<int32_t>(), R,
                                         y, ldy, mode, ctx, nullptr);
                });
            }
        }
}

// The shared expert as expert E of the indexed GEMV (MoE decode): rows whose expert id is E read the `extra` weight,
// the other rows their stacked expert, in one launch. Same products as above: same tolerances.
TEST(CudaLinear, IndexedExtraExpertIsExpertE) {
    QINFER_REQUIRE_GPU();
    cuda::GemmContext ctx;
    const std::pair<int64_t, int64_t> nks[] = {{1024, 2048}, {2048, 512}, {72, 48}};
    const int64_t E = 5, X = 3;
    const std::vector<int32_t> experts = {4, 5, 0, 5, 2, 5};  // slot k of each of 3 tokens is the shared expert (5)
    const std::vector<int32_t> x_rows = {0, 0, 1, 1, 2, 2};
    const int64_t R = static_cast<int64_t>(experts.size());
    const cuda::DeviceBuffer d_e = upload_i32(experts), d_x = upload_i32(x_rows);
    for (WeightFormat f : kFormats)
        for (auto [N, K] : nks) {
            const TestWeight w = make_weight(f, E, N, K);
            const TestWeight shared = make_weight(f, 1, N, K);
            const TestX x = make_x(X, K, K + 8);
            Tensor ref({R, N});
            for (int64_t r = 0; r < R; ++r) {
                Tensor xr({1, K});
                std::memcpy(xr.data(), x.x.row(x_rows[static_cast<size_t>(r)]), static_cast<size_t>(K) * 4);
                const int32_t e = experts[static_cast<size_t>(r)];
                const Tensor yr = ops::linear(xr, e == E ? shared.dq[0] : w.dq[static_cast<size_t>(e)]);
                std::memcpy(ref.row(r), yr.data(), static_cast<size_t>(N) * 4);
            }
            std::vector<int64_t> rows(static_cast<size_t>(R));
            for (int64_t r = 0; r < R; ++r) rows[static_cast<size_t>(r)] = r;
            const int64_t ldy = N + 1;
            for (OutMode mode : kModes) {
                const std::string what =
                    str_cat("indexed+extra ", cuda::weight_format_name(f), " N=", N, " K=", K, " ", mode_name(mode));
                run_and_check(mode, R, N, ldy, ref, rows, tol_for(mode), what, [&](void* y) {
                    cuda::linear_indexed(w.dw, x.d.as<cuda::bf16>(), x.ldx, d_x.as<int32_t>(), d_e.as<int32_t>(), R, y,
                                         ldy, mode, ctx, nullptr, &shared.dw);
                });
            }
        }
    // An extra weight of another shape or format is refused, naming both.
    const TestWeight w = make_weight(WeightFormat::NVFP4, E, 64, 64);
    const TestWeight other = make_weight(WeightFormat::NVFP4, 1, 64, 128);
    const TestX x = make_x(X, 64, 64);
    cuda::DeviceBuffer y(static_cast<size_t>(R * 64) * 4);
    try {
        cuda::linear_indexed(w.dw, x.d.as<cuda::bf16>(), x.ldx, d_x.as<int32_t>(), d_e.as<int32_t>(), R, y.data(), 64,
                             OutMode::StoreF32, ctx, nullptr, &other.dw);
        FAIL() << "a mismatched extra expert was accepted";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("extra expert"), std::string::npos) << e.what();
    }
}

// DeviceWeight::copy_rows_from (the load-time router + gate concatenation): BF16 / FP8 of one k only, and the rows
// must fit; anything else is refused naming both shapes.
TEST(CudaLinear, CopyRowsFromRejectsWhatDoesNotFit) {
    QINFER_REQUIRE_GPU();
    const TestWeight src = make_weight(WeightFormat::BF16, 1, 8, 64);
    cuda::DeviceWeight cat(WeightFormat::BF16, 1, 16, 64);
    cat.copy_rows_from(8, src.dw);  // fits: no error
    EXPECT_ERROR_CONTAINS(cat.copy_rows_from(9, src.dw), "copy_rows_from", "[9, 17)");
    const TestWeight other_k = make_weight(WeightFormat::BF16, 1, 8, 128);
    EXPECT_ERROR_CONTAINS(cat.copy_rows_from(0, other_k.dw), "copy_rows_from", "[8, 128]");
    const TestWeight fp4 = make_weight(WeightFormat::NVFP4, 1, 16, 64);
    cuda::DeviceWeight fp4_cat(WeightFormat::NVFP4, 1, 32, 64);
    EXPECT_ERROR_CONTAINS(fp4_cat.copy_rows_from(0, fp4.dw), "copy_rows_from", "BF16 / FP8 only");
}

// linear_gated: the shared expert's sigmoid-gated add in the NVFP4 GEMV's store. Same products as linear(), then
// one fp32 scale: the exact-path tolerances apply (1e-4 f32, 4e-3 bf16 output).
TEST(CudaLinear, GatedGemvScalesEachRowBySigmoidOfItsGate) {
    QINFER_REQUIRE_GPU();
    const std::pair<int64_t, int64_t> nks[] = {{2048, 512}, {100, 48}};
    for (auto [N, K] : nks)
        for (int64_t M : {1, 3, 8}) {
            const TestWeight w = make_weight(WeightFormat::NVFP4, 1, N, K);
            const TestX x = make_x(M, K, K + 8);
            const Tensor plain = ops::linear(x.x, w.dq[0]);
            const int64_t ldg = 3;  // the gate logit of row m at m * ldg (as in the router's [T, E + 1] logits)
            const Tensor gate_logit = randn({M, ldg}, 2.0f);
            const cuda::DeviceBuffer d_gate = upload_f32(gate_logit);
            Tensor gated({M, N});
            for (int64_t m = 0; m < M; ++m)
                for (int64_t n = 0; n < N; ++n)
                    gated.row(m)[n] = ops::sigmoid(gate_logit.data()[m * ldg]) * plain.row(m)[n];
            std::vector<int64_t> rows(static_cast<size_t>(M));
            for (int64_t m = 0; m < M; ++m) rows[static_cast<size_t>(m)] = m;
            const int64_t ldy = N + 3;
            for (OutMode mode : kModes) {
                const std::string what = str_cat("gated M=", M, " N=", N, " K=", K, " ", mode_name(mode));
                run_and_check(mode, M, N, ldy, gated, rows, tol_for(mode), what, [&](void* y) {
                    cuda::linear_gated(w.dw, x.d.as<cuda::bf16>(), M, x.ldx, y, ldy, mode, d_gate.as<float>(), ldg,
                                       nullptr);
                });
            }
        }
}

TEST(CudaLinear, GatedGemvRejectsWhatItCannotRun) {
    QINFER_REQUIRE_GPU();
    const TestWeight bf = make_weight(WeightFormat::BF16, 1, 16, 64);
    const TestWeight fp4 = make_weight(WeightFormat::NVFP4, 1, 16, 64);
    const TestX x = make_x(9, 64, 64);
    const cuda::DeviceBuffer y = poisoned(9 * 16 * 4), gate = upload_f32(randn({9}));
    EXPECT_FALSE(cuda::gated_gemv_supported(bf.dw, 1));
    EXPECT_FALSE(cuda::gated_gemv_supported(fp4.dw, 9));
    EXPECT_TRUE(cuda::gated_gemv_supported(fp4.dw, 8));
    EXPECT_ERROR_CONTAINS(cuda::linear_gated(bf.dw, x.d.as<cuda::bf16>(), 1, 64, y.data(), 16, OutMode::StoreF32,
                                             gate.as<float>(), 1, nullptr),
                          "linear_gated", "NVFP4", "bf16");
    EXPECT_ERROR_CONTAINS(cuda::linear_gated(fp4.dw, x.d.as<cuda::bf16>(), 9, 64, y.data(), 16, OutMode::StoreF32,
                                             gate.as<float>(), 1, nullptr),
                          "1..8 rows", "9 rows");
    EXPECT_ERROR_CONTAINS(
        cuda::linear_gated(fp4.dw, x.d.as<cuda::bf16>(), 1, 64, y.data(), 16, OutMode::StoreF32, nullptr, 1, nullptr),
        "null gate");
}

TEST(CudaLinear, ZeroRowsIsANoOp) {
    QINFER_REQUIRE_GPU();
    cuda::GemmContext ctx;
    const TestWeight w = make_weight(WeightFormat::NVFP4, 2, 40, 64);
    const TestX x = make_x(1, 64, 64);
    const cuda::DeviceBuffer y = poisoned(40 * 4);
    const std::vector<int32_t> zero = {0};
    const cuda::DeviceBuffer d0 = upload_i32(zero);
    cuda::linear(w.dw, 0, x.d.as<cuda::bf16>(), 0, 64, y.data(), 40, OutMode::StoreF32, ctx, nullptr);
    cuda::linear_indexed(w.dw, x.d.as<cuda::bf16>(), 64, d0.as<int32_t>(), d0.as<int32_t>(), 0, y.data(), 40,
                         OutMode::StoreF32, ctx, nullptr);
    cuda::linear_grouped(w.dw, x.d.as<cuda::bf16>(), 0, 64, d0.as<int32_t>(), y.data(), 40, OutMode::StoreF32, ctx,
                         nullptr);
    QINFER_CUDA_CHECK(cudaDeviceSynchronize());
    const Tensor out = download_f32(y, {40});
    for (int64_t i = 0; i < 40; ++i) EXPECT_TRUE(std::isnan(out.data()[i])) << i;
}

TEST(CudaLinear, ShapeErrorsNameTheShape) {
    QINFER_REQUIRE_GPU();
    EXPECT_ERROR_CONTAINS(DeviceWeight(WeightFormat::NVFP4, 1, 8, 40), "[1, 8, 40]", "K % 16");
    EXPECT_ERROR_CONTAINS(DeviceWeight(WeightFormat::BF16, 1, 8, 12), "[1, 8, 12]", "K % 8");
    cuda::GemmContext ctx;
    const TestWeight w = make_weight(WeightFormat::BF16, 1, 8, 64);
    const TestX x = make_x(2, 64, 72);
    const cuda::DeviceBuffer y = poisoned(2 * 8 * 4);
    // ldx not a multiple of 8 / smaller than K; ldy smaller than N; expert out of range.
    EXPECT_ERROR_CONTAINS(cuda::linear(w.dw, 0, x.d.as<cuda::bf16>(), 1, 68, y.data(), 8, OutMode::StoreF32, ctx, nullptr),
                          "ldx 68", "[1, 8, 64]");
    EXPECT_ERROR_CONTAINS(cuda::linear(w.dw, 0, x.d.as<cuda::bf16>(), 1, 32, y.data(), 8, OutMode::StoreF32, ctx, nullptr),
                          "ldx 32");
    EXPECT_ERROR_CONTAINS(cuda::linear(w.dw, 0, x.d.as<cuda::bf16>(), 1, 72, y.data(), 7, OutMode::StoreF32, ctx, nullptr),
                          "ldy 7");
    EXPECT_ERROR_CONTAINS(cuda::linear(w.dw, 1, x.d.as<cuda::bf16>(), 1, 72, y.data(), 8, OutMode::StoreF32, ctx, nullptr),
                          "expert 1");
}

TEST(CudaLinear, BytesCountCodesScalesAndRowScales) {
    QINFER_REQUIRE_GPU();
    // NVFP4 tiles (nvfp4_tiles.cuh): rows padded to 16 per expert, K to 64. [2, 100, 64]: 112 rows per expert x
    // (32 code + 4 scale bytes), plus 4 row-scale bytes per real row.
    const DeviceWeight a(WeightFormat::NVFP4, 2, 100, 64);
    EXPECT_EQ(a.bytes(), 2u * 112 * (32 + 4) + 200u * 4);
    EXPECT_EQ(a.expert_bytes(), a.bytes() / 2);
    // NVFP4 K = 528 pads to 576: 16 rows x (288 + 36) + 10 x 4.
    const DeviceWeight b(WeightFormat::NVFP4, 1, 10, 528);
    EXPECT_EQ(b.bytes(), 16u * (288 + 36) + 10u * 4);
    const DeviceWeight c(WeightFormat::BF16, 3, 10, 64);
    EXPECT_EQ(c.bytes(), 30u * 128);
    const DeviceWeight d(WeightFormat::FP8, 1, 10, 2048);
    EXPECT_EQ(d.bytes(), 10u * (2048 + 4));
    EXPECT_STREQ(cuda::weight_format_name(WeightFormat::NVFP4), "nvfp4");
}

// Hand-made NVFP4 blocks that random weights never produce: every E4M3 subnormal scale (0x01..0x07), the largest
// (0x7e = 448), the smallest normal (0x08), zero and negative-zero scales over non-zero codes (the block must read
// as 0), and every one of the 16 codes in every position. All paths must give exactly the CPU codec's values.
TEST(CudaLinear, Nvfp4EdgeScalesAndCodesMatchTheCodec) {
    QINFER_REQUIRE_GPU();
    PathReset reset;
    cuda::GemmContext ctx;
    const int64_t N = 37, K = 80;  // partial row tile and partial k tile
    quant::Nvfp4Weight q;
    q.n = N;
    q.k = K;
    q.packed.resize(static_cast<size_t>(N * K / 2));
    q.block_scales.resize(static_cast<size_t>(N * K / 16));
    q.weight_scale_2 = 0.37f;
    const uint8_t special[] = {0x00, 0x80, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x7e, 0x38, 0x3f, 0x41};
    for (size_t i = 0; i < q.block_scales.size(); ++i) q.block_scales[i] = special[(i * 7 + i / 5) % sizeof special];
    for (size_t i = 0; i < q.packed.size(); ++i) q.packed[i] = static_cast<uint8_t>((i * 37 + 11) & 0xff);
    const Tensor dq = quant::nvfp4_dequantize(q);
    DeviceWeight dw(WeightFormat::NVFP4, 1, N, K);
    dw.upload_rows(0, N, q.packed.data(), q.block_scales.data(), q.weight_scale_2);
    for (int64_t M : {1, 5, 40}) {
        const TestX x = make_x(M, K, K + 16);
        const Tensor ref = ops::linear(x.x, dq);
        std::vector<int64_t> rows(static_cast<size_t>(M));
        for (int64_t r = 0; r < M; ++r) rows[static_cast<size_t>(r)] = r;
        for (GemmPath p : {GemmPath::Gemv, GemmPath::TensorCore, GemmPath::DequantBlas, GemmPath::Wgmma}) {
            cuda::set_gemm_path(p);
            const std::string what = str_cat("nvfp4 edge M=", M, " ", cuda::gemm_path_name(p));
            run_and_check(OutMode::StoreF32, M, N, N, ref, rows, tol_for(OutMode::StoreF32), what, [&](void* y) {
                cuda::linear(dw, 0, x.d.as<cuda::bf16>(), M, x.ldx, y, N, OutMode::StoreF32, ctx, nullptr);
            });
        }
    }
}

TEST(CudaLinear, Nvfp4NanOrNegativeBlockScaleIsAnError) {
    QINFER_REQUIRE_GPU();
    const int64_t N = 4, K = 32;
    std::vector<uint8_t> codes(static_cast<size_t>(N * K / 2), 0x21), scales(static_cast<size_t>(N * K / 16), 0x38);
    DeviceWeight dw(WeightFormat::NVFP4, 1, N, K);
    scales[5] = 0x7f;  // row 2, second block: NaN
    EXPECT_ERROR_CONTAINS(dw.upload_rows(0, N, codes.data(), scales.data(), 1.0f), "0x7f", "row 2", "k 16..31");
    scales[5] = 0x38;
    scales[1] = 0xb8;  // row 0, second block: -1.0
    EXPECT_ERROR_CONTAINS(dw.upload_rows(0, N, codes.data(), scales.data(), 1.0f), "0xb8", "row 0", "negative");
}

}  // namespace
}  // namespace qinfer::test::gpu
