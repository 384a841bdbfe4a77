// Gated attention micro-benchmark (Qwen3.5-35B-A3B attention: 16 Q / 2 KV heads × 256, rotary 64, theta 1e7).
//   prefill T ∈ {1k, 4k, 8k} from pos0 = 0: TFLOP/s with causal flops 2·2·T²/2·Hq·hd (QKᵀ and PV, half the square),
//     floor = flops / 800 TFLOP/s (dense bf16 peak).
//   decode B ∈ {1, 8, 64} at context {1k, 4k} (every sequence at position ctx − 1): GB/s of K/V read
//     (B · ctx · Hkv · hd · 2 tensors · 2 bytes), floor = bytes / 3.0 TB/s. KV caches are rotated among copies so
//     that > 200 MB is touched between reuses (L2 is 50 MB).
// Times are medians of CUDA-event timings. Prefill: the whole API call. Decode: both kernels (DecodeKernel::
// SplitCombine = kv prep + split-K + combine, 3 launches; DecodeKernel::Fused = 1 launch), timed eagerly (the API
// call alone, host launch gaps included) and inside a CUDA graph of many calls (per call; as the model runs decode).
//   usage: kbench_attention                       the tables
//          kbench_attention decode B CTX fused|split   3 calls of one decode case and nothing else (for ncu)

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "kbench_util.h"
#include "kernels/cuda/attention.h"
#include "kernels/cuda/buffer.h"
#include "kernels/cuda/check.h"

using namespace qinfer;
using namespace qinfer::cuda;

namespace {

DeviceBuffer filled_bf16(size_t n, float scale) {
    std::vector<uint16_t> h(n);
    uint32_t x = 12345;
    for (auto& v : h) {
        x = x * 1664525u + 1013904223u;
        const float f = (static_cast<float>((x >> 9) & 0xFFFF) / 32768.0f - 1.0f) * scale;
        const __nv_bfloat16 b = __float2bfloat16(f);
        v = *reinterpret_cast<const uint16_t*>(&b);
    }
    DeviceBuffer d(n * 2);
    QINFER_CUDA_CHECK(cudaMemcpy(d.data(), h.data(), n * 2, cudaMemcpyHostToDevice));
    return d;
}

}  // namespace

