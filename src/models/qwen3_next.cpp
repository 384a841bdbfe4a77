// Qwen3-Next (Qwen3NextForCausalLM): flat `model.` prefix, per-expert tensors, and GDN input projections stored
// FUSED and INTERLEAVED per key-head group (qwen3_5_architecture.md §4, HF fix_query_key_value_ordering):
//   in_proj_qkvz rows, per key head g: [q_g (dk) | k_g (dk) | v of heads g*r..g*r+r-1 (r*dv) | z of those heads (r*dv)]
//   in_proj_ba rows,   per key head g: [b (r) | a (r)]            with r = HV / HK.
// They are re-laid out once at load into the dense [q‖k‖v‖z] / [b‖a] order the shared forward uses (C8).

#include <algorithm>

#include "models/hybrid_spec.h"
#include "models/registry.h"

namespace qinfer::models {

namespace {

// Moves whole rows (each `cols` wide) from the grouped order to the dense order.
void copy_row_block(const Tensor& src, int64_t src_row, float* dst, int64_t dst_row, int64_t rows, int64_t cols) {
    std::copy(src.data() + src_row * cols, src.data() + (src_row + rows) * cols, dst + dst_row * cols);
}

void interleaved_projections(const ModelConfig& c, int64_t layer, WeightSpec& spec) {
    const std::string p = "layers." + std::to_string(layer) + ".linear_attn.";
    const int64_t H = c.hidden_size, hk = c.linear_num_key_heads, hv = c.linear_num_value_heads;
    const int64_t dk = c.linear_key_head_dim, dv = c.linear_value_head_dim, r = hv / hk;
    const int64_t kd = hk * dk, vd = hv * dv, group = 2 * dk + 2 * r * dv;

    Relayout qkvz = [=](const Tensor& src, float* dst) {
        for (int64_t g = 0; g < hk; ++g) {
            const int64_t s = g * group;
            copy_row_block(src, s, dst, g * dk, dk, H);                             // q
            copy_row_block(src, s + dk, dst, kd + g * dk, dk, H);                   // k
            copy_row_block(src, s + 2 * dk, dst, 2 * kd + g * r * dv, r * dv, H);   // v
            copy_row_block(src, s + 2 * dk + r * dv, dst, 2 * kd + vd + g * r * dv, r * dv, H);  // z
        }
    };
    Relayout ba = [=](const Tensor& src, float* dst) {
        for (int64_t g = 0; g < hk; ++g) {
            copy_row_block(src, g * 2 * r, dst, g * r, r, H);           // b
            copy_row_block(src, g * 2 * r + r, dst, hv + g * r, r, H);  // a
        }
    };
    ParamSpec in_qkvz;
    in_qkvz.name = p + "in_proj_qkvz.weight";
    in_qkvz.shape = {2 * kd + 2 * vd, H};
    in_qkvz.layouts.push_back({"interleaved per key head", {ShardSource{in_qkvz.name, in_qkvz.shape, 0, false, qkvz}}});
    ParamSpec in_ba;
    in_ba.name = p + "in_proj_ba.weight";
    in_ba.shape = {2 * hv, H};
    in_ba.layouts.push_back({"interleaved per key head", {ShardSource{in_ba.name, in_ba.shape, 0, false, ba}}});
    spec.params.push_back(std::move(in_qkvz));
    spec.params.push_back(std::move(in_ba));
}

WeightSpec qwen3_next_spec(const ModelConfig& cfg) {
    WeightSpec spec = hybrid_spec(cfg, interleaved_projections);
    spec.ignore = {"mtp.*"};
    return spec;
}

[[maybe_unused]] const bool kRegistered = register_model_family({"qwen3_next", {"Qwen3NextForCausalLM"}, qwen3_next_spec});

}  // namespace

}  // namespace qinfer::models
