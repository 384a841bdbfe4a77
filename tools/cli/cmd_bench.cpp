// qinfer bench: one-batch latency/throughput of the CUDA backend, in the spirit of SGLang's bench_one_batch.
//
// For each batch size B: B sequences of --input-len random tokens are prefilled one by one (each timed), then
// --output-len greedy decode steps run for all B together (CUDA graph replays; each step timed on the host around
// launch + the copy of the B sampled ids, i.e. what a serving loop sees). Reported: prefill latency and tok/s, decode
// step latency (median, p90) and tok/s, the bytes a decode step must move (from the loaded model: weights read, the
// selected experts under uniform routing, GDN state read + write, KV cache read) and the achieved bandwidth as a
// fraction of the measured 3.0 TB/s HBM ceiling (docs/perf-notes.md), and GPU memory in use.

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <random>

#include <nlohmann/json.hpp>

#include "args.h"
#include "commands.h"
#include "core/check.h"
#ifdef QINFER_HAVE_CUDA
#include <nvtx3/nvToolsExt.h>  // header-only; a range per measured prefill and decode step, for profilers (tools/gpu/model_bench.sh)

#include "runtime/cuda/cuda_model.h"
#endif

namespace qinfer::cli {

namespace {

[[maybe_unused]] double percentile(std::vector<double> v, double p) {
    std::sort(v.begin(), v.end());
    const size_t i = std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size() - 1) + 0.5));
    return v[i];
}

}  // namespace

