// L2 prefetch of decode weights (kernels/cuda/l2_prefetch.h).
//
// One bulk prefetch (cp.async.bulk.prefetch.L2, sm_90) per 16 KB piece: a single instruction hands a whole piece to
// the SM's copy engine, so a plan of ~37 MB (35B-A3B at B = 1: 9 experts + the next GDN layer) is ~2300 instructions,
// spread one or two per thread over up to one CTA of 32 threads per SM. Pieces are dealt round-robin in plan order, so
// every thread issues its expert pieces before its fixed ones: the experts, needed first, are requested first.

#include "kernels/cuda/l2_prefetch.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "core/check.h"
#include "kernels/cuda/launch.h"

namespace qinfer::cuda {
namespace {

constexpr uint64_t kPiece = 16 << 10;
constexpr int kThreads = 32;

__device__ __forceinline__ void prefetch_piece(uint64_t gaddr, uint32_t bytes) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
    asm volatile("cp.async.bulk.prefetch.L2.global [%0], %1;" ::"l"(gaddr), "r"(bytes) : "memory");
#else
    for (uint32_t o = 0; o < bytes; o += 128) asm volatile("prefetch.global.L2 [%0];" ::"l"(gaddr + o));
#endif
}

// This thread's pieces of [p, p + bytes) (widened to 16-byte granules, as the bulk prefetch needs; a cudaMalloc'd
// buffer is at least 256-byte aligned, so the widening stays inside its allocation). Piece j of the range is the
// plan's piece `next + j`, issued by thread (next + j) % nth; `next` advances past the range.
__device__ __forceinline__ void prefetch_range(const void* p, uint64_t bytes, uint64_t tid, uint64_t nth,
                                               uint64_t& next) {
    if (p == nullptr || bytes == 0) return;
    const uint64_t a = static_cast<uint64_t>(__cvta_generic_to_global(p));
    const uint64_t first = a & ~15ULL, end = (a + bytes + 15) & ~15ULL;
    const uint64_t pieces = (end - first + kPiece - 1) / kPiece;
    for (uint64_t j = (tid + nth - next % nth) % nth; j < pieces; j += nth) {
        const uint64_t s = first + j * kPiece;
        prefetch_piece(s, static_cast<uint32_t>(end - s < kPiece ? end - s : kPiece));
    }
    next += pieces;
}

__global__ void __launch_bounds__(kThreads)
    l2_prefetch_kernel(const L2Prefetch plan, const int32_t* __restrict__ ids, int rows) {
    grid_dependency_sync();  // PDL: first statement (launch.h); the ids come from the routing kernel
    const uint64_t tid = blockIdx.x * static_cast<uint64_t>(kThreads) + threadIdx.x;
    const uint64_t nth = static_cast<uint64_t>(gridDim.x) * kThreads;
    uint64_t next = 0;
    for (int r = 0; r < rows; ++r) {
        const int e = ids[r];
        const bool extra = e == plan.extra_id;
        if (!extra && (e < 0 || e >= plan.experts)) continue;  // not a valid expert: nothing to prefetch
        for (int i = 0; i < plan.n_expert; ++i) {
            const L2Prefetch::Range& t = extra ? plan.extra[i] : plan.expert[i];
            const char* p = static_cast<const char*>(t.p);
            prefetch_range(extra ? p : p + static_cast<uint64_t>(e) * t.bytes, t.bytes, tid, nth, next);
        }
    }
    for (int i = 0; i < plan.n_fixed; ++i) prefetch_range(plan.fixed[i].p, plan.fixed[i].bytes, tid, nth, next);
}

// The buffers of a weight, in the order the kernels read them.
void buffers_of(const DeviceWeight& w, const DeviceBuffer* out[3]) {
    out[0] = &w.data();
    out[1] = &w.scales();
    out[2] = &w.row_scale();
}

}  // namespace

