#pragma once
// defines: qinfer::cuda::WeightFormat, DeviceWeight, GemmContext, linear, linear_grouped, linear_indexed,
//          gated_gemv_supported, linear_gated
//
// GEMM weights on the device in their stored formats, and the GEMMs over them (y = x · Wᵀ):
//   BF16   data bf16 [E, N, K]
//   NVFP4  E2M1 codes (2 per byte) + one E4M3 scale per 16 consecutive k, + an fp32 scale per row (the shard's global
//          scale, weight_scale_2): w[e,n,k] = e2m1(code) · e4m3(block_scale) · row_scale[e*N+n]. The device layout
//          of codes and block scales is the kernels' own (re-laid out once at upload; see linear.cu); the upload API
//          takes the checkpoint layout.
//   FP8    E4M3 [E, N, K] + row_scale fp32 [E*N] (the shard's per-tensor weight_scale)
// E = 1 for a dense Linear; MoE experts are E stacked weights. Weight-only semantics (W4A16 / W8A16): the activation
// stays BF16, matching the CPU reference's default (--activation-quant is a CPU-only emulation).
//
// A runtime Linear whose checkpoint shards differ in format (mixed shards, weight_loader.h) is several DeviceWeights,
// each writing its own column range of y: the caller offsets y by the segment's first row and keeps ldy.

#include <cstdint>
#include <vector>

#include "kernels/cuda/buffer.h"
#include "kernels/cuda/types.h"

namespace qinfer::cuda {

enum class WeightFormat : uint8_t { BF16, NVFP4, FP8 };
const char* weight_format_name(WeightFormat f);

class DeviceWeight {
public:
    DeviceWeight() = default;
    // Allocates [experts, n, k] in `format` (uninitialised until every row is uploaded). NVFP4 needs k % 16 == 0
    // (throws naming the shape otherwise; the checkpoint format itself requires it).
    DeviceWeight(WeightFormat format, int64_t experts, int64_t n, int64_t k);

    // Uploads rows [row0, row0 + rows) of the weight flattened to [E*N, K], given in checkpoint layout on the host:
    //   BF16  data: bf16 [rows, K] (uint16 bit patterns)                          block_scales: nullptr   scale: 1
    //   NVFP4 data: uint8 [rows, K/2], element 2j in the low nibble of byte j;  block_scales: E4M3 [rows, K/16];
    //         scale: weight_scale_2 (the shard's global scale)
    //   FP8   data: E4M3 [rows, K]                                               block_scales: nullptr;
    //         scale: weight_scale
    // Synchronous with respect to the host buffers (they may be freed on return).
    void upload_rows(int64_t row0, int64_t rows, const void* data, const uint8_t* block_scales, float scale);
    // Copies all of `src` (same format and k; BF16 or FP8) into rows [row0, row0 + src rows), device to device: a
    // load-time concatenation of two Linears that read the same input (the MoE router and the shared-expert gate).
    void copy_rows_from(int64_t row0, const DeviceWeight& src);

    WeightFormat format() const { return format_; }
    int64_t experts() const { return experts_; }
    int64_t n() const { return n_; }
    int64_t k() const { return k_; }
    // Device bytes of this weight (codes + scales + row scales): what a GEMM that reads all of it moves.
    uint64_t bytes() const;
    // Bytes of one expert's [N, K] slice (for the decode roofline: only selected experts are read).
    uint64_t expert_bytes() const;

