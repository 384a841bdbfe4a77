// kbench_gdn: the Gated DeltaNet mixer (kernels/cuda/gated_delta_net.h) at Qwen3.5-35B-A3B's shape (16 K heads /
// 32 V heads × 128, conv kernel 4).
//   decode  B = 1, 2, 4, 8, 16, 32, 64: bytes = recurrent state read + write (2 MiB per sequence each way, fp32) +
//           conv state read + write + the qkvz/ba row + the bf16 output; floor at 3.0 TB/s. 16 steps run as one CUDA
//           graph, each on the next set of B slots out of 128 (256 MiB of state, > 50 MB L2), so every step reads its
//           state from HBM; time per step = graph time / 16, measured twice (two medians of 50 replays: the spread).
//   prefill T = 1024, 8192 from a zero state: time per layer vs FlashQLA's 0.28 ms (8k, H200, performance.md §5.2).
// Usage: kbench_gdn [--decode-only] [--profile B]
//   --profile B: no timing, only 4 eager decode steps at batch B (for ncu: launch-skip 2, launch-count 1).

#include <cuda_runtime.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "kbench_util.h"
#include "kernels/cuda/buffer.h"
#include "kernels/cuda/check.h"
#include "kernels/cuda/gated_delta_net.h"

using namespace qinfer;
using namespace qinfer::cuda;

namespace {

DeviceBuffer random_bf16(size_t n, float scale, std::mt19937& g) {
    std::normal_distribution<float> d(0.0f, scale);
    std::vector<bf16> h(n);
    for (auto& x : h) x = __float2bfloat16(d(g));
    DeviceBuffer b(n * sizeof(bf16));
    QINFER_CUDA_CHECK(cudaMemcpy(b.data(), h.data(), n * sizeof(bf16), cudaMemcpyHostToDevice));
    return b;
}

DeviceBuffer random_f32(size_t n, float lo, float hi, std::mt19937& g) {
    std::uniform_real_distribution<float> d(lo, hi);
    std::vector<float> h(n);
    for (auto& x : h) x = d(g);
    DeviceBuffer b(n * sizeof(float));
    QINFER_CUDA_CHECK(cudaMemcpy(b.data(), h.data(), n * sizeof(float), cudaMemcpyHostToDevice));
    return b;
}

}  // namespace

