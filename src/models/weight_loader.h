#pragma once
// defines: qinfer::models::ShardRecord, WeightPlan, plan_weights, materialize_weights, detect_text_prefix
//
// Loading is two steps so that `qinfer inspect` can explain a 400B checkpoint without touching its data:
//  1. plan_weights: match the model's WeightSpec against the checkpoint's tensor table. Proves that every required
//     parameter is present in exactly one layout with the right shapes, and that every checkpoint tensor is consumed
//     or on the spec's ignore list; otherwise throws one error listing every offender.
//  2. materialize_weights: converts each planned shard to fp32 (the CPU reference's compute dtype) and places it in
//     its runtime parameter, applying re-layouts.

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "core/dtype.h"
#include "core/tensor.h"
#include "io/safetensors.h"
#include "models/weight_spec.h"

namespace qinfer::models {

// One checkpoint tensor feeding one runtime parameter.
struct ShardRecord {
    std::string checkpoint_name;  // absolute checkpoint tensor name
    std::string runtime_param;    // absolute runtime name ("model.layers.0.self_attn.qkv_proj.weight")
    const TensorInfo* tensor = nullptr;
    ParamRole role = ParamRole::Linear;
    bool fused = false;           // the runtime parameter packs several checkpoint tensors
    std::string layout;           // the chosen layout's label
    int64_t dst_offset = 0;
    Relayout relayout;
};

struct WeightPlan {
    std::string prefix;                          // text-model prefix in the checkpoint: "model.language_model." or "model."
    std::vector<const ParamSpec*> params;        // every runtime parameter, in spec order
    std::map<std::string, std::vector<ShardRecord>> shards;  // runtime param name (relative) -> its shards
    std::map<std::string, std::string> tied;     // runtime param (relative) -> the parameter it shares
    std::vector<std::string> ignored;            // checkpoint tensors matched by the ignore list
    std::vector<std::string> shadowed;           // checkpoint tensors present but superseded (lm_head.weight when tied)
};

// The text model's prefix: "model.language_model." when any tensor uses it, else "model.".
std::string detect_text_prefix(const TensorTable& table);

// Throws qinfer::Error listing missing tensors, wrong shapes, partial layouts and unconsumed tensors (one line, each
// group after a " | ", so the CLI can print it as its one-line error).
WeightPlan plan_weights(const WeightSpec& spec, const TensorTable& table);

// fp32 runtime parameters by relative runtime name. Tied parameters (plan.tied) are not duplicated: the model looks
// up their target, so a tied 248k-row head costs no second copy.
// `progress` (optional) is called from worker threads with each finished parameter's stored byte count.
std::map<std::string, Tensor> materialize_weights(const WeightPlan& plan,
                                                  const std::function<void(uint64_t bytes)>& progress = {});

// The runtime module of a parameter: its name without a trailing ".weight".
std::string module_of(const std::string& param_name);

}  // namespace qinfer::models
