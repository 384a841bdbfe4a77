#pragma once
// defines: qinfer::cuda::AttentionShape, KvCache, PrefillTile, DecodeKernel, gated_attention_prefill,
//          prefill_tile_supported, gated_attention_decode, gated_attention_decode_workspace_bytes,
//          gated_attention_decode_splits
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

// Which prefill kernel runs. Rows64 / Rows128: the mma.sync kernel with 64 query rows (4 warps) or 128 (8 warps
// sharing each K/V tile: more warps per SM to hide latency, half the K/V shared-memory fills per query). Wgmma: the
// Hopper kernel (attention_wgmma.cu: 2 warpgroups x 64 rows, K/V by TMA, wgmma) where prefill_tile_supported says
// so; requesting it elsewhere throws. Auto: the 128-row CTA (Wgmma where it is supported,
// else Rows128) when its grid fills at least half the SMs (Hq * ceil(T/128) >= SMs / 2), else Rows64 (twice the CTAs
// for short prompts). Measured at Hq 16, hd 256 on the H100 in docs/perf/attention.md. Same arithmetic in every
// kernel (q and P rounded to bf16, fp32 scores, statistics and sums; the summation order differs); tests run all.
enum class PrefillTile { Auto, Rows64, Rows128, Wgmma };

// Whether `tile` can run at these dims on the current device (Wgmma: head_dim 64, 128 or 256, rotary_dim / 2 a
// multiple of head_dim / 32, an sm_90 device and an sm_90a build; per call it also needs a 16-byte-aligned qkv. The
// others: every shape gated_attention_prefill accepts).
bool prefill_tile_supported(PrefillTile tile, int head_dim, int rotary_dim);

// T tokens of one sequence in `slot` at positions pos0 .. pos0+T-1 (pos0 = tokens already cached; pos0 + T <=
// max_ctx, checked on the host). q_norm, k_norm: f32 [hd] zero-centred weights. out bf16 [T, Hq*hd].
// Flash-style (no [T, S] score matrix in memory), causal, any T >= 1 and pos0 >= 0.
void gated_attention_prefill(const AttentionShape& s, const bf16* qkv, int64_t T, int slot, int64_t pos0,
                             const float* q_norm, const float* k_norm, const KvCache& cache, bf16* out,
                             cudaStream_t stream, PrefillTile tile = PrefillTile::Auto);

// Which decode implementation runs.
//   Fused:        one launch (sm_90+): each CTA of a thread-block cluster takes one key chunk of one (sequence, kv
//                 head); the CTA owning the new position also appends its k (norm + RoPE) and v to the cache; the
//                 cluster merges its chunks through distributed shared memory and writes o · σ(gate). No workspace,
//                 no counters, nothing to reset between CUDA-graph replays.
//   SplitCombine: three launches (kv prep, split-K decode into the workspace, combine); any architecture.
//   Auto:         Fused where the device has clusters (compute capability >= 9), else SplitCombine.
enum class DecodeKernel { Auto, Fused, SplitCombine };

// One new token for each of B sequences: sequence b is in slot slots[b] at position positions[b] (device int32 [B];
// the token is appended at that position and attends to [0, positions[b]]). max_ctx bounds the work grid, so the
// launch is the same for any positions (CUDA-graph replay). workspace: gated_attention_decode_workspace_bytes(s, B',
// max_ctx, kernel) bytes for any B' >= B (a workspace sized for the largest batch serves every smaller one); the fused
// kernel needs none (0 bytes; workspace may then be null).
size_t gated_attention_decode_workspace_bytes(const AttentionShape& s, int64_t B, int64_t max_ctx,
                                              DecodeKernel kernel = DecodeKernel::Auto);
// Key splits per (sequence, kv head) of a call with B sequences: the context [0, pos] is cut on the device into this
// many 64-aligned chunks (tests put contexts on the chunk boundaries with it).
int gated_attention_decode_splits(const AttentionShape& s, int64_t B, int64_t max_ctx,
                                  DecodeKernel kernel = DecodeKernel::Auto);
void gated_attention_decode(const AttentionShape& s, const bf16* qkv, int64_t B, const int32_t* slots,
                            const int32_t* positions, const float* q_norm, const float* k_norm, const KvCache& cache,
                            bf16* out, void* workspace, cudaStream_t stream,
                            DecodeKernel kernel = DecodeKernel::Auto);

}  // namespace qinfer::cuda
