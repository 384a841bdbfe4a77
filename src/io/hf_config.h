#pragma once
// defines: qinfer::LayerType, qinfer::ModelConfig, parse_model_config, load_model_config
//
// Typed view of a Hugging Face `config.json` for the Qwen3.5 family and Qwen3-Next
// (shared/docs/qwen3_5_architecture.md §1). Every field the forward needs is resolved here once, with the
// defaults transformers applies, so models never look at raw JSON.
//
// Accepted inputs:
//   - multimodal wrappers `qwen3_5` / `qwen3_5_moe` (architectures Qwen3_5ForConditionalGeneration /
//     Qwen3_5MoeForConditionalGeneration) with the text model under `text_config`;
//   - text-only `qwen3_5_text` / `qwen3_5_moe_text` (Qwen3_5ForCausalLM / Qwen3_5MoeForCausalLM), flat;
//   - `qwen3_next` (Qwen3NextForCausalLM), flat.
// Fields may live at the top level or inside `text_config` (e.g. tie_word_embeddings, eos_token_id); rope settings
// may be flat (`rope_theta`, `partial_rotary_factor`) or inside `rope_parameters` (or legacy `rope_scaling`).
//
// Policy (details and the transformers 5.17 evidence in hf_config.cpp):
//   - sizes are required even where HF has a class default (a silently defaulted width builds the wrong model);
//     every missing one is listed in a single error;
//   - other fields take HF's default when absent (head_dim 256, rope_theta 10000, partial_rotary_factor 0.25,
//     full_attention_interval 4, rms_norm_eps 1e-6, linear_conv_kernel_dim 4, max_position_embeddings 32768,
//     shared_expert_intermediate_size 512, norm_topk_prob true, tie_word_embeddings false);
//   - an explicit null counts as absent only for fields HF types as optional (token ids, rope_parameters,
//     rope_scaling, layer_types, mlp_only_layers, text_config); elsewhere it is a type error, as in HF;
//   - where HF silently picks one of two disagreeing places (rope dict vs flat field, layer_types vs
//     full_attention_interval), or ignores a field other engines honour (norm_topk_prob / mlp_only_layers /
//     decoder_sparse_step in Qwen3.5-MoE), a contradiction is an error.

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace qinfer {

enum class LayerType : uint8_t { LinearAttention, FullAttention };
std::string_view layer_type_name(LayerType t);  // "linear_attention" / "full_attention"

struct ModelConfig {
    // --- identity
    std::string architecture;        // architectures[0], e.g. "Qwen3_5MoeForConditionalGeneration"
    std::string model_type;          // top-level model_type ("qwen3_5", "qwen3_5_moe_text", "qwen3_next", ...)
    std::string text_model_type;     // model_type of the text part ("qwen3_5_text", "qwen3_5_moe_text", "qwen3_next")
    bool nested_text_config = false; // true when the text model came from `text_config`
    bool is_moe = false;             // some layer is MoE: qwen3_5_moe*, or qwen3_next with num_experts > 0 (unless
                                     // mlp_only_layers / decoder_sparse_step leave no MoE layer)

    // --- sizes
    int64_t vocab_size = 0;
    int64_t hidden_size = 0;               // H
    int64_t num_hidden_layers = 0;         // L
    int64_t intermediate_size = 0;         // dense SwiGLU width; 0 when no layer is dense
    double rms_norm_eps = 1e-6;
    std::string hidden_act = "silu";       // only "silu" is supported (checked)

    // --- full attention
    int64_t num_attention_heads = 0;       // Hq
    int64_t num_key_value_heads = 0;       // Hkv
    int64_t head_dim = 0;                  // hd: explicit, or 256 when absent (the HF config-class default in all
                                           // three families; HF never falls back to hidden / heads for these)
    bool attention_bias = false;           // only false is supported (checked)
    bool attn_output_gate = true;          // only true is supported (checked)
    double rope_theta = 10000.0;
    double partial_rotary_factor = 1.0;    // 0.25 when absent, in all three families (HF setdefault)
    int64_t rotary_dim = 0;                // int(head_dim * partial_rotary_factor); even, <= head_dim (checked)
    std::vector<int64_t> mrope_section;    // empty when absent, else 2*sum == rotary_dim (checked); text positions
                                           // make M-RoPE 1-D anyway
    bool mrope_interleaved = false;
    std::string rope_type = "default";     // only "default" is supported (checked)
    int64_t max_position_embeddings = 0;   // HF default 32768 when absent

    // --- Gated DeltaNet (linear attention)
    int64_t linear_conv_kernel_dim = 4;    // K
    int64_t linear_key_head_dim = 0;       // dk
    int64_t linear_value_head_dim = 0;     // dv
    int64_t linear_num_key_heads = 0;      // HK
    int64_t linear_num_value_heads = 0;    // HV (multiple of HK, checked)

    // --- hybrid schedule
    std::vector<LayerType> layer_types;    // size L, from layer_types or full_attention_interval
    std::vector<bool> layer_is_moe;        // size L: true = sparse MoE block, false = dense SwiGLU

    // --- MoE (is_moe only; all 0 otherwise)
    int64_t num_experts = 0;                       // E
    int64_t num_experts_per_tok = 0;               // top-k
    int64_t moe_intermediate_size = 0;             // I
    int64_t shared_expert_intermediate_size = 0;   // Is (0 = no shared expert); HF default 512 when absent
    bool norm_topk_prob = true;                    // qwen3_5_moe always renormalises; qwen3_next reads the field

    // --- embeddings and special tokens
    bool tie_word_embeddings = false;              // top level or text_config; for a nested (wrapper) config the top
                                                   // level wins when present, because transformers'
                                                   // *ForConditionalGeneration ties by the top level only
    std::vector<int64_t> eos_token_ids;            // eos_token_id (int or list) of text_config, then of the top
                                                   // level, merged without duplicates in that order
    int64_t bos_token_id = -1;                     // -1 = absent
    int64_t pad_token_id = -1;

    // --- derived
    int64_t linear_key_dim() const { return linear_num_key_heads * linear_key_head_dim; }      // HK*dk
    int64_t linear_value_dim() const { return linear_num_value_heads * linear_value_head_dim; }  // HV*dv
    int64_t linear_conv_dim() const { return 2 * linear_key_dim() + linear_value_dim(); }
    int64_t num_full_attention_layers() const;
    int64_t num_linear_attention_layers() const;
};

// Parses a config.json document. `source` names the file in error messages. Throws qinfer::Error naming the
// missing/invalid field, or, for an unknown architecture, listing the supported ones.
ModelConfig parse_model_config(const nlohmann::json& j, const std::string& source = "config.json");
// Reads and parses <dir>/config.json.
ModelConfig load_model_config(const std::filesystem::path& model_dir);

// Architectures parse_model_config accepts (architectures[0] values).
const std::vector<std::string>& supported_architectures();

}  // namespace qinfer
