#include "kernels/cuda/check.h"

#include "core/check.h"

namespace qinfer::cuda {

void throw_cuda_error(cudaError_t err, const char* expr, std::source_location loc) {
    // Clear the runtime's last-error slot so that a reported (non-sticky) failure does not resurface at the next
    // launch check as if that launch had failed.
    (void)cudaGetLastError();
    throw Error(str_cat("CUDA error ", cudaGetErrorName(err), " (", cudaGetErrorString(err), ") in ", expr, " at ",
                        loc.file_name(), ":", loc.line()), loc);
}

void throw_cublas_error(cublasStatus_t st, const char* expr, std::source_location loc) {
    throw Error(str_cat("cuBLASLt error ", cublasLtGetStatusName(st), " (", cublasLtGetStatusString(st), ") in ", expr,
                        " at ", loc.file_name(), ":", loc.line()), loc);
}

}  // namespace qinfer::cuda
