#pragma once
// defines: qinfer::ops::causal_conv1d_silu

#include "core/tensor.h"

namespace qinfer::ops {

// Depthwise causal conv1d over time + SiLU (the GDN short conv), continuing from `state` (the K-1 inputs before x,
// oldest first; zeros at sequence start):
//   x_ext = concat(state, x) along time;  y[t, c] = silu(Σ_{j<K} w[c, j] · x_ext[t + j, c])
// The last tap w[:, K-1] multiplies the current input. `state` is replaced by the last K-1 rows of x_ext (for
// T < K-1, older state entries shift down).
Tensor causal_conv1d_silu(const Tensor& x,  // f32 [T, C]
                          const Tensor& w,  // f32 [C, K]
                          Tensor& state);   // f32 [C, K-1] in/out  -> f32 [T, C]

}  // namespace qinfer::ops
