// TMA tensor-map encoding (kernels/cuda/tma.h): the argument checks that run before the driver is asked. They need
// no device, so they run in CI too; the valid maps are exercised by the wgmma attention tests (test_attention.cpp).

#include <gtest/gtest.h>

#include <cstdint>
#include <string>

#include "core/check.h"
#include "kernels/cuda/tma.h"

namespace qinfer::test::gpu {
namespace {

TEST(CudaTma, RejectsBadArgumentsBeforeTheDriver) {
    alignas(16) static uint8_t storage[64];
    const uint64_t dims[3] = {256, 2, 64};
    const uint64_t strides[2] = {512, 1024};
    const uint32_t box[3] = {64, 1, 64};
    EXPECT_THROW(cuda::tma_map_bf16_3d(storage + 2, dims, strides, box, "misaligned"), qinfer::Error);
    const uint64_t odd_strides[2] = {520, 1024};
    EXPECT_THROW(cuda::tma_map_bf16_3d(storage, dims, odd_strides, box, "odd stride"), qinfer::Error);
    const uint32_t wide_box[3] = {128, 1, 64};  // 256 bytes: wider than the 128-byte swizzle
    EXPECT_THROW(cuda::tma_map_bf16_3d(storage, dims, strides, wide_box, "wide box"), qinfer::Error);
    try {
        cuda::tma_map_bf16_3d(storage, dims, odd_strides, box, "KV cache k");
        ADD_FAILURE() << "an odd stride was accepted";
    } catch (const qinfer::Error& e) {
        EXPECT_NE(std::string(e.what()).find("KV cache k"), std::string::npos) << e.what();
    }
}

}  // namespace
}  // namespace qinfer::test::gpu
