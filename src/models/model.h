#pragma once
// defines: qinfer::Model
//
// A loaded Qwen3.5-family text model on the CPU reference backend. Loading: config.json → ModelConfig → the
// registered family's WeightSpec → plan (coverage proof) → fp32 runtime parameters. The forward is the shared hybrid
// decoder (qwen3_5_architecture.md §3.3): embed → L × [pre-norm, GDN or gated attention, residual, pre-norm, dense or
// MoE MLP, residual] → final norm → lm_head.

#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "debug/taps.h"
#include "io/hf_config.h"
#include "io/safetensors.h"
#include "layers/weights.h"
#include "models/weight_loader.h"
#include "runtime/sequence_state.h"

namespace qinfer {

namespace layers {
class GatedAttention;
class GatedDeltaNet;
class SwiGluMlp;
class SparseMoe;
}  // namespace layers

struct LoadOptions {
    bool activation_quant = false;  // emulate W4A4 / W8A8 input quantization of quantized shards (see layers/weights.h)
    bool progress = true;           // progress bar on stderr while converting weights (drawn only on a terminal)
    // Tests: emulate a bf16-activation engine, rounding where the CUDA backend keeps activations in bf16 (see
    // layers/weights.h). Not with activation_quant.
    bool bf16_activations = false;
};

class Model {
public:
    // Loads <dir>/config.json and the checkpoint. Throws qinfer::Error with a message naming the file/tensor/field.
    static std::unique_ptr<Model> load(const std::filesystem::path& dir, const LoadOptions& options = {});
    ~Model();

    const ModelConfig& config() const { return config_; }
    SequenceState new_sequence() const { return SequenceState::fresh(config_); }

    // Runs ids (any length ≥ 1) after what `state` already holds. Returns f32 [T, vocab] logits, one row per token.
    Tensor forward(std::span<const int64_t> ids, SequenceState& state, const Taps* taps = nullptr) const;

    // Reports the input of every GEMM of later forwards (layers/weights.h InputObserver; calibration for `qinfer
    // quantize`). An empty function switches it off.
    void set_input_observer(layers::InputObserver observer) { weights_.observer = std::move(observer); }

private:
    Model() = default;

    struct Layer;
    ModelConfig config_;
    layers::ModelWeights weights_;
    std::vector<std::unique_ptr<Layer>> layers_;
};

}  // namespace qinfer
