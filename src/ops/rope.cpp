#include "ops/rope.h"

#include "core/check.h"
#include "kernels/cpu/rope.h"

namespace qinfer::ops {
namespace {

void check_rotary(int64_t rotary_dim, double theta) {
    QINFER_CHECK(rotary_dim > 0 && rotary_dim % 2 == 0, "rope: rotary_dim must be positive and even, got ", rotary_dim);
    QINFER_CHECK(theta > 0.0, "rope: theta must be positive, got ", theta);
}

}  // namespace

void rope_inplace(Tensor& x, std::span<const int64_t> positions, int64_t rotary_dim, double theta) {
    QINFER_CHECK(x.ndim() == 3, "rope: x must be [T, H, hd], got shape ", shape_str(x.shape()));
    check_rotary(rotary_dim, theta);
    const int64_t T = x.dim(0), H = x.dim(1), hd = x.dim(2);
    QINFER_CHECK(static_cast<int64_t>(positions.size()) == T, "rope: ", positions.size(), " positions for ", T,
                 " tokens (x ", shape_str(x.shape()), ")");
    QINFER_CHECK(rotary_dim <= hd, "rope: rotary_dim ", rotary_dim, " exceeds head dim ", hd);
    kernels::cpu::rope_inplace(x.data(), T, H, hd, positions.data(), rotary_dim, theta);
}

std::vector<float> rope_inv_freq(int64_t rotary_dim, double theta) {
    check_rotary(rotary_dim, theta);
    std::vector<float> inv(static_cast<size_t>(rotary_dim / 2));
    kernels::cpu::rope_inv_freq(rotary_dim, theta, inv.data());
    return inv;
}

}  // namespace qinfer::ops
