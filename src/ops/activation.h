#pragma once
// defines: qinfer::ops::silu_mul, sigmoid_mul_inplace, and the scalar helpers silu, sigmoid, softplus

#include "core/tensor.h"
#include "kernels/cpu/activation.h"

namespace qinfer::ops {

// Scalar fp32 helpers (torch semantics): sigmoid(x) = 1/(1+e^-x); silu(x) = x/(1+e^-x);
// softplus(x) = x > 20 ? x : log1p(e^x)  (beta 1, threshold 20).
using kernels::cpu::sigmoid;
using kernels::cpu::silu;
using kernels::cpu::softplus;

// out = silu(gate) ⊙ up (SwiGLU). gate and up have the same shape.
Tensor silu_mul(const Tensor& gate,  // f32 [..., I]
                const Tensor& up);   // f32 [..., I]  -> f32 [..., I]

// x ⊙= sigmoid(gate) (the output gate of gated attention). x and gate have the same shape.
void sigmoid_mul_inplace(Tensor& x,            // f32 [...]
                         const Tensor& gate);  // f32 [...] (shape of x)

}  // namespace qinfer::ops
