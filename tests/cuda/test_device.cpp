// The CUDA runtime plumbing: device discovery, buffers, and that errors become qinfer::Error naming the call.

#include <gtest/gtest.h>

#include "gpu_test_util.h"
#include "kernels/cuda/buffer.h"
#include "test_util.h"

namespace qinfer::test::gpu {
namespace {

TEST(CudaDevice, BufferRoundTrip) {
    QINFER_REQUIRE_GPU();
    const Tensor x = randn({3, 5});
    const cuda::DeviceBuffer b = upload_f32(x);
    EXPECT_EQ(b.bytes(), 15 * sizeof(float));
    const Tensor y = download_f32(b, {3, 5});
    EXPECT_EQ(max_abs_diff(y, x), 0.0);
}

TEST(CudaDevice, HugeAllocationFailsWithAClearError) {
    QINFER_REQUIRE_GPU();
    EXPECT_ERROR_CONTAINS(cuda::DeviceBuffer(size_t{1} << 50), "out of GPU memory", "MiB free");
}

TEST(CudaDevice, FailedCallNamesTheCall) {
    QINFER_REQUIRE_GPU();
    EXPECT_ERROR_CONTAINS(QINFER_CUDA_CHECK(cudaSetDevice(1 << 20)), "cudaSetDevice", "CUDA error");
}

}  // namespace
}  // namespace qinfer::test::gpu
