#include "ops/norm.h"

#include "core/check.h"
#include "kernels/cpu/norm.h"

namespace qinfer::ops {
namespace {

int64_t rows_of(const Tensor& x, int64_t D) {
    return D == 0 ? 0 : x.numel() / D;
}

}  // namespace

Tensor rms_norm(const Tensor& x, const Tensor& w, float eps, bool zero_centered) {
    QINFER_CHECK(x.ndim() >= 1, "rms_norm: x must have at least 1 dimension");
    const int64_t D = x.dim(-1);
    QINFER_CHECK(w.ndim() == 1 && w.dim(0) == D, "rms_norm: weight shape ", shape_str(w.shape()),
                 " does not match the last dim of x ", shape_str(x.shape()));
    Tensor out(x.shape());
    kernels::cpu::rms_norm(x.data(), w.data(), rows_of(x, D), D, eps, zero_centered, out.data());
    return out;
}

Tensor rms_norm_gated(const Tensor& x, const Tensor& z, const Tensor& w, float eps) {
    QINFER_CHECK(x.ndim() == 2, "rms_norm_gated: x must be [N, D], got shape ", shape_str(x.shape()));
    QINFER_CHECK(z.shape() == x.shape(), "rms_norm_gated: gate z ", shape_str(z.shape()), " must have the shape of x ",
                 shape_str(x.shape()));
    const int64_t D = x.dim(1);
    QINFER_CHECK(w.ndim() == 1 && w.dim(0) == D, "rms_norm_gated: weight shape ", shape_str(w.shape()),
                 " does not match the last dim of x ", shape_str(x.shape()));
    Tensor out(x.shape());
    kernels::cpu::rms_norm_gated(x.data(), z.data(), w.data(), x.dim(0), D, eps, out.data());
    return out;
}

Tensor l2norm_rows(const Tensor& x, float eps) {
    QINFER_CHECK(x.ndim() >= 1, "l2norm_rows: x must have at least 1 dimension");
    const int64_t D = x.dim(-1);
    Tensor out(x.shape());
    kernels::cpu::l2norm_rows(x.data(), rows_of(x, D), D, eps, out.data());
    return out;
}

}  // namespace qinfer::ops