bool L2Prefetch::add_fixed(const DeviceWeight& w) {
    const DeviceBuffer* b[3];
    buffers_of(w, b);
    for (const DeviceBuffer* buf : b) {
        if (buf->empty()) continue;
        if (n_fixed == kMaxFixed) return false;
        fixed[n_fixed++] = {buf->data(), buf->bytes()};
    }
    return true;
}

void L2Prefetch::add_experts(const DeviceWeight& w, const DeviceWeight* extra_expert) {
    const uint64_t E = static_cast<uint64_t>(w.experts());
    QINFER_CHECK(extra_expert == nullptr || (extra_expert->format() == w.format() && extra_expert->experts() == 1 &&
                                             extra_expert->n() == w.n() && extra_expert->k() == w.k()),
                 "L2Prefetch: the extra expert must be one expert of the experts' format and shape");
    QINFER_CHECK(experts == 0 || experts == static_cast<int>(E),
                 "L2Prefetch: expert weights with different expert counts in one plan");
    experts = static_cast<int>(E);
    const DeviceBuffer *b[3], *x[3] = {nullptr, nullptr, nullptr};
    buffers_of(w, b);
    if (extra_expert != nullptr) buffers_of(*extra_expert, x);
    for (int i = 0; i < 3; ++i) {
        if (b[i]->empty()) continue;
        QINFER_CHECK(n_expert < kMaxExpertTensors, "L2Prefetch: more than ", kMaxExpertTensors, " expert tensors");
        QINFER_CHECK(b[i]->bytes() % E == 0, "L2Prefetch: an expert buffer of ", b[i]->bytes(), " bytes is not ", E,
                     " equal slices");
        expert[n_expert] = {b[i]->data(), b[i]->bytes() / E};
        extra[n_expert] = x[i] != nullptr ? Range{x[i]->data(), x[i]->bytes()} : Range{};
        ++n_expert;
    }
    if (extra_expert != nullptr) extra_id = static_cast<int>(E);
}

uint64_t L2Prefetch::fixed_bytes() const {
    uint64_t s = 0;
    for (int i = 0; i < n_fixed; ++i) s += fixed[i].bytes;
    return s;
}

uint64_t L2Prefetch::bytes_per_expert() const {
    uint64_t s = 0;
    for (int i = 0; i < n_expert; ++i) s += expert[i].bytes;
    return s;
}

bool l2_prefetch_enabled() {
    static const bool enabled = [] {
        const char* env = std::getenv("QINFER_L2_PREFETCH");
        return env == nullptr || std::strcmp(env, "0") != 0;
    }();
    return enabled;
}

void l2_prefetch(const L2Prefetch& plan, const int32_t* ids, int64_t rows, uint64_t budget, cudaStream_t stream) {
    QINFER_CHECK(rows >= 0 && rows <= (1 << 20) && (rows == 0 || ids != nullptr), "l2_prefetch: ", rows, " rows with ",
                 ids == nullptr ? "no" : "an", " id array");
    if (!l2_prefetch_enabled()) return;
    L2Prefetch p = plan;
    uint64_t used = 0;
    const uint64_t expert_bytes = static_cast<uint64_t>(rows) * plan.bytes_per_expert();
    if (plan.n_expert > 0 && expert_bytes <= budget / 2)
        used = expert_bytes;
    else
        rows = 0;
    p.n_fixed = 0;
    for (int i = 0; i < plan.n_fixed && used < budget; ++i) {
        const uint64_t take = std::min(plan.fixed[i].bytes, budget - used);
        p.fixed[p.n_fixed++] = {plan.fixed[i].p, take};
        used += take;
    }
    if (used == 0) return;
    const uint64_t pieces = used / kPiece + static_cast<uint64_t>(p.n_fixed + rows * p.n_expert);
    const int blocks = static_cast<int>(
        std::clamp<uint64_t>((pieces + kThreads - 1) / kThreads, 1, static_cast<uint64_t>(sm_count())));
    launch(l2_prefetch_kernel, dim3(blocks), dim3(kThreads), 0, stream, p, ids, static_cast<int>(rows));
}

}  // namespace qinfer::cuda
