#pragma once
// defines: qinfer::cuda::GdnShape, GdnWeights, GdnState, gdn_prefill, gdn_decode, gdn_prefill_workspace_bytes
//
// The Gated DeltaNet mixer between in_proj and out_proj (qwen3_5_architecture.md §3.6–3.10; CPU reference:
// layers/gated_delta_net.cpp), fused:
//   mixed = qkvz[:, :conv_dim] → causal depthwise conv1d (kernel K, state = the slot's last K-1 inputs) → SiLU
//   q, k = L2-normalised per head (eps 1e-6, fp32), q *= dk^-0.5; v
//   β = sigmoid(b), g = −exp(A_log) · softplus(a + dt_bias)        (b = ba[:, :HV], a = ba[:, HV:])
//   delta rule per value head (GQA: value head h uses key head h / (HV/HK)) continuing from the slot's fp32 state
//   o = RMSNorm_gated(o, z) = o / rms(o) · norm_w · silu(z)          (z = qkvz[:, conv_dim:], per head, eps)
// Prefill runs the chunked (WY/UT, chunk 64) form; decode the fused recurrent form, reading and writing the state once
// (one launch of thread-block clusters; a second, tiny one only when HV/HK · ceil(dv/32) > 8).
//
// Layouts: qkvz bf16 [T, 2*HK*dk + 2*HV*dv] = [q ‖ k ‖ v ‖ z]; ba bf16 [T, 2*HV] = [b ‖ a]; out bf16 [T, HV*dv].
// State per slot (same layout as the CPU reference's LinearLayerState): conv f32 [conv_dim, K-1] (oldest first),
// recurrent f32 [HV, dk, dv]. A fresh sequence's slot state is zero (the runtime clears it).

#include <cstddef>
#include <cstdint>

#include "kernels/cuda/types.h"

namespace qinfer::cuda {

struct GdnShape {
    int hk = 0, hv = 0, dk = 0, dv = 0, conv_kernel = 4;
    float eps = 1e-6f;  // gated RMSNorm eps (config rms_norm_eps)
    int64_t conv_dim() const { return 2LL * hk * dk + static_cast<int64_t>(hv) * dv; }
    // Per-slot state sizes in floats: conv [conv_dim, K-1], recurrent [HV, dk, dv].
    int64_t conv_state_elems() const { return conv_dim() * (conv_kernel - 1); }
    int64_t recurrent_state_elems() const { return static_cast<int64_t>(hv) * dk * dv; }
};

struct GdnWeights {
    const float* conv1d = nullptr;   // f32 [conv_dim, K]
    const float* dt_bias = nullptr;  // f32 [HV]
    const float* a_log = nullptr;    // f32 [HV]
    const float* norm = nullptr;     // f32 [dv] (plain weight, not zero-centred)
};

struct GdnState {
    float* conv = nullptr;       // [slots][conv_dim][K-1]
    float* recurrent = nullptr;  // [slots][HV][dk][dv]
};

size_t gdn_prefill_workspace_bytes(const GdnShape& s, int64_t T);
// T >= 1 tokens of the sequence in `slot`, continuing from its state (zero for a fresh sequence).
void gdn_prefill(const GdnShape& s, const GdnWeights& w, const bf16* qkvz, const bf16* ba, int64_t T, int slot,
                 const GdnState& state, bf16* out, void* workspace, cudaStream_t stream);

// One token for each of B sequences in slots[b] (device int32 [B], distinct slots), 1 <= B <= 65535 (B <= 0: no-op).
// CUDA-graph capturable: no host reads, no allocation, the launch grid depends only on B and the shape.
void gdn_decode(const GdnShape& s, const GdnWeights& w, const bf16* qkvz, const bf16* ba, int64_t B,
                const int32_t* slots, const GdnState& state, bf16* out, cudaStream_t stream);

}  // namespace qinfer::cuda
