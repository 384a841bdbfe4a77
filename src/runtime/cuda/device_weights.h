#pragma once
// defines: qinfer::cuda::DeviceLinear, DeviceParams, upload_weights
//
// The CUDA backend's weights: the loader's plan (models/weight_loader.h plan_weights: every checkpoint shard, its
// format decided by the resolver) streamed to the GPU shard by shard from the mmapped checkpoint, in the stored format
// (linear.h DeviceWeight: BF16, NVFP4 codes + E4M3 block scales + per-row global scale, FP8 + per-row scale). No fp32
// copy of a weight ever exists on the host; a shard that needs a host-side conversion (F16/F32 → BF16, Qwen3-Next's
// row re-layout) is converted alone, in a temporary the size of that shard.
//
// A runtime Linear whose shards all share a format is one DeviceWeight (fused: one GEMM); shards that differ (mixed
// shards: in_proj_qkv NVFP4 + in_proj_z BF16) become one segment each, each writing its own columns of the output.
// Small parameters (norms, conv1d, A_log, dt_bias) are fp32 on the device. The embedding is a BF16 DeviceWeight, so a
// tied lm_head is the same buffer.

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "kernels/cuda/linear.h"
#include "models/weight_loader.h"

namespace qinfer::cuda {

struct DeviceLinear {
    struct Segment {
        int64_t col0 = 0;  // first output column (row of the runtime weight) this segment writes
        DeviceWeight weight;
    };
    std::vector<Segment> segments;
    int64_t experts = 1, n = 0, k = 0;

    uint64_t bytes() const;
    uint64_t expert_bytes() const;  // one expert's share (stacked experts)
    std::string format_str() const;  // "nvfp4", "bf16", "nvfp4+bf16" (mixed segments)
    // Runs every segment: y[:, col0 : col0 + n_seg] (mode)= x · W_segᵀ.
    void forward(const bf16* x, int64_t m, int64_t ldx, void* y, int64_t ldy, OutMode mode, GemmContext& ctx,
                 cudaStream_t stream) const;
    // Whether every segment can run linear_gated for m rows, and running them so (kernels/cuda/linear.h).
    bool gated_supported(int64_t m) const;
    void forward_gated(const bf16* x, int64_t m, int64_t ldx, void* y, int64_t ldy, OutMode mode,
                       const float* gate_logit, int64_t ld_gate, cudaStream_t stream) const;
};

struct DeviceParams {
    std::map<std::string, DeviceLinear> linears;  // runtime name (relative: "layers.0.self_attn.qkv_proj.weight")
    std::map<std::string, DeviceBuffer> vectors;  // f32 small parameters by runtime name
    std::map<std::string, std::string> tied;      // runtime name -> the parameter it shares

    const DeviceLinear& linear(const std::string& name) const;  // follows `tied`; throws naming the parameter
    const float* vec(const std::string& name) const;
    uint64_t bytes() const;
};

// Streams every planned shard to the device. `progress` gets each finished shard's stored byte count.
DeviceParams upload_weights(const models::WeightPlan& plan, const std::function<void(uint64_t)>& progress = {});

}  // namespace qinfer::cuda
