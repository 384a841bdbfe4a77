// Gated delta rule (Gated DeltaNet core), fp32, one value head per parallel work item.
//
// Preprocessing (both forms, HF use_qk_l2norm_in_kernel=True):
//   q_t <- q_t · rsqrt(Σ q_t² + 1e-6),  k_t <- k_t · rsqrt(Σ k_t² + 1e-6)   (l2norm_row: Σ in fp64)
//   recurrent: q_t <- q_t / float(dk^0.5)      chunked: q_t <- q_t · float(dk^-0.5)
//   (HF's two functions scale differently; each form mirrors its HF counterpart, they differ by <= 1 ulp in q.)
//
// Recurrent (HF torch_recurrent_gated_delta_rule), S ∈ R^{dk×dv}:
//   S <- exp(g_t) · S                         decay first
//   δ  = (v_t − Sᵀ k_t) · β_t                 [dv]
//   S <- S + k_t ⊗ δ                          rank-1 update
//   o_t = Sᵀ q_t                              read the updated state
//
// Chunked (HF torch_chunk_gated_delta_rule), chunk of length L (the last chunk is simply shorter: HF's padding has
// β = 0, g = 0, k = v = 0, which changes nothing), positions i, j in [0, L):
//   γ_i   = Σ_{m<=i} g_m                      (fp64 running sum rounded to fp32, as torch's CPU cumsum)
//   D_ij  = exp(γ_i − γ_j) for j <= i, else 0
//   A_ij  = ((β_i k_i) · k_j) · D_ij for j < i  (strictly lower)
//   U     = (I + A)⁻¹ (β ⊙ v)                 forward substitution: U_i = β_i v_i − Σ_{j<i} A_ij U_j
//   W     = (I + A)⁻¹ (β ⊙ k ⊙ exp(γ))        W_i = β_i k_i exp(γ_i) − Σ_{j<i} A_ij W_j
//   V'    = U − W S                           [L, dv]
//   o_i   = (q_i exp(γ_i))ᵀ S + Σ_{j<=i} ((q_i · k_j) D_ij) V'_j
//   S    <- exp(γ_{L−1}) S + Σ_i (k_i exp(γ_{L−1} − γ_i)) ⊗ V'_i
// (the two terms of o_i, and the sum over i of the state update, are formed separately and then added, as in HF).
// This equals the recurrent form in exact arithmetic for any chunk length.

#include "kernels/cpu/gated_delta_rule.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/parallel.h"
#include "kernels/cpu/activation.h"
#include "kernels/cpu/dot.h"
#include "kernels/cpu/norm.h"

