// Whole-model GPU logits against the transformers goldens (tests/golden/data: BF16/F32/F16 checkpoints of every
// architecture variant; tests/golden/quant: NVFP4, FP8, MIXED_PRECISION, mixed shards, compressed-tensors, Qwen3-Next),
// for a full prefill, prefill + single-token decode steps (eager, and replayed from CUDA graphs), and a prefill split
// into chunks.
//
// Tolerance: the goldens are fp32; the GPU rounds every GEMM input and every activation between kernels to bf16
// (8-bit mantissa: 2^-9 ≈ 2e-3 relative per rounding) and accumulates in fp32. Over the tiny models' 2–4 layers with
// ~6 roundings each, the logits move by about 1e-2 relative (‖Δ‖₂/‖ref‖₂); a wrong formula, layout or scale moves them
// by O(1). The bound is 3e-2 relative L2 over the whole [T, V] logits. Quantized cases compare with transformers run
// on the exactly dequantized weights (the checkpoint's own values), so the same bf16 bound applies.
//
// MoE routing near-ties. The GPU routes from bf16-rounded activations, so its router logits differ from the fp32
// reference's by 1-2e-2 relative (measured on every MoE case). Where a token's k-th and (k+1)-th router logits are
// closer than that, the GPU may legitimately choose the other expert, and that token's logits move by O(1): forcing
// the same swap in the CPU reference reproduces the GPU's outliers (moe_mm_fused token 1 layer 3: logit 566
// -1.94 -> -3.41, GPU -3.48; next token 55 layer 2: 0.996 -> -0.04, GPU -0.30), and later tokens move through
// attention. So every MoE test watches the GPU's routing (CudaModel::set_routing_observer) and requires:
//   - the GPU's router logits within the same 3e-2 relative L2 of the fp32 reference's, over the tokens routed alike
//     so far (a wrong router weight, input or scale fails here whatever the experts chosen);
//   - at most 15% of the tokens routed differently, each a near-tie in the reference (gap below kNearTie: measured
//     flips reach 0.33, where a token attends to an earlier re-routed one);
//   - the GPU's logits within the bf16 bound of the CPU reference run with the GPU's expert choices replayed
//     (Taps::RouteHook; the router weights stay the reference's own softmax). The CPU reference itself matches the
//     transformers goldens to ~1e-6 (tests/golden), so for tokens routed alike this is the golden comparison.

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <set>

#include "debug/taps.h"
#include "golden/golden_cases.h"
#include "gpu_test_util.h"
#include "io/safetensors.h"
#include "models/model.h"
#include "runtime/cuda/cuda_model.h"
#include "test_util.h"

