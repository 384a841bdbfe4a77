// Whole-model GPU logits against the transformers goldens (tests/golden/data: BF16/F32/F16 checkpoints of every
// architecture variant; tests/golden/quant: NVFP4, FP8, MIXED_PRECISION, mixed shards, compressed-tensors, Qwen3-Next),
// for a full prefill, prefill + single-token decode steps (CUDA graphs), and a prefill split into chunks.
//
// Tolerance: the goldens are fp32; the GPU rounds every GEMM input and every activation between kernels to bf16
// (8-bit mantissa: 2^-9 ≈ 2e-3 relative per rounding) and accumulates in fp32. Over the tiny models' 2–4 layers with
// ~6 roundings each, the logits move by about 1e-2 relative (‖Δ‖₂/‖ref‖₂); a wrong formula, layout or scale moves them
// by O(1). The bound is 3e-2 relative L2 over the whole [T, V] logits. Quantized cases compare with transformers run
// on the exactly dequantized weights (the checkpoint's own values), so the same bf16 bound applies.

#include <gtest/gtest.h>

#include <cstring>

#include "golden/golden_cases.h"
#include "gpu_test_util.h"
#include "io/safetensors.h"
#include "runtime/cuda/cuda_model.h"
#include "test_util.h"

namespace qinfer::test::gpu {
namespace {

constexpr double kBf16ModelTol = 3e-2;

std::vector<std::string> all_cases() {
    std::vector<std::string> out;
    for (const auto& c : golden_cases(golden_dir())) out.push_back("data/" + c);
    for (const auto& c : golden_cases(golden_dir().parent_path() / "quant")) out.push_back("quant/" + c);
    return out;
}

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
};

TEST_P(GpuGolden, FullPrefillMatchesTransformers) {
    auto m = load(4096, true);
    m->reset_slot(0);
    const Tensor logits = m->prefill(0, ids_, true);
    expect_close(logits, ref("logits"), kBf16ModelTol, GetParam() + " full prefill");
}

TEST_P(GpuGolden, PrefillThenGraphDecodeMatchesTransformers) {
    auto m = load(4096, true);
    // Slot 1 first, then slot 0: the decode graph must follow the slot it is given.
    const Tensor a = prefill_then_decode(*m, 1, P_);
    expect_close(a, ref("decode_logits"), kBf16ModelTol, GetParam() + " prefill + decode (slot 1)");
    const Tensor b = prefill_then_decode(*m, 0, P_);
    expect_close(b, ref("decode_logits"), kBf16ModelTol, GetParam() + " prefill + decode (slot 0)");
}

TEST_P(GpuGolden, ChunkedPrefillWithoutGraphsMatchesTransformers) {
    auto m = load(7, false);  // 7-token chunks: every chunk continues the KV cache and the GDN state
    m->reset_slot(0);
    const Tensor logits = m->prefill(0, ids_, true);
    expect_close(logits, ref("logits"), kBf16ModelTol, GetParam() + " chunked prefill");
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