int main(int argc, char** argv) {
    bool decode_only = false;
    int profile_b = 0;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--decode-only") {
            decode_only = true;
        } else if (a == "--profile" && i + 1 < argc) {
            profile_b = std::atoi(argv[++i]);
        } else {
            std::fprintf(stderr, "usage: kbench_gdn [--decode-only] [--profile B]\n");
            return 2;
        }
    }
    std::mt19937 gen(1234);
    GdnShape s;
    s.hk = 16;
    s.hv = 32;
    s.dk = 128;
    s.dv = 128;
    s.conv_kernel = 4;
    const int64_t C = s.conv_dim(), vd = int64_t{s.hv} * s.dv, row = C + vd, K = s.conv_kernel;
    const int nslots = 128;
    const size_t state_elems = size_t{static_cast<size_t>(s.hv)} * s.dk * s.dv;

    DeviceBuffer conv_w = random_f32(static_cast<size_t>(C * K), -0.5f, 0.5f, gen);
    DeviceBuffer dt_bias = random_f32(s.hv, -1.0f, 1.0f, gen);
    DeviceBuffer a_log = random_f32(s.hv, -2.0f, 1.0f, gen);
    DeviceBuffer norm = random_f32(s.dv, 0.5f, 1.5f, gen);
    const GdnWeights w{conv_w.as<float>(), dt_bias.as<float>(), a_log.as<float>(), norm.as<float>()};
    DeviceBuffer conv_state(static_cast<size_t>(nslots) * C * (K - 1) * sizeof(float));
    DeviceBuffer rec_state(static_cast<size_t>(nslots) * state_elems * sizeof(float));
    QINFER_CUDA_CHECK(cudaMemset(conv_state.data(), 0, conv_state.bytes()));
    QINFER_CUDA_CHECK(cudaMemset(rec_state.data(), 0, rec_state.bytes()));
    const GdnState st{conv_state.as<float>(), rec_state.as<float>()};

    cudaStream_t stream;
    QINFER_CUDA_CHECK(cudaStreamCreate(&stream));

    if (profile_b > 0) {
        const int B = profile_b;
        std::vector<int32_t> slots(static_cast<size_t>(B));
        for (int i = 0; i < B; ++i) slots[static_cast<size_t>(i)] = (i * 37) % nslots;
        DeviceBuffer d_slots(slots.size() * sizeof(int32_t));
        QINFER_CUDA_CHECK(cudaMemcpy(d_slots.data(), slots.data(), slots.size() * sizeof(int32_t),
                                     cudaMemcpyHostToDevice));
        DeviceBuffer qkvz = random_bf16(static_cast<size_t>(B * row), 1.0f, gen);
        DeviceBuffer ba = random_bf16(static_cast<size_t>(B * 2 * s.hv), 1.0f, gen);
        DeviceBuffer out(static_cast<size_t>(B * vd) * sizeof(bf16));
        for (int j = 0; j < 4; ++j)
            gdn_decode(s, w, qkvz.as<bf16>(), ba.as<bf16>(), B, d_slots.as<int32_t>(), st, out.as<bf16>(), stream);
        QINFER_CUDA_CHECK(cudaStreamSynchronize(stream));
        QINFER_CUDA_CHECK(cudaStreamDestroy(stream));
        return 0;
    }

    // ---- decode
    kbench::Table dec{{"kernel", "B", "bytes (MB)", "floor (us)", "time (us)", "2nd (us)", "GB/s", "% of 3.0 TB/s"},
                      {}};
    for (int B : {1, 2, 4, 8, 16, 32, 64}) {
        const int sets = nslots / B;
        std::vector<int32_t> slots(static_cast<size_t>(nslots));
        for (int i = 0; i < nslots; ++i) slots[static_cast<size_t>(i)] = (i * 37) % nslots;  // scattered, distinct
        DeviceBuffer d_slots(slots.size() * sizeof(int32_t));
        QINFER_CUDA_CHECK(cudaMemcpy(d_slots.data(), slots.data(), slots.size() * sizeof(int32_t),
                                     cudaMemcpyHostToDevice));
        DeviceBuffer qkvz = random_bf16(static_cast<size_t>(B * row), 1.0f, gen);
        DeviceBuffer ba = random_bf16(static_cast<size_t>(B * 2 * s.hv), 1.0f, gen);
        DeviceBuffer out(static_cast<size_t>(B * vd) * sizeof(bf16));
        // kSteps decode steps (each on the next slot set) captured in one CUDA graph, as the runtime replays decode:
        // the time per step then excludes host launch gaps.
        constexpr int kSteps = 16;
        cudaGraph_t graph;
        cudaGraphExec_t exec;
        QINFER_CUDA_CHECK(cudaStreamBeginCapture(stream, cudaStreamCaptureModeThreadLocal));
        for (int j = 0; j < kSteps; ++j)
            gdn_decode(s, w, qkvz.as<bf16>(), ba.as<bf16>(), B, d_slots.as<int32_t>() + (j % sets) * B, st,
                       out.as<bf16>(), stream);
        QINFER_CUDA_CHECK(cudaStreamEndCapture(stream, &graph));
        QINFER_CUDA_CHECK(cudaGraphInstantiate(&exec, graph, 0));
        const auto replay = [&](int) { QINFER_CUDA_CHECK(cudaGraphLaunch(exec, stream)); };
        const double ms = kbench::time_ms(replay, stream, 3, 50) / kSteps;
        const double ms2 = kbench::time_ms(replay, stream, 3, 50) / kSteps;
        QINFER_CUDA_CHECK(cudaGraphExecDestroy(exec));
        QINFER_CUDA_CHECK(cudaGraphDestroy(graph));
        const double bytes = B * (2.0 * state_elems * 4 + 2.0 * C * (K - 1) * 4 + row * 2.0 + 2 * s.hv * 2.0 +
                                  vd * 2.0);
        const double floor_us = bytes / 3.0e12 * 1e6;
        dec.rows.push_back({"gdn_decode", std::to_string(B), kbench::fmt(bytes / 1e6, 2), kbench::fmt(floor_us, 2),
                            kbench::fmt(ms * 1e3, 2), kbench::fmt(ms2 * 1e3, 2),
                            kbench::fmt(bytes / (ms * 1e-3) / 1e9, 0),
                            kbench::fmt(100.0 * floor_us / (ms * 1e3), 1)});
    }
    dec.print();
    if (decode_only) {
        QINFER_CUDA_CHECK(cudaStreamDestroy(stream));
        return 0;
    }

    // ---- prefill
    kbench::Table pre{{"kernel", "T", "workspace (MB)", "time (ms)", "Mtok/s", "FlashQLA H200 (ms)"}, {}};
    for (int64_t T : {1024, 8192}) {
        DeviceBuffer qkvz = random_bf16(static_cast<size_t>(T * row), 1.0f, gen);
        DeviceBuffer ba = random_bf16(static_cast<size_t>(T * 2 * s.hv), 1.0f, gen);
        DeviceBuffer out(static_cast<size_t>(T * vd) * sizeof(bf16));
        const size_t wsb = gdn_prefill_workspace_bytes(s, T);
        DeviceBuffer ws(wsb);
        const double ms = kbench::time_ms(
            [&](int i) {
                gdn_prefill(s, w, qkvz.as<bf16>(), ba.as<bf16>(), T, i % nslots, st, out.as<bf16>(), ws.data(),
                            stream);
            },
            stream, 3, 20);
        pre.rows.push_back({"gdn_prefill", std::to_string(T), kbench::fmt(wsb / 1e6, 0), kbench::fmt(ms, 3),
                            kbench::fmt(T / (ms * 1e-3) / 1e6, 2), T == 8192 ? "0.280" : (T == 2048 ? "0.109" : "-")});
    }
    pre.print();
    QINFER_CUDA_CHECK(cudaStreamDestroy(stream));
    return 0;
}
