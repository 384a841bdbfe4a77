// Micro-benchmark of the CUDA GEMMs (kernels/cuda/linear.h) against their floors:
//   floor = max(bytes / 3.0 TB/s, flops / 800 TFLOP/s), bytes = weight bytes read (only the selected experts' for
//   linear_indexed, every expert with rows for linear_grouped) + activations in + results out.
// Weights are rotated among copies so that each timed run reads >= 200 MB of distinct weights (L2 is 50 MB).
// Usage: kbench_linear [--quick | --prefill | --m64]   (--prefill: only the large-M section, with more dense shapes;
// --m64: the dense NVFP4 shapes of a 35B-A3B decode of 16 / 64 sequences, tensor-core GEMM vs dequantize + cuBLASLt)

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "core/check.h"
#include "kbench_util.h"
#include "kernels/cuda/buffer.h"
#include "kernels/cuda/check.h"
#include "kernels/cuda/linear.h"

using namespace qinfer;
using namespace qinfer::cuda;
using qinfer::kbench::fmt;

namespace {

constexpr double kHbm = 3.0e12, kTc = 800e12;

struct Row {
    std::string op, fmt, shape, path;
    int64_t m;
    double us, bytes, flops;
};
std::vector<Row> g_rows;

void report(const Row& r) {
    g_rows.push_back(r);
    const double floor_us = std::max(r.bytes / kHbm, r.flops / kTc) * 1e6;
    std::printf("%-8s %-6s %-16s M=%-6lld %-17s %9.2f us  %7.0f GB/s  %7.1f TFLOP/s  floor %8.2f us  %5.1f%% of floor\n",
                r.op.c_str(), r.fmt.c_str(), r.shape.c_str(), static_cast<long long>(r.m), r.path.c_str(), r.us,
                r.bytes / (r.us * 1e-6) / 1e9, r.flops / (r.us * 1e-6) / 1e12, floor_us, 100.0 * floor_us / r.us);
    std::fflush(stdout);
}

// Every row uploaded (a constant pattern: weight 1.0 in each format): the timings do not depend on the values, but
// the dequantize + cuBLASLt path refuses rows that were never uploaded.
DeviceWeight filled_weight(WeightFormat f, int64_t e, int64_t n, int64_t k) {
    DeviceWeight w(f, e, n, k);
    const int64_t rows = e * n, step = std::max<int64_t>(1, (64 << 20) / (2 * k));
    const size_t row_bytes = static_cast<size_t>(f == WeightFormat::NVFP4 ? k / 2 : f == WeightFormat::FP8 ? k : 2 * k);
    std::vector<uint8_t> data(row_bytes * static_cast<size_t>(std::min(step, rows)));
    std::vector<uint8_t> scales(f == WeightFormat::NVFP4 ? data.size() / row_bytes * static_cast<size_t>(k / 16) : 0,
                                0x38);        // E4M3 1.0
    for (size_t i = 0; i < data.size(); ++i)  // NVFP4 code 2 (1.0) twice; FP8 0x38 (1.0); BF16 0x3f80 (1.0)
        data[i] = f == WeightFormat::NVFP4 ? 0x22 : f == WeightFormat::FP8 ? 0x38 : (i % 2 ? 0x3f : 0x80);
    for (int64_t r = 0; r < rows; r += step)
        w.upload_rows(r, std::min(step, rows - r), data.data(), scales.empty() ? nullptr : scales.data(), 1.0f);
    return w;
}

std::vector<DeviceWeight> weights(WeightFormat f, int64_t e, int64_t n, int64_t k, double min_bytes = 200e6) {
    std::vector<DeviceWeight> ws;
    ws.push_back(filled_weight(f, e, n, k));
    const int copies = static_cast<int>(std::min<double>(16, std::ceil(min_bytes / static_cast<double>(ws[0].bytes()))));
    for (int i = 1; i < copies; ++i) ws.push_back(filled_weight(f, e, n, k));
    return ws;
}

DeviceBuffer random_bf16(int64_t count) {
    std::vector<uint16_t> h(static_cast<size_t>(count));
    std::mt19937 g(7);
    std::normal_distribution<float> d(0.f, 1.f);
    for (auto& v : h) {
        float f = d(g);
        uint32_t b;
        std::memcpy(&b, &f, 4);
        v = static_cast<uint16_t>(b >> 16);
    }
    return to_device(std::span<const uint16_t>(h));
}

void dense(WeightFormat f, int64_t n, int64_t k, const std::vector<int64_t>& ms, const std::vector<GemmPath>& paths,
           GemmContext& ctx, cudaStream_t s) {
    const auto ws = weights(f, 1, n, k);
    const int64_t mmax = *std::max_element(ms.begin(), ms.end());
    const DeviceBuffer x = random_bf16(mmax * k);
    DeviceBuffer y(static_cast<size_t>(mmax * n) * 2);
    for (int64_t m : ms)
        for (GemmPath p : paths) {
            set_gemm_path(p);
            const double ms_ = kbench::time_ms(
                [&](int i) {
                    linear(ws[static_cast<size_t>(i) % ws.size()], 0, x.as<bf16>(), m, k, y.data(), n,
                           OutMode::StoreBF16, ctx, s);
                },
                s, 3, m >= 1024 ? 10 : 50);
            const double bytes = static_cast<double>(ws[0].bytes()) + 2.0 * m * k + 2.0 * m * n;
            report({"linear", weight_format_name(f), "[" + std::to_string(n) + "," + std::to_string(k) + "]",
                    gemm_path_name(p), m, ms_ * 1e3, bytes, 2.0 * m * n * k});
        }
    set_gemm_path(GemmPath::Auto);
}

// MoE decode: `tokens` tokens x top-8 experts of 256, distinct experts per token, rotated among 16 index sets.
void indexed(WeightFormat f, int64_t n, int64_t k, int64_t tokens, GemmContext& ctx, cudaStream_t s) {
    const int64_t E = 256, top = 8, rows = tokens * top;
    const DeviceWeight w = filled_weight(f, E, n, k);
    std::mt19937 g(11);
    std::vector<DeviceBuffer> eidx;
    std::vector<double> sel_bytes;
    for (int set = 0; set < 16; ++set) {
        std::vector<int32_t> ex;
        std::set<int32_t> uniq;
        for (int64_t t = 0; t < tokens; ++t) {
            std::vector<int32_t> all(E);
            for (int32_t i = 0; i < E; ++i) all[static_cast<size_t>(i)] = i;
            std::shuffle(all.begin(), all.end(), g);
            for (int64_t j = 0; j < top; ++j) {
                ex.push_back(all[static_cast<size_t>(j)]);
                uniq.insert(all[static_cast<size_t>(j)]);
            }
        }
        eidx.push_back(to_device(std::span<const int32_t>(ex)));
        sel_bytes.push_back(static_cast<double>(uniq.size()) * static_cast<double>(w.expert_bytes()));
    }
    std::vector<int32_t> xr(static_cast<size_t>(rows));
    for (int64_t r = 0; r < rows; ++r) xr[static_cast<size_t>(r)] = static_cast<int32_t>(r / top);
    const DeviceBuffer dxr = to_device(std::span<const int32_t>(xr));
    const DeviceBuffer x = random_bf16(tokens * k);
    DeviceBuffer y(static_cast<size_t>(rows * n) * 2);
    const double ms_ = kbench::time_ms(
        [&](int i) {
            linear_indexed(w, x.as<bf16>(), k, dxr.as<int32_t>(), eidx[static_cast<size_t>(i) % 16].as<int32_t>(), rows,
                           y.data(), n, OutMode::StoreBF16, ctx, s);
        },
        s, 5, 64);
    double avg = 0;
    for (double b : sel_bytes) avg += b / 16;
    report({"indexed", weight_format_name(f), "[" + std::to_string(n) + "," + std::to_string(k) + "]x256", "gemv",
            rows, ms_ * 1e3, avg + 2.0 * tokens * k + 2.0 * rows * n, 2.0 * rows * n * k});
}

// MoE prefill: tokens x top-8 rows over 256 experts (random routing), sorted by expert.
void grouped(WeightFormat f, int64_t n, int64_t k, int64_t tokens, GemmPath path, GemmContext& ctx, cudaStream_t s) {
    set_gemm_path(path);
    const int64_t E = 256, top = 8, rows = tokens * top;
    const DeviceWeight w = filled_weight(f, E, n, k);
    std::mt19937 g(13);
    std::vector<int32_t> counts(E, 0);
    for (int64_t t = 0; t < tokens; ++t) {
        std::vector<int32_t> all(E);
        for (int32_t i = 0; i < E; ++i) all[static_cast<size_t>(i)] = i;
        std::shuffle(all.begin(), all.end(), g);
        for (int64_t j = 0; j < top; ++j) ++counts[static_cast<size_t>(all[static_cast<size_t>(j)])];
    }
    std::vector<int32_t> off = {0};
    int used = 0;
    for (int32_t c : counts) {
        off.push_back(off.back() + c);
        used += c > 0;
    }
    const DeviceBuffer doff = to_device(std::span<const int32_t>(off));
    const DeviceBuffer x = random_bf16(rows * k);
    DeviceBuffer y(static_cast<size_t>(rows * n) * 2);
    const double ms_ = kbench::time_ms(
        [&](int) {
            linear_grouped(w, x.as<bf16>(), rows, k, doff.as<int32_t>(), y.data(), n, OutMode::StoreBF16, ctx, s);
        },
        s, 3, 10);
    set_gemm_path(GemmPath::Auto);
    report({"grouped", weight_format_name(f), "[" + std::to_string(n) + "," + std::to_string(k) + "]x256",
            f == WeightFormat::NVFP4 && rows <= 8 * E ? "gemv-chunks" : gemm_path_name(path), rows, ms_ * 1e3,
            used * static_cast<double>(w.expert_bytes()) + 2.0 * rows * k + 2.0 * rows * n, 2.0 * rows * n * k});
}

// Large M: dense projections (every path) and the MoE expert GEMMs at 1k and 8k tokens.
void prefill(bool wide, GemmContext& ctx, cudaStream_t s) {
    const auto T = GemmPath::TensorCore, D = GemmPath::DequantBlas, W = GemmPath::Wgmma;
    std::printf("== prefill (floor = max(bytes / 3.0 TB/s, flops / 800 TFLOP/s))\n");
    for (WeightFormat f : {WeightFormat::NVFP4, WeightFormat::FP8, WeightFormat::BF16})
        dense(f, 12288, 2048, {1024, 8192},
              f == WeightFormat::BF16    ? std::vector<GemmPath>{D, T}
              : f == WeightFormat::NVFP4 ? std::vector<GemmPath>{T, W, D}
                                         : std::vector<GemmPath>{T, D},
              ctx, s);
    if (wide) {
        dense(WeightFormat::NVFP4, 12288, 2048, {64, 256}, {T, D}, ctx, s);
        dense(WeightFormat::NVFP4, 2048, 4096, {64, 256, 1024, 8192}, {T, D}, ctx, s);  // o_proj / out_proj
        dense(WeightFormat::NVFP4, 1024, 2048, {1024, 8192}, {T, D}, ctx, s);             // shared expert gate_up
    }
    for (WeightFormat f : {WeightFormat::NVFP4, WeightFormat::BF16})
        for (int64_t tokens : {1024, 8192}) {
            for (GemmPath p : f == WeightFormat::NVFP4 ? std::vector<GemmPath>{T, W} : std::vector<GemmPath>{T}) {
                grouped(f, 1024, 2048, tokens, p, ctx, s);
                grouped(f, 2048, 512, tokens, p, ctx, s);
            }
        }
}

}  // namespace

