#pragma once
// defines: qinfer::quant::TensorMeta, ModuleTensors, ModuleKind, module_kind, module_kind_name, Decision,
//          resolve_module, same_scheme, decision_str, group_by_module, resolve_modules
//
// The per-module precision decision (shared/docs/quantized_checkpoints.md §0 rules 1-3, §11 steps 2-3;
// conventions.md C7). A pure function of the QuantConfig and the tensors present for ONE checkpoint module: no I/O,
// no model knowledge, no fused-name table. It works on checkpoint shard names (`...linear_attn.in_proj_qkv`,
// `...mlp.experts.3.up_proj`); fused runtime modules are the model's business, which asks for each shard and checks
// that the shards agree with same_scheme().
//
// Two independent opinions are formed and must agree, or resolve_module throws naming the module, the rule (the
// exclude glob / ignore entry / quantized_layers key / "default quant_algo X") and the tensor with its dtype/shape:
//   - the config's: the producer's own matching rule over the checkpoint module name (NamePattern; parent keys of
//     quantized_layers at dot boundaries; HF-prefix variants model.language_model. <-> language_model.model. <->
//     model. and lm_head <-> language_model.lm_head are tried too, §3.2);
//   - the tensors': dtype, names and shapes of `<m>.weight` / `<m>.weight_packed` and their scales (§0 rule 1, §1.3).
//
// Module kinds: routers (`*.gate`, `*.router`), `shared_expert_gate`, embeddings, norms, conv1d and A_log / dt_bias
// are never quantized (no engine has a quantized path for them; ModelOpt disables their quantizers, §5). The config
// is not consulted for them, except that a quantized_layers key naming one exactly is an error; quantized tensors on
// them are an error. Every other module is a quantizable Linear (lm_head, mtp.fc and vision linears included).

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/dtype.h"
#include "core/tensor.h"
#include "quant/quant_config.h"

namespace qinfer {
class TensorTable;
}

namespace qinfer::quant {

struct TensorMeta {
    DType dtype = DType::BF16;
    Shape shape;
    bool operator==(const TensorMeta&) const = default;
};

// The tensors of one checkpoint module, by suffix: "<module>.<suffix>". The empty suffix is a tensor named exactly
// `module` (fused 3-D experts `...mlp.experts.gate_up_proj`, bare parameters `...linear_attn.A_log`).
// Known suffixes: weight, weight_packed, weight_scale, weight_scale_2, weight_global_scale, weight_scale_inv,
// weight_shape, input_scale, input_global_scale, bias, k_scale, v_scale, and "". Anything else is an error.
struct ModuleTensors {
    std::string module;                         // absolute checkpoint module name
    std::map<std::string, TensorMeta> tensors;  // suffix -> dtype/shape
};

enum class ModuleKind : uint8_t {
    Linear,            // quantizable GEMM weight
    Router,            // MoE router: last component "gate" or "router"
    SharedExpertGate,  // "shared_expert_gate" ([1, H] sigmoid gate)
    Embedding,         // "embed_tokens", "pos_embed"
    Norm,              // a '_'-separated token of the last component starts or ends with "norm" (norm, q_norm,
                       // input_layernorm, norm1, pre_fc_norm_hidden)
    Conv,              // "conv1d"
    Vector,            // "A_log", "dt_bias"
};
ModuleKind module_kind(std::string_view module);
std::string_view module_kind_name(ModuleKind k);  // "linear" | "router" | "shared_expert_gate" | ...

struct Decision {
    std::string module;
    ModuleKind kind = ModuleKind::Linear;
    QuantScheme scheme;        // format (bf16/f16/f32 from the tensor when unquantized), activation mode, scale layout
    std::string reason;        // what decided it, e.g. `exclude_modules "lm_head"`, `default quant_algo NVFP4`,
                               // `quantized_layers "model.language_model.layers.0.mlp.experts" (W4A16_NVFP4)`,
                               // `ignore "re:.*mlp.gate$"`, `config_groups.group_0 target "Linear"`, `not in
                               // quantized_layers`, `no quantization config`, `router: never quantized`
    std::string weight;        // the data tensor: <m>.weight, <m>.weight_packed or <m>
    std::string weight_scale;  // <m>.weight_scale (NVFP4 block scales, FP8 scales) or <m>.weight_scale_inv; ""
    std::string global_scale;  // NVFP4 per-tensor scale: <m>.weight_scale_2 (ModelOpt) or <m>.weight_global_scale; ""
    std::string input_scale;   // <m>.input_scale / <m>.input_global_scale when present (for W4A16 it is present in
                               // some exports and unused); ""
    bool reciprocal_global_scales = false;  // compressed-tensors stores 1/scale for global and input scales (§1.3)
    std::vector<std::string> companion_tensors;  // every tensor of the module other than `weight`, sorted
};

// Decides one module. Throws qinfer::Error on any contradiction between config and tensors, a malformed quantized
// layout (missing / mis-typed / mis-shaped scales), or an unknown tensor suffix.
Decision resolve_module(const QuantConfig& config, const ModuleTensors& tensors);

// Whether two shards of one packed group may share a GEMM: equal QuantScheme (format, activation mode, group size,
// scale granularity and block, static input scale). Scale VALUES (equal weight_scale_2 / input_scale) are checked
// by the loader, which reads them.
bool same_scheme(const Decision& a, const Decision& b);

// One line for --dump-quant-plan: "<module>  <scheme>  <- <reason>".
std::string decision_str(const Decision& d);

// Groups checkpoint tensor names into modules by stripping a known suffix (see ModuleTensors) or any other
// `weight_*` / `input_*` last component (so that resolve_module reports it as unexpected); any other name is its own
// module with the empty suffix.
std::map<std::string, ModuleTensors> group_by_module(const std::map<std::string, TensorMeta>& tensors);
std::map<std::string, ModuleTensors> group_by_module(const TensorTable& table);

// resolve_module over many modules; all failures are reported in one error (each after " | ", at most 20 listed).
std::vector<Decision> resolve_modules(const QuantConfig& config, const std::map<std::string, ModuleTensors>& modules);

}  // namespace qinfer::quant
