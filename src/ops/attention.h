#pragma once
// defines: qinfer::ops::attention_causal

#include <cstdint>

#include "core/tensor.h"

namespace qinfer::ops {

// Causal softmax attention against a growing key/value history (the caller's KV cache), fp32:
//   o[t, h] = Σ_{j <= past + t} softmax_j((q[t, h] · k[j, h / (Hq/Hkv)]) · scale) · v[j, h / (Hq/Hkv)]
// Query t sits at absolute position past + t. Requires Hq % Hkv == 0 and 0 <= past <= S − T (keys past
// past + T − 1 are never read; usually past = S − T).
Tensor attention_causal(const Tensor& q,             // f32 [T, Hq, hd]
                        const Tensor& k,             // f32 [S, Hkv, hd]
                        const Tensor& v,             // f32 [S, Hkv, hd]
                        int64_t past, float scale);  // -> f32 [T, Hq, hd]

}  // namespace qinfer::ops
