#pragma once
// defines: qinfer::cuda::moe_route, moe_permute, moe_combine, MoeRouting
//
// The MoE glue around the expert GEMMs (kernels/cuda/linear.h linear_grouped / linear_indexed), as the CPU reference
// (ops/moe.h, qwen3_5_architecture.md §3.11): router logits → softmax over E in fp32 → top-k (ties: lower expert id
// first, as torch.topk on the CPU reference) → renormalise when norm_topk_prob → permute tokens by expert → expert
// GEMMs → weighted combine into the residual. Everything stays on the device (graph-capturable).

#include <cstdint>

#include "kernels/cuda/types.h"

namespace qinfer::cuda {

// logits f32 [T, E] (row stride ld) → ids int32 [T, k], weights f32 [T, k] (descending probability).
void moe_route(const float* logits, int64_t ld, int64_t T, int64_t E, int64_t k, bool renormalize, int32_t* ids,
               float* weights, cudaStream_t stream);
// As moe_route, plus the shared expert as a (k+1)-th slot of every token: ids int32 [T, k+1] with ids[t, k] = E, and
// weights f32 [T, k+1] with weights[t, k] = sigmoid(shared_logit[t * ld_shared]) (the shared expert's gate). The
// decode path then runs routed and shared experts in the same indexed GEMVs and one combine (linear.h
// linear_indexed's `extra` weight is expert E).
void moe_route_shared(const float* logits, int64_t ld, int64_t T, int64_t E, int64_t k, bool renormalize,
                      const float* shared_logit, int64_t ld_shared, int32_t* ids, float* weights, cudaStream_t stream);

// Sort the T*k (token, slot) pairs by expert (stable: by token within an expert).
//   offsets int32 [E+1]: expert e owns sorted rows [offsets[e], offsets[e+1])
//   src_token int32 [T*k]: the token of each sorted row
//   sorted_pos int32 [T*k]: for pair (t, j) at t*k + j, its sorted row
//   expert_of_row int32 [T*k]: the expert of each sorted row
// scratch: at least moe_permute_scratch_bytes(T, k, E) bytes of device memory.
size_t moe_permute_scratch_bytes(int64_t T, int64_t k, int64_t E);
void moe_permute(const int32_t* ids, int64_t T, int64_t k, int64_t E, int32_t* offsets, int32_t* src_token,
                 int32_t* sorted_pos, int32_t* expert_of_row, void* scratch, cudaStream_t stream);

// h[t, :] += Σ_j weights[t, j] · y[sorted_pos[t*k + j], :]. The sum is accumulated in fp32 from 0 in a fixed order,
// ascending sorted row = ascending expert id (as the CPU reference's moe_experts, which adds each token's experts in
// ascending id), then added to h: deterministic and independent of the batch.
// y is f32 or bf16 [T*k, H]. The model's expert GEMMs store bf16, as transformers' experts do: half the bytes of the
// down projection's write and the combine's read (537 MB each per layer at an 8k-token prefill in f32).
void moe_combine(const float* y, const int32_t* sorted_pos, const float* weights, int64_t T, int64_t k, int64_t H,
                 float* h, cudaStream_t stream);
void moe_combine(const bf16* y, const int32_t* sorted_pos, const float* weights, int64_t T, int64_t k, int64_t H,
                 float* h, cudaStream_t stream);

// moe_combine, then the RMSNorm of each finished h row (the next layer's input norm, elementwise.h rms_norm with
// x = h, ldx = H): xb bf16 [T, H] = norm(h[t]) · (zero_centered ? 1 + norm_w : norm_w). One launch instead of two in
// decode, where the combine is the last writer of h in a layer. Bitwise equal to the two kernels for H <= 2048.
// Needs H % 4 == 0, H <= 8192 and 16-byte aligned buffers (y: 8-byte for bf16; moe_combine_norm_supported; throws
// otherwise).
bool moe_combine_norm_supported(int64_t H);
void moe_combine_norm(const float* y, const int32_t* sorted_pos, const float* weights, int64_t T, int64_t k, int64_t H,
                      float* h, const float* norm_w, float eps, bool zero_centered, bf16* xb, cudaStream_t stream);
void moe_combine_norm(const bf16* y, const int32_t* sorted_pos, const float* weights, int64_t T, int64_t k, int64_t H,
                      float* h, const float* norm_w, float eps, bool zero_centered, bf16* xb, cudaStream_t stream);

}  // namespace qinfer::cuda
