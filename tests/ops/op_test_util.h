#pragma once
// defines: helpers for the op tests: deterministic random tensors, tensors from literal arrays, expect_close,
//          with_threads (run a callable under a given OpenMP thread count).

#include <omp.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <span>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/tensor.h"

namespace qinfer::test {

// Uniform values in [lo, hi) from a fixed-seed mt19937 (the conversion is spelled out so that values do not depend
// on the standard library's distribution implementation).
inline Tensor random_tensor(Shape shape, uint32_t seed, float lo = -1.0f, float hi = 1.0f) {
    std::mt19937 rng(seed);
    Tensor t(std::move(shape));
    for (float& v : t.span()) {
        const double u = static_cast<double>(rng() >> 8) * (1.0 / 16777216.0);  // [0, 1)
        v = static_cast<float>(lo + (hi - lo) * u);
    }
    return t;
}

// A tensor holding a copy of a literal array (checks the size).
template <class T, size_t N>
Tensor from_array(Shape shape, const T (&a)[N]) {
    EXPECT_EQ(numel(shape), static_cast<int64_t>(N)) << "literal array size does not match shape " << shape_str(shape);
    return Tensor(std::move(shape), std::vector<float>(a, a + N));
}

// Every element satisfies |got − want| <= atol + rtol·|want|; NaN/Inf mismatches fail at once. Reports the count, the
// worst element and the first few offenders.
inline void expect_close(std::span<const float> got, std::span<const float> want, float atol, float rtol,
                         const std::string& what = "") {
    ASSERT_EQ(got.size(), want.size()) << what << ": size mismatch";
    size_t bad = 0, worst = 0;
    double worst_excess = -1.0;
    std::string first;
    for (size_t i = 0; i < got.size(); ++i) {
        const float g = got[i], w = want[i];
        if (std::isfinite(g) != std::isfinite(w)) {
            FAIL() << what << ": non-finite mismatch at " << i << ": got " << g << ", want " << w;
        }
        if (!std::isfinite(w)) continue;
        const double err = std::fabs(static_cast<double>(g) - w);
        const double lim = atol + rtol * std::fabs(static_cast<double>(w));
        if (err > lim) {
            if (bad < 5)
                first += "\n  [" + std::to_string(i) + "] got " + std::to_string(g) + " want " + std::to_string(w);
            ++bad;
        }
        if (err - lim > worst_excess) {
            worst_excess = err - lim;
            worst = i;
        }
    }
    EXPECT_EQ(bad, 0u) << what << ": " << bad << " of " << got.size() << " elements out of tolerance (atol " << atol
                       << ", rtol " << rtol << "); worst at " << worst << ": got " << got[worst] << ", want "
                       << want[worst] << first;
}

inline void expect_close(const Tensor& got, const Tensor& want, float atol, float rtol, const std::string& what = "") {
    EXPECT_EQ(got.shape(), want.shape()) << what << ": shape " << shape_str(got.shape()) << " vs "
                                         << shape_str(want.shape());
    expect_close(got.span(), want.span(), atol, rtol, what);
}

// Bit-identical (NaN-free) comparison.
inline void expect_same(const Tensor& got, const Tensor& want, const std::string& what = "") {
    EXPECT_EQ(got.shape(), want.shape()) << what;
    EXPECT_EQ(got.vec(), want.vec()) << what << ": not bit-identical";
}

// Runs fn() with OpenMP limited to n threads, then restores the previous setting.
template <class Fn>
auto with_threads(int n, Fn&& fn) {
    const int before = omp_get_max_threads();
    omp_set_num_threads(n);
    auto r = fn();
    omp_set_num_threads(before);
    return r;
}

}  // namespace qinfer::test
