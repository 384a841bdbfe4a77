#pragma once
// defines: qinfer::kernels::cpu::embedding_gather

#include <cstdint>

namespace qinfer::kernels::cpu {

// out[t, :] = table[ids[t], :]. table: f32 [V, H]; ids: [T], every id in [0, V) (checked by the caller);
// out: f32 [T, H].
void embedding_gather(const float* table, int64_t H, const int64_t* ids, int64_t T, float* out);

}  // namespace qinfer::kernels::cpu