int main(int argc, char** argv) {
    const std::string mode = argc > 1 ? argv[1] : "";
    QINFER_CHECK(mode.empty() || mode == "--quick" || mode == "--prefill" || mode == "--m64",
                 "usage: kbench_linear [--quick | --prefill | --m64]");
    cudaStream_t s;
    QINFER_CUDA_CHECK(cudaStreamCreate(&s));
    GemmContext ctx;
    if (mode == "--prefill") {
        prefill(true, ctx, s);
        QINFER_CUDA_CHECK(cudaStreamDestroy(s));
        return 0;
    }
    const auto A = GemmPath::Auto, G = GemmPath::Gemv, T = GemmPath::TensorCore, D = GemmPath::DequantBlas;
    if (mode == "--m64") {
        std::printf(
            "== dense NVFP4 at M = 16 / 64 (35B-A3B: in_proj_qkvz, in_proj_ba, out_proj / o_proj, qkv_proj, "
            "shared gate_up, shared down)\n");
        const std::pair<int64_t, int64_t> nks[] = {{12288, 2048}, {64, 2048},   {2048, 4096},
                                                   {9216, 2048},  {1024, 2048}, {2048, 512}};
        for (auto [n, k] : nks) dense(WeightFormat::NVFP4, n, k, {16, 64}, {T, D}, ctx, s);
        QINFER_CUDA_CHECK(cudaStreamDestroy(s));
        return 0;
    }
    std::printf("== decode (floor = weight bytes / 3.0 TB/s)\n");
    for (WeightFormat f : {WeightFormat::NVFP4, WeightFormat::FP8, WeightFormat::BF16}) {
        dense(f, 12288, 2048, {1, 8}, {A}, ctx, s);
        dense(f, 12288, 2048, {64}, {G, T, D}, ctx, s);
    }
    dense(WeightFormat::NVFP4, 12288, 2048, {8}, {T}, ctx, s);
    dense(WeightFormat::NVFP4, 248320, 2048, {1, 8}, {A}, ctx, s);
    dense(WeightFormat::BF16, 248320, 2048, {1, 8}, {A}, ctx, s);
    dense(WeightFormat::NVFP4, 2048, 4096, {1, 8}, {A}, ctx, s);  // attention o_proj-like: small N
    std::printf("== MoE decode: linear_indexed (floor = selected experts' bytes / 3.0 TB/s)\n");
    for (WeightFormat f : {WeightFormat::NVFP4, WeightFormat::BF16})
        for (int64_t tokens : {1, 8}) {
            indexed(f, 1024, 2048, tokens, ctx, s);
            indexed(f, 2048, 512, tokens, ctx, s);
        }
    std::printf("== MoE decode of 64 sequences: linear_grouped (8-row chunks per expert for NVFP4)\n");
    for (WeightFormat f : {WeightFormat::NVFP4, WeightFormat::BF16}) {
        grouped(f, 1024, 2048, 64, GemmPath::Auto, ctx, s);
        grouped(f, 2048, 512, 64, GemmPath::Auto, ctx, s);
    }
    if (mode != "--quick") prefill(false, ctx, s);
    QINFER_CUDA_CHECK(cudaStreamDestroy(s));
    return 0;
}
