// Micro-benchmark of the glue kernels (elementwise.h, moe.h, sampling.h) at Qwen3.5-35B-A3B shapes (hidden 2048,
// 256 experts top-8, vocab 248320): median CUDA-event time, inputs rotated over enough copies to exceed the 50 MB L2
// when the working set is large, floor = bytes / 3.0 TB/s. Tiny shapes are launch-latency-bound; the MoE routing at
// decode is also timed inside a CUDA graph (per-iteration time of 20 captured iterations).
//
//   build-gpu/bin/kbench_glue

#include <cuda_runtime.h>

#include <algorithm>
#include <cstdio>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "kbench_util.h"
#include "kernels/cuda/buffer.h"
#include "kernels/cuda/check.h"
#include "kernels/cuda/elementwise.h"
#include "kernels/cuda/moe.h"
#include "kernels/cuda/sampling.h"

using namespace qinfer;
using namespace qinfer::cuda;

namespace {

constexpr double kHbmBytesPerUs = 3.0e6;  // 3.0 TB/s
constexpr size_t kRotateBytes = 256ull << 20;

// Number of copies of a working set of `bytes` so that consecutive runs do not hit L2 (capped at 64).
int copies_for(size_t bytes) { return static_cast<int>(std::clamp<size_t>(kRotateBytes / std::max<size_t>(bytes, 1) + 1, 1, 64)); }

DeviceBuffer random_f32(size_t n, float stddev, uint64_t seed) {
    std::vector<float> h(n);
    std::mt19937_64 g(seed);
    std::normal_distribution<float> d(0.0f, stddev);
    for (auto& v : h) v = d(g);
    return to_device(std::span<const float>(h));
}

DeviceBuffer random_bf16(size_t n, uint64_t seed) {
    std::vector<bf16> h(n);
    std::mt19937_64 g(seed);
    std::normal_distribution<float> d(0.0f, 1.0f);
    for (auto& v : h) v = __float2bfloat16(d(g));
    return to_device(std::span<const bf16>(h));
}

kbench::Table table{{"kernel", "shape", "MB moved", "floor us", "measured us", "GB/s", "% of floor"}, {}};

void row(const std::string& k, const std::string& shape, double bytes, double ms) {
    const double us = ms * 1000.0, floor_us = bytes / kHbmBytesPerUs;
    table.rows.push_back({k, shape, kbench::fmt(bytes / 1e6, 3), kbench::fmt(floor_us, 2), kbench::fmt(us, 2),
                          kbench::fmt(bytes / us / 1e3, 0), kbench::fmt(100.0 * floor_us / us, 1)});
}

// Per-iteration milliseconds of `body` replayed from a CUDA graph of 20 captured iterations (decode runs from graphs:
// this removes the per-launch CPU/driver overhead that event timing of single launches includes).
double graph_ms(cudaStream_t s, const std::function<void()>& body) {
    cudaGraph_t g;
    cudaGraphExec_t ge;
    QINFER_CUDA_CHECK(cudaStreamBeginCapture(s, cudaStreamCaptureModeGlobal));
    for (int i = 0; i < 20; ++i) body();
    QINFER_CUDA_CHECK(cudaStreamEndCapture(s, &g));
    QINFER_CUDA_CHECK(cudaGraphInstantiate(&ge, g, 0));
    const double ms = kbench::time_ms([&](int) { QINFER_CUDA_CHECK(cudaGraphLaunch(ge, s)); }, s) / 20.0;
    QINFER_CUDA_CHECK(cudaGraphExecDestroy(ge));
    QINFER_CUDA_CHECK(cudaGraphDestroy(g));
    return ms;
}

}  // namespace

