#pragma once
// defines: qinfer::cuda::nvfp4::GemvArgs, launch_gemv, launch_gemm, upload_rows (private to src/kernels/cuda:
// linear.cu's NVFP4 decode and prefill paths and upload; the layout is described in nvfp4_tiles.cuh)

#include <cuda_runtime.h>

#include <cstdint>

#include "kernels/cuda/types.h"

namespace qinfer::cuda::nvfp4 {

struct GemvArgs {
    const uint8_t* codes;     // tiled codes (nvfp4_tiles.cuh)
    const uint8_t* scales;    // tiled encoded block scales
    const float* row_scale;   // f32 [E * N]
    int n, k;                 // logical shape of one expert
    int64_t np_tiles, kt;     // Np / 16, Kp / 64
    int64_t expert;           // dense mode: which expert
    const bf16* x;
    int64_t ldx;
    int m;                    // dense mode: rows of x
    const int32_t* x_row;     // indexed mode (both non-null): output row r reads x[x_row[r]] and W[expert_idx[r]]
    const int32_t* expert_idx;
    const int32_t* offsets;   // grouped mode (non-null): rows of x sorted by expert, expert e owns
    int num_experts;          //   [offsets[e], offsets[e+1]) (device int32 [E+1]); m = total row bound
    int4* chunks;             // grouped mode: device scratch of grouped_chunk_table_bytes (filled by launch_gemv)
    const int32_t* x_gather;  // grouped mode, optional: row r reads x[x_gather[r]] (null: x[r])
    void* y;
    int64_t ldy;
    OutMode mode;
    const float* sigmoid_gate;  // non-null: y[r] (mode)= sigmoid(sigmoid_gate[r * ld_gate]) · (x·Wᵀ)[r]  (GEMV only)
    int64_t ld_gate;
    // indexed mode, extra_codes non-null: rows whose expert_idx is extra_expert read this single expert (same n, k)
    // instead (the MoE decode's shared expert, run as expert E of the routed experts' launch)
    const uint8_t* extra_codes;
    const uint8_t* extra_scales;
    const float* extra_row_scale;
    int extra_expert;
    bool vec_store;             // set by launch_gemm: y rows allow 8 / 16-byte stores
};

// y (mode)= x · Wᵀ on the tensor cores. Dense: `rows` = M (tiles of 8 tokens); indexed: `rows` output rows;
// grouped (a.offsets set): `rows` = the row bound m; each expert's rows go in chunks of 8 (every distinct expert's
// weights are read once per chunk: the decode-time MoE with many sequences, where experts get few rows each).
void launch_gemv(const GemvArgs& a, int64_t rows, bool indexed, cudaStream_t s);
// Prefill GEMM (nvfp4_gemm.cu): the same operation for many rows, 256 weight rows x 128 tokens per CTA. Dense:
// `rows` = M; grouped (a.offsets set): `rows` = the row bound m, each expert's rows in chunks of kGemmTokens.
constexpr int kGemmTokens = 128;
void launch_gemm(const GemvArgs& a, int64_t rows, cudaStream_t s);
// The same GEMM on Hopper's warpgroup MMA (nvfp4_wgmma.cu): work tiles of 256 weight rows x 128 tokens, up to 4 per
// CTA, dense or grouped (chunks of kGemmTokens), x_gather honoured, every OutMode. Only on sm_90 devices running a
// build with the sm_90a target (sm90.h's sm90a_available()).
void launch_gemm_wgmma(const GemvArgs& a, int64_t rows, cudaStream_t s);
// Shared by both GEMM launches: checks the mode, bounds the token chunks (*gy: launch_gemm's grid y,
// launch_gemm_wgmma's work-list rows), builds the grouped chunk table (chunks of kGemmTokens) on stream s, and returns
// a copy of a with vec_store set (launch_gemm's epilogue; the wgmma one checks its own 16-byte rule).
GemvArgs prepare_gemm(const GemvArgs& a, int64_t rows, int64_t* gy, cudaStream_t s);

// Grouped rows (sorted by expert, device offsets [E+1]) cut into chunks of at most per_chunk rows of one expert:
// table[1 + c] = (expert, first row, rows, 0), table[0].w = number of chunks; built on the device by one block, so
// kernels over the chunks (this GEMV: 8 rows; launch_gemm and linear.cu's tile kernel: 128) read their chunk instead
// of scanning the offsets. grouped_chunk_table_bytes is the table's size for a row bound m.
size_t grouped_chunk_table_bytes(int64_t m, int64_t experts, int per_chunk);
void build_chunk_table(const int32_t* offsets, int num_experts, int64_t m, int per_chunk, int4* table, cudaStream_t s);

// Writes rows [row0, row0 + rows) of a weight of `n` rows per expert and K = k (checkpoint layout on the host:
// codes uint8 [rows, k/2] with element 2j in the low nibble of byte j, E4M3 block scales [rows, k/16]) into the tiled
// buffers. Synchronous. Throws naming the row and block of a NaN or negative block scale.
void upload_rows(uint8_t* codes, uint8_t* scales, int64_t n, int64_t k, int64_t row0, int64_t rows,
                 const uint8_t* host_codes, const uint8_t* host_scales);

}  // namespace qinfer::cuda::nvfp4
