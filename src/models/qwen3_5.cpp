// Qwen3.5 / Qwen3.6 (dense and MoE; multimodal wrapper and text-only classes).
//
// Checkpoint layout (qwen3_5_architecture.md §2): text weights under `model.language_model.` (multimodal) or
// `model.` (text-only); GDN input projections stored split and head-major: in_proj_qkv [q‖k‖v], in_proj_z, in_proj_b,
// in_proj_a. They are packed at load into the runtime in_proj_qkvz / in_proj_ba in plain row order. The vision tower
// and the MTP head are not used by the text forward and are ignored explicitly.

#include "models/hybrid_spec.h"
#include "models/registry.h"

namespace qinfer::models {

namespace {

void split_projections(const ModelConfig& c, int64_t layer, WeightSpec& spec) {
    const std::string p = "layers." + std::to_string(layer) + ".linear_attn.";
    const int64_t H = c.hidden_size, hv = c.linear_num_value_heads;
    spec.params.push_back(packed_rows(p + "in_proj_qkvz.weight", {{p + "in_proj_qkv.weight", {c.linear_conv_dim(), H}},
                                                                  {p + "in_proj_z.weight", {c.linear_value_dim(), H}}}));
    spec.params.push_back(
        packed_rows(p + "in_proj_ba.weight", {{p + "in_proj_b.weight", {hv, H}}, {p + "in_proj_a.weight", {hv, H}}}));
}

WeightSpec qwen3_5_spec(const ModelConfig& cfg) {
    WeightSpec spec = hybrid_spec(cfg, split_projections);
    spec.ignore = {"model.visual.*", "mtp.*"};
    return spec;
}

[[maybe_unused]] const bool kRegistered = register_model_family({
    "qwen3_5",
    {"Qwen3_5ForConditionalGeneration", "Qwen3_5MoeForConditionalGeneration", "Qwen3_5ForCausalLM",
     "Qwen3_5MoeForCausalLM"},
    qwen3_5_spec,
});

}  // namespace

}  // namespace qinfer::models
