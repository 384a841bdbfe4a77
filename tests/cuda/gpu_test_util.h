#pragma once
// defines: QINFER_REQUIRE_GPU, qinfer::test::gpu helpers (random inputs, bf16 round trips, device copies, error norms)
//
// The GPU suite (binary qinfer_gpu_tests) compares every CUDA op with the CPU reference (src/ops, fp32) on fresh
// random inputs (METHOD.md): each test draws new data from a seeded generator, poisons outputs before the kernel runs
// (NaN bit patterns, so an unwritten element fails every comparison) and states its tolerance and why. Without a GPU
// the tests skip (CI has none); tools/gpu/run.sh runs them on the H100.

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "core/dtype.h"
#include "core/tensor.h"
#include "kernels/cuda/buffer.h"
#include "kernels/cuda/types.h"

#define QINFER_REQUIRE_GPU()                                                   \
    do {                                                                       \
        if (::qinfer::cuda::device_count() == 0) GTEST_SKIP() << "no CUDA device"; \
    } while (0)

namespace qinfer::test::gpu {

// A generator seeded from the test's name and a counter, so every test (and every call) gets different data, and a
// failure reproduces.
std::mt19937_64& rng();

// f32 tensor of N(0, stddev) values.
Tensor randn(Shape shape, float stddev = 1.0f);
// f32 tensor of U(lo, hi) values.
Tensor uniform(Shape shape, float lo, float hi);
// Rounds every element to bf16 (so a CPU reference sees exactly the values the GPU kernel reads).
Tensor round_to_bf16(const Tensor& t);

// Host → device as bf16 / f32 / int32; device → host as f32 (from bf16 or f32).
cuda::DeviceBuffer upload_bf16(const Tensor& t);
cuda::DeviceBuffer upload_f32(const Tensor& t);
cuda::DeviceBuffer upload_i32(const std::vector<int32_t>& v);
Tensor download_bf16(const cuda::DeviceBuffer& b, Shape shape);
Tensor download_f32(const cuda::DeviceBuffer& b, Shape shape);
// Allocates `bytes` and fills them with 0xFF (a NaN for f32 and bf16).
cuda::DeviceBuffer poisoned(size_t bytes);

// ‖out − ref‖₂ / ‖ref‖₂ (NaN in out gives NaN, which fails every `<` check), and max |out − ref|.
double rel_l2(const Tensor& out, const Tensor& ref);
double max_abs_diff(const Tensor& out, const Tensor& ref);
// Asserts same shape, all finite, and rel_l2 <= tol; prints both norms and the worst element on failure.
void expect_close(const Tensor& out, const Tensor& ref, double tol, const std::string& what);

}  // namespace qinfer::test::gpu