namespace qinfer::kernels::cpu {
namespace {

constexpr float kL2NormEps = 1e-6f;  // HF l2norm(..., eps=1e-6) inside the delta rule

void l2norm_vec(const float* src, int64_t n, float* dst) {
    l2norm_row(src, n, kL2NormEps, dst);
}

size_t sz(int64_t n) {
    return static_cast<size_t>(n);
}

}  // namespace

void gated_delta_rule_recurrent(const float* q, const float* k, const float* v, const float* g, const float* beta,
                                const GdnDims& d, float* state, float* o) {
    const int64_t group = d.HV / d.HK;
    const float q_div = static_cast<float>(std::pow(static_cast<double>(d.dk), 0.5));  // HF: query / dk ** 0.5
    parallel_for(0, d.HV, [&](int64_t h) {
        const int64_t hk = h / group;
        float* S = state + h * d.dk * d.dv;  // [dk, dv]
        std::vector<float> qt(sz(d.dk)), kt(sz(d.dk)), delta(sz(d.dv));
        for (int64_t t = 0; t < d.T; ++t) {
            l2norm_vec(q + (t * d.HK + hk) * d.dk, d.dk, qt.data());
            for (float& x : qt) x = x / q_div;
            l2norm_vec(k + (t * d.HK + hk) * d.dk, d.dk, kt.data());
            const float* vt = v + (t * d.HV + h) * d.dv;
            const float decay = std::exp(g[t * d.HV + h]);
            const float b = beta[t * d.HV + h];

            for (int64_t e = 0; e < d.dk * d.dv; ++e) S[e] *= decay;
            // delta = (v − Sᵀk)·β, with (Sᵀk)_j = Σ_i S_ij k_i summed in increasing i
            std::fill(delta.begin(), delta.end(), 0.0f);
            for (int64_t i = 0; i < d.dk; ++i) {
                for (int64_t j = 0; j < d.dv; ++j) delta[sz(j)] += S[i * d.dv + j] * kt[sz(i)];
            }
            for (int64_t j = 0; j < d.dv; ++j) delta[sz(j)] = (vt[j] - delta[sz(j)]) * b;
            for (int64_t i = 0; i < d.dk; ++i) {
                for (int64_t j = 0; j < d.dv; ++j) S[i * d.dv + j] += kt[sz(i)] * delta[sz(j)];
            }
            float* ot = o + (t * d.HV + h) * d.dv;
            std::fill(ot, ot + d.dv, 0.0f);
            for (int64_t i = 0; i < d.dk; ++i) {
                for (int64_t j = 0; j < d.dv; ++j) ot[j] += S[i * d.dv + j] * qt[sz(i)];
            }
        }
    }, /*work_per_item=*/4 * std::max<int64_t>(d.T, 1) * d.dk * d.dv);
}

void gated_delta_rule_chunked(const float* q, const float* k, const float* v, const float* g, const float* beta,
                              const GdnDims& d, int64_t chunk, float* state, float* o) {
    const int64_t group = d.HV / d.HK;
    // Chunks longer than the sequence change nothing; clamping only bounds the C×C scratch.
    const int64_t dk = d.dk, dv = d.dv, C = std::min(chunk, std::max<int64_t>(d.T, 1));
    const float q_scale = static_cast<float>(std::pow(static_cast<double>(dk), -0.5));  // HF: query * dk ** -0.5
    parallel_for(0, d.HV, [&](int64_t h) {
        const int64_t hk = h / group;
        float* S = state + h * dk * dv;  // [dk, dv]
        // Per-chunk scratch, row-major, L <= C rows used.
        std::vector<float> Q(sz(C * dk)), K(sz(C * dk)), KB(sz(C * dk)), VB(sz(C * dv));  // q·scale, k, β k, β v
        std::vector<float> gam(sz(C)), A(sz(C * C)), D(sz(C * C));                        // γ, A_ij, D_ij
        std::vector<float> U(sz(C * dv)), W(sz(C * dk)), Vn(sz(C * dv));                  // U, W, V'
        std::vector<float> qd(sz(dk)), inter(sz(dv)), intra(sz(dv)), upd(sz(dk * dv));

        for (int64_t t0 = 0; t0 < d.T; t0 += C) {
            const int64_t L = std::min(C, d.T - t0);
            // Load and preprocess the chunk.
            double run = 0.0;
            for (int64_t i = 0; i < L; ++i) {
                const int64_t t = t0 + i;
                l2norm_vec(q + (t * d.HK + hk) * dk, dk, &Q[sz(i * dk)]);
                for (int64_t a = 0; a < dk; ++a) Q[sz(i * dk + a)] *= q_scale;
                l2norm_vec(k + (t * d.HK + hk) * dk, dk, &K[sz(i * dk)]);
                const float b = beta[t * d.HV + h];
                for (int64_t a = 0; a < dk; ++a) KB[sz(i * dk + a)] = K[sz(i * dk + a)] * b;
                for (int64_t j = 0; j < dv; ++j) VB[sz(i * dv + j)] = v[(t * d.HV + h) * dv + j] * b;
                run += static_cast<double>(g[t * d.HV + h]);
                gam[sz(i)] = static_cast<float>(run);
            }
            // Decay mask D and the strictly lower UT system A.
            for (int64_t i = 0; i < L; ++i) {
                for (int64_t j = 0; j <= i; ++j) {
                    D[sz(i * C + j)] = std::exp(gam[sz(i)] - gam[sz(j)]);
                    if (j < i) A[sz(i * C + j)] = dot_f32(&KB[sz(i * dk)], &K[sz(j * dk)], dk) * D[sz(i * C + j)];
                }
            }
            // Forward substitution: U = (I + A)⁻¹ VB, W = (I + A)⁻¹ (KB ⊙ exp(γ)).
            for (int64_t i = 0; i < L; ++i) {
                float* Ui = &U[sz(i * dv)];
                float* Wi = &W[sz(i * dk)];
                const float eg = std::exp(gam[sz(i)]);
                for (int64_t j = 0; j < dv; ++j) Ui[j] = VB[sz(i * dv + j)];
                for (int64_t a = 0; a < dk; ++a) Wi[a] = KB[sz(i * dk + a)] * eg;
                for (int64_t j = 0; j < i; ++j) {
                    const float aij = A[sz(i * C + j)];
                    for (int64_t c = 0; c < dv; ++c) Ui[c] -= aij * U[sz(j * dv + c)];
                    for (int64_t c = 0; c < dk; ++c) Wi[c] -= aij * W[sz(j * dk + c)];
                }
            }
            // V' = U − W S, then the outputs.
            for (int64_t i = 0; i < L; ++i) {
                float* Vi = &Vn[sz(i * dv)];
                for (int64_t j = 0; j < dv; ++j) Vi[j] = 0.0f;
                for (int64_t a = 0; a < dk; ++a) {
                    const float wa = W[sz(i * dk + a)];
                    for (int64_t j = 0; j < dv; ++j) Vi[j] += wa * S[a * dv + j];
                }
                for (int64_t j = 0; j < dv; ++j) Vi[j] = U[sz(i * dv + j)] - Vi[j];
            }
            for (int64_t i = 0; i < L; ++i) {
                float* oi = o + ((t0 + i) * d.HV + h) * dv;
                const float eg = std::exp(gam[sz(i)]);
                for (int64_t a = 0; a < dk; ++a) qd[sz(a)] = Q[sz(i * dk + a)] * eg;
                std::fill(inter.begin(), inter.end(), 0.0f);
                for (int64_t a = 0; a < dk; ++a) {  // inter-chunk: (q_i exp(γ_i))ᵀ S
                    for (int64_t j = 0; j < dv; ++j) inter[sz(j)] += qd[sz(a)] * S[a * dv + j];
                }
                std::fill(intra.begin(), intra.end(), 0.0f);
                for (int64_t j = 0; j <= i; ++j) {  // intra-chunk: Σ_{j<=i} (q_i·k_j) D_ij V'_j
                    const float w_ij = dot_f32(&Q[sz(i * dk)], &K[sz(j * dk)], dk) * D[sz(i * C + j)];
                    for (int64_t c = 0; c < dv; ++c) intra[sz(c)] += w_ij * Vn[sz(j * dv + c)];
                }
                for (int64_t j = 0; j < dv; ++j) oi[j] = inter[sz(j)] + intra[sz(j)];
            }
            // State update: S <- exp(γ_last) S + Σ_i (k_i exp(γ_last − γ_i)) ⊗ V'_i
            const float g_last = gam[sz(L - 1)];
            const float chunk_decay = std::exp(g_last);
            std::fill(upd.begin(), upd.end(), 0.0f);
            for (int64_t i = 0; i < L; ++i) {
                const float ki_decay = std::exp(g_last - gam[sz(i)]);
                for (int64_t a = 0; a < dk; ++a) {
                    const float ka = K[sz(i * dk + a)] * ki_decay;
                    for (int64_t j = 0; j < dv; ++j) upd[sz(a * dv + j)] += ka * Vn[sz(i * dv + j)];
                }
            }
            for (int64_t e = 0; e < dk * dv; ++e) S[e] = S[e] * chunk_decay + upd[sz(e)];
        }
    }, /*work_per_item=*/8 * std::max<int64_t>(d.T, 1) * (dk + C) * dv);
}

void gdn_gates(const float* a, const float* b, const float* A_log, const float* dt_bias, int64_t T, int64_t HV,
               float* g, float* beta) {
    parallel_for(0, T, [&](int64_t t) {
        for (int64_t h = 0; h < HV; ++h) {
            const int64_t e = t * HV + h;
            g[e] = -std::exp(A_log[h]) * softplus(a[e] + dt_bias[h]);
            beta[e] = sigmoid(b[e]);
        }
    }, /*work_per_item=*/32 * HV);
}

}  // namespace qinfer::kernels::cpu
