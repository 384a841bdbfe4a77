#include "ops/moe.h"

#include <cmath>

#include "core/check.h"
#include "kernels/cpu/moe.h"

namespace qinfer::ops {

Routing moe_route(const Tensor& router_logits, int64_t top_k, bool renormalize) {
    QINFER_CHECK(router_logits.ndim() == 2, "moe_route: router logits must be [T, E], got shape ",
                 shape_str(router_logits.shape()));
    const int64_t T = router_logits.dim(0), E = router_logits.dim(1);
    QINFER_CHECK(top_k >= 1 && top_k <= E, "moe_route: top_k ", top_k, " must be in [1, ", E, "]");
    for (int64_t i = 0; i < router_logits.numel(); ++i) {
        QINFER_CHECK(std::isfinite(router_logits.data()[i]), "moe_route: router logit of token ", i / E, ", expert ",
                     i % E, " is ", router_logits.data()[i]);
    }
    Routing r{.T = T,
              .k = top_k,
              .expert = std::vector<int32_t>(static_cast<size_t>(T * top_k)),
              .weight = std::vector<float>(static_cast<size_t>(T * top_k))};
    kernels::cpu::moe_route(router_logits.data(), T, E, top_k, renormalize, r.expert.data(), r.weight.data());
    return r;
}

Tensor moe_experts(const Tensor& x, const Routing& r, const Tensor& gate_up, const Tensor& down) {
    QINFER_CHECK(x.ndim() == 2, "moe_experts: x must be [T, H], got shape ", shape_str(x.shape()));
    const int64_t T = x.dim(0), H = x.dim(1);
    QINFER_CHECK(gate_up.ndim() == 3 && gate_up.dim(1) % 2 == 0, "moe_experts: gate_up must be [E, 2I, H], got ",
                 shape_str(gate_up.shape()));
    const int64_t E = gate_up.dim(0), I = gate_up.dim(1) / 2;
    QINFER_CHECK(gate_up.dim(2) == H, "moe_experts: gate_up ", shape_str(gate_up.shape()), " does not match x ",
                 shape_str(x.shape()), " in H");
    QINFER_CHECK(down.shape() == Shape({E, H, I}), "moe_experts: down must be [E, H, I] = ", shape_str({E, H, I}),
                 ", got ", shape_str(down.shape()));
    QINFER_CHECK(r.T == T && r.k >= 1, "moe_experts: routing is for ", r.T, " tokens (k = ", r.k, "), x has ", T);
    QINFER_CHECK(r.expert.size() == static_cast<size_t>(T * r.k) && r.weight.size() == r.expert.size(),
                 "moe_experts: routing holds ", r.expert.size(), " experts and ", r.weight.size(),
                 " weights, expected T*k = ", T * r.k);
    for (int64_t t = 0; t < T; ++t) {
        for (int64_t s = 0; s < r.k; ++s) {
            const int32_t e = r.expert[static_cast<size_t>(t * r.k + s)];
            QINFER_CHECK(e >= 0 && e < E, "moe_experts: token ", t, " slot ", s, " selects expert ", e,
                         ", outside [0, ", E, ")");
            for (int64_t s2 = 0; s2 < s; ++s2) {
                QINFER_CHECK(r.expert[static_cast<size_t>(t * r.k + s2)] != e, "moe_experts: token ", t,
                             " selects expert ", e, " twice");
            }
        }
    }
    Tensor out({T, H});
    kernels::cpu::moe_experts(x.data(), T, H, r.k, r.expert.data(), r.weight.data(), gate_up.data(), down.data(), E, I,
                              out.data());
    return out;
}

}  // namespace qinfer::ops
