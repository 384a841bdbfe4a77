#pragma once
// defines: qinfer::kernels::cpu::GdnDims, gated_delta_rule_recurrent, gated_delta_rule_chunked, gdn_gates

#include <cstdint>

namespace qinfer::kernels::cpu {

// Sizes of one gated-delta-rule call: T tokens, HK query/key heads of dim dk, HV value heads of dim dv
// (HV % HK == 0; value head j uses key head j / (HV / HK)).
struct GdnDims {
    int64_t T, HK, HV, dk, dv;
};

// Both forms: q, k: f32 [T, HK, dk]; v: f32 [T, HV, dv]; g (log decay), beta: f32 [T, HV];
// state: f32 [HV, dk, dv] (in/out, S[h][i][j]); o: f32 [T, HV, dv].
// q and k are l2-normalised (eps 1e-6 on the sum of squares) and q is scaled by dk^-0.5 inside (HF
// use_qk_l2norm_in_kernel=True). Per value head, token by token:
//   S <- exp(g_t)·S;  δ = β_t·(v_t − Sᵀk_t);  S <- S + k_t δᵀ;  o_t = Sᵀ q_t
void gated_delta_rule_recurrent(const float* q, const float* k, const float* v, const float* g, const float* beta,
                                const GdnDims& d, float* state, float* o);

// The same recurrence evaluated chunk by chunk (WY/UT form of HF torch_chunk_gated_delta_rule), chunk >= 1.
void gated_delta_rule_chunked(const float* q, const float* k, const float* v, const float* g, const float* beta,
                              const GdnDims& d, int64_t chunk, float* state, float* o);

// a, b: f32 [T, HV]; A_log, dt_bias: f32 [HV]; g, beta: f32 [T, HV] (written).
//   g = −exp(A_log) · softplus(a + dt_bias),  beta = sigmoid(b)
void gdn_gates(const float* a, const float* b, const float* A_log, const float* dt_bias, int64_t T, int64_t HV,
               float* g, float* beta);

}  // namespace qinfer::kernels::cpu
