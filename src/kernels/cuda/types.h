#pragma once
// defines: qinfer::cuda::bf16, OutMode
//
// Conventions of the CUDA backend (docs/ARCHITECTURE.md, "CUDA backend"):
//  - activations between kernels are BF16 (GEMM inputs, attention/GDN inputs and outputs); every reduction and every
//    GEMM accumulates in fp32;
//  - the residual stream h is fp32 [T, H] (it costs T*H*4 bytes; keeping it fp32 removes the bf16 rounding of
//    every residual add, so the GPU stays within bf16 tolerance of the fp32 reference over many layers);
//  - small parameters (norm weights, A_log, dt_bias, conv1d) are fp32 on the device; GEMM weights stay in their stored
//    format (BF16, NVFP4, FP8);
//  - the GDN recurrent state is fp32;
//  - all tensors are row-major with the last dimension contiguous, as in the CPU reference (core/tensor.h);
//  - every function takes a cudaStream_t and is asynchronous; nothing reads device values on the host inside a
//    forward step, so decode steps can be captured into CUDA graphs (positions, slots, expert ids live on the device).

#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <cstdint>

namespace qinfer::cuda {

using bf16 = __nv_bfloat16;

// How a kernel writes its [M, N] result y (row stride ldy, in elements of y's type):
enum class OutMode : uint8_t {
    StoreBF16,  // y is bf16: y = result
    StoreF32,   // y is f32:  y = result
    AddF32,     // y is f32:  y += result (residual add fused into the epilogue)
};

}  // namespace qinfer::cuda
