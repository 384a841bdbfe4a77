#pragma once
// defines: qinfer::cuda::argmax_rows, sample_rows
//
// Token selection on the device, so a decode step never copies [B, V] logits to the host.

#include <cstdint>

#include "kernels/cuda/types.h"

namespace qinfer::cuda {

// out[b] = argmax_v logits[b, v] (lowest index on ties, as the CPU sampler). logits f32 [B, V] (row stride ld).
void argmax_rows(const float* logits, int64_t ld, int64_t B, int64_t V, int32_t* out, cudaStream_t stream);

// Samples out[b] from softmax(logits[b] / temperature) restricted to the top_k most likely tokens (top_k <= 0: all)
// and then to the smallest set whose probability reaches top_p (nucleus; 1 = off), with a counter-based random number
// from (seed, counter[b]) so that a replayed graph draws fresh numbers when the counters advance. temperature > 0.
void sample_rows(const float* logits, int64_t ld, int64_t B, int64_t V, float temperature, int top_k, float top_p,
                 uint64_t seed, const uint64_t* counter, int32_t* out, void* scratch, size_t scratch_bytes,
                 cudaStream_t stream);
// Scratch for sample_rows (the current kernel needs none and returns 0; callers may pass nullptr).
size_t sample_rows_scratch_bytes(int64_t B, int64_t V);

}  // namespace qinfer::cuda
