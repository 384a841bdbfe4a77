// The CPU reference's emulation of a bf16-activation engine (LoadOptions::bf16_activations, layers/weights.h): what it
// rounds, what it leaves alone, and that it stays a bf16-accurate version of the model.

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>

#include "core/dtype.h"
#include "golden/golden_cases.h"
#include "io/safetensors.h"
#include "layers/weights.h"
#include "models/model.h"
#include "ops/linear.h"
#include "test_util.h"

namespace qinfer::test {
namespace {

Tensor random_tensor(Shape shape, uint32_t seed) {
    Tensor t(std::move(shape));
    std::mt19937 rng(seed);
    std::normal_distribution<float> n(0.0f, 1.0f);
    for (float& v : t.span()) v = n(rng);
    return t;
}

Tensor rounded(const Tensor& t) {
    Tensor r = t;
    layers::round_to_bf16(r);
    return r;
}

void expect_equal(const Tensor& a, const Tensor& b, const char* what) {
    ASSERT_EQ(a.shape(), b.shape()) << what;
    EXPECT_EQ(std::memcmp(a.data(), b.data(), static_cast<size_t>(a.numel()) * 4), 0) << what;
}

TEST(Bf16Emulation, LinearRoundsItsInputAndABf16StoredOutput) {
    const Tensor w = random_tensor({24, 40}, 1), x = random_tensor({5, 40}, 2);
    const layers::Linear plain("w", w, {}, nullptr, false), bf16("w", w, {}, nullptr, true);
    const Tensor exact = ops::linear(x, w), on_rounded = ops::linear(rounded(x), w);
    // Off: the input as given, whatever the store.
    expect_equal(plain.forward(x), exact, "plain, f32 store");
    expect_equal(plain.forward(x, layers::Store::Bf16), exact, "plain, bf16 store");
    // On: the input rounded; the output rounded only where the engine keeps it in bf16.
    expect_equal(bf16.forward(x), on_rounded, "bf16, f32 store");
    expect_equal(bf16.forward(x, layers::Store::Bf16), rounded(on_rounded), "bf16, bf16 store");
    EXPECT_NE(std::memcmp(on_rounded.data(), exact.data(), static_cast<size_t>(exact.numel()) * 4), 0)
        << "random inputs are not all bf16 values: the rounding must show";
}

TEST(Bf16Emulation, ModelStaysWithinBf16ToleranceOfTheGolden) {
    // dense_text: a BF16 checkpoint, so only the activations are rounded. A bf16 engine's logits move by ~1e-2 rel L2
    // on these tiny models (tests/cuda/test_model_gpu.cpp); the emulation must move them (it rounds) but stay within
    // that engine bound of the transformers golden.
    const auto dir = golden_dir() / "dense_text";
    const auto golden = SafetensorsFile::open(dir / "golden.safetensors");
    const TensorInfo* t = golden->find("input_ids");
    ASSERT_NE(t, nullptr);
    std::vector<int64_t> ids(static_cast<size_t>(t->numel()));
    std::memcpy(ids.data(), t->bytes.data(), t->bytes.size());
    const Tensor want = golden->find("logits")->to_f32();
    const auto model = Model::load(dir, LoadOptions{.progress = false, .bf16_activations = true});
    SequenceState st = model->new_sequence();
    const Tensor got = model->forward(ids, st);
    double e2 = 0.0, r2 = 0.0;
    for (int64_t i = 0; i < got.numel(); ++i) {
        const double d = static_cast<double>(got.data()[i]) - want.data()[i];
        e2 += d * d;
        r2 += static_cast<double>(want.data()[i]) * want.data()[i];
    }
    const double rel = std::sqrt(e2 / r2);
    EXPECT_GT(rel, 1e-4) << "the emulation changed nothing";
    EXPECT_LT(rel, 3e-2);
}

TEST(Bf16Emulation, LinearWithActivationQuantSegmentsIsRefused) {
    const Tensor w = random_tensor({16, 32}, 3);
    const std::vector<layers::LinearSegment> seg = {{0, 16, layers::ActivationQuant::Fp8, 1.0f}};
    EXPECT_ERROR_CONTAINS(layers::Linear("layers.0.mlp.down_proj.weight", w, seg, nullptr, true),
                          "layers.0.mlp.down_proj.weight", "do not combine");
}

TEST(Bf16Emulation, DoesNotCombineWithActivationQuant) {
    EXPECT_ERROR_CONTAINS(
        Model::load(golden_dir() / "dense_text",
                    LoadOptions{.activation_quant = true, .progress = false, .bf16_activations = true}),
        "activation_quant and bf16_activations");
}

}  // namespace
}  // namespace qinfer::test
