#pragma once
// defines: qinfer::cuda::L2Prefetch, l2_prefetch, l2_prefetch_enabled
//
// Weights pulled into L2 ahead of the kernels that read them (decode). Why: a decode step at B = 1 is a chain of ~11
// dependent kernels per MoE layer, and each small GEMV spends most of its time waiting for its first DRAM round trips
// (perf-notes.md, fifth session: 1.56 GB of layer weights at ~0.65 TB/s). PDL lets a kernel prefetch its own weights
// only while its immediate predecessor runs. Here one launch after the MoE routing (the first point where the selected
// experts are known) asks L2 for the selected experts' weights and then for the next layer's dense weights, so that
// DRAM streams while the chain runs and most GEMVs read L2 instead.
//
// Measured (eighth session, 35B-A3B nvfp4-all, B = 1, 1k context): 2.743 -> 2.688 ms per step (-2 %; three runs
// each, one call), B = 8 unchanged. The premise held only a little: the chain is bound by per-kernel latency more
// than by its weights' DRAM round trips (perf-notes.md). Launched on the step's own stream instead, every following
// kernel waited for the prefetch to land (our reading: a grid completes only once its prefetches have; not shown
// directly), and B = 1 lost 0.1-0.6 ms: the caller runs it on a side stream that joins at the end of the step.
//
// Only a hint: L2 is the point of coherence, so a prefetch can never make a result wrong, only slower or faster. The
// plan is bounded by a byte budget below the L2 size (40 of 50 MB on an H100) so it does not evict what it brought in
// before it is used. QINFER_L2_PREFETCH=0 in the environment turns every prefetch off (A/B measurements).

#include <cstdint>

#include "kernels/cuda/linear.h"
#include "kernels/cuda/types.h"

namespace qinfer::cuda {

// What one l2_prefetch launch pulls into L2, in this order: for each of `rows` device expert ids, that expert's slice
// of every expert tensor; then the fixed ranges. Built once at load (plain data: it is the kernel's parameter).
struct L2Prefetch {
    static constexpr int kMaxFixed = 24, kMaxExpertTensors = 8;
    struct Range {
        const void* p = nullptr;
        uint64_t bytes = 0;
    };
    Range fixed[kMaxFixed];  // constant data (weights of the kernels that follow)
    int n_fixed = 0;
    Range expert[kMaxExpertTensors];  // expert e's slice of tensor i: [p + e * bytes, p + (e + 1) * bytes)
    Range extra[kMaxExpertTensors];   // tensor i of the extra expert (id extra_id: the shared expert as expert E)
    int n_expert = 0, experts = 0, extra_id = -1;  // experts: the stacked expert count (valid ids [0, experts))

    // Every buffer of w (codes / data, block scales, row scales) as fixed ranges. False when the plan has no room
    // left for all of them (the ranges that fit stay): a plan is a prefetch hint, and a layout with many mixed-format
    // segments then prefetches the first ones only.
    bool add_fixed(const DeviceWeight& w);
    // The per-expert slices of every buffer of w (stacked experts), with extra_expert (one expert of the same format
    // and shape, or nullptr) as expert w.experts().
    void add_experts(const DeviceWeight& w, const DeviceWeight* extra_expert);
    uint64_t fixed_bytes() const;
    uint64_t bytes_per_expert() const;
};

// True unless QINFER_L2_PREFETCH=0 (read once per process).
bool l2_prefetch_enabled();

// Prefetches `plan` into L2 (ids: device int32 [rows], the selected expert of each row; may be null when rows = 0).
// At most `budget` bytes: the experts only when all rows fit in half of it (a wide batch's experts are many and are
// read by a kernel wide enough to stream them itself), then the fixed ranges up to the rest. A no-op when
// !l2_prefetch_enabled(). PDL-launched, graph-capturable; its one wait is for `ids`.
void l2_prefetch(const L2Prefetch& plan, const int32_t* ids, int64_t rows, uint64_t budget, cudaStream_t stream);

}  // namespace qinfer::cuda