    // Raw device buffers; their layout is private to linear.cu.
    const DeviceBuffer& data() const { return data_; }
    const DeviceBuffer& scales() const { return scales_; }
    const DeviceBuffer& row_scale() const { return row_scale_; }
    // Rows of one scale, in order over the flattened [E*N] rows (host copy of row_scale, run-length encoded): the
    // dequantize + cuBLASLt path keeps the dequantized weight exact in bf16 and applies each run's scale as the GEMM's
    // alpha. Empty for BF16.
    struct ScaleRun {
        int64_t row0 = 0, rows = 0;
        float scale = 1.0f;
    };
    const std::vector<ScaleRun>& scale_runs() const { return scale_runs_; }

private:
    WeightFormat format_ = WeightFormat::BF16;
    int64_t experts_ = 0, n_ = 0, k_ = 0;
    DeviceBuffer data_;       // BF16: bf16 [E*N, K]; NVFP4: codes; FP8: e4m3 [E*N, K]
    DeviceBuffer scales_;     // NVFP4 block scales (E4M3); empty otherwise
    DeviceBuffer row_scale_;  // f32 [E*N]; empty for BF16
    std::vector<ScaleRun> scale_runs_;
    void record_scale_run(int64_t row0, int64_t rows, float scale);
};

// Per-model GEMM resources: the cuBLASLt handle, its workspace, and scratch for kernels that need it. One per stream.
class GemmContext {
public:
    GemmContext();
    ~GemmContext();
    GemmContext(const GemmContext&) = delete;
    GemmContext& operator=(const GemmContext&) = delete;
    cublasLtHandle_t handle() const { return handle_; }
    // Scratch of at least `bytes` (grows; never shrinks). Not valid across calls that may grow it.
    void* scratch(size_t bytes);
    // The grouped GEMMs' chunk table: its own buffer, allocated at first use with room for 262144 chunks (4 MiB; a
    // 16k-token prefill of a top-8 MoE needs ~17k), so a decode graph captured with it keeps a valid pointer when later
    // calls use it again. Grows (reallocates) only beyond that.
    void* chunk_table(size_t bytes);
    void* workspace() const { return workspace_.data(); }
    size_t workspace_bytes() const { return workspace_.bytes(); }

private:
    cublasLtHandle_t handle_ = nullptr;
    DeviceBuffer workspace_;
    DeviceBuffer scratch_;
    DeviceBuffer chunk_table_;
};

// Dense: y[m, 0:N] (mode)= x[m, 0:K] · W[expert]ᵀ for m in [0, M). x bf16 with row stride ldx; y of the mode's type
// with row stride ldy. M may be 0 (no-op). Chooses the kernel by M and format (decode GEMV for small M, tensor-core
// GEMM for large M).
void linear(const DeviceWeight& w, int64_t expert, const bf16* x, int64_t m, int64_t ldx, void* y, int64_t ldy,
            OutMode mode, GemmContext& ctx, cudaStream_t stream);

// Grouped (MoE prefill): rows of x are sorted by expert; expert e owns rows [offsets[e], offsets[e+1]) (device int32
// [E+1], offsets[E] = M). y[r] (mode)= x[r] · W[e]ᵀ. Reads offsets on the device (no host synchronisation), so it can
// be captured in a CUDA graph; `m` is the total row count (an upper bound is fine: rows >= offsets[E] are not touched).
// NVFP4 with m <= 8 E (few rows per expert) runs the tensor-core GEMV in 8-row chunks per expert, else the tile
// kernel; GemmPath Gemv / TensorCore force one of them (NVFP4 only; other formats always use the tile kernel).
// x_gather (device int32 [m], optional): row r of the grouped input is x[x_gather[r]] instead of x[r], so the MoE's
// token permutation is read in place (every kernel gathers its own rows; no permuted copy of x is written).
void linear_grouped(const DeviceWeight& w, const bf16* x, int64_t m, int64_t ldx, const int32_t* offsets, void* y,
                    int64_t ldy, OutMode mode, GemmContext& ctx, cudaStream_t stream,
                    const int32_t* x_gather = nullptr);

// Indexed (MoE decode): for r in [0, rows): y[r] (mode)= x[x_row[r]] · W[expert[r]]ᵀ. Only the selected experts'
// weights are read. x_row and expert are device int32 [rows]. With `extra` (one expert of w's format and [n, k]),
// expert id w.experts() selects it: the shared expert runs as expert E in the routed experts' launch.
void linear_indexed(const DeviceWeight& w, const bf16* x, int64_t ldx, const int32_t* x_row, const int32_t* expert,
                    int64_t rows, void* y, int64_t ldy, OutMode mode, GemmContext& ctx, cudaStream_t stream,
                    const DeviceWeight* extra = nullptr);

// The NVFP4 decode GEMV with its output gated: y[m] (mode)= sigmoid(gate_logit[m * ld_gate]) · (x[m]·Wᵀ) (the shared
// expert's gated add in the GEMV's store; gate_logit device f32, row stride ld_gate). 1 <= M <= 8 and NVFP4 weights
// only: gated_gemv_supported says whether a weight qualifies, linear_gated throws otherwise.
bool gated_gemv_supported(const DeviceWeight& w, int64_t m);
void linear_gated(const DeviceWeight& w, const bf16* x, int64_t m, int64_t ldx, void* y, int64_t ldy, OutMode mode,
                  const float* gate_logit, int64_t ld_gate, cudaStream_t stream);

// Which implementation linear() uses (addition for tests and benchmarks; Auto is the default and what the engine uses):
//   Gemv        the memory-bound decode kernel (any M, run in tiles of 8 rows)
//   TensorCore  qinfer's tiled mma kernels reading the stored format directly (also linear_grouped's): NVFP4
//               nvfp4_gemm.cu (weights decoded in registers), BF16 / FP8 the WMMA tile kernel in linear.cu
//   DequantBlas BF16: cuBLASLt directly; NVFP4/FP8: dequantize to BF16 scratch (row scale folded in) + cuBLASLt
//   Wgmma       NVFP4: the prefill GEMM on Hopper's warpgroup MMA (nvfp4_wgmma.cu; sm_90 only, throws elsewhere);
//               other formats: as TensorCore
// Process-wide, not thread-safe: set it only in tests / benchmarks.
enum class GemmPath : uint8_t { Auto, Gemv, TensorCore, DequantBlas, Wgmma };
void set_gemm_path(GemmPath p);
const char* gemm_path_name(GemmPath p);

}  // namespace qinfer::cuda
