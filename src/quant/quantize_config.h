#pragma once
// defines: qinfer::quant::ModelOptExport, modelopt_quantized_layers, modelopt_exclude_modules,
//          modelopt_export_config
//
// The two config documents a ModelOpt HF export writes (shared/docs/quantized_checkpoints.md §2.1, §2.2), kept
// consistent with each other and readable by quant/quant_config.h:
//   hf_quant_config.json (legacy): {"producer": {"name": "modelopt", "version"}, "quantization": {"quant_algo",
//     "kv_cache_quant_algo": null, "group_size": 16 (NVFP4 / mixed), "quantized_layers" (MIXED_PRECISION),
//     "exclude_modules"}}
//   config.json "quantization_config" (convert_hf_quant_config_format's shape): "config_groups" (one group targeting
//     "Linear"; MIXED_PRECISION: one group per layer config with the layer names as targets), "ignore" (= the exclude
//     list, as ModelOpt, vLLM and SGLang name it), "exclude_modules" (the same list, as the legacy file names it),
//     "quant_algo", "group_size", "kv_cache_quant_algo": null, "quantized_layers", "producer",
//     "quant_method": "modelopt".
// MIXED_PRECISION quantized_layers name each quantized module, except that the routed experts of a layer are one
// parent key `...mlp.experts` (as the Qwen3.6 releases) when all of them share one algorithm.

#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "quant/quantize_plan.h"

namespace qinfer::quant {

struct ModelOptExport {
    nlohmann::ordered_json hf_quant_config;      // the whole hf_quant_config.json
    nlohmann::ordered_json quantization_config;  // config.json "quantization_config"
};

// key -> quant_algo of MIXED_PRECISION quantized_layers (sorted by key).
std::map<std::string, std::string> modelopt_quantized_layers(const QuantPlan& plan);

// The `exclude_modules` list of a plan: ModelOpt's prefix-wildcard summary (exclude_summary.h) of its unquantized
// Linear modules, plan.other_linear_modules included; routers are left out, as ModelOpt gives them no quantizer
// (quantized_checkpoints.md §3.1 item 4). Checked against every quantized module before it is returned.
std::vector<std::string> modelopt_exclude_modules(const QuantPlan& plan);

ModelOptExport modelopt_export_config(const QuantPlan& plan, const std::vector<std::string>& exclude_modules,
                                      const std::string& producer_version);

}  // namespace qinfer::quant
