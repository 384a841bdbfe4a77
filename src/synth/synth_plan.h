#pragma once
// defines: qinfer::synth::QuantLayout, ItemFormat, SynthItem, SynthScalar, SynthPlan, plan_synth
//
// What a synthetic checkpoint holds, decided before any value exists (so that the files can be laid out up front and
// filled in parallel, sharded_writer.h):
//   1. the model family's WeightSpec for the config (models/registry.h), exactly what the loader will check;
//   2. a synthetic loader plan (models::WeightPlan) choosing each parameter's release layout: split / packed shards,
//      routed experts fused 3-D for Qwen3.5 MoE (as HF releases them) and per expert for Qwen3-Next (as its
//      checkpoints store them);
//   3. for a quantized layout, `qinfer quantize`'s own planner (quant/quantize_plan.h plan_quantization) over that
//      plan: the same modules, formats, per-expert split of quantized experts (as ModelOpt exports them), scale
//      groups and tensor names (quant::unit_tensors) as quantizing a real checkpoint of this shape would give;
//   4. the MTP head when the config declares one (`mtp_num_hidden_layers`, Qwen3.5 §2.7): mtp.fc, its three norms and
//      mtp.layers.{i}, a full-attention decoder layer with the model's MLP kind built by the same family spec. The
//      loader ignores `mtp.*` and ModelOpt keeps it unquantized, so it is BF16 in every layout and lands in the
//      exclude list as in the NVIDIA releases;
//   5. the output tensors in spec order (MTP last), the items that generate their values, and the scalar scale
//      tensors.

#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "io/hf_config.h"
#include "io/safetensors.h"
#include "models/weight_loader.h"
#include "models/weight_spec.h"
#include "quant/quantize_plan.h"
#include "synth/init.h"

namespace qinfer::synth {

struct QuantLayout {
    quant::QuantizeFormat format;
    quant::QuantizePreset preset;
};

enum class ItemFormat : uint8_t { Bf16, Nvfp4, Fp8 };

inline constexpr size_t kNoTensor = std::numeric_limits<size_t>::max();

// One stored weight whose values come from a runtime parameter's stream: a whole unquantized tensor, or one
// quantized unit (its data tensor and, for NVFP4, its block scales).
struct SynthItem {
    ParamInit init;
    uint64_t stream = 0;
    int64_t first = 0;           // flat index, in the runtime parameter, of the item's element [0, 0]
    int64_t rows = 0, cols = 0;  // the values as [rows, cols]; cols = the last dimension (K for a Linear)
    ItemFormat format = ItemFormat::Bf16;
    size_t data_tensor = kNoTensor;   // BF16 values / NVFP4 U8 [rows, cols/2] / FP8 F8_E4M3 [rows, cols]
    size_t scale_tensor = kNoTensor;  // NVFP4 F8_E4M3 [rows, cols/16]
    int weight_group = -1;            // quant::QuantPlan::weight_groups index (quantized items)
    std::string module;               // for messages
};

// A scalar F32 tensor of a quantized unit: weight_scale_2 (NVFP4) / weight_scale (FP8) of its weight group, or its
// input_scale.
struct SynthScalar {
    size_t tensor = kNoTensor;
    quant::UnitTensorRole role = quant::UnitTensorRole::GlobalScale;
    int weight_group = -1;
    std::string algo;
};

struct SynthPlan {
    models::WeightSpec spec;
    models::WeightPlan weights;          // points into `spec`; QuantUnit::source points into `weights`
    std::vector<models::ParamSpec> mtp;  // the MTP head's parameters, absolute names ("mtp.fc.weight")
    std::optional<quant::QuantPlan> quant;
    std::vector<TensorHeaderEntry> tensors;  // every output tensor, in write order
    std::vector<SynthItem> items;
    std::vector<SynthScalar> scalars;
    int64_t parameters = 0;  // values generated (runtime parameters, tied ones once)
};

// Throws (plan_quantization's message) when a quantized layout quantizes nothing of this model.
// mtp_layers: the config's mtp_num_hidden_layers (0 = none).
std::unique_ptr<SynthPlan> plan_synth(const ModelConfig& config, int64_t mtp_layers, double initializer_range,
                                      uint64_t seed, std::optional<QuantLayout> quant);

}  // namespace qinfer::synth