int cmd_bench(const std::vector<std::string>& argv) {
    Args args("bench",
              "Measures prefill and decode on the GPU (CUDA backend): prefill latency and tok/s, decode step latency\n"
              "(median, p90) and tok/s per batch size, the bytes each decode step must move and the achieved share of\n"
              "the HBM roofline, and GPU memory in use. Inputs are random token ids (seeded).",
              {},
              {{"model", "DIR", "Hugging Face model folder (e.g. made by `qinfer synth`)"},
               {"batch", "1,8,64", "decode batch sizes (default 1)"},
               {"input-len", "N", "prompt tokens per sequence (default 1024)"},
               {"output-len", "N", "decode steps per batch size (default 128)"},
               {"prefill-chunk", "N", "longest single prefill call (default: input-len, at most 16384)"},
               {"bandwidth", "GB/s", "HBM ceiling for the roofline share (default 3000: measured D2D copy on H100)"},
               {"no-graphs", "", "launch decode kernels one by one instead of replaying CUDA graphs"},
               {"seed", "N", "seed of the random prompts (default 0)"},
               {"json", "FILE", "also write the results as JSON"}},
              argv);
    if (args.help_requested()) {
        std::cout << args.usage();
        return 0;
    }
#ifndef QINFER_HAVE_CUDA
    QINFER_FAIL("bench measures the CUDA backend; this qinfer was built without it (configure with -DQINFER_CUDA=ON)");
#else
    using Clock = std::chrono::steady_clock;
    const std::vector<int64_t> batches = parse_int_list("batch", args.get_or("batch", "1"), 1, "batch sizes");
    const int64_t in_len = args.get_int("input-len", 1024), out_len = args.get_int("output-len", 128);
    QINFER_CHECK(in_len >= 1 && out_len >= 1, "--input-len and --output-len must be >= 1");
    const double bw = static_cast<double>(args.get_int("bandwidth", 3000)) * 1e9;
    cuda::CudaModelOptions o;
    o.max_batch = static_cast<int>(*std::max_element(batches.begin(), batches.end()));
    constexpr int64_t kWarmupSteps = 3;  // decode steps of the warm-up below, on slot 0 after its prefill
    o.max_ctx = in_len + std::max(out_len, kWarmupSteps) + 1;
    o.prefill_chunk = args.get_int("prefill-chunk", std::min<int64_t>(in_len, 16384));
    o.cuda_graphs = !args.has("no-graphs");
    const auto t_load = Clock::now();
    const auto model = cuda::CudaModel::load(args.get("model"), o);
    const double load_s = std::chrono::duration<double>(Clock::now() - t_load).count();
    const ModelConfig& c = model->config();
    std::mt19937_64 rng(static_cast<uint64_t>(args.get_int("seed", 0)));
    std::uniform_int_distribution<int64_t> tok(0, c.vocab_size - 1);
    auto prompt = [&] {
        std::vector<int64_t> p(static_cast<size_t>(in_len));
        for (auto& t : p) t = tok(rng);
        return p;
    };

    nlohmann::json report;
    report["model"] = args.get("model");
    report["architecture"] = c.architecture;
    report["input_len"] = in_len;
    report["output_len"] = out_len;
    report["cuda_graphs"] = o.cuda_graphs;
    report["load_seconds"] = load_s;
    report["weight_bytes"] = model->weight_bytes();
    for (const auto& [f, n] : model->format_counts()) report["weight_formats"][f] = n;
    std::fprintf(stderr, "loaded %s in %.1f s: %.2f GB of weights on the GPU\n", args.get("model").c_str(), load_s,
                 static_cast<double>(model->weight_bytes()) / 1e9);

    // Warm-up: one prefill and a few decode steps (module load, cuBLASLt heuristics, graph capture of B = 1).
    model->reset_slot(0);
    (void)model->prefill(0, prompt(), false);
    for (int64_t i = 0; i < kWarmupSteps; ++i) {
        const int s0[1] = {0};
        const int64_t id[1] = {1};
        (void)model->decode_greedy(s0, id);
    }

    std::printf("%-6s %12s %12s %12s %12s %12s %12s %10s %8s\n", "batch", "prefill_ms", "prefill_tok/s", "step_ms_p50",
                "step_ms_p90", "decode_tok/s", "step_GB", "GB/s", "roof%");
    for (const int64_t B : batches) {
        std::vector<double> prefill_ms;
        std::vector<int> slots;
        std::vector<int64_t> next(static_cast<size_t>(B));
        for (int64_t b = 0; b < B; ++b) {
            model->reset_slot(static_cast<int>(b));
            const auto p = prompt();
            const auto t0 = Clock::now();
            nvtxRangePushA("qinfer_prefill");
            const Tensor logits = model->prefill(static_cast<int>(b), p, false);  // synchronises (logits copy)
            nvtxRangePop();
            prefill_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
            next[static_cast<size_t>(b)] = std::max_element(logits.data(), logits.data() + c.vocab_size) - logits.data();
            slots.push_back(static_cast<int>(b));
        }
        std::vector<double> step_ms;
        for (int64_t s = 0; s < out_len; ++s) {
            const auto t0 = Clock::now();
            nvtxRangePushA("qinfer_decode_step");
            const std::vector<int32_t> ids = model->decode_greedy(slots, next);
            nvtxRangePop();
            step_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
            for (size_t b = 0; b < ids.size(); ++b) next[b] = ids[b];
        }
        const double p_ms = percentile(prefill_ms, 0.5);
        const double d50 = percentile(step_ms, 0.5), d90 = percentile(step_ms, 0.9);
        const cuda::DecodeBytes bytes = model->decode_bytes(B, in_len + out_len / 2);
        const double gbps = static_cast<double>(bytes.total()) / (d50 * 1e-3) / 1e9;
        std::printf("%-6lld %12.2f %12.0f %12.3f %12.3f %12.0f %12.3f %10.0f %7.1f%%\n", static_cast<long long>(B), p_ms,
                    static_cast<double>(in_len) / (p_ms * 1e-3), d50, d90, static_cast<double>(B) / (d50 * 1e-3),
                    static_cast<double>(bytes.total()) / 1e9, gbps, 100.0 * gbps * 1e9 / bw);
        nlohmann::json r;
        r["batch"] = B;
        r["prefill_ms_median"] = p_ms;
        r["prefill_tok_per_s"] = static_cast<double>(in_len) / (p_ms * 1e-3);
        r["decode_step_ms_p50"] = d50;
        r["decode_step_ms_p90"] = d90;
        r["decode_tok_per_s"] = static_cast<double>(B) / (d50 * 1e-3);
        r["step_bytes"] = {{"dense_weights", bytes.dense_weights}, {"expert_weights", bytes.expert_weights},
                           {"gdn_state", bytes.state}, {"kv_cache", bytes.kv}, {"total", bytes.total()}};
        r["achieved_GBps"] = gbps;
        r["roofline_fraction"] = gbps * 1e9 / bw;
        report["runs"].push_back(r);
    }
    size_t free_b = 0, total_b = 0;
    QINFER_CUDA_CHECK(cudaMemGetInfo(&free_b, &total_b));
    const double used_gb = static_cast<double>(total_b - free_b) / 1e9;
    std::printf("GPU memory in use: %.2f GB of %.2f GB (buffers are allocated at load; this is the peak)\n", used_gb,
                static_cast<double>(total_b) / 1e9);
    report["gpu_memory_used_GB"] = used_gb;
    if (args.has("json")) {
        std::ofstream f(args.get("json"));
        QINFER_CHECK(f.good(), "cannot write --json file ", args.get("json"));
        f << report.dump(2) << "\n";
    }
    return 0;
#endif
}

}  // namespace qinfer::cli
