#include "gpu_test_util.h"

#include <cmath>
#include <cstring>
#include <functional>

namespace qinfer::test::gpu {

std::mt19937_64& rng() {
    // Reseeded per test from its full name; successive calls within a test continue the stream.
    static std::mt19937_64 gen;
    static std::string current;
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    const std::string name = info ? std::string(info->test_suite_name()) + "." + info->name() : std::string();
    if (name != current) {
        current = name;
        gen.seed(std::hash<std::string>{}(name) ^ 0x9E3779B97F4A7C15ull);
    }
    return gen;
}

Tensor randn(Shape shape, float stddev) {
    Tensor t(std::move(shape));
    std::normal_distribution<float> d(0.0f, stddev);
    for (float& v : t.vec()) v = d(rng());
    return t;
}

Tensor uniform(Shape shape, float lo, float hi) {
    Tensor t(std::move(shape));
    std::uniform_real_distribution<float> d(lo, hi);
    for (float& v : t.vec()) v = d(rng());
    return t;
}

Tensor round_to_bf16(const Tensor& t) {
    Tensor r = t;
    for (float& v : r.vec()) v = round_bf16(v);
    return r;
}

cuda::DeviceBuffer upload_bf16(const Tensor& t) {
    std::vector<uint16_t> h(static_cast<size_t>(t.numel()));
    for (size_t i = 0; i < h.size(); ++i) h[i] = f32_to_bf16(t.data()[i]);
    return cuda::to_device(std::span<const uint16_t>(h));
}

cuda::DeviceBuffer upload_f32(const Tensor& t) { return cuda::to_device(t.span()); }

cuda::DeviceBuffer upload_i32(const std::vector<int32_t>& v) { return cuda::to_device(std::span<const int32_t>(v)); }

Tensor download_bf16(const cuda::DeviceBuffer& b, Shape shape) {
    Tensor t(std::move(shape));
    const auto h = cuda::to_host<uint16_t>(b.data(), static_cast<size_t>(t.numel()));
    for (size_t i = 0; i < h.size(); ++i) t.data()[i] = bf16_to_f32(h[i]);
    return t;
}

Tensor download_f32(const cuda::DeviceBuffer& b, Shape shape) {
    Tensor t(std::move(shape));
    const auto h = cuda::to_host<float>(b.data(), static_cast<size_t>(t.numel()));
    std::memcpy(t.data(), h.data(), h.size() * sizeof(float));
    return t;
}

cuda::DeviceBuffer poisoned(size_t bytes) {
    cuda::DeviceBuffer b(bytes);
    QINFER_CUDA_CHECK(cudaMemset(b.data(), 0xFF, bytes));
    return b;
}

double rel_l2(const Tensor& out, const Tensor& ref) {
    double num = 0.0, den = 0.0;
    for (int64_t i = 0; i < ref.numel(); ++i) {
        const double d = static_cast<double>(out.data()[i]) - ref.data()[i];
        num += d * d;
        den += static_cast<double>(ref.data()[i]) * ref.data()[i];
    }
    return std::sqrt(num) / std::sqrt(den > 0 ? den : 1.0);
}

double max_abs_diff(const Tensor& out, const Tensor& ref) {
    double m = 0.0;
    for (int64_t i = 0; i < ref.numel(); ++i) {
        const double d = std::fabs(static_cast<double>(out.data()[i]) - ref.data()[i]);
        if (!(d <= m)) m = d;  // NaN propagates
    }
    return m;
}

void expect_close(const Tensor& out, const Tensor& ref, double tol, const std::string& what) {
    ASSERT_EQ(out.shape(), ref.shape()) << what;
    int64_t nonfinite = 0, worst = 0;
    double worst_d = -1.0;
    for (int64_t i = 0; i < out.numel(); ++i) {
        if (!std::isfinite(out.data()[i])) ++nonfinite;
        const double d = std::fabs(static_cast<double>(out.data()[i]) - ref.data()[i]);
        if (d > worst_d) { worst_d = d; worst = i; }
    }
    EXPECT_EQ(nonfinite, 0) << what << ": " << nonfinite << " non-finite (unwritten?) elements";
    const double r = rel_l2(out, ref);
    EXPECT_LE(r, tol) << what << ": rel L2 error " << r << " > " << tol << "; worst element " << worst << " out "
                      << out.data()[worst] << " ref " << ref.data()[worst];
}

}  // namespace qinfer::test::gpu
