#pragma once
// defines: qinfer::ops::rope_inplace, rope_inv_freq

#include <cstdint>
#include <span>
#include <vector>

#include "core/tensor.h"

namespace qinfer::ops {

// NeoX-style (rotate_half) partial RoPE, in place: pairs (i, i + rotary_dim/2) for i < rotary_dim/2 are rotated by
// angle float(positions[t]) · inv_freq[i]; dimensions [rotary_dim, hd) are unchanged. rotary_dim is even, <= hd.
void rope_inplace(Tensor& x,                           // f32 [T, H, hd]
                  std::span<const int64_t> positions,  // [T]
                  int64_t rotary_dim, double theta);

// inv_freq[i] = 1 / theta^(2i/rotary_dim) in fp32, as HF compute_default_rope_parameters (see kernels/cpu/rope.cpp).
std::vector<float> rope_inv_freq(int64_t rotary_dim, double theta);  // -> f32 [rotary_dim / 2]

}  // namespace qinfer::ops
