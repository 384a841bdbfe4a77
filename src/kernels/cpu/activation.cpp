// Elementwise activations (fp32):
//   silu_mul:            out = silu(gate) · up,   silu(x) = x / (1 + e^-x)
//   sigmoid_mul_inplace: x   = x · sigmoid(gate), sigmoid(x) = 1 / (1 + e^-x)

#include "kernels/cpu/activation.h"

#include "core/parallel.h"

namespace qinfer::kernels::cpu {
namespace {
constexpr int64_t kBlock = 4096;  // elements per parallel work item
}

void silu_mul(const float* gate, const float* up, int64_t n, float* out) {
    parallel_for(0, (n + kBlock - 1) / kBlock, [&](int64_t b) {
        const int64_t end = b * kBlock + kBlock < n ? b * kBlock + kBlock : n;
        for (int64_t i = b * kBlock; i < end; ++i) out[i] = silu(gate[i]) * up[i];
    }, /*work_per_item=*/16 * kBlock);
}

void sigmoid_mul_inplace(float* x, const float* gate, int64_t n) {
    parallel_for(0, (n + kBlock - 1) / kBlock, [&](int64_t b) {
        const int64_t end = b * kBlock + kBlock < n ? b * kBlock + kBlock : n;
        for (int64_t i = b * kBlock; i < end; ++i) x[i] *= sigmoid(gate[i]);
    }, /*work_per_item=*/16 * kBlock);
}

}  // namespace qinfer::kernels::cpu
