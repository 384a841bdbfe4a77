#pragma once
// defines: qinfer::cuda::AttentionShape, KvCache, gated_attention_prefill, gated_attention_decode,
//          gated_attention_decode_workspace_bytes
//
// Gated full attention (qwen3_5_architecture.md §3.5; CPU reference: layers/gated_attention.cpp) from the qkv_proj
// output to the input of o_proj, fused: split [q ‖ gate] per head, k, v; zero-centred RMSNorm of q and k per head
// (eps, fp32); partial RoPE on the first rotary_dim dims (rotate-half, theta, position); append k, v to the slot's KV
// cache; causal softmax(q·kᵀ/sqrt(hd))·v with GQA (q head h uses kv head h / (Hq/Hkv)); out = o · sigmoid(gate).
//
// qkv row layout (as the CPU reference's runtime qkv_proj): [ for h in Hq: q_h (hd) ‖ gate_h (hd) ] ‖ k (Hkv*hd) ‖
// v (Hkv*hd), i.e. qkv_dim = 2*Hq*hd + 2*Hkv*hd.
//
// KV cache: bf16 k and v, [slots][max_ctx][Hkv][hd] each; a sequence lives in one slot; k stored after norm + RoPE.

#include <cstddef>
#include <cstdint>

#include "kernels/cuda/types.h"

namespace qinfer::cuda {

struct AttentionShape {
    int hq = 0, hkv = 0, head_dim = 0, rotary_dim = 0;
    float rope_theta = 10000.0f;
    float eps = 1e-6f;
};

struct KvCache {
    bf16* k = nullptr;  // [slots][max_ctx][Hkv][hd]
    bf16* v = nullptr;
    int64_t max_ctx = 0;
    int64_t slot_stride() const { return max_ctx; }  // in positions; elements = slot_stride * Hkv * hd
};

// T tokens of one sequence in `slot` at positions pos0 .. pos0+T-1 (pos0 = tokens already cached; pos0 + T <=
// max_ctx, checked on the host). q_norm, k_norm: f32 [hd] zero-centred weights. out bf16 [T, Hq*hd].
// Flash-style (no [T, S] score matrix in memory), causal, any T >= 1 and pos0 >= 0.
void gated_attention_prefill(const AttentionShape& s, const bf16* qkv, int64_t T, int slot, int64_t pos0,
                             const float* q_norm, const float* k_norm, const KvCache& cache, bf16* out,
                             cudaStream_t stream);

// One new token for each of B sequences: sequence b is in slot slots[b] at position positions[b] (device int32 [B];
// the token is appended at that position and attends to [0, positions[b]]). max_ctx bounds the work grid, so the
// launch is the same for any positions (CUDA-graph replay). workspace: gated_attention_decode_workspace_bytes bytes.
size_t gated_attention_decode_workspace_bytes(const AttentionShape& s, int64_t B, int64_t max_ctx);
void gated_attention_decode(const AttentionShape& s, const bf16* qkv, int64_t B, const int32_t* slots,
                            const int32_t* positions, const float* q_norm, const float* k_norm, const KvCache& cache,
                            bf16* out, void* workspace, cudaStream_t stream);

}  // namespace qinfer::cuda
