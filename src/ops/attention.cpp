#include "ops/attention.h"

#include "core/check.h"
#include "kernels/cpu/attention.h"

namespace qinfer::ops {

Tensor attention_causal(const Tensor& q, const Tensor& k, const Tensor& v, int64_t past, float scale) {
    QINFER_CHECK(q.ndim() == 3, "attention: q must be [T, Hq, hd], got shape ", shape_str(q.shape()));
    QINFER_CHECK(k.ndim() == 3, "attention: k must be [S, Hkv, hd], got shape ", shape_str(k.shape()));
    QINFER_CHECK(v.shape() == k.shape(), "attention: v ", shape_str(v.shape()), " must have the shape of k ",
                 shape_str(k.shape()));
    const int64_t T = q.dim(0), Hq = q.dim(1), hd = q.dim(2);
    const int64_t S = k.dim(0), Hkv = k.dim(1);
    QINFER_CHECK(k.dim(2) == hd, "attention: head dim of q ", shape_str(q.shape()), " and k ", shape_str(k.shape()),
                 " differ");
    QINFER_CHECK(Hkv > 0 && Hq % Hkv == 0, "attention: ", Hq, " query heads are not a multiple of ", Hkv, " kv heads");
    QINFER_CHECK(past >= 0 && past + T <= S, "attention: past ", past, " + ", T, " queries exceeds the ", S,
                 " keys given");
    Tensor out(q.shape());
    kernels::cpu::attention_causal(q.data(), T, Hq, k.data(), v.data(), S, Hkv, hd, past, scale, out.data());
    return out;
}

}  // namespace qinfer::ops