namespace qinfer::test::gpu {
namespace {

constexpr double kBf16ModelTol = 3e-2;
constexpr double kNearTie = 0.5;            // router-logit gap below which a different choice is a near-tie
constexpr double kMaxRerouted = 0.15;       // share of tokens the GPU may route differently
constexpr double kGraphVsEagerTol = 1e-6;   // the same kernels replayed from a graph: identical up to rounding noise

std::vector<std::string> all_cases() {
    std::vector<std::string> out;
    for (const auto& c : golden_cases(golden_dir())) out.push_back("data/" + c);
    for (const auto& c : golden_cases(golden_dir().parent_path() / "quant")) out.push_back("quant/" + c);
    return out;
}

// The expert ids of the top-k router logits of `row` (ties to the lower index, as ops::moe_route).
std::set<int32_t> top_k(const float* row, int64_t E, int64_t k) {
    std::vector<int32_t> idx(static_cast<size_t>(E));
    for (int64_t e = 0; e < E; ++e) idx[static_cast<size_t>(e)] = static_cast<int32_t>(e);
    std::stable_sort(idx.begin(), idx.end(), [&](int32_t a, int32_t b) { return row[a] > row[b]; });
    return {idx.begin(), idx.begin() + k};
}

// The layer index N of a tap name or prefix "model.layers.N.mlp...".
int layer_of(const std::string& name) {
    const auto a = name.find("layers.") + 7;
    return std::stoi(name.substr(a, name.find('.', a) - a));
}

// Gap between the k-th and (k+1)-th largest router logits of `row`.
double tie_gap(const float* row, int64_t E, int64_t k) {
    std::vector<float> v(row, row + E);
    std::sort(v.begin(), v.end(), std::greater<>());
    return static_cast<double>(v[static_cast<size_t>(k - 1)]) - v[static_cast<size_t>(k)];
}

// Compares the GPU's routing, as the observer reports it, with the fp32 reference's router logits.
class RoutingWatch {
public:
    explicit RoutingWatch(std::map<int, Tensor> reference) : ref_(std::move(reference)) {}
    void observe(int layer, int64_t pos0, const Tensor& logits, std::span<const int32_t> experts) {
        const Tensor& ref = ref_.at(layer);
        const int64_t E = ref.dim(1), rows = logits.dim(0), k = static_cast<int64_t>(experts.size()) / rows;
        std::vector<int32_t>& chosen = chosen_[layer];
        chosen.resize(static_cast<size_t>(ref.dim(0) * k), -1);
        std::copy(experts.begin(), experts.end(), chosen.begin() + pos0 * k);
        for (int64_t r = 0; r < rows; ++r) {
            const int64_t t = pos0 + r;
            if (rerouted_.contains(t)) continue;  // its hidden state already differs: later layers may differ freely
            const float* want = ref.row(t);
            for (int64_t e = 0; e < E; ++e) {
                const double d = static_cast<double>(logits.row(r)[e]) - want[e];
                err2_ += d * d;
                ref2_ += static_cast<double>(want[e]) * want[e];
            }
            const std::set<int32_t> gpu(experts.begin() + r * k, experts.begin() + (r + 1) * k);
            if (gpu == top_k(want, E, k)) continue;
            rerouted_.insert(t);
            const double gap = tie_gap(want, E, k);
            notes_ += " t" + std::to_string(t) + "@L" + std::to_string(layer) + " gap " + std::to_string(gap);
            EXPECT_LT(gap, kNearTie) << "token " << t << " layer " << layer
                                     << ": the GPU chose other experts although the reference's choice is clear";
        }
    }
    // Checks the totals.
    void finish(int64_t T, const std::string& what) const {
        const double rel = ref2_ > 0 ? std::sqrt(err2_ / ref2_) : 0.0;
        std::printf("  %s: router logits rel L2 %.2e; %zu of %lld tokens routed differently%s\n", what.c_str(), rel,
                    rerouted_.size(), static_cast<long long>(T), notes_.c_str());
        EXPECT_GT(ref2_, 0.0) << what << ": no routing observed";
        EXPECT_LE(rel, kBf16ModelTol) << what << ": GPU router logits differ from the fp32 reference";
        EXPECT_LE(static_cast<double>(rerouted_.size()), kMaxRerouted * static_cast<double>(T))
            << what << ": too many tokens routed differently";
    }
    // The GPU's experts of every MoE layer, int32 [T * k] (-1 where a token was not observed).
    const std::map<int, std::vector<int32_t>>& chosen() const { return chosen_; }

private:
    std::map<int, Tensor> ref_;  // layer -> f32 [T, E]
    std::map<int, std::vector<int32_t>> chosen_;
    std::set<int64_t> rerouted_;
    double err2_ = 0.0, ref2_ = 0.0;
    std::string notes_;
};

class GpuGolden : public ::testing::TestWithParam<std::string> {
protected:
    void SetUp() override {
        QINFER_REQUIRE_GPU();
        dir_ = golden_dir().parent_path() / GetParam();
        golden_ = SafetensorsFile::open(dir_ / "golden.safetensors");
        const TensorInfo* t = golden_->find("input_ids");
        ASSERT_NE(t, nullptr);
        ids_.resize(static_cast<size_t>(t->numel()));
        std::memcpy(ids_.data(), t->bytes.data(), t->bytes.size());
        P_ = std::stoll(golden_->metadata().at("P"));
        // fp32 router logits of every MoE layer from the CPU reference (which matches the goldens to ~1e-6).
        LoadOptions lo;
        lo.progress = false;
        cpu_ = Model::load(dir_, lo);
        const auto& cpu = cpu_;
        if (!cpu->config().is_moe) return;
        const Taps sink([&](const std::string& n, const Tensor& v) {
            if (!n.ends_with(".mlp.router_logits")) return;
            router_ref_[layer_of(n)] = v;
        });
        SequenceState st = cpu->new_sequence();
        cpu->forward(ids_, st, &sink);
        ASSERT_FALSE(router_ref_.empty()) << "no router_logits taps from the CPU reference";
    }
    Tensor ref(const std::string& name) const { return golden_->find(name)->to_f32(); }
    std::unique_ptr<cuda::CudaModel> load(int64_t chunk, bool graphs) const {
        cuda::CudaModelOptions o;
        o.max_batch = 2;
        o.max_ctx = static_cast<int64_t>(ids_.size()) + 8;
        o.prefill_chunk = chunk;
        o.cuda_graphs = graphs;
        o.progress = false;
        return cuda::CudaModel::load(dir_, o);
    }
    // Starts watching m's routing (MoE models; a no-op for dense ones).
    std::shared_ptr<RoutingWatch> watch(cuda::CudaModel& m) const {
        if (router_ref_.empty()) return nullptr;
        auto w = std::make_shared<RoutingWatch>(router_ref_);
        m.set_routing_observer([w](int layer, int64_t pos0, const Tensor& logits, std::span<const int32_t> ex) {
            w->observe(layer, pos0, logits, ex);
        });
        return w;
    }
    // Dense: compares out with the golden `name`. MoE: checks the routing, then compares out with the CPU reference
    // run on the GPU's expert choices (see the file comment).
    void expect_matches(const Tensor& out, const std::string& name, const RoutingWatch* w, const std::string& what) const {
        const Tensor want = ref(name);
        if (w == nullptr) {
            // Printed for every case, passing or not: the spread of the errors over the cases is what a tolerance
            // discussion needs (perf-notes.md, the ct_nvfp4_moe failures).
            std::printf("  %s: logits rel L2 %.3e (bound %.0e)\n", what.c_str(), rel_l2(out, want), kBf16ModelTol);
            return expect_close(out, want, kBf16ModelTol, what);
        }
        w->finish(want.dim(0), what);
        const bool renorm = cpu_->config().norm_topk_prob;
        const Taps replay([](const std::string&, const Tensor&) {},
                          [&](const std::string& prefix, const Tensor& logits, std::vector<int32_t>& ex,
                              std::vector<float>& wt) {
                              const auto it = w->chosen().find(layer_of(prefix));
                              ASSERT_NE(it, w->chosen().end()) << what << ": no GPU routing for " << prefix;
                              const int64_t E = logits.dim(1), k = static_cast<int64_t>(ex.size()) / logits.dim(0);
                              for (int64_t t = 0; t < logits.dim(0); ++t) {
                                  const float* l = logits.row(t);
                                  const float mx = *std::max_element(l, l + E);
                                  double z = 0.0, kept = 0.0;
                                  for (int64_t e = 0; e < E; ++e) z += std::exp(static_cast<double>(l[e] - mx));
                                  for (int64_t j = 0; j < k; ++j) {
                                      const int32_t e = it->second[static_cast<size_t>(t * k + j)];
                                      ASSERT_GE(e, 0) << what << ": token " << t << " not observed on the GPU";
                                      ex[static_cast<size_t>(t * k + j)] = e;
                                      wt[static_cast<size_t>(t * k + j)] =
                                          static_cast<float>(std::exp(static_cast<double>(l[e] - mx)) / z);
                                      kept += wt[static_cast<size_t>(t * k + j)];
                                  }
                                  if (renorm)
                                      for (int64_t j = 0; j < k; ++j)
                                          wt[static_cast<size_t>(t * k + j)] =
                                              static_cast<float>(wt[static_cast<size_t>(t * k + j)] / kept);
                              }
                          });
        SequenceState st = cpu_->new_sequence();
        const Tensor replayed = cpu_->forward(ids_, st, &replay);
        ASSERT_EQ(out.shape(), replayed.shape()) << what;
        std::printf("  %s: logits rel L2 %.3e vs the reference on the GPU's routing (bound %.0e)\n", what.c_str(),
                    rel_l2(out, replayed), kBf16ModelTol);
        expect_close(out, replayed, kBf16ModelTol, what + " (vs the reference on the GPU's routing)");
    }
    // Prefill ids[0:P] then decode one token at a time; returns the logits of every position [T, V].
    Tensor prefill_then_decode(cuda::CudaModel& m, int slot, int64_t P) const {
        const int64_t T = static_cast<int64_t>(ids_.size()), V = m.config().vocab_size;
        m.reset_slot(slot);
        Tensor out({T, V});
        const Tensor first = m.prefill(slot, std::span<const int64_t>(ids_.data(), static_cast<size_t>(P)), true);
        std::memcpy(out.data(), first.data(), static_cast<size_t>(first.numel()) * 4);
        for (int64_t t = P; t < T; ++t) {
            const int sl[1] = {slot};
            const Tensor step = m.decode(sl, std::span<const int64_t>(ids_.data() + t, 1));
            std::memcpy(out.row(t), step.data(), static_cast<size_t>(V) * 4);
        }
        return out;
    }
    std::filesystem::path dir_;
    std::shared_ptr<SafetensorsFile> golden_;
    std::vector<int64_t> ids_;
    int64_t P_ = 0;
    std::unique_ptr<Model> cpu_;        // the CPU reference (fp32)
    std::map<int, Tensor> router_ref_;  // MoE layer -> fp32 reference router logits [T, E]
};

TEST_P(GpuGolden, FullPrefillMatchesTransformers) {
    auto m = load(4096, true);
    const auto w = watch(*m);
    m->reset_slot(0);
    const Tensor logits = m->prefill(0, ids_, true);
    expect_matches(logits, "logits", w.get(), GetParam() + " full prefill");
}

TEST_P(GpuGolden, PrefillThenDecodeMatchesTransformers) {
    // Eager decode steps (routing observed) against the goldens...
    auto eager = load(4096, false);
    const auto w = watch(*eager);
    const Tensor e = prefill_then_decode(*eager, 0, P_);
    expect_matches(e, "decode_logits", w.get(), GetParam() + " prefill + eager decode");
    // ...and the same steps replayed from CUDA graphs equal the eager ones. Slot 1 first, then slot 0: the decode
    // graph must follow the slot it is given.
    auto graphs = load(4096, true);
    for (int slot : {1, 0}) {
        const Tensor g = prefill_then_decode(*graphs, slot, P_);
        expect_close(g, e, kGraphVsEagerTol, GetParam() + " graph decode (slot " + std::to_string(slot) + ") vs eager");
    }
}

TEST_P(GpuGolden, ChunkedPrefillWithoutGraphsMatchesTransformers) {
    auto m = load(7, false);  // 7-token chunks: every chunk continues the KV cache and the GDN state
    const auto w = watch(*m);
    m->reset_slot(0);
    const Tensor logits = m->prefill(0, ids_, true);
    expect_matches(logits, "logits", w.get(), GetParam() + " chunked prefill");
}

INSTANTIATE_TEST_SUITE_P(Cases, GpuGolden, ::testing::ValuesIn(all_cases()),
                         [](const auto& case_info) {  // not `info`: gtest's macro already has a parameter of that name
                             std::string n = case_info.param;
                             for (char& ch : n) if (ch == '/') ch = '_';
                             return n;
                         });

TEST(GpuModel, ContextOverflowIsAClearError) {
    QINFER_REQUIRE_GPU();
    cuda::CudaModelOptions o;
    o.max_ctx = 4;
    o.progress = false;
    auto m = cuda::CudaModel::load(golden_dir() / "dense_text", o);
    m->reset_slot(0);
    const std::vector<int64_t> ids = {1, 2, 3, 4, 5};
    EXPECT_ERROR_CONTAINS(m->prefill(0, ids, false), "exceed the context", "--max-ctx");
}

}  // namespace
}  // namespace qinfer::test::gpu
