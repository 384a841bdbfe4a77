#include "ops/embedding.h"

#include "core/check.h"
#include "kernels/cpu/embedding.h"

namespace qinfer::ops {

Tensor embedding(const Tensor& table, std::span<const int64_t> ids) {
    QINFER_CHECK(table.ndim() == 2, "embedding: table must be [V, H], got shape ", shape_str(table.shape()));
    const int64_t V = table.dim(0), H = table.dim(1);
    for (size_t t = 0; t < ids.size(); ++t) {
        QINFER_CHECK(ids[t] >= 0 && ids[t] < V, "embedding: token id ", ids[t], " (position ", t,
                     ") is out of range for vocab size ", V);
    }
    const auto T = static_cast<int64_t>(ids.size());
    Tensor out({T, H});
    kernels::cpu::embedding_gather(table.data(), H, ids.data(), T, out.data());
    return out;
}

}  // namespace qinfer::ops
