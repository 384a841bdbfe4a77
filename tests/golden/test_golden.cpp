// Whole-model goldens: tiny random checkpoints saved by transformers 5.17 (tools/golden/make_goldens.py), with
// logits, per-layer hidden states and final recurrent states computed by transformers in fp32 on the CPU.
//
// Tolerance: max |Δ| ≤ 1e-3 · max |ref| per tensor (the bound). Both sides compute in fp32 from the same
// weights; the remaining differences are summation order (GEMM blocking, chunked vs recurrent delta rule), measured at
// about 1e-6 relative, so 1e-3 leaves ample margin while still catching any wrong formula (which moves values by
// O(1) relative).

#include <cmath>
#include <cstring>
#include <map>

#include "golden/golden_cases.h"
#include "io/safetensors.h"
#include "models/model.h"
#include "test_util.h"

namespace qinfer::test {
namespace {

constexpr double kRelTol = 1e-3;

struct Diff {
    double max_abs_diff = 0, max_abs_ref = 0;
    bool ok() const { return max_abs_diff <= kRelTol * max_abs_ref && std::isfinite(max_abs_diff); }
};

Diff compare(const Tensor& got, const Tensor& ref) {
    Diff d;
    EXPECT_EQ(got.numel(), ref.numel());
    const int64_t n = std::min(got.numel(), ref.numel());
    for (int64_t i = 0; i < n; ++i) {
        const double r = ref.data()[i], g = got.data()[i];
        d.max_abs_ref = std::max(d.max_abs_ref, std::abs(r));
        const double diff = std::abs(g - r);
        if (!(diff <= d.max_abs_diff)) d.max_abs_diff = std::isnan(diff) ? INFINITY : diff;
    }
    return d;
}

std::vector<int64_t> read_ids(const TensorInfo& t) {
    EXPECT_EQ(t.dtype, DType::I64);
    std::vector<int64_t> ids(static_cast<size_t>(t.numel()));
    std::memcpy(ids.data(), t.bytes.data(), t.bytes.size());
    return ids;
}

class Golden : public ::testing::TestWithParam<std::string> {
protected:
    void SetUp() override {
        dir_ = golden_dir() / GetParam();
        golden_ = SafetensorsFile::open(dir_ / "golden.safetensors");
        model_ = Model::load(dir_);
        const TensorInfo* ids = golden_->find("input_ids");
        ASSERT_NE(ids, nullptr);
        ids_ = read_ids(*ids);
    }
    Tensor ref(const std::string& name) const {
        const TensorInfo* t = golden_->find(name);
        EXPECT_NE(t, nullptr) << name << " missing from golden file";
        return t ? t->to_f32() : Tensor();
    }
    std::filesystem::path dir_;
    std::shared_ptr<SafetensorsFile> golden_;
    std::unique_ptr<Model> model_;
    std::vector<int64_t> ids_;
};

TEST_P(Golden, FullPrefillLogitsAndHiddenStates) {
    std::map<std::string, Tensor> taps;
    const Taps sink([&](const std::string& n, const Tensor& t) { taps[n] = t; });
    SequenceState state = model_->new_sequence();
    const Tensor logits = model_->forward(ids_, state, &sink);
    const Diff d = compare(logits, ref("logits"));
    EXPECT_TRUE(d.ok()) << "logits: max|Δ| " << d.max_abs_diff << " vs max|ref| " << d.max_abs_ref;

    int compared = 0;
    for (const auto& t : golden_->tensors()) {
        if (!t.name.starts_with("hidden.")) continue;
        const std::string tap = t.name.substr(7);
        auto it = taps.find(tap);
        ASSERT_NE(it, taps.end()) << "no tap named " << tap;
        const Diff h = compare(it->second, t.to_f32());
        EXPECT_TRUE(h.ok()) << tap << ": max|Δ| " << h.max_abs_diff << " vs max|ref| " << h.max_abs_ref;
        ++compared;
    }
    EXPECT_GT(compared, 3) << "golden file has too few hidden states";

    // Final Gated DeltaNet states after the prefill.
    for (size_t i = 0; i < state.linear.size(); ++i) {
        if (model_->config().layer_types[i] != LayerType::LinearAttention) continue;
        const std::string p = "state.model.layers." + std::to_string(i) + ".linear_attn.";
        const Diff s = compare(state.linear[i].recurrent, ref(p + "recurrent"));
        EXPECT_TRUE(s.ok()) << p << "recurrent: max|Δ| " << s.max_abs_diff << " vs max|ref| " << s.max_abs_ref;
        // HF keeps the last K raw inputs [conv_dim, K]; qinfer keeps the K-1 that matter.
        const Tensor hf_conv = ref(p + "conv");
        const int64_t C = hf_conv.dim(0), K = hf_conv.dim(1);
        Tensor tail({C, K - 1});
        for (int64_t c = 0; c < C; ++c) {
            for (int64_t j = 1; j < K; ++j) tail.data()[c * (K - 1) + j - 1] = hf_conv.data()[c * K + j];
        }
        const Diff cs = compare(state.linear[i].conv, tail);
        EXPECT_TRUE(cs.ok()) << p << "conv: max|Δ| " << cs.max_abs_diff << " vs max|ref| " << cs.max_abs_ref;
    }
}

TEST_P(Golden, PrefillThenDecodeMatchesTransformers) {
    const auto& meta = golden_->metadata();
    ASSERT_TRUE(meta.contains("P")) << "golden metadata lacks P";
    const int64_t P = std::stoll(meta.at("P"));
    const int64_t T = static_cast<int64_t>(ids_.size());
    ASSERT_TRUE(P >= 1 && P < T);
    SequenceState state = model_->new_sequence();
    Tensor first = model_->forward(std::span<const int64_t>(ids_.data(), static_cast<size_t>(P)), state);
    std::vector<float> all(first.vec());
    for (int64_t t = P; t < T; ++t) {
        const Tensor step = model_->forward(std::span<const int64_t>(ids_.data() + t, 1), state);
        all.insert(all.end(), step.vec().begin(), step.vec().end());
    }
    const Tensor got({T, model_->config().vocab_size}, std::move(all));
    const Diff d = compare(got, ref("decode_logits"));
    EXPECT_TRUE(d.ok()) << "prefill " << P << " + decode: max|Δ| " << d.max_abs_diff << " vs max|ref| " << d.max_abs_ref;
    // And against our own full prefill's reference (transformers' full-prefill logits).
    const Diff f = compare(got, ref("logits"));
    EXPECT_TRUE(f.ok()) << "prefill+decode vs full prefill: max|Δ| " << f.max_abs_diff;
}

TEST_P(Golden, ChunkedPrefillInUnevenPiecesMatchesFullPrefill) {
    // Chunked prefill continuing from a state: pieces of 5, 1, 37, then the rest.
    SequenceState state = model_->new_sequence();
    std::vector<float> all;
    const int64_t T = static_cast<int64_t>(ids_.size());
    int64_t pos = 0;
    for (int64_t piece : {5, 1, 37, 1 << 30}) {
        const int64_t n = std::min(piece, T - pos);
        if (n <= 0) break;
        const Tensor l = model_->forward(std::span<const int64_t>(ids_.data() + pos, static_cast<size_t>(n)), state);
        all.insert(all.end(), l.vec().begin(), l.vec().end());
        pos += n;
    }
    const Tensor got({T, model_->config().vocab_size}, std::move(all));
    const Diff d = compare(got, ref("logits"));
    EXPECT_TRUE(d.ok()) << "chunked prefill: max|Δ| " << d.max_abs_diff << " vs max|ref| " << d.max_abs_ref;
}

INSTANTIATE_TEST_SUITE_P(Transformers, Golden, ::testing::ValuesIn(golden_cases()),
                         [](const ::testing::TestParamInfo<std::string>& i) { return i.param; });
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(Golden);

TEST(GoldenData, AllCasesPresent) {
    // The committed cases; a missing one means the data was not generated or not committed.
    const std::vector<std::string> cases = golden_cases();
    EXPECT_GE(cases.size(), 6u) << "expected at least 6 golden cases under " << golden_dir();
}

}  // namespace
}  // namespace qinfer::test
