#pragma once
// defines: qinfer::ops::embedding

#include <cstdint>
#include <span>

#include "core/tensor.h"

namespace qinfer::ops {

// out[t] = table[ids[t]]. Throws qinfer::Error naming the id and the vocab size if an id is outside [0, V).
Tensor embedding(const Tensor& table,            // f32 [V, H]
                 std::span<const int64_t> ids);  // [T]  -> f32 [T, H]

}  // namespace qinfer::ops
