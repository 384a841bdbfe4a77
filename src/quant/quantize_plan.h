#pragma once
// defines: qinfer::quant::QuantizeFormat, QuantizePreset, quantize_format_name, quantize_preset_name,
//          parse_quantize_format, parse_quantize_preset, QuantUnit, QuantPlan, plan_quantization, UnitTensorRole,
//          UnitTensor, unit_tensors
//
// What `qinfer quantize` will write, decided before any data is touched: every checkpoint Linear module of the output,
// its algorithm (or why it stays unquantized) and which modules share their scales. Pure planning over the loader's
// WeightPlan (models/weight_loader.h) and the family's WeightSpec; no I/O.
//
// Output modules: each Linear shard of the input, except that a fused 3-D expert tensor (`...mlp.experts.gate_up_proj`
// [E, 2I, H]) with any quantized expert is cut into the spec's per-expert layout (`...mlp.experts.{e}.gate_proj` /
// `up_proj` / `down_proj`), as ModelOpt exports experts (shared/docs/quantized_checkpoints.md §1.7).
//
// Presets (§0 rule 6, §4, §5):
//   nvidia-qwen3.5  routed experts only, in --format (NVIDIA's Qwen3.5 NVFP4 releases)
//   all-linear      every Linear except lm_head (ModelOpt's default-disabled `*lm_head*`)
//   qwen3.6-mixed   MIXED_PRECISION as the Qwen3.6 releases: W4A16_NVFP4 on the MLP (dense, shared expert, routed
//                   experts) and lm_head; FP8 on self_attn q/k/v/o and linear_attn in_proj_qkv, in_proj_z, out_proj
//                   (Qwen3-Next's fused in_proj_qkvz too); in_proj_a / in_proj_b (in_proj_ba) stay BF16
// Under every preset routers, shared_expert_gate (and norms, conv, A_log, embeddings, which are not Linear shards)
// are never quantized (quant/resolver.h module kinds), a tied lm_head stays with its embedding, and the vision tower
// and MTP head (the spec's ignore list) are copied unchanged. --exclude globs (fnmatch over output module names)
// remove more modules.
//
// Scale sharing (§7.1 ModelOpt preprocess_linear_fusion, §1.7, §8), computed as the max over the group:
//   weight_scale_2 (NVFP4) / weight_scale (FP8): the quantized modules fed the same input tensor -- the shards of one
//     packed runtime parameter (q/k/v, gate/up, in_proj_qkv/in_proj_z, in_proj_b/in_proj_a) together with the
//     parameters the spec declares same-input (WeightSpec::same_input: a GDN layer's in_proj_qkvz and in_proj_ba, so
//     all four GDN input projections when quantized); and each routed expert's gate and up.
//   input_scale: the same-input parameters share one calibrated amax; routed experts share one amax per layer and
//     projection input (gate/up, down), over the tokens routed to any expert (ModelOpt's shared input quantizer).

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/dtype.h"
#include "models/weight_loader.h"
#include "models/weight_spec.h"

namespace qinfer::quant {

enum class QuantizeFormat : uint8_t { Nvfp4, W4a16Nvfp4, Fp8, Mixed };
enum class QuantizePreset : uint8_t { NvidiaQwen35, AllLinear, Qwen36Mixed };
std::string_view quantize_format_name(QuantizeFormat f);  // "nvfp4" | "w4a16_nvfp4" | "fp8" | "mixed"
std::string_view quantize_preset_name(QuantizePreset p);  // "nvidia-qwen3.5" | "all-linear" | "qwen3.6-mixed"
// Throw qinfer::Error listing the supported values.
QuantizeFormat parse_quantize_format(const std::string& s);
QuantizePreset parse_quantize_preset(const std::string& s);

// One Linear module of the output checkpoint.
struct QuantUnit {
    std::string module;  // absolute checkpoint module name in the output ("...mlp.experts.3.gate_proj", "lm_head")
    std::string param;   // the runtime parameter it feeds (ParamSpec::name; ModelWeights / InputObserver name)
    const models::ShardRecord* source = nullptr;  // the input shard holding its data
    int64_t src_offset = 0;  // element offset of its data in source->tensor (an expert's slice of a fused tensor)
    int64_t n = 0, k = 0;    // logical [N, K]; a kept fused 3-D tensor: [E*R, K]
    int64_t expert = -1;     // routed expert index when `param` is a stacked [E, R, K] parameter
    std::string algo;        // "NVFP4" | "W4A16_NVFP4" | "FP8"; "" = unquantized
    std::string reason;      // why: the preset's rule, the --exclude glob, the never-quantized kind
    bool linear_kind = true;  // false for routers (ModelOpt gives them no quantizer: not in exclude_modules, §3.1)
    bool split = false;       // cut out of a fused 3-D input tensor
    int weight_group = -1;    // index into QuantPlan::weight_groups (quantized units)
    int input_group = -1;     // index into QuantPlan::input_groups (units with an input_scale)
};

struct QuantPlan {
    QuantizeFormat format = QuantizeFormat::Nvfp4;
    QuantizePreset preset = QuantizePreset::AllLinear;
    std::string quant_algo;   // top level: NVFP4 | W4A16_NVFP4 | FP8 | MIXED_PRECISION
    std::vector<QuantUnit> units;                       // every Linear module, in spec order
    std::vector<std::vector<size_t>> weight_groups;     // unit indices sharing one weight_scale_2 / weight_scale
    std::vector<std::vector<std::string>> input_groups; // runtime params whose inputs share one amax
    std::vector<std::string> split_tensors;             // fused 3-D input tensors written per expert
    std::vector<std::string> other_linear_modules;      // Linear modules outside the text model (vision, MTP), kept

    bool needs_calibration() const { return !input_groups.empty(); }
};

// Checks the format/preset combination (mixed <-> qwen3.6-mixed) and plans. Throws naming the problem when nothing
// would be quantized, a per-expert layout is missing from the spec, or a scale group mixes formats.
QuantPlan plan_quantization(const models::WeightPlan& plan, const models::WeightSpec& spec, QuantizeFormat format,
                            QuantizePreset preset, const std::vector<std::string>& exclude);

// The tensors ModelOpt's HF export stores for one quantized unit (shared/docs/quantized_checkpoints.md §1.7), in the
// order they are written (`qinfer quantize`, `qinfer synth`):
//   NVFP4 / W4A16_NVFP4: <m>.weight U8 [N, K/2], <m>.weight_scale F8_E4M3 [N, K/16], <m>.weight_scale_2 F32 []
//   FP8:                 <m>.weight F8_E4M3 [N, K], <m>.weight_scale F32 []
//   then <m>.input_scale F32 [] when the unit has an input group (W4A4 NVFP4, W8A8 FP8).
// Throws for an unquantized unit, and for NVFP4 when K is not a multiple of the block size (naming the module).
enum class UnitTensorRole : uint8_t { Weight, BlockScales, GlobalScale, WeightScale, InputScale };
struct UnitTensor {
    std::string name;
    DType dtype;
    Shape shape;
    UnitTensorRole role;
};
std::vector<UnitTensor> unit_tensors(const QuantUnit& u);

// The algorithm of a format for non-mixed presets: NVFP4, W4A16_NVFP4, FP8.
std::string format_algo(QuantizeFormat f);
// Whether a quant_algo stores an input_scale: NVFP4 (W4A4) and FP8 (W8A8) do, W4A16_NVFP4 does not.
bool algo_has_input_scale(const std::string& algo);

}  // namespace qinfer::quant
