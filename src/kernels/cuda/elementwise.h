#pragma once
// defines: qinfer::cuda::embedding, rms_norm, silu_mul
//
// The small fused kernels between GEMMs (memory-bound; one pass each). Shapes row-major; see types.h conventions.

#include <cstdint>

#include "kernels/cuda/types.h"

namespace qinfer::cuda {

// h[t, :] = float(table[ids[t], :]) for t in [0, T). table bf16 [V, H]; ids device int32 [T] (validated < V on the
// host before upload); h f32 [T, H].
void embedding(const bf16* table, int64_t vocab, int64_t hidden, const int32_t* ids, int64_t T, float* h,
               cudaStream_t stream);

// y[t] = bf16(x[t] / rms(x[t]) * (zero_centered ? 1 + w : w)), rms over H with eps, computed in fp32 exactly as
// ops::rms_norm (Qwen3.5 RMSNorm: normalize in fp32, then scale). x f32 [T, H] (row stride ldx); w f32 [H]; y bf16 [T, H].
void rms_norm(const float* x, int64_t ldx, const float* w, float eps, bool zero_centered, int64_t T, int64_t H,
              bf16* y, cudaStream_t stream);

// out[t, i] = bf16(silu(gu[t, i]) * gu[t, I + i]) for a fused [gate ‖ up] row gu bf16 [T, 2I]; out bf16 [T, I].
// With gate_logit (f32, row stride ld_gate; the shared expert's gate): out[t, i] = bf16(sigmoid(gate_logit[t]) *
// silu(..) * up), so that the shared expert's down projection adds sigmoid(g)·y into the residual by itself.
void silu_mul(const bf16* gate_up, int64_t T, int64_t I, bf16* out, cudaStream_t stream,
              const float* gate_logit = nullptr, int64_t ld_gate = 0);

}  // namespace qinfer::cuda
