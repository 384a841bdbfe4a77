#include "models/hybrid_spec.h"

namespace qinfer::models {

namespace {

std::string layer_prefix(int64_t i) { return "layers." + std::to_string(i) + "."; }

void add_attention(const ModelConfig& c, const std::string& p, WeightSpec& spec) {
    const int64_t H = c.hidden_size, hd = c.head_dim, hq = c.num_attention_heads, hkv = c.num_key_value_heads;
    // q_proj rows hold [query | gate] per head (§2.4); packed with k/v into qkv_proj, rows unchanged.
    spec.params.push_back(packed_rows(p + "qkv_proj.weight", {{p + "q_proj.weight", {2 * hq * hd, H}},
                                                              {p + "k_proj.weight", {hkv * hd, H}},
                                                              {p + "v_proj.weight", {hkv * hd, H}}}));
    spec.params.push_back(single_param(p + "o_proj.weight", {H, hq * hd}, ParamRole::Linear));
    spec.params.push_back(single_param(p + "q_norm.weight", {hd}, ParamRole::Norm));
    spec.params.push_back(single_param(p + "k_norm.weight", {hd}, ParamRole::Norm));
}

void add_linear_attention_common(const ModelConfig& c, const std::string& p, WeightSpec& spec) {
    const int64_t H = c.hidden_size, hv = c.linear_num_value_heads, K = c.linear_conv_kernel_dim;
    ParamSpec conv = single_param(p + "conv1d.weight", {c.linear_conv_dim(), 1, K}, ParamRole::Conv);
    conv.shape = {c.linear_conv_dim(), K};  // runtime drops the depthwise singleton dim
    spec.params.push_back(std::move(conv));
    spec.params.push_back(single_param(p + "dt_bias", {hv}, ParamRole::Vector));
    spec.params.push_back(single_param(p + "A_log", {hv}, ParamRole::Vector));
    spec.params.push_back(single_param(p + "norm.weight", {c.linear_value_head_dim}, ParamRole::Norm));
    spec.params.push_back(single_param(p + "out_proj.weight", {H, c.linear_value_dim()}, ParamRole::Linear));
}

void add_dense_mlp(const std::string& p, int64_t H, int64_t F, WeightSpec& spec) {
    spec.params.push_back(
        packed_rows(p + "gate_up_proj.weight", {{p + "gate_proj.weight", {F, H}}, {p + "up_proj.weight", {F, H}}}));
    spec.params.push_back(single_param(p + "down_proj.weight", {H, F}, ParamRole::Linear));
}

// Routed experts, in either stored layout (§2.6): fused 3-D tensors or per-expert 2-D tensors.
void add_experts(const ModelConfig& c, const std::string& p, WeightSpec& spec) {
    const int64_t H = c.hidden_size, E = c.num_experts, I = c.moe_intermediate_size;
    ParamSpec gate_up;
    gate_up.name = p + "experts.gate_up_proj";
    gate_up.shape = {E, 2 * I, H};
    gate_up.layouts.push_back({"fused 3-D experts", {ShardSource{p + "experts.gate_up_proj", {E, 2 * I, H}, 0, false, {}}}});
    ParamSpec down;
    down.name = p + "experts.down_proj";
    down.shape = {E, H, I};
    down.layouts.push_back({"fused 3-D experts", {ShardSource{p + "experts.down_proj", {E, H, I}, 0, false, {}}}});
    LayoutAlternative gu_per{"per-expert", {}}, down_per{"per-expert", {}};
    for (int64_t e = 0; e < E; ++e) {
        const std::string ep = p + "experts." + std::to_string(e) + ".";
        gu_per.shards.push_back(ShardSource{ep + "gate_proj.weight", {I, H}, e * 2 * I * H, false, {}});
        gu_per.shards.push_back(ShardSource{ep + "up_proj.weight", {I, H}, e * 2 * I * H + I * H, false, {}});
        down_per.shards.push_back(ShardSource{ep + "down_proj.weight", {H, I}, e * H * I, false, {}});
    }
    gate_up.layouts.push_back(std::move(gu_per));
    down.layouts.push_back(std::move(down_per));
    spec.params.push_back(std::move(gate_up));
    spec.params.push_back(std::move(down));
}

void add_moe(const ModelConfig& c, const std::string& p, WeightSpec& spec) {
    const int64_t H = c.hidden_size;
    spec.params.push_back(single_param(p + "gate.weight", {c.num_experts, H}, ParamRole::Linear));
    add_experts(c, p, spec);
    if (c.shared_expert_intermediate_size > 0) {
        add_dense_mlp(p + "shared_expert.", H, c.shared_expert_intermediate_size, spec);
        spec.params.push_back(single_param(p + "shared_expert_gate.weight", {1, H}, ParamRole::Linear));
    }
}

}  // namespace

WeightSpec hybrid_spec(const ModelConfig& c, const LinearAttentionProjections& projections) {
    WeightSpec spec;
    const int64_t H = c.hidden_size, V = c.vocab_size;
    spec.params.push_back(single_param("embed_tokens.weight", {V, H}, ParamRole::Embedding));
    for (int64_t i = 0; i < c.num_hidden_layers; ++i) {
        const std::string p = layer_prefix(i);
        spec.params.push_back(single_param(p + "input_layernorm.weight", {H}, ParamRole::Norm));
        spec.params.push_back(single_param(p + "post_attention_layernorm.weight", {H}, ParamRole::Norm));
        switch (c.layer_types[static_cast<size_t>(i)]) {
            case LayerType::FullAttention:
                add_attention(c, p + "self_attn.", spec);
                break;
            case LayerType::LinearAttention:
                projections(c, i, spec);
                spec.same_input.push_back({p + "linear_attn.in_proj_qkvz.weight", p + "linear_attn.in_proj_ba.weight"});
                add_linear_attention_common(c, p + "linear_attn.", spec);
                break;
        }
        if (c.layer_is_moe[static_cast<size_t>(i)]) {
            add_moe(c, p + "mlp.", spec);
        } else {
            add_dense_mlp(p + "mlp.", H, c.intermediate_size, spec);
        }
    }
    spec.params.push_back(single_param("norm.weight", {H}, ParamRole::Norm));
    ParamSpec head;
    head.name = "lm_head.weight";
    head.shape = {V, H};
    head.role = ParamRole::Linear;
    head.layouts.push_back({"single tensor", {ShardSource{"lm_head.weight", {V, H}, 0, /*absolute=*/true, {}}}});
    if (c.tie_word_embeddings) head.tied_to = "embed_tokens.weight";
    spec.params.push_back(std::move(head));
    return spec;
}

}  // namespace qinfer::models
