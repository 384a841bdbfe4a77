#include "kernels/cuda/sm90.h"

#include "kernels/cuda/buffer.h"
#include "kernels/cuda/check.h"
#include "kernels/cuda/launch.h"
#include "kernels/cuda/sm90.cuh"

namespace qinfer::cuda {
namespace {

// 1 when the variant of this file that runs on the device was compiled with wgmma (an sm_90a target), else 0.
__global__ void sm90a_probe_kernel(int* out) {
    grid_dependency_sync();  // PDL: first statement (launch.h)
#if defined(QINFER_WGMMA)
    *out = 1;
#else
    *out = 0;
#endif
}

}  // namespace

bool sm90a_available() {
    static const bool ok = [] {
        int dev = 0, major = 0, minor = 0;
        QINFER_CUDA_CHECK(cudaGetDevice(&dev));
        QINFER_CUDA_CHECK(cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, dev));
        QINFER_CUDA_CHECK(cudaDeviceGetAttribute(&minor, cudaDevAttrComputeCapabilityMinor, dev));
        if (major != 9 || minor != 0) return false;
        DeviceBuffer flag(sizeof(int));
        launch(sm90a_probe_kernel, 1, 1, 0, nullptr, flag.as<int>());
        int compiled = 0;
        QINFER_CUDA_CHECK(cudaMemcpy(&compiled, flag.data(), sizeof(int), cudaMemcpyDeviceToHost));
        return compiled == 1;
    }();
    return ok;
}

}  // namespace qinfer::cuda
