// Embedding lookup: out[t, h] = table[ids[t], h]  (a copy, no scaling).

#include "kernels/cpu/embedding.h"

#include <algorithm>

#include "core/parallel.h"

namespace qinfer::kernels::cpu {

void embedding_gather(const float* table, int64_t H, const int64_t* ids, int64_t T, float* out) {
    parallel_for(0, T, [&](int64_t t) {
        const float* src = table + ids[t] * H;
        std::copy(src, src + H, out + t * H);
    }, /*work_per_item=*/H);
}

}  // namespace qinfer::kernels::cpu
