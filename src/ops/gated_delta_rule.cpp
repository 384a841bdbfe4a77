#include "ops/gated_delta_rule.h"

#include "core/check.h"
#include "kernels/cpu/gated_delta_rule.h"

namespace qinfer::ops {
namespace {

kernels::cpu::GdnDims check_gdn(const char* op, const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& g,
                                const Tensor& beta, const Tensor& state) {
    QINFER_CHECK(q.ndim() == 3, op, ": q must be [T, HK, dk], got shape ", shape_str(q.shape()));
    QINFER_CHECK(k.shape() == q.shape(), op, ": k ", shape_str(k.shape()), " must have the shape of q ",
                 shape_str(q.shape()));
    QINFER_CHECK(v.ndim() == 3, op, ": v must be [T, HV, dv], got shape ", shape_str(v.shape()));
    const kernels::cpu::GdnDims d{.T = q.dim(0), .HK = q.dim(1), .HV = v.dim(1), .dk = q.dim(2), .dv = v.dim(2)};
    QINFER_CHECK(v.dim(0) == d.T, op, ": v ", shape_str(v.shape()), " and q ", shape_str(q.shape()),
                 " differ in token count");
    QINFER_CHECK(d.HK > 0 && d.HV % d.HK == 0, op, ": ", d.HV, " value heads are not a multiple of ", d.HK,
                 " key heads");
    QINFER_CHECK(g.shape() == Shape({d.T, d.HV}), op, ": g must be [T, HV] = ", shape_str({d.T, d.HV}), ", got ",
                 shape_str(g.shape()));
    QINFER_CHECK(beta.shape() == Shape({d.T, d.HV}), op, ": beta must be [T, HV] = ", shape_str({d.T, d.HV}), ", got ",
                 shape_str(beta.shape()));
    QINFER_CHECK(state.shape() == Shape({d.HV, d.dk, d.dv}), op,
                 ": state must be [HV, dk, dv] = ", shape_str({d.HV, d.dk, d.dv}), ", got ", shape_str(state.shape()));
    return d;
}

}  // namespace

Tensor gated_delta_rule_recurrent(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& g,
                                  const Tensor& beta, Tensor& state) {
    const auto d = check_gdn("gated_delta_rule_recurrent", q, k, v, g, beta, state);
    Tensor o({d.T, d.HV, d.dv});
    kernels::cpu::gated_delta_rule_recurrent(q.data(), k.data(), v.data(), g.data(), beta.data(), d, state.data(),
                                             o.data());
    return o;
}

Tensor gated_delta_rule_chunked(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& g, const Tensor& beta,
                                Tensor& state, int64_t chunk) {
    const auto d = check_gdn("gated_delta_rule_chunked", q, k, v, g, beta, state);
    QINFER_CHECK(chunk >= 1, "gated_delta_rule_chunked: chunk size must be >= 1, got ", chunk);
    Tensor o({d.T, d.HV, d.dv});
    kernels::cpu::gated_delta_rule_chunked(q.data(), k.data(), v.data(), g.data(), beta.data(), d, chunk, state.data(),
                                           o.data());
    return o;
}

void gdn_gates(const Tensor& a, const Tensor& b, const Tensor& A_log, const Tensor& dt_bias, Tensor& g, Tensor& beta) {
    QINFER_CHECK(a.ndim() == 2, "gdn_gates: a must be [T, HV], got shape ", shape_str(a.shape()));
    QINFER_CHECK(b.shape() == a.shape(), "gdn_gates: b ", shape_str(b.shape()), " must have the shape of a ",
                 shape_str(a.shape()));
    const int64_t T = a.dim(0), HV = a.dim(1);
    QINFER_CHECK(A_log.shape() == Shape({HV}), "gdn_gates: A_log must be [HV] = [", HV, "], got ",
                 shape_str(A_log.shape()));
    QINFER_CHECK(dt_bias.shape() == Shape({HV}), "gdn_gates: dt_bias must be [HV] = [", HV, "], got ",
                 shape_str(dt_bias.shape()));
    g = Tensor({T, HV});
    beta = Tensor({T, HV});
    kernels::cpu::gdn_gates(a.data(), b.data(), A_log.data(), dt_bias.data(), T, HV, g.data(), beta.data());
}

}  // namespace qinfer::ops
