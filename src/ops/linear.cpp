#include "ops/linear.h"

#include "core/check.h"
#include "kernels/cpu/linear.h"

namespace qinfer::ops {

Tensor linear(const Tensor& x, const Tensor& w) {
    QINFER_CHECK(x.ndim() >= 1, "linear: x must have at least 1 dimension, got shape ", shape_str(x.shape()));
    QINFER_CHECK(w.ndim() == 2, "linear: w must be [N, K], got shape ", shape_str(w.shape()));
    const int64_t K = x.dim(-1), N = w.dim(0);
    QINFER_CHECK(w.dim(1) == K, "linear: x ", shape_str(x.shape()), " and w ", shape_str(w.shape()),
                 " disagree on K (x's last dim must equal w's dim 1)");
    Shape out_shape = x.shape();
    out_shape.back() = N;
    Tensor y(std::move(out_shape));
    const int64_t T = numel(Shape(x.shape().begin(), x.shape().end() - 1));  // rows: all leading dims
    kernels::cpu::linear_into(x.data(), T, K, w.data(), N, y.data());
    return y;
}

}  // namespace qinfer::ops