int main(int argc, char** argv) {
    AttentionShape s;
    s.hq = 16;
    s.hkv = 2;
    s.head_dim = 256;
    s.rotary_dim = 64;
    s.rope_theta = 1e7f;
    s.eps = 1e-6f;
    const int64_t hd = s.head_dim, qkv_dim = 2 * s.hq * hd + 2 * s.hkv * hd;
    cudaStream_t st;
    QINFER_CUDA_CHECK(cudaStreamCreate(&st));
    std::vector<float> ones(static_cast<size_t>(hd), 0.1f);
    DeviceBuffer qn(hd * 4), kn(hd * 4);
    QINFER_CUDA_CHECK(cudaMemcpy(qn.data(), ones.data(), hd * 4, cudaMemcpyHostToDevice));
    QINFER_CUDA_CHECK(cudaMemcpy(kn.data(), ones.data(), hd * 4, cudaMemcpyHostToDevice));

    if (argc == 5 && std::strcmp(argv[1], "decode") == 0) {  // one case, for a profiler
        const int64_t B = std::atoll(argv[2]), ctx = std::atoll(argv[3]);
        const DecodeKernel kern = std::strcmp(argv[4], "fused") == 0 ? DecodeKernel::Fused : DecodeKernel::SplitCombine;
        const size_t cache_elems = static_cast<size_t>(B * ctx * s.hkv * hd);
        DeviceBuffer kc = filled_bf16(cache_elems, 1.0f), vc = filled_bf16(cache_elems, 1.0f);
        DeviceBuffer qkv = filled_bf16(static_cast<size_t>(B * qkv_dim), 2.0f);
        DeviceBuffer out(static_cast<size_t>(B * s.hq * hd * 2));
        std::vector<int32_t> slots(static_cast<size_t>(B)), pos(static_cast<size_t>(B), static_cast<int32_t>(ctx - 1));
        for (int64_t b = 0; b < B; ++b) slots[static_cast<size_t>(b)] = static_cast<int32_t>(b);
        DeviceBuffer dslots(B * 4), dpos(B * 4);
        QINFER_CUDA_CHECK(cudaMemcpy(dslots.data(), slots.data(), B * 4, cudaMemcpyHostToDevice));
        QINFER_CUDA_CHECK(cudaMemcpy(dpos.data(), pos.data(), B * 4, cudaMemcpyHostToDevice));
        DeviceBuffer ws(std::max<size_t>(gated_attention_decode_workspace_bytes(s, B, ctx, kern), 16));
        const KvCache cache{kc.as<bf16>(), vc.as<bf16>(), ctx};
        for (int i = 0; i < 3; ++i)
            gated_attention_decode(s, qkv.as<bf16>(), B, dslots.as<int32_t>(), dpos.as<int32_t>(), qn.as<float>(),
                                   kn.as<float>(), cache, out.as<bf16>(), ws.data(), st, kern);
        QINFER_CUDA_CHECK(cudaStreamSynchronize(st));
        std::printf("decode B %lld ctx %lld %s: %d splits\n", static_cast<long long>(B), static_cast<long long>(ctx),
                    argv[4], gated_attention_decode_splits(s, B, ctx, kern));
        QINFER_CUDA_CHECK(cudaStreamDestroy(st));
        return 0;
    }

    {
        kbench::Table t{{"prefill T", "kernel (CTA rows)", "ms", "TFLOP/s", "floor ms (800 TF)", "% of peak"}, {}};
        for (int64_t T : {1024, 4096, 8192}) {
            DeviceBuffer qkv = filled_bf16(static_cast<size_t>(T * qkv_dim), 2.0f);
            DeviceBuffer kc(static_cast<size_t>(T * s.hkv * hd * 2)), vc(static_cast<size_t>(T * s.hkv * hd * 2));
            DeviceBuffer out(static_cast<size_t>(T * s.hq * hd * 2));
            const KvCache cache{kc.as<bf16>(), vc.as<bf16>(), T};
            for (PrefillTile tile :
                 {PrefillTile::Rows64, PrefillTile::Rows128, PrefillTile::Wgmma, PrefillTile::Auto}) {
                if (!prefill_tile_supported(tile, s.head_dim, s.rotary_dim)) continue;
                const double ms = kbench::time_ms(
                    [&](int) {
                        gated_attention_prefill(s, qkv.as<bf16>(), T, 0, 0, qn.as<float>(), kn.as<float>(), cache,
                                                out.as<bf16>(), st, tile);
                    },
                    st, 3, 20);
                const double flops = 2.0 * 2.0 * static_cast<double>(T) * T / 2.0 * s.hq * hd;
                const double floor_ms = flops / 800e12 * 1e3;
                const char* rows = tile == PrefillTile::Rows64    ? "64"
                                   : tile == PrefillTile::Rows128 ? "128"
                                   : tile == PrefillTile::Wgmma   ? "128 wgmma"
                                                                  : "auto";
                t.rows.push_back({std::to_string(T), rows, kbench::fmt(ms, 3), kbench::fmt(flops / ms / 1e9, 1),
                                  kbench::fmt(floor_ms, 3), kbench::fmt(100.0 * floor_ms / ms, 1)});
            }
        }
        t.print();
    }
    {
        // Each (B, ctx) row set shares one group of KV-cache copies. For each kernel: "eager" = API call timed alone
        // (host launch gaps included, as before); "graph" = one CUDA graph of `calls` decode calls over the rotating
        // copies (> 200 MB between reuses), median replay time / calls, taken twice (two medians: the spread).
        kbench::Table t{{"decode B", "ctx", "kernel", "splits", "eager us", "graph us", "graph us (2nd)", "KV GB/s",
                         "floor us (3.0 TB/s)", "% of floor"},
                        {}};
        for (int64_t ctx : {1024, 4096}) {
            for (int64_t B : {1, 8, 64}) {
                const size_t cache_elems = static_cast<size_t>(B * ctx * s.hkv * hd);
                const double kv_bytes = 2.0 * 2.0 * static_cast<double>(cache_elems);
                const int copies = static_cast<int>(std::clamp<double>(200e6 / kv_bytes + 1, 1, 128));
                const int calls = std::max(copies, 8);
                std::vector<DeviceBuffer> ks, vs;
                for (int i = 0; i < copies; ++i) {
                    ks.push_back(filled_bf16(cache_elems, 1.0f));
                    vs.push_back(filled_bf16(cache_elems, 1.0f));
                }
                DeviceBuffer qkv = filled_bf16(static_cast<size_t>(B * qkv_dim), 2.0f);
                DeviceBuffer out(static_cast<size_t>(B * s.hq * hd * 2));
                std::vector<int32_t> slots(static_cast<size_t>(B)), pos(static_cast<size_t>(B), static_cast<int32_t>(ctx - 1));
                for (int64_t b = 0; b < B; ++b) slots[static_cast<size_t>(b)] = static_cast<int32_t>(b);
                DeviceBuffer dslots(B * 4), dpos(B * 4);
                QINFER_CUDA_CHECK(cudaMemcpy(dslots.data(), slots.data(), B * 4, cudaMemcpyHostToDevice));
                QINFER_CUDA_CHECK(cudaMemcpy(dpos.data(), pos.data(), B * 4, cudaMemcpyHostToDevice));
                for (DecodeKernel kern : {DecodeKernel::SplitCombine, DecodeKernel::Fused}) {
                    const size_t wsb = gated_attention_decode_workspace_bytes(s, B, ctx, kern);
                    DeviceBuffer ws(std::max<size_t>(wsb, 16));
                    auto call = [&](int i) {
                        const KvCache cache{ks[static_cast<size_t>(i % copies)].as<bf16>(),
                                            vs[static_cast<size_t>(i % copies)].as<bf16>(), ctx};
                        gated_attention_decode(s, qkv.as<bf16>(), B, dslots.as<int32_t>(), dpos.as<int32_t>(),
                                               qn.as<float>(), kn.as<float>(), cache, out.as<bf16>(), ws.data(), st,
                                               kern);
                    };
                    const double eager_ms = kbench::time_ms(call, st, 5, 100);
                    cudaGraph_t graph = nullptr;
                    cudaGraphExec_t exec = nullptr;
                    QINFER_CUDA_CHECK(cudaStreamBeginCapture(st, cudaStreamCaptureModeThreadLocal));
                    for (int i = 0; i < calls; ++i) call(i);
                    QINFER_CUDA_CHECK(cudaStreamEndCapture(st, &graph));
                    QINFER_CUDA_CHECK(cudaGraphInstantiate(&exec, graph, 0));
                    auto replay = [&](int) { QINFER_CUDA_CHECK(cudaGraphLaunch(exec, st)); };
                    const double g1 = kbench::time_ms(replay, st, 3, 30) / calls;
                    const double g2 = kbench::time_ms(replay, st, 3, 30) / calls;
                    QINFER_CUDA_CHECK(cudaGraphExecDestroy(exec));
                    QINFER_CUDA_CHECK(cudaGraphDestroy(graph));
                    const double g = std::min(g1, g2);
                    const double floor_us = kv_bytes / 3.0e12 * 1e6;
                    t.rows.push_back({std::to_string(B), std::to_string(ctx),
                                      kern == DecodeKernel::Fused ? "fused" : "split+combine",
                                      std::to_string(gated_attention_decode_splits(s, B, ctx, kern)),
                                      kbench::fmt(eager_ms * 1e3, 2), kbench::fmt(g1 * 1e3, 2),
                                      kbench::fmt(g2 * 1e3, 2), kbench::fmt(kv_bytes / g / 1e6, 0),
                                      kbench::fmt(floor_us, 2), kbench::fmt(100.0 * floor_us / (g * 1e3), 1)});
                }
            }
        }
        t.print();
    }
    QINFER_CUDA_CHECK(cudaStreamDestroy(st));
    return 0;
}
