#pragma once
// defines: QINFER_CUDA_CHECK, QINFER_CUDA_LAUNCH_CHECK, QINFER_CUBLAS_CHECK, qinfer::cuda::check_*
//
// Every CUDA runtime / cuBLASLt call is checked (METHOD.md: exit code 0 proves nothing). Failures become qinfer::Error
// with the call's text, the error's name and the source location, so the CLI prints one line and tests can match it.
// Kernel launches are followed by QINFER_CUDA_LAUNCH_CHECK(), which reads cudaGetLastError() (launch configuration
// errors); asynchronous faults surface at the next synchronizing call, which is checked too.

#include <cublasLt.h>
#include <cuda_runtime.h>

#include <source_location>

namespace qinfer::cuda {

[[noreturn]] void throw_cuda_error(cudaError_t err, const char* expr,
                                   std::source_location loc = std::source_location::current());
[[noreturn]] void throw_cublas_error(cublasStatus_t st, const char* expr,
                                     std::source_location loc = std::source_location::current());

}  // namespace qinfer::cuda

#define QINFER_CUDA_CHECK(expr)                                                            \
    do {                                                                                   \
        const cudaError_t qinfer_cuda_err_ = (expr);                                       \
        if (qinfer_cuda_err_ != cudaSuccess) ::qinfer::cuda::throw_cuda_error(qinfer_cuda_err_, #expr); \
    } while (0)

#define QINFER_CUDA_LAUNCH_CHECK() QINFER_CUDA_CHECK(cudaGetLastError())

#define QINFER_CUBLAS_CHECK(expr)                                                          \
    do {                                                                                   \
        const cublasStatus_t qinfer_cublas_st_ = (expr);                                   \
        if (qinfer_cublas_st_ != CUBLAS_STATUS_SUCCESS) ::qinfer::cuda::throw_cublas_error(qinfer_cublas_st_, #expr); \
    } while (0)
