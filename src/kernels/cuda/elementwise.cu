// The small memory-bound kernels between GEMMs (kernels/cuda/elementwise.h). One pass each; 16-byte vector loads when
// the row width and pointers allow, scalar otherwise. fp32 math in the operation order of the CPU reference
// (kernels/cpu/norm.cpp, kernels/cpu/activation.h); no fast-math intrinsics.

#include <cuda_bf16.h>

#include <cstdint>

#include "kernels/cuda/check.h"
#include "kernels/cuda/launch.h"
#include "kernels/cuda/elementwise.h"
#include "kernels/cuda/glue_common.cuh"
#include "kernels/cuda/norm_row.cuh"

namespace qinfer::cuda {
namespace {

// ---- embedding: one block per token; 8 bf16 (16 B) per thread-iteration when H % 8 == 0 and the table is aligned.
template <bool kVec>
__global__ void embedding_kernel(const bf16* __restrict__ table, int64_t hidden, const int32_t* __restrict__ ids,
                                 float* __restrict__ h) {
    grid_dependency_sync();  // PDL: first statement (launch.h)
    const int64_t t = blockIdx.x;
    const bf16* src = table + static_cast<int64_t>(ids[t]) * hidden;
    float* dst = h + t * hidden;
    if constexpr (kVec) {
        for (int64_t i = threadIdx.x; i < hidden / 8; i += blockDim.x) {
            const uint4 v = reinterpret_cast<const uint4*>(src)[i];
            float f[8];
            glue::bf16x8_to_f32(v, f);
            reinterpret_cast<float4*>(dst)[2 * i] = make_float4(f[0], f[1], f[2], f[3]);
            reinterpret_cast<float4*>(dst)[2 * i + 1] = make_float4(f[4], f[5], f[6], f[7]);
        }
    } else {
        for (int64_t i = threadIdx.x; i < hidden; i += blockDim.x) dst[i] = __bfloat162float(src[i]);
    }
}

// ---- rms_norm: one block per row. Sum of squares in fp64 per thread, fp64 block reduction (the CPU reference sums
// in fp64 too), rounded to fp32 mean, then inv = 1 / sqrt(mean + eps) in correctly rounded fp32 and
// y = bf16((x * inv) * scale). kCache > 0: the row (H <= 4 * kCache * blockDim float4s) stays in registers between
// the two phases, so x is read once; kCache == 0: scalar path that re-reads x (odd widths/strides).
template <int kCache>
__global__ void rms_norm_kernel(const float* __restrict__ x, int64_t ldx, const float* __restrict__ w, float eps,
                                bool zero_centered, int64_t H, bf16* __restrict__ y) {
    grid_dependency_sync();  // PDL: first statement (launch.h)
    __shared__ double red[32];
    __shared__ float s_inv;
    const int64_t t = blockIdx.x;
    const float* xr = x + t * ldx;
    bf16* yr = y + t * H;
    if constexpr (kCache > 0) {
        float4 cache[kCache];
#pragma unroll
        for (int c = 0; c < kCache; ++c) {
            const int64_t i = threadIdx.x + static_cast<int64_t>(c) * blockDim.x;
            cache[c] = i < H / 4 ? __ldg(reinterpret_cast<const float4*>(xr) + i) : make_float4(0.f, 0.f, 0.f, 0.f);
        }
        glue::rms_norm_row(cache, H, w, eps, zero_centered, yr, red, &s_inv);
    } else {
        double ss = 0.0;  // any H: one element at a time, the same formula as the vector path
        for (int64_t i = threadIdx.x; i < H; i += blockDim.x) ss += static_cast<double>(xr[i]) * xr[i];
        const float inv = glue::rms_inv(ss, H, eps, red, &s_inv);
        for (int64_t i = threadIdx.x; i < H; i += blockDim.x)
            yr[i] = __float2bfloat16_rn(glue::rms_scaled(xr[i], inv, w[i], zero_centered));
    }
}

// silu(x) = x / (1 + e^-x), as kernels/cpu/activation.h (expf is the accurate libdevice exp without fast-math).
__device__ __forceinline__ float silu_f(float v) { return __fdiv_rn(v, __fadd_rn(1.0f, expf(-v))); }

// ---- silu_mul: flat over T*I; 8 outputs per thread when I % 8 == 0. With a gate (the shared expert's), each row is
// also scaled by s = sigmoid(gate[t * ld_gate]) before the one rounding to bf16: s · (x·W) = (s · x)·W, so the down
// projection then adds into the residual itself (no f32 [T, H] buffer and no separate gated add).
__device__ __forceinline__ float gate_of(const float* gate, int64_t ld_gate, int64_t t) {
    return gate == nullptr ? 1.0f : glue::sigmoid_rn(gate[t * ld_gate]);
}

__global__ void silu_mul_vec_kernel(const bf16* __restrict__ gu, int64_t T, int64_t I, const float* __restrict__ gate,
                                    int64_t ld_gate, bf16* __restrict__ out) {
    grid_dependency_sync();  // PDL: first statement (launch.h)
    const int64_t per_row = I / 8;
    const int64_t n = T * per_row;
    for (int64_t v = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; v < n;
         v += static_cast<int64_t>(gridDim.x) * blockDim.x) {
        const int64_t t = v / per_row, c = v - t * per_row;
        const bf16* row = gu + t * 2 * I;
        float g[8], u[8];
        glue::bf16x8_to_f32(reinterpret_cast<const uint4*>(row)[c], g);
        glue::bf16x8_to_f32(reinterpret_cast<const uint4*>(row + I)[c], u);
        __nv_bfloat162 o[4];
        if (gate == nullptr) {
            for (int j = 0; j < 4; ++j)
                o[j] = __floats2bfloat162_rn(__fmul_rn(silu_f(g[2 * j]), u[2 * j]),
                                             __fmul_rn(silu_f(g[2 * j + 1]), u[2 * j + 1]));
        } else {
            const float s = gate_of(gate, ld_gate, t);
            for (int j = 0; j < 4; ++j)
                o[j] = __floats2bfloat162_rn(__fmul_rn(s, __fmul_rn(silu_f(g[2 * j]), u[2 * j])),
                                             __fmul_rn(s, __fmul_rn(silu_f(g[2 * j + 1]), u[2 * j + 1])));
        }
        reinterpret_cast<uint4*>(out + t * I)[c] = *reinterpret_cast<const uint4*>(o);
    }
}

__global__ void silu_mul_scalar_kernel(const bf16* __restrict__ gu, int64_t T, int64_t I,
                                       const float* __restrict__ gate, int64_t ld_gate, bf16* __restrict__ out) {
    grid_dependency_sync();  // PDL: first statement (launch.h)
    const int64_t n = T * I;
    for (int64_t v = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; v < n;
         v += static_cast<int64_t>(gridDim.x) * blockDim.x) {
        const int64_t t = v / I, i = v - t * I;
        const float g = __bfloat162float(gu[t * 2 * I + i]);
        const float u = __bfloat162float(gu[t * 2 * I + I + i]);
        const float r = __fmul_rn(silu_f(g), u);
        out[v] = __float2bfloat16_rn(gate == nullptr ? r : __fmul_rn(gate_of(gate, ld_gate, t), r));
    }
}

int flat_grid(int64_t n, int threads) {
    const int64_t blocks = (n + threads - 1) / threads;
    return static_cast<int>(blocks < 132 * 16 ? (blocks > 0 ? blocks : 1) : 132 * 16);
}

}  // namespace

void embedding(const bf16* table, int64_t /*vocab*/, int64_t hidden, const int32_t* ids, int64_t T, float* h,
               cudaStream_t stream) {
    if (T <= 0 || hidden <= 0) return;
    const bool vec = hidden % 8 == 0 && glue::aligned16(table) && glue::aligned16(h);
    const int threads = static_cast<int>(hidden / (vec ? 8 : 1) >= 256 ? 256 : 128);
    if (vec)
        launch(embedding_kernel<true>, static_cast<unsigned>(T), threads, 0, stream, table, hidden, ids, h);
    else
        launch(embedding_kernel<false>, static_cast<unsigned>(T), threads, 0, stream, table, hidden, ids, h);
}

void rms_norm(const float* x, int64_t ldx, const float* w, float eps, bool zero_centered, int64_t T, int64_t H,
              bf16* y, cudaStream_t stream) {
    if (T <= 0 || H <= 0) return;
    const bool vec = H % 4 == 0 && ldx % 4 == 0 && glue::aligned16(x) && glue::aligned16(w) &&
                     reinterpret_cast<uintptr_t>(y) % 8 == 0;
    const auto grid = static_cast<unsigned>(T);
    const int64_t nv = H / 4;  // float4 per row
    if (vec && nv <= 256 * 2) {  // H <= 2048: 256 threads, <= 2 float4 each
        launch(rms_norm_kernel<2>, grid, 256, 0, stream, x, ldx, w, eps, zero_centered, H, y);
    } else if (vec && nv <= 512 * 4) {  // H <= 8192: 512 threads, <= 4 float4 each
        launch(rms_norm_kernel<4>, grid, 512, 0, stream, x, ldx, w, eps, zero_centered, H, y);
    } else {
        launch(rms_norm_kernel<0>, grid, 256, 0, stream, x, ldx, w, eps, zero_centered, H, y);
    }
}

void silu_mul(const bf16* gate_up, int64_t T, int64_t I, bf16* out, cudaStream_t stream, const float* gate_logit,
              int64_t ld_gate) {
    if (T <= 0 || I <= 0) return;
    const int threads = 256;
    if (I % 8 == 0 && glue::aligned16(gate_up) && glue::aligned16(out)) {
        launch(silu_mul_vec_kernel, flat_grid(T * I / 8, threads), threads, 0, stream, gate_up, T, I, gate_logit,
               ld_gate, out);
    } else {
        launch(silu_mul_scalar_kernel, flat_grid(T * I, threads), threads, 0, stream, gate_up, T, I, gate_logit,
               ld_gate, out);
    }
}

}  // namespace qinfer::cuda
