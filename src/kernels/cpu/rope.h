#pragma once
// defines: qinfer::kernels::cpu::rope_inv_freq, rope_inplace

#include <cstdint>

namespace qinfer::kernels::cpu {

// inv_freq[i] = 1 / theta^(2i / rotary_dim), i < rotary_dim / 2, computed in fp32 as HF
// compute_default_rope_parameters does. inv_freq: f32 [rotary_dim / 2].
void rope_inv_freq(int64_t rotary_dim, double theta, float* inv_freq);

// NeoX-style partial rotary embedding, in place. x: f32 [T, H, hd]; positions: [T]; rotary_dim even, <= hd.
// For each pair (i, i + rotary_dim/2), i < rotary_dim/2, with a = float(pos) · inv_freq[i] (fp32):
//   x[i]        <- x[i]·cos a − x[i + rotary_dim/2]·sin a
//   x[i + r/2]  <- x[i + r/2]·cos a + x[i]·sin a
// Dimensions [rotary_dim, hd) are left unchanged.
void rope_inplace(float* x, int64_t T, int64_t H, int64_t hd, const int64_t* positions, int64_t rotary_dim,
                  double theta);

}  // namespace qinfer::kernels::cpu
