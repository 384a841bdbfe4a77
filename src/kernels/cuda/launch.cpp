#include "kernels/cuda/launch.h"

#include <cstdlib>
#include <cstring>

namespace qinfer::cuda {

bool pdl_enabled() {
    static const bool enabled = [] {
        const char* env = std::getenv("QINFER_PDL");
        if (env != nullptr && std::strcmp(env, "0") == 0) return false;
        int dev = 0, major = 0;
        if (cudaGetDevice(&dev) != cudaSuccess) return false;
        if (cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, dev) != cudaSuccess) return false;
        return major >= 9;
    }();
    return enabled;
}

int sm_count() {
    static const int n = [] {
        int dev = 0, v = 0;
        QINFER_CUDA_CHECK(cudaGetDevice(&dev));
        QINFER_CUDA_CHECK(cudaDeviceGetAttribute(&v, cudaDevAttrMultiProcessorCount, dev));
        return v;
    }();
    return n;
}

}  // namespace qinfer::cuda
