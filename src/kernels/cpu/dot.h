#pragma once
// defines: qinfer::kernels::cpu::kDotLanes, dot_lanes_reduce, dot_f32
//
// The one fp32 dot product of the CPU reference. Every kernel that reduces over a contiguous dimension (linear,
// attention scores) uses this exact summation order, so that a result never depends on how the caller batched or
// tiled the work: linear(x)[t, n] == dot_f32(x[t], w[n]) bit for bit, for any T and any thread count.
//
// Order: 8 interleaved fp32 partial sums (lane l accumulates elements i ≡ l mod 8 of the first n - n % 8 elements,
// in increasing i), combined as ((l0+l4)+(l2+l6)) + ((l1+l5)+(l3+l7)), then the n % 8 tail elements are added one by
// one. The fixed lane structure lets the compiler vectorise the loop without -ffast-math.

#include <cstdint>

namespace qinfer::kernels::cpu {

inline constexpr int kDotLanes = 8;

inline float dot_lanes_reduce(const float* acc) {
    return ((acc[0] + acc[4]) + (acc[2] + acc[6])) + ((acc[1] + acc[5]) + (acc[3] + acc[7]));
}

// Σ_i a[i]·b[i], i in [0, n), in the order described above.
inline float dot_f32(const float* a, const float* b, int64_t n) {
    float acc[kDotLanes] = {};
    const int64_t n8 = n - n % kDotLanes;
    for (int64_t i = 0; i < n8; i += kDotLanes) {
        for (int l = 0; l < kDotLanes; ++l) acc[l] += a[i + l] * b[i + l];
    }
    float s = dot_lanes_reduce(acc);
    for (int64_t i = n8; i < n; ++i) s += a[i] * b[i];
    return s;
}

}  // namespace qinfer::kernels::cpu