int main() {
    cudaStream_t s;
    QINFER_CUDA_CHECK(cudaStreamCreate(&s));
    const int64_t H = 2048;

    for (const int64_t T : {1, 64, 8192}) {
        // rms_norm: read x f32, write y bf16 (w is 8 KB, L2-resident).
        {
            const size_t set = static_cast<size_t>(T * H) * 6;
            const int n = copies_for(set);
            std::vector<DeviceBuffer> xs, ys;
            for (int i = 0; i < n; ++i) xs.push_back(random_f32(static_cast<size_t>(T * H), 1.0f, i)),
                                        ys.push_back(DeviceBuffer(static_cast<size_t>(T * H) * 2));
            const DeviceBuffer w = random_f32(H, 0.1f, 99);
            const double ms = kbench::time_ms([&](int i) {
                rms_norm(xs[i % n].as<float>(), H, w.as<float>(), 1e-6f, true, T, H, ys[i % n].as<bf16>(), s);
            }, s);
            row("rms_norm", "T=" + std::to_string(T) + " H=2048", static_cast<double>(set), ms);
            if (T <= 64)
                row("rms_norm (graph)", "T=" + std::to_string(T) + " H=2048", static_cast<double>(set), graph_ms(s, [&] {
                    rms_norm(xs[0].as<float>(), H, w.as<float>(), 1e-6f, true, T, H, ys[0].as<bf16>(), s);
                }));
        }
        // silu_mul: read [T, 2I] bf16, write [T, I] bf16, I = 2048.
        {
            const int64_t I = H;
            const size_t set = static_cast<size_t>(T * I) * 6;
            const int n = copies_for(set);
            std::vector<DeviceBuffer> gs, os;
            for (int i = 0; i < n; ++i) gs.push_back(random_bf16(static_cast<size_t>(T * 2 * I), i)),
                                        os.push_back(DeviceBuffer(static_cast<size_t>(T * I) * 2));
            const double ms = kbench::time_ms([&](int i) {
                silu_mul(gs[i % n].as<bf16>(), T, I, os[i % n].as<bf16>(), s);
            }, s);
            row("silu_mul", "T=" + std::to_string(T) + " I=2048", static_cast<double>(set), ms);
            if (T <= 64)
                row("silu_mul (graph)", "T=" + std::to_string(T) + " I=2048", static_cast<double>(set),
                    graph_ms(s, [&] { silu_mul(gs[0].as<bf16>(), T, I, os[0].as<bf16>(), s); }));
        }
        // moe_combine, k = 8: read y [T*8, H] f32, read+write h [T, H] f32.
        {
            const int64_t k = 8;
            const size_t set = static_cast<size_t>(T * k * H) * 4 + static_cast<size_t>(T * H) * 8;
            const int n = copies_for(set);
            std::vector<DeviceBuffer> ys, hs;
            for (int i = 0; i < n; ++i) ys.push_back(random_f32(static_cast<size_t>(T * k * H), 1.0f, i)),
                                        hs.push_back(random_f32(static_cast<size_t>(T * H), 1.0f, 100 + i));
            std::vector<int32_t> pos(static_cast<size_t>(T * k));
            for (int64_t i = 0; i < T * k; ++i) pos[i] = static_cast<int32_t>((i * 7919) % (T * k));  // a permutation
            std::vector<float> wts(static_cast<size_t>(T * k), 0.125f);
            const DeviceBuffer dpos = to_device(std::span<const int32_t>(pos));
            const DeviceBuffer dw = to_device(std::span<const float>(wts));
            const double ms = kbench::time_ms([&](int i) {
                moe_combine(ys[i % n].as<float>(), dpos.as<int32_t>(), dw.as<float>(), T, k, H, hs[i % n].as<float>(), s);
            }, s);
            row("moe_combine", "T=" + std::to_string(T) + " k=8 H=2048", static_cast<double>(set), ms);
            if (T <= 64)
                row("moe_combine (graph)", "T=" + std::to_string(T) + " k=8 H=2048", static_cast<double>(set),
                    graph_ms(s, [&] {
                        moe_combine(ys[0].as<float>(), dpos.as<int32_t>(), dw.as<float>(), T, k, H, hs[0].as<float>(), s);
                    }));
        }
    }

    const int64_t V = 248320;
    for (const int64_t B : {1, 8, 64}) {
        const size_t set = static_cast<size_t>(B * V) * 4;
        const int n = copies_for(set);
        std::vector<DeviceBuffer> ls;
        for (int i = 0; i < n; ++i) ls.push_back(random_f32(static_cast<size_t>(B * V), 3.0f, 7 + i));
        DeviceBuffer out(static_cast<size_t>(B) * 4);
        std::vector<uint64_t> ctr(static_cast<size_t>(B), 0);
        const DeviceBuffer dctr = to_device(std::span<const uint64_t>(ctr));
        double ms = kbench::time_ms([&](int i) { argmax_rows(ls[i % n].as<float>(), V, B, V, out.as<int32_t>(), s); }, s);
        row("argmax_rows", "B=" + std::to_string(B) + " V=248320", static_cast<double>(set), ms);
        row("argmax_rows (graph)", "B=" + std::to_string(B) + " V=248320", static_cast<double>(set),
            graph_ms(s, [&] { argmax_rows(ls[0].as<float>(), V, B, V, out.as<int32_t>(), s); }));
        ms = kbench::time_ms([&](int i) {
            sample_rows(ls[i % n].as<float>(), V, B, V, 0.7f, 20, 0.95f, 1, dctr.as<uint64_t>(), out.as<int32_t>(),
                        nullptr, 0, s);
        }, s, 3, 20);
        row("sample_rows k=20 p=0.95", "B=" + std::to_string(B) + " V=248320", static_cast<double>(set), ms);
        ms = kbench::time_ms([&](int i) {
            sample_rows(ls[i % n].as<float>(), V, B, V, 1.0f, 0, 1.0f, 1, dctr.as<uint64_t>(), out.as<int32_t>(),
                        nullptr, 0, s);
        }, s, 3, 20);
        row("sample_rows plain", "B=" + std::to_string(B) + " V=248320", static_cast<double>(set), ms);
        ms = kbench::time_ms([&](int i) {
            sample_rows(ls[i % n].as<float>(), V, B, V, 1.0f, 0, 0.9f, 1, dctr.as<uint64_t>(), out.as<int32_t>(),
                        nullptr, 0, s);
        }, s, 3, 20);
        row("sample_rows p=0.9", "B=" + std::to_string(B) + " V=248320", static_cast<double>(set), ms);
    }

    // MoE routing: route [T, 256] f32 logits -> ids/weights, then the permutation.
    const int64_t E = 256, k = 8;
    for (const int64_t T : {1, 64, 8192}) {
        const DeviceBuffer logits = random_f32(static_cast<size_t>(T * E), 2.0f, 5);
        DeviceBuffer ids(static_cast<size_t>(T * k) * 4), w(static_cast<size_t>(T * k) * 4);
        DeviceBuffer off(static_cast<size_t>(E + 1) * 4), src(static_cast<size_t>(T * k) * 4),
            pos(static_cast<size_t>(T * k) * 4), eor(static_cast<size_t>(T * k) * 4);
        DeviceBuffer scratch(std::max<size_t>(moe_permute_scratch_bytes(T, k, E), 4));
        const double route_bytes = static_cast<double>(T * E * 4 + T * k * 8);
        const double perm_bytes = static_cast<double>(T * k * 4 * 4 + (E + 1) * 4);
        auto route = [&] { moe_route(logits.as<float>(), E, T, E, k, true, ids.as<int32_t>(), w.as<float>(), s); };
        auto perm = [&] {
            moe_permute(ids.as<int32_t>(), T, k, E, off.as<int32_t>(), src.as<int32_t>(), pos.as<int32_t>(),
                        eor.as<int32_t>(), scratch.data(), s);
        };
        const std::string shape = "T=" + std::to_string(T) + " E=256 k=8";
        row("moe_route", shape, route_bytes, kbench::time_ms([&](int) { route(); }, s));
        row("moe_permute", shape, perm_bytes, kbench::time_ms([&](int) { perm(); }, s));
        row("moe_route+permute", shape, route_bytes + perm_bytes, kbench::time_ms([&](int) { route(); perm(); }, s));
        row("moe_route (graph)", shape, route_bytes, graph_ms(s, route));
        row("moe_permute (graph)", shape, perm_bytes, graph_ms(s, perm));
        row("moe_route+permute (graph)", shape, route_bytes + perm_bytes, graph_ms(s, [&] { route(); perm(); }));
    }
    QINFER_CUDA_CHECK(cudaStreamSynchronize(s));
    table.print();
    QINFER_CUDA_CHECK(cudaStreamDestroy(s));
    return 0;
}
