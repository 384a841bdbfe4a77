#include "ops/activation.h"

#include "core/check.h"

namespace qinfer::ops {

Tensor silu_mul(const Tensor& gate, const Tensor& up) {
    QINFER_CHECK(gate.shape() == up.shape(), "silu_mul: gate ", shape_str(gate.shape()), " and up ",
                 shape_str(up.shape()), " must have the same shape");
    Tensor out(gate.shape());
    kernels::cpu::silu_mul(gate.data(), up.data(), gate.numel(), out.data());
    return out;
}

void sigmoid_mul_inplace(Tensor& x, const Tensor& gate) {
    QINFER_CHECK(x.shape() == gate.shape(), "sigmoid_mul_inplace: x ", shape_str(x.shape()), " and gate ",
                 shape_str(gate.shape()), " must have the same shape");
    kernels::cpu::sigmoid_mul_inplace(x.data(), gate.data(), x.numel());
}

}  // namespace qinfer::ops
