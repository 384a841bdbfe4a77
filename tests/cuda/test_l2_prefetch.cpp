// The decode L2 prefetch (kernels/cuda/l2_prefetch.h). A prefetch changes no value, so what can go wrong is the plan
// (which bytes are an expert's slice) and the launch (a range widened past its buffer, an id out of range, a capture):
// these tests check the plan's arithmetic exactly and that every launch, including hostile ids, leaves the device
// without an error.

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "gpu_test_util.h"
#include "kernels/cuda/check.h"
#include "kernels/cuda/l2_prefetch.h"
#include "kernels/cuda/linear.h"
#include "test_util.h"

namespace qinfer::test::gpu {
namespace {

using cuda::DeviceWeight;
using cuda::L2Prefetch;
using cuda::WeightFormat;

TEST(CudaL2Prefetch, PlanSlicesEveryExpertBuffer) {
    QINFER_REQUIRE_GPU();
    const DeviceWeight experts(WeightFormat::NVFP4, 6, 48, 128), shared(WeightFormat::NVFP4, 1, 48, 128);
    L2Prefetch plan;
    plan.add_experts(experts, &shared);
    ASSERT_EQ(plan.n_expert, 3);  // codes, block scales, row scales
    EXPECT_EQ(plan.experts, 6);
    EXPECT_EQ(plan.extra_id, 6);
    const cuda::DeviceBuffer* b[3] = {&experts.data(), &experts.scales(), &experts.row_scale()};
    const cuda::DeviceBuffer* x[3] = {&shared.data(), &shared.scales(), &shared.row_scale()};
    for (int i = 0; i < 3; ++i) {
        EXPECT_EQ(plan.expert[i].p, b[i]->data());
        EXPECT_EQ(plan.expert[i].bytes * 6, b[i]->bytes());
        EXPECT_EQ(plan.extra[i].p, x[i]->data());
        EXPECT_EQ(plan.extra[i].bytes, x[i]->bytes());
    }
    EXPECT_EQ(plan.bytes_per_expert(), experts.expert_bytes());

    const DeviceWeight wrong_shape(WeightFormat::NVFP4, 1, 32, 128), bf16(WeightFormat::BF16, 1, 48, 128);
    L2Prefetch p2;
    EXPECT_ERROR_CONTAINS(p2.add_experts(experts, &wrong_shape), "extra expert");
    EXPECT_ERROR_CONTAINS(p2.add_experts(experts, &bf16), "extra expert");
    const DeviceWeight other_count(WeightFormat::BF16, 4, 16, 64);
    EXPECT_ERROR_CONTAINS(plan.add_experts(other_count, nullptr), "different expert counts");
}

TEST(CudaL2Prefetch, FixedRangesStopWhenThePlanIsFull) {
    QINFER_REQUIRE_GPU();
    const DeviceWeight w(WeightFormat::FP8, 1, 16, 64);  // two buffers: data and row scales
    L2Prefetch plan;
    for (int i = 0; i < L2Prefetch::kMaxFixed / 2; ++i) ASSERT_TRUE(plan.add_fixed(w));
    EXPECT_EQ(plan.n_fixed, L2Prefetch::kMaxFixed);
    EXPECT_FALSE(plan.add_fixed(w));
    EXPECT_EQ(plan.n_fixed, L2Prefetch::kMaxFixed);
    EXPECT_EQ(plan.fixed_bytes(), static_cast<uint64_t>(L2Prefetch::kMaxFixed / 2) * w.bytes());
}

// Launches over odd-sized buffers (ends not on 16 bytes), ids that are no expert (skipped, not dereferenced), budgets
// that cut the plan, and inside a stream capture: the device must report no error afterwards.
TEST(CudaL2Prefetch, LaunchesCleanlyOnEveryPlan) {
    QINFER_REQUIRE_GPU();
    const DeviceWeight experts(WeightFormat::NVFP4, 8, 40, 96), shared(WeightFormat::NVFP4, 1, 40, 96);
    const DeviceWeight dense(WeightFormat::BF16, 1, 24, 40), fp8(WeightFormat::FP8, 1, 3, 16);
    L2Prefetch plan;
    plan.add_experts(experts, &shared);
    ASSERT_TRUE(plan.add_fixed(dense));
    ASSERT_TRUE(plan.add_fixed(fp8));  // row scales: 12 bytes
    const auto ids = upload_i32({0, 7, 8, -1, 9, 1 << 30, 3});
    cudaStream_t s = nullptr;
    QINFER_CUDA_CHECK(cudaStreamCreate(&s));
    for (const uint64_t budget : {uint64_t{0}, uint64_t{100}, uint64_t{4096}, uint64_t{1} << 30}) {
        cuda::l2_prefetch(plan, ids.as<int32_t>(), 7, budget, s);
        cuda::l2_prefetch(plan, nullptr, 0, budget, s);
    }
    cudaGraph_t graph = nullptr;
    QINFER_CUDA_CHECK(cudaStreamBeginCapture(s, cudaStreamCaptureModeThreadLocal));
    cuda::l2_prefetch(plan, ids.as<int32_t>(), 7, uint64_t{1} << 30, s);
    QINFER_CUDA_CHECK(cudaStreamEndCapture(s, &graph));
    cudaGraphExec_t exec = nullptr;
    QINFER_CUDA_CHECK(cudaGraphInstantiate(&exec, graph, 0));
    QINFER_CUDA_CHECK(cudaGraphLaunch(exec, s));
    EXPECT_EQ(cudaStreamSynchronize(s), cudaSuccess);
    EXPECT_EQ(cudaGetLastError(), cudaSuccess);
    cudaGraphExecDestroy(exec);
    cudaGraphDestroy(graph);
    cudaStreamDestroy(s);
    EXPECT_ERROR_CONTAINS(cuda::l2_prefetch(plan, nullptr, 3, uint64_t{1} << 30, nullptr), "3 rows with no id array");
}

}  // namespace
}  // namespace qinfer::test::gpu
