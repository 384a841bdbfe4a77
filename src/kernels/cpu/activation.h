#pragma once
// defines: qinfer::kernels::cpu::sigmoid, silu, softplus (scalar, inline), silu_mul, sigmoid_mul_inplace

#include <cmath>
#include <cstdint>

namespace qinfer::kernels::cpu {

// sigmoid(x) = 1 / (1 + exp(-x))   (torch.sigmoid)
inline float sigmoid(float x) {
    return 1.0f / (1.0f + std::exp(-x));
}

// silu(x) = x · sigmoid(x) = x / (1 + exp(-x))   (torch.nn.functional.silu)
inline float silu(float x) {
    return x / (1.0f + std::exp(-x));
}

// softplus(x) with beta = 1, threshold = 20, as torch.nn.functional.softplus: x if x > 20, else log1p(exp(x)).
inline float softplus(float x) {
    return x > 20.0f ? x : std::log1p(std::exp(x));
}

// out[i] = silu(gate[i]) · up[i], i < n. out may alias gate or up.
void silu_mul(const float* gate, const float* up, int64_t n, float* out);

// x[i] *= sigmoid(gate[i]), i < n.
void sigmoid_mul_inplace(float* x, const float* gate, int64_t n);

}  // namespace qinfer::kernels::cpu
