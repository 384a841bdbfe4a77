#include "ops/conv1d.h"

#include "core/check.h"
#include "kernels/cpu/conv1d.h"

namespace qinfer::ops {

Tensor causal_conv1d_silu(const Tensor& x, const Tensor& w, Tensor& state) {
    QINFER_CHECK(x.ndim() == 2, "causal_conv1d: x must be [T, C], got shape ", shape_str(x.shape()));
    QINFER_CHECK(w.ndim() == 2, "causal_conv1d: w must be [C, K], got shape ", shape_str(w.shape()));
    const int64_t T = x.dim(0), C = x.dim(1), K = w.dim(1);
    QINFER_CHECK(w.dim(0) == C, "causal_conv1d: w ", shape_str(w.shape()), " has ", w.dim(0), " channels, x ",
                 shape_str(x.shape()), " has ", C);
    QINFER_CHECK(K >= 1, "causal_conv1d: kernel size must be >= 1, got w ", shape_str(w.shape()));
    QINFER_CHECK(state.shape() == Shape({C, K - 1}), "causal_conv1d: state must be [C, K-1] = ", shape_str({C, K - 1}),
                 ", got ", shape_str(state.shape()));
    Tensor y({T, C});
    kernels::cpu::causal_conv1d_silu(x.data(), T, C, w.data(), K, state.data(), y.data());
    return y;
}

}  // namespace qinfer::ops
