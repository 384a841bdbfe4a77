#pragma once
// defines: qinfer::ops::linear

#include "core/tensor.h"

namespace qinfer::ops {

// y = x·wᵀ (no bias). Leading dimensions of x are kept: [..., K] -> [..., N].
// Each output is summed in one fixed order (kernels/cpu/dot.h), so a row's result does not depend on the other rows
// in the batch or on the thread count.
Tensor linear(const Tensor& x,   // f32 [T, K]
              const Tensor& w);  // f32 [N, K]  -> f32 [T, N]

}  // namespace qinfer::ops
