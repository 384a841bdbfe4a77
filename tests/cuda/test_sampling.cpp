// CUDA token selection (kernels/cuda/sampling.h) against the CPU sampler's semantics (runtime/sampler.cpp): argmax
// with ties to the lowest id; sampling restricted exactly to the CPU's top-k / top-p support, with the CPU's
// probabilities (checked by frequencies over many draws), deterministic per (seed, counter).

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <set>
#include <string>
#include <vector>

#include "gpu_test_util.h"
#include "kernels/cuda/sampling.h"

namespace qinfer::test::gpu {
namespace {

std::vector<int32_t> gpu_argmax(const Tensor& logits, int64_t ld, int64_t B, int64_t V) {
    const auto dl = upload_f32(logits);
    auto dout = poisoned(static_cast<size_t>(B) * 4);
    cuda::argmax_rows(dl.as<float>(), ld, B, V, dout.as<int32_t>(), nullptr);
    return cuda::to_host<int32_t>(dout.data(), static_cast<size_t>(B));
}

int32_t cpu_argmax(const float* row, int64_t V) { return static_cast<int32_t>(std::max_element(row, row + V) - row); }

TEST(CudaSampling, ArgmaxMatchesCpuWithTies) {
    QINFER_REQUIRE_GPU();
    for (const int64_t V : {7, 1000, 248320}) {
        for (const int64_t B : {1, 5, 64}) {
            for (const int64_t pad : {0, 1}) {  // pad 1: odd row stride, scalar path
                const int64_t ld = V + pad;
                Tensor l = randn({B, ld}, 3.0f);
                // Ties: in every other row, copy the max to a few lower (and higher) positions.
                std::uniform_int_distribution<int64_t> d(0, V - 1);
                for (int64_t b = 0; b < B; b += 2) {
                    float* row = l.data() + b * ld;
                    const float mx = *std::max_element(row, row + V);
                    for (int c = 0; c < 3; ++c) row[d(rng())] = mx;
                    if (b == 0) row[V - 1] = mx + 1.0f, row[0] = mx + 1.0f;  // ends of the row tie for the max
                }
                const auto got = gpu_argmax(l, ld, B, V);
                for (int64_t b = 0; b < B; ++b)
                    ASSERT_EQ(got[b], cpu_argmax(l.data() + b * ld, V)) << "V=" << V << " B=" << B << " ld=" << ld
                                                                          << " row " << b;
            }
        }
    }
}

// The CPU sampler's distribution (runtime/sampler.cpp), in double: probability of every id (0 outside the support).
std::vector<double> cpu_probs(const float* l, int64_t V, float temp, int64_t top_k, float top_p) {
    std::vector<int64_t> idx(static_cast<size_t>(V));
    std::iota(idx.begin(), idx.end(), 0);
    std::stable_sort(idx.begin(), idx.end(), [&](int64_t a, int64_t b) { return l[a] > l[b]; });
    int64_t keep = V;
    if (top_k > 0) keep = std::min(keep, top_k);
    std::vector<double> p(static_cast<size_t>(keep));
    const double mx = l[idx[0]] / temp;
    double sum = 0.0;
    for (int64_t i = 0; i < keep; ++i) sum += p[i] = std::exp(l[idx[i]] / static_cast<double>(temp) - mx);
    if (top_p < 1.0f) {
        double cum = 0.0;
        int64_t cut = keep;
        for (int64_t i = 0; i < keep; ++i) {
            cum += p[i] / sum;
            if (cum >= top_p) {
                cut = i + 1;
                break;
            }
        }
        keep = cut;
    }
    double s = 0.0;
    for (int64_t i = 0; i < keep; ++i) s += p[i];
    std::vector<double> out(static_cast<size_t>(V), 0.0);
    for (int64_t i = 0; i < keep; ++i) out[idx[i]] = p[i] / s;
    return out;
}

// B rows of samples; counters[b] = counter0 + b.
std::vector<int32_t> gpu_sample(const Tensor& logits, int64_t ld, int64_t B, int64_t V, float temp, int top_k,
                                float top_p, uint64_t seed, uint64_t counter0) {
    std::vector<uint64_t> ctr(static_cast<size_t>(B));
    std::iota(ctr.begin(), ctr.end(), counter0);
    const auto dl = upload_f32(logits);
    const auto dc = cuda::to_device(std::span<const uint64_t>(ctr));
    auto dout = poisoned(static_cast<size_t>(B) * 4);
    const size_t sb = cuda::sample_rows_scratch_bytes(B, V);
    cuda::DeviceBuffer scratch = sb ? poisoned(sb) : cuda::DeviceBuffer();
    cuda::sample_rows(dl.as<float>(), ld, B, V, temp, top_k, top_p, seed, dc.as<uint64_t>(), dout.as<int32_t>(),
                      scratch.data(), sb, nullptr);
    return cuda::to_host<int32_t>(dout.data(), static_cast<size_t>(B));
}

// The same logits row repeated B times.
Tensor repeat_row(const std::vector<float>& row, int64_t B) {
    Tensor t({B, static_cast<int64_t>(row.size())});
    for (int64_t b = 0; b < B; ++b) std::copy(row.begin(), row.end(), t.data() + b * static_cast<int64_t>(row.size()));
    return t;
}

TEST(CudaSampling, TopK1EqualsArgmax) {
    QINFER_REQUIRE_GPU();
    for (const int64_t V : {7, 1000, 248320}) {
        const int64_t B = 8;
        Tensor l = randn({B, V}, 2.0f);
        for (int64_t b = 0; b < B; b += 2) {  // ties for the max
            float* row = l.data() + b * V;
            const float mx = *std::max_element(row, row + V);
            row[V - 1] = mx;
            row[V / 2] = mx;
        }
        for (const uint64_t ctr : {0ull, 12345ull}) {
            const auto got = gpu_sample(l, V, B, V, 0.7f, 1, 1.0f, 42, ctr);
            for (int64_t b = 0; b < B; ++b) ASSERT_EQ(got[b], cpu_argmax(l.data() + b * V, V)) << "V=" << V << " b=" << b;
            const auto got_p = gpu_sample(l, V, B, V, 1.0f, 1, 0.5f, 7, ctr);
            for (int64_t b = 0; b < B; ++b) ASSERT_EQ(got_p[b], cpu_argmax(l.data() + b * V, V)) << "top_p V=" << V;
        }
    }
}

// Frequencies over N draws (the same row in every batch row, counters 0..N-1) against the CPU distribution: every id
// outside the support never drawn; every id within 5 sigma of N·p (binomial sigma; a false failure has probability
// < 1e-5 per id, and the draws are deterministic, so a pass stays a pass).
void check_distribution(const std::vector<float>& row, float temp, int top_k, float top_p, const std::string& what) {
    const int64_t V = static_cast<int64_t>(row.size());
    const int64_t B = 4096, rounds = 10, N = B * rounds;
    const Tensor l = repeat_row(row, B);
    std::vector<int64_t> hits(static_cast<size_t>(V), 0);
    for (int64_t r = 0; r < rounds; ++r) {
        const auto got = gpu_sample(l, V, B, V, temp, top_k, top_p, 2024, static_cast<uint64_t>(r * B));
        for (const int32_t t : got) {
            ASSERT_TRUE(t >= 0 && t < V) << what;
            ++hits[t];
        }
    }
    const auto p = cpu_probs(row.data(), V, temp, top_k, top_p);
    for (int64_t v = 0; v < V; ++v) {
        if (p[v] == 0.0) {
            EXPECT_EQ(hits[v], 0) << what << ": id " << v << " is outside the CPU's support";
            continue;
        }
        const double mean = static_cast<double>(N) * p[v];
        const double sigma = std::sqrt(mean * (1.0 - p[v]));
        EXPECT_LE(std::abs(static_cast<double>(hits[v]) - mean), 5.0 * sigma + 1.0)
            << what << ": id " << v << " drawn " << hits[v] << " times, expected " << mean;
    }
}

TEST(CudaSampling, DistributionMatchesSoftmax) {
    QINFER_REQUIRE_GPU();
    const std::vector<float> row7 = {1.0f, 2.5f, -0.5f, 2.0f, 0.3f, 2.5f, -3.0f};  // ids 1 and 5 tie
    check_distribution(row7, 1.0f, 0, 1.0f, "V=7 plain");
    check_distribution(row7, 0.7f, 0, 1.0f, "V=7 T=0.7");
    check_distribution(row7, 1.3f, 3, 1.0f, "V=7 top_k=3");
    check_distribution(row7, 1.0f, 2, 1.0f, "V=7 top_k=2 (the tie at the top)");
    check_distribution(row7, 1.0f, 0, 0.8f, "V=7 top_p=0.8");
    check_distribution(row7, 2.0f, 5, 0.6f, "V=7 top_k=5 top_p=0.6");
    // Ties cut inside a run of equal logits: only the lowest ids of the run are kept.
    check_distribution({1.f, 1.f, 1.f, 1.f, 0.f, 0.f, 0.f}, 1.0f, 2, 1.0f, "V=7 top_k=2 inside 4 ties");
    check_distribution({0.f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f}, 1.0f, 0, 0.3f, "V=8 all equal top_p=0.3");
    std::vector<float> row50(50);
    for (auto& v : row50) v = std::normal_distribution<float>(0.0f, 1.5f)(rng());
    check_distribution(row50, 0.8f, 20, 0.9f, "V=50 top_k=20 top_p=0.9");
}

TEST(CudaSampling, TopPAndTopKRestrictTheSupportAtLargeV) {
    QINFER_REQUIRE_GPU();
    struct Case { int64_t V; float temp; int top_k; float top_p; };
    for (const Case c : {Case{1000, 1.0f, 0, 0.5f}, Case{248320, 0.7f, 20, 0.95f}, Case{248320, 1.0f, 0, 0.9f},
                         Case{248320, 1.0f, 1000, 1.0f}, Case{1000, 1.5f, 50, 0.7f}}) {
        const int64_t B = 64;
        const Tensor l = randn({B, c.V}, 3.0f);
        const std::string what = "V=" + std::to_string(c.V) + " top_k=" + std::to_string(c.top_k) +
                                 " top_p=" + std::to_string(c.top_p);
        for (const uint64_t ctr : {0ull, 999ull}) {
            const auto got = gpu_sample(l, c.V, B, c.V, c.temp, c.top_k, c.top_p, 5, ctr);
            for (int64_t b = 0; b < B; ++b) {
                const auto p = cpu_probs(l.data() + b * c.V, c.V, c.temp, c.top_k, c.top_p);
                ASSERT_TRUE(got[b] >= 0 && got[b] < c.V) << what;
                EXPECT_GT(p[got[b]], 0.0) << what << " row " << b << ": token " << got[b] << " outside the support";
            }
        }
    }
}

TEST(CudaSampling, DeterministicPerSeedAndCounter) {
    QINFER_REQUIRE_GPU();
    for (const int64_t V : {1000, 248320}) {
        const int64_t B = 64;
        const Tensor l = randn({B, V}, 1.0f);  // flat enough that many tokens are likely
        const auto a = gpu_sample(l, V, B, V, 1.0f, 0, 0.95f, 77, 100);
        const auto b = gpu_sample(l, V, B, V, 1.0f, 0, 0.95f, 77, 100);
        const auto c = gpu_sample(l, V, B, V, 1.0f, 0, 0.95f, 77, 101);
        const auto d = gpu_sample(l, V, B, V, 1.0f, 0, 0.95f, 78, 100);
        EXPECT_EQ(a, b) << "same (seed, counter) must give the same tokens, V=" << V;
        int diff_c = 0, diff_d = 0;
        for (int64_t i = 0; i < B; ++i) diff_c += a[i] != c[i], diff_d += a[i] != d[i];
        // With hundreds of plausible tokens per row, a fresh draw repeats the token rarely: most of 64 rows differ.
        EXPECT_GE(diff_c, B / 2) << "advancing the counter must change the draws, V=" << V;
        EXPECT_GE(diff_d, B / 2) << "another seed must change the draws, V=" << V;
    }
}

}  // namespace
}  // namespace qinfer::test::gpu
