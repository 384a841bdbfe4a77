#pragma once
// defines: qinfer::models::ShardRecord, WeightPlan, plan_weights, materialize_weights, detect_text_prefix, module_of,
//          read_scalar
//
// Loading is two steps so that `qinfer inspect` can explain a 400B checkpoint without touching its data:
//  1. plan_weights: match the model's WeightSpec against the checkpoint's tensor table, deciding every checkpoint
//     shard's precision with the quantization resolver (quant/resolver.h: from the shard's own module name, the
//     quantization config and the tensors present). Proves that every required parameter is present in exactly one
//     layout with the right shapes, and that every checkpoint tensor (scales included) is consumed or on the spec's
//     ignore list; otherwise throws one error listing every offender.
//  2. materialize_weights: dequantizes each planned shard exactly to fp32 (the CPU reference's compute dtype) and
//     places it in its runtime parameter, applying re-layouts.
//
// Packed groups (qkv_proj, gate_up_proj, in_proj_qkvz, in_proj_ba) whose shards resolve to the same scheme run as one
// GEMM; shards that disagree (in_proj_qkv NVFP4 + in_proj_z BF16) are kept and run as separate GEMMs, each in its own
// format (ShardRecord::fused is false for them, and inspect says so). Per-shard global scales are kept exactly.

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "core/dtype.h"
#include "core/tensor.h"
#include "io/safetensors.h"
#include "models/weight_spec.h"
#include "quant/quant_config.h"
#include "quant/resolver.h"

namespace qinfer::models {

// One checkpoint tensor (with its scales) feeding one runtime parameter.
struct ShardRecord {
    std::string checkpoint_name;  // absolute checkpoint name of the data tensor (X.weight, X.weight_packed, or X)
    std::string module;           // absolute checkpoint module (X)
    std::string runtime_param;    // absolute runtime name ("model.layers.0.self_attn.qkv_proj.weight")
    const TensorInfo* tensor = nullptr;        // the data tensor
    const TensorInfo* weight_scale = nullptr;  // NVFP4 block scales / FP8 scale (nullptr when unquantized)
    const TensorInfo* global_scale = nullptr;  // NVFP4 weight_scale_2 / weight_global_scale
    const TensorInfo* input_scale = nullptr;   // static activation scale (W4A4 / W8A8), when present
    quant::Decision decision;                  // format, activation mode, and the reason
    Shape logical_shape;                       // the dequantized shape the spec expects
    ParamRole role = ParamRole::Linear;
    bool packed = false;          // the runtime parameter packs several checkpoint tensors
    bool fused = false;           // packed and every shard has the same scheme: one GEMM
    std::string layout;           // the chosen layout's label
    int64_t dst_offset = 0;
    Relayout relayout;

    uint64_t stored_bytes() const;  // data + scales
};

struct WeightPlan {
    std::string prefix;                          // text-model prefix in the checkpoint: "model.language_model." or "model."
    quant::QuantConfig quant;                    // the checkpoint's quantization config (producer None when absent)
    std::vector<const ParamSpec*> params;        // every runtime parameter, in spec order
    std::map<std::string, std::vector<ShardRecord>> shards;  // runtime param name (relative) -> its shards
    std::map<std::string, std::string> tied;     // runtime param (relative) -> the parameter it shares
    std::vector<std::string> ignored;            // checkpoint tensors matched by the ignore list
    std::vector<std::string> shadowed;           // checkpoint tensors present but superseded (lm_head.weight when tied)
};

// The text model's prefix: "model.language_model." when any tensor uses it, else "model.".
std::string detect_text_prefix(const TensorTable& table);

// Throws qinfer::Error listing missing tensors, wrong shapes, partial layouts, precision contradictions and
// unconsumed tensors (one line, each group after a " | ", so the CLI can print it as its one-line error).
WeightPlan plan_weights(const WeightSpec& spec, const TensorTable& table, const quant::QuantConfig& quant);

// fp32 runtime parameters by relative runtime name. Tied parameters (plan.tied) are not duplicated: the model looks
// up their target, so a tied 248k-row head costs no second copy.
// `progress` (optional) is called from worker threads with each finished shard's stored byte count.
std::map<std::string, Tensor> materialize_weights(const WeightPlan& plan,
                                                  const std::function<void(uint64_t bytes)>& progress = {});

// The runtime module of a parameter: its name without a trailing ".weight".
std::string module_of(const std::string& param_name);

// A one-element floating tensor (scalar `[]` or `[1]`, F32/BF16/F16) as fp32; throws naming the tensor otherwise.
float read_scalar(const TensorInfo& t);

}  // namespace qinfer::models
