#include "kernels/cuda/buffer.h"

#include "core/check.h"

namespace qinfer::cuda {

DeviceBuffer::DeviceBuffer(size_t bytes) : bytes_(bytes) {
    if (bytes == 0) return;
    const cudaError_t err = cudaMalloc(&ptr_, bytes);
    if (err == cudaErrorMemoryAllocation) {
        size_t free_b = 0, total_b = 0;
        (void)cudaGetLastError();
        (void)cudaMemGetInfo(&free_b, &total_b);
        QINFER_FAIL("out of GPU memory: cannot allocate ", bytes, " bytes (", free_b >> 20, " MiB free of ",
                    total_b >> 20, " MiB)");
    }
    QINFER_CUDA_CHECK(err);
}

DeviceBuffer::~DeviceBuffer() {
    if (ptr_) cudaFree(ptr_);  // no throw from a destructor; a failing free means the context is already gone
}

DeviceBuffer& DeviceBuffer::operator=(DeviceBuffer&& o) noexcept {
    if (this != &o) {
        if (ptr_) cudaFree(ptr_);
        ptr_ = o.ptr_;
        bytes_ = o.bytes_;
        o.ptr_ = nullptr;
        o.bytes_ = 0;
    }
    return *this;
}

int device_count() {
    int n = 0;
    if (cudaGetDeviceCount(&n) != cudaSuccess) {
        (void)cudaGetLastError();
        return 0;
    }
    return n;
}

}  // namespace qinfer::cuda
