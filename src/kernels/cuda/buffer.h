#pragma once
// defines: qinfer::cuda::DeviceBuffer, copy_to_device, copy_to_host, device_count
//
// Device memory is plain cudaMalloc (device README: no managed memory). DeviceBuffer owns one allocation (moves, never
// copies) and poisons nothing: tests poison outputs themselves (METHOD.md) so that unwritten elements show.

#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "kernels/cuda/check.h"

namespace qinfer::cuda {

class DeviceBuffer {
public:
    DeviceBuffer() = default;
    explicit DeviceBuffer(size_t bytes);
    ~DeviceBuffer();
    DeviceBuffer(DeviceBuffer&& o) noexcept : ptr_(o.ptr_), bytes_(o.bytes_) { o.ptr_ = nullptr; o.bytes_ = 0; }
    DeviceBuffer& operator=(DeviceBuffer&& o) noexcept;
    DeviceBuffer(const DeviceBuffer&) = delete;
    DeviceBuffer& operator=(const DeviceBuffer&) = delete;

    void* data() const { return ptr_; }
    template <class T>
    T* as() const { return static_cast<T*>(ptr_); }
    size_t bytes() const { return bytes_; }
    bool empty() const { return ptr_ == nullptr; }

private:
    void* ptr_ = nullptr;
    size_t bytes_ = 0;
};

// Number of CUDA devices visible (0 when the driver or a device is missing; never throws).
int device_count();

template <class T>
DeviceBuffer to_device(std::span<const T> host) {
    DeviceBuffer b(host.size_bytes());
    if (!host.empty()) QINFER_CUDA_CHECK(cudaMemcpy(b.data(), host.data(), host.size_bytes(), cudaMemcpyHostToDevice));
    return b;
}

template <class T>
std::vector<T> to_host(const void* device_ptr, size_t count) {
    std::vector<T> out(count);
    if (count) QINFER_CUDA_CHECK(cudaMemcpy(out.data(), device_ptr, count * sizeof(T), cudaMemcpyDeviceToHost));
    return out;
}

}  // namespace qinfer::cuda
