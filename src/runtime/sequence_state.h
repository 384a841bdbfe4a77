#pragma once
// defines: qinfer::AttentionLayerState, qinfer::LinearLayerState, qinfer::SequenceState
//
// Everything one sequence carries between forward calls, split by layer kind (conventions.md C11): full-attention
// layers keep a KV cache, Gated DeltaNet layers keep a conv state and an fp32 recurrent state. A fresh state supports a
// prefill of any length, then any mix of single-token decode steps and multi-token chunks (chunked prefill), each
// continuing from where the last call stopped.

#include <cstdint>
#include <vector>

#include "core/tensor.h"
#include "io/hf_config.h"

namespace qinfer {

struct AttentionLayerState {
    Tensor k;  // f32 [S, Hkv, hd]: keys after k_norm and RoPE, one row per cached position
    Tensor v;  // f32 [S, Hkv, hd]
};

struct LinearLayerState {
    Tensor conv;       // f32 [conv_dim, K-1]: the last K-1 raw in_proj_qkv outputs, oldest first (zeros at start)
    Tensor recurrent;  // f32 [HV, dk, dv]: delta-rule state S, K-major as in HF/FLA
    bool started = false;  // false until the first token: HF runs the chunked form for every uncached call
};

struct SequenceState {
    int64_t position = 0;                     // number of tokens already processed (next token's position)
    std::vector<AttentionLayerState> attention;  // [L]; populated only for full-attention layers
    std::vector<LinearLayerState> linear;        // [L]; populated only for linear-attention layers

    // Zero state for a new sequence of a model with this config.
    static SequenceState fresh(const ModelConfig& cfg);
};

}  // namespace qinfer
