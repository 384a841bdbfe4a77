#pragma once
// defines: qinfer::ops::gated_delta_rule_recurrent, gated_delta_rule_chunked, gdn_gates

#include <cstdint>

#include "core/tensor.h"

namespace qinfer::ops {

// Gated delta rule (HF torch_recurrent_gated_delta_rule / torch_chunk_gated_delta_rule with
// use_qk_l2norm_in_kernel=True), fp32. q and k are l2-normalised (eps 1e-6 on the sum of squares) and q is scaled by
// dk^-0.5 inside. Value head j uses key head j / (HV/HK). Per value head, token by token:
//   S <- exp(g_t)·S;  δ = β_t·(v_t − Sᵀk_t);  S <- S + k_t δᵀ;  o_t = Sᵀ q_t
// `state` [HV, dk, dv] is read as the initial state (zeros for a new sequence) and overwritten with the final one.

// Token-by-token form (decode; the oracle).
Tensor gated_delta_rule_recurrent(const Tensor& q,     // f32 [T, HK, dk]
                                  const Tensor& k,     // f32 [T, HK, dk]
                                  const Tensor& v,     // f32 [T, HV, dv]
                                  const Tensor& g,     // f32 [T, HV] log decay
                                  const Tensor& beta,  // f32 [T, HV]
                                  Tensor& state);      // f32 [HV, dk, dv] in/out  -> f32 [T, HV, dv]

// Chunked WY/UT form (prefill), any T (the last chunk may be short), continuing from `state`.
Tensor gated_delta_rule_chunked(const Tensor& q,      // f32 [T, HK, dk]
                                const Tensor& k,      // f32 [T, HK, dk]
                                const Tensor& v,      // f32 [T, HV, dv]
                                const Tensor& g,      // f32 [T, HV] log decay
                                const Tensor& beta,   // f32 [T, HV]
                                Tensor& state,        // f32 [HV, dk, dv] in/out
                                int64_t chunk = 64);  // -> f32 [T, HV, dv]

// GDN gates: g = −exp(A_log) · softplus(a + dt_bias) (fp32 log decay), beta = sigmoid(b). g and beta are
// (re)allocated as [T, HV].
void gdn_gates(const Tensor& a,        // f32 [T, HV]
               const Tensor& b,        // f32 [T, HV]
               const Tensor& A_log,    // f32 [HV]
               const Tensor& dt_bias,  // f32 [HV]
               Tensor& g,              // f32 [T, HV] out
               Tensor& beta);          // f32 [T, HV] out

}  // namespace qinfer::ops
