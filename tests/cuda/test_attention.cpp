// Gated full attention on the GPU (kernels/cuda/attention.h) against the CPU reference math of
// layers/gated_attention.cpp, composed from ops: split q/gate/k/v from a random qkv row, ops::rms_norm (zero-centred),
// ops::rope_inplace, ops::attention_causal over [cached prefix ‖ new k/v], ops::sigmoid_mul_inplace.
//
// The KV cache starts filled with random bf16 values (the "cached prefix" of every slot, and junk elsewhere); after
// the call the whole cache is read back: the new tokens' k must match the reference k (norm + RoPE), v must be the
// input v exactly (a bf16 copy), and every other cell must be unchanged, bit for bit.
//
// Tolerances (rel L2 over the whole output):
//  - out ≤ 1e-2: the GPU rounds q (after norm + RoPE), k (the cache is bf16) and the softmax probabilities to bf16 for
//    the tensor cores and writes a bf16 output; each is a ≤ 2^-9 relative rounding of an O(1) value, and the sums of
//    hundreds of such terms average them, giving ~3e-3 in practice; 1e-2 leaves room for that without hiding a wrong
//    key, position, head mapping or mask (any of those gives rel L2 ~ 0.3 or more).
//  - new cache k ≤ 4e-3: a single bf16 rounding (2^-9 relative at worst, ~2e-3 rms) plus fp32 reassociation.

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cmath>
#include <numeric>
#include <string>
#include <vector>

#include "core/check.h"
#include "gpu_test_util.h"
#include "kernels/cuda/attention.h"
#include "ops/activation.h"
#include "ops/attention.h"
#include "ops/norm.h"
#include "ops/rope.h"

namespace qinfer::test::gpu {
namespace {

struct Heads {
    int hq, hkv;
};

cuda::AttentionShape make_shape(Heads h, int hd, int rot, float theta) {
    cuda::AttentionShape s;
    s.hq = h.hq;
    s.hkv = h.hkv;
    s.head_dim = hd;
    s.rotary_dim = rot;
    s.rope_theta = theta;
    s.eps = 1e-6f;
    return s;
}

struct RefOut {
    Tensor out;    // [T, Hq*hd]
    Tensor k_new;  // [T, Hkv, hd] after norm + RoPE
    Tensor v_new;  // [T, Hkv, hd]
};

// The layer's math for one sequence: qkv [T, qkv_dim] at positions pos0.., attending to prefix k/v [pos0, Hkv, hd].
RefOut reference(const cuda::AttentionShape& s, const Tensor& qkv, const Tensor& k_prefix, const Tensor& v_prefix,
                 int64_t pos0, const Tensor& q_norm, const Tensor& k_norm) {
    const int64_t T = qkv.dim(0), hq = s.hq, hkv = s.hkv, hd = s.head_dim;
    Tensor q({T, hq, hd}), gate({T, hq * hd}), k({T, hkv, hd}), v({T, hkv, hd});
    for (int64_t t = 0; t < T; ++t) {
        const float* row = qkv.row(t);
        for (int64_t h = 0; h < hq; ++h) {
            const float* src = row + h * 2 * hd;
            std::copy(src, src + hd, q.data() + (t * hq + h) * hd);
            std::copy(src + hd, src + 2 * hd, gate.data() + (t * hq + h) * hd);
        }
        const float* ksrc = row + 2 * hq * hd;
        std::copy(ksrc, ksrc + hkv * hd, k.data() + t * hkv * hd);
        std::copy(ksrc + hkv * hd, ksrc + 2 * hkv * hd, v.data() + t * hkv * hd);
    }
    q = ops::rms_norm(q, q_norm, s.eps, /*zero_centered=*/true);
    k = ops::rms_norm(k, k_norm, s.eps, /*zero_centered=*/true);
    std::vector<int64_t> positions(static_cast<size_t>(T));
    std::iota(positions.begin(), positions.end(), pos0);
    ops::rope_inplace(q, positions, s.rotary_dim, s.rope_theta);
    ops::rope_inplace(k, positions, s.rotary_dim, s.rope_theta);

    Tensor K({pos0 + T, hkv, hd}), V({pos0 + T, hkv, hd});
    std::copy(k_prefix.vec().begin(), k_prefix.vec().end(), K.data());
    std::copy(v_prefix.vec().begin(), v_prefix.vec().end(), V.data());
    std::copy(k.vec().begin(), k.vec().end(), K.data() + pos0 * hkv * hd);
    std::copy(v.vec().begin(), v.vec().end(), V.data() + pos0 * hkv * hd);
    Tensor o = ops::attention_causal(q, K, V, pos0, 1.0f / std::sqrt(static_cast<float>(hd)));
    o.reshape({T, hq * hd});
    ops::sigmoid_mul_inplace(o, gate);
    return {std::move(o), std::move(k), std::move(v)};
}

// Rows [p0, p0 + n) of slot `slot` of a host cache [slots * max_ctx, Hkv, hd].
Tensor cache_rows(const Tensor& cache, int64_t max_ctx, int64_t slot, int64_t p0, int64_t n) {
    const int64_t hkv = cache.dim(1), hd = cache.dim(2);
    Tensor r({n, hkv, hd});
    const float* src = cache.data() + (slot * max_ctx + p0) * hkv * hd;
    std::copy(src, src + n * hkv * hd, r.data());
    return r;
}

// Cells of `got` that differ from `before` outside the written (slot, position) cells: must be none.
int64_t changed_outside(const Tensor& got, const Tensor& before, int64_t max_ctx,
                        const std::vector<std::pair<int64_t, int64_t>>& written /* (slot, pos) */) {
    const int64_t row = got.dim(1) * got.dim(2);
    std::vector<char> w(static_cast<size_t>(got.dim(0)), 0);
    for (auto [slot, pos] : written) w[static_cast<size_t>(slot * max_ctx + pos)] = 1;
    int64_t bad = 0;
    for (int64_t r = 0; r < got.dim(0); ++r) {
        if (w[static_cast<size_t>(r)]) continue;
        for (int64_t i = 0; i < row; ++i) {
            const float a = got.data()[r * row + i], b = before.data()[r * row + i];
            if (!(a == b)) ++bad;
        }
    }
    return bad;
}

// Worst errors seen in the current suite (printed at its end, for docs/perf/attention.md).
double g_worst_out = 0.0, g_worst_k = 0.0;
void track(const Tensor& out, const Tensor& ref, const Tensor& k, const Tensor& kref) {
    g_worst_out = std::max(g_worst_out, rel_l2(out, ref));
    g_worst_k = std::max(g_worst_k, rel_l2(k, kref));
}
void print_worst(const char* what) {
    std::printf("[ attention ] %s: worst rel L2 out %.2e, cache k %.2e\n", what, g_worst_out, g_worst_k);
    g_worst_out = g_worst_k = 0.0;
}

struct Weights {
    Tensor q_norm, k_norm;
    cuda::DeviceBuffer dq, dk;
};

Weights make_norm_weights(int hd) {
    Weights w;
    // zero-centred: the scale is 1 + w ∈ [0.8, 1.8], so scores q·k/sqrt(hd) have std ≈ 1.8 (|s| up to ~8: a
    // softmax with clear peaks). The bf16 rounding of q and k perturbs a score by ~1e-3·|s|, which is what the 1e-2
    // output tolerance has to absorb.
    w.q_norm = uniform({hd}, -0.2f, 0.8f);
    w.k_norm = uniform({hd}, -0.2f, 0.8f);
    w.dq = upload_f32(w.q_norm);
    w.dk = upload_f32(w.k_norm);
    return w;
}

void run_prefill_case(Heads heads, int hd, int rot, float theta, int64_t T, int64_t pos0,
                      cuda::PrefillTile tile = cuda::PrefillTile::Auto) {
    SCOPED_TRACE("prefill Hq/Hkv " + std::to_string(heads.hq) + "/" + std::to_string(heads.hkv) + " hd " +
                 std::to_string(hd) + " rot " + std::to_string(rot) + " T " + std::to_string(T) + " pos0 " +
                 std::to_string(pos0) + " tile " + std::to_string(static_cast<int>(tile)));
    const cuda::AttentionShape s = make_shape(heads, hd, rot, theta);
    const int64_t qkv_dim = 2LL * s.hq * hd + 2LL * s.hkv * hd;
    const int64_t slots = 3, slot = 1, max_ctx = pos0 + T + 9;
    const Tensor qkv = round_to_bf16(randn({T, qkv_dim}));
    const Tensor kc0 = round_to_bf16(randn({slots * max_ctx, s.hkv, hd}));
    const Tensor vc0 = round_to_bf16(randn({slots * max_ctx, s.hkv, hd}));
    Weights w = make_norm_weights(hd);

    const cuda::DeviceBuffer dqkv = upload_bf16(qkv), dkc = upload_bf16(kc0), dvc = upload_bf16(vc0);
    const cuda::DeviceBuffer dout = poisoned(static_cast<size_t>(T * s.hq * hd) * sizeof(cuda::bf16));
    const cuda::KvCache cache{dkc.as<cuda::bf16>(), dvc.as<cuda::bf16>(), max_ctx};
    cuda::gated_attention_prefill(s, dqkv.as<cuda::bf16>(), T, static_cast<int>(slot), pos0, w.dq.as<float>(),
                                  w.dk.as<float>(), cache, dout.as<cuda::bf16>(), nullptr, tile);
    QINFER_CUDA_CHECK(cudaDeviceSynchronize());

    const RefOut ref = reference(s, qkv, cache_rows(kc0, max_ctx, slot, 0, pos0), cache_rows(vc0, max_ctx, slot, 0, pos0),
                                 pos0, w.q_norm, w.k_norm);
    const Tensor out = download_bf16(dout, {T, s.hq * hd});
    expect_close(out, ref.out, 1e-2, "out");
    const Tensor kc = download_bf16(dkc, {slots * max_ctx, s.hkv, hd});
    const Tensor vc = download_bf16(dvc, {slots * max_ctx, s.hkv, hd});
    expect_close(cache_rows(kc, max_ctx, slot, pos0, T), ref.k_new, 4e-3, "cache k");
    track(out, ref.out, cache_rows(kc, max_ctx, slot, pos0, T), ref.k_new);
    EXPECT_EQ(max_abs_diff(cache_rows(vc, max_ctx, slot, pos0, T), ref.v_new), 0.0) << "cache v is a bf16 copy";
    std::vector<std::pair<int64_t, int64_t>> written;
    for (int64_t t = 0; t < T; ++t) written.emplace_back(slot, pos0 + t);
    EXPECT_EQ(changed_outside(kc, kc0, max_ctx, written), 0) << "k cache cells outside the new tokens changed";
    EXPECT_EQ(changed_outside(vc, vc0, max_ctx, written), 0) << "v cache cells outside the new tokens changed";
}

// The kernels that run at this head_dim: both mma.sync CTA shapes, and the wgmma kernel where it applies. On an sm_90
// device the wgmma kernel must be available for head_dim 64 / 128 / 256 (an sm_90a build): a build that lost it would
// otherwise pass by testing less.
std::vector<cuda::PrefillTile> prefill_tiles(int hd, int rot) {
    std::vector<cuda::PrefillTile> tiles{cuda::PrefillTile::Rows64, cuda::PrefillTile::Rows128};
    const bool wgmma_hd = hd == 64 || hd == 128 || hd == 256;
    int major = 0, minor = 0;
    QINFER_CUDA_CHECK(cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, 0));
    QINFER_CUDA_CHECK(cudaDeviceGetAttribute(&minor, cudaDevAttrComputeCapabilityMinor, 0));
    if (wgmma_hd && major == 9 && minor == 0) {
        EXPECT_TRUE(cuda::prefill_tile_supported(cuda::PrefillTile::Wgmma, hd, rot)) << "hd " << hd << " on sm_90";
    }
    if (cuda::prefill_tile_supported(cuda::PrefillTile::Wgmma, hd, rot)) tiles.push_back(cuda::PrefillTile::Wgmma);
    return tiles;
}

// Every kernel on every case (Auto would pick 64 rows for all of these small grids): 257 tokens are two full 128-row
// blocks and a 1-row one, 64 tokens half a block (the wgmma kernel's second warpgroup then has no live row), pos0 300
// starts mid-tile.
void prefill_suite(int hd, int rot, float theta) {
    for (Heads h : {Heads{16, 2}, Heads{8, 2}, Heads{4, 4}, Heads{4, 1}}) {
        for (int64_t T : {1, 7, 64, 257}) {
            for (int64_t pos0 : {0, 5, 300}) {
                for (cuda::PrefillTile tile : prefill_tiles(hd, rot))
                    run_prefill_case(h, hd, rot, theta, T, pos0, tile);
            }
        }
    }
    print_worst(("prefill hd " + std::to_string(hd)).c_str());
}

TEST(CudaAttentionPrefill, HeadDim256Rotary64) {
    QINFER_REQUIRE_GPU();
    prefill_suite(256, 64, 1e7f);
}
TEST(CudaAttentionPrefill, HeadDim128) {
    QINFER_REQUIRE_GPU();
    prefill_suite(128, 32, 1e4f);
}
TEST(CudaAttentionPrefill, HeadDim64FullRotary) {
    QINFER_REQUIRE_GPU();
    prefill_suite(64, 64, 1e4f);
}
TEST(CudaAttentionPrefill, HeadDim48TinyModel) {
    QINFER_REQUIRE_GPU();
    prefill_suite(48, 24, 1e4f);
    run_prefill_case(Heads{2, 1}, 48, 12, 1e7f, 33, 17);
    run_prefill_case(Heads{2, 1}, 48, 12, 1e7f, 300, 17, cuda::PrefillTile::Rows128);
}
TEST(CudaAttentionPrefill, HeadDim32TinyModel) {
    QINFER_REQUIRE_GPU();
    prefill_suite(32, 8, 1e7f);
    run_prefill_case(Heads{4, 2}, 32, 8, 1e7f, 130, 70);
    run_prefill_case(Heads{4, 2}, 32, 8, 1e7f, 130, 70, cuda::PrefillTile::Rows128);
}
TEST(CudaAttentionPrefill, RejectsUnsupportedHeadDim) {
    QINFER_REQUIRE_GPU();
    const cuda::AttentionShape s = make_shape(Heads{4, 2}, 40, 8, 1e4f);
    const cuda::KvCache cache{nullptr, nullptr, 16};
    EXPECT_THROW(cuda::gated_attention_prefill(s, nullptr, 1, 0, 0, nullptr, nullptr, cache, nullptr, nullptr),
                 qinfer::Error);
}
// Longer prompts on the wgmma kernel: many key tiles through its 2- or 3-stage ring (each stage refilled many times),
// both warpgroups on and off the diagonal, a prompt continuing a cached prefix at a position that is not a multiple
// of the 64-key tile.
TEST(CudaAttentionPrefill, WgmmaLongPrompts) {
    QINFER_REQUIRE_GPU();
    if (!cuda::prefill_tile_supported(cuda::PrefillTile::Wgmma, 256, 64))
        GTEST_SKIP() << "no sm_90a wgmma on this device";
    run_prefill_case(Heads{16, 2}, 256, 64, 1e7f, 1500, 0, cuda::PrefillTile::Wgmma);
    run_prefill_case(Heads{16, 2}, 256, 64, 1e7f, 700, 901, cuda::PrefillTile::Wgmma);
    run_prefill_case(Heads{8, 2}, 128, 32, 1e4f, 1100, 33, cuda::PrefillTile::Wgmma);
    run_prefill_case(Heads{4, 1}, 64, 64, 1e4f, 999, 0, cuda::PrefillTile::Wgmma);
    print_worst("prefill wgmma long");
}
TEST(CudaAttentionPrefill, WgmmaRejectsOtherHeadDims) {
    QINFER_REQUIRE_GPU();
    EXPECT_FALSE(cuda::prefill_tile_supported(cuda::PrefillTile::Wgmma, 48, 24));
    EXPECT_FALSE(cuda::prefill_tile_supported(cuda::PrefillTile::Wgmma, 192, 64));
    EXPECT_FALSE(cuda::prefill_tile_supported(cuda::PrefillTile::Wgmma, 256, 12)) << "half 6 is not a multiple of 8";
    const cuda::AttentionShape s = make_shape(Heads{4, 2}, 48, 8, 1e4f);
    const cuda::KvCache cache{nullptr, nullptr, 16};
    EXPECT_THROW(cuda::gated_attention_prefill(s, nullptr, 1, 0, 0, nullptr, nullptr, cache, nullptr, nullptr,
                                               cuda::PrefillTile::Wgmma),
                 qinfer::Error);
    // A supported shape with a qkv that is not 16-byte aligned (the kernel's vector loads): refused before anything
    // is launched, so the cache keeps its contents.
    if (!cuda::prefill_tile_supported(cuda::PrefillTile::Wgmma, 256, 64)) return;
    const cuda::AttentionShape s256 = make_shape(Heads{4, 2}, 256, 64, 1e7f);
    const int64_t T = 3, max_ctx = 8, qkv_dim = 2LL * 4 * 256 + 2LL * 2 * 256;
    const Tensor kc0 = round_to_bf16(randn({max_ctx, 2, 256}));
    const cuda::DeviceBuffer dqkv = upload_bf16(round_to_bf16(randn({T * qkv_dim + 1})));
    const cuda::DeviceBuffer dkc = upload_bf16(kc0), dvc = upload_bf16(kc0);
    const cuda::DeviceBuffer dout = poisoned(static_cast<size_t>(T * 4 * 256) * sizeof(cuda::bf16));
    Weights w = make_norm_weights(256);
    const cuda::KvCache cache256{dkc.as<cuda::bf16>(), dvc.as<cuda::bf16>(), max_ctx};
    EXPECT_THROW(
        cuda::gated_attention_prefill(s256, dqkv.as<cuda::bf16>() + 1, T, 0, 0, w.dq.as<float>(), w.dk.as<float>(),
                                      cache256, dout.as<cuda::bf16>(), nullptr, cuda::PrefillTile::Wgmma),
        qinfer::Error);
    QINFER_CUDA_CHECK(cudaDeviceSynchronize());
    EXPECT_EQ(max_abs_diff(download_bf16(dkc, {max_ctx, 2, 256}), kc0), 0.0) << "the refused call wrote the cache";
}

const char* kernel_name(cuda::DecodeKernel k) {
    return k == cuda::DecodeKernel::Fused ? "fused" : k == cuda::DecodeKernel::SplitCombine ? "split+combine" : "auto";
}
constexpr cuda::DecodeKernel kDecodeKernels[] = {cuda::DecodeKernel::Fused, cuda::DecodeKernel::SplitCombine};

// Positions 0, tile edges and long contexts; the last sequence at the very end of the cache.
std::vector<int32_t> default_positions(int64_t B, int64_t max_ctx) {
    const int32_t fixed[] = {0, 1, 63, 64, 65, 300, 127, 1000};
    std::vector<int32_t> positions(static_cast<size_t>(B));
    for (int64_t b = 0; b < B; ++b) {
        int64_t p = fixed[b % 8];
        if (b == B - 1) p = max_ctx - 1;
        positions[static_cast<size_t>(b)] = static_cast<int32_t>(std::min<int64_t>(p, max_ctx - 1));
    }
    return positions;
}

// B sequences, one new token each, in shuffled slots at the given positions (default_positions if empty).
void run_decode_case(Heads heads, int hd, int rot, float theta, int64_t B, int64_t max_ctx,
                     cuda::DecodeKernel kernel, std::vector<int32_t> positions = {}) {
    SCOPED_TRACE(std::string("decode ") + kernel_name(kernel) + " Hq/Hkv " + std::to_string(heads.hq) + "/" +
                 std::to_string(heads.hkv) + " hd " + std::to_string(hd) + " B " + std::to_string(B) + " max_ctx " +
                 std::to_string(max_ctx));
    const cuda::AttentionShape s = make_shape(heads, hd, rot, theta);
    const int64_t qkv_dim = 2LL * s.hq * hd + 2LL * s.hkv * hd;
    const int64_t nslots = B + 2;
    std::vector<int32_t> slot_ids(static_cast<size_t>(nslots));
    std::iota(slot_ids.begin(), slot_ids.end(), 0);
    std::shuffle(slot_ids.begin(), slot_ids.end(), rng());
    slot_ids.resize(static_cast<size_t>(B));
    if (positions.empty()) positions = default_positions(B, max_ctx);
    ASSERT_EQ(static_cast<int64_t>(positions.size()), B);

    const Tensor qkv = round_to_bf16(randn({B, qkv_dim}));
    const Tensor kc0 = round_to_bf16(randn({nslots * max_ctx, s.hkv, hd}));
    const Tensor vc0 = round_to_bf16(randn({nslots * max_ctx, s.hkv, hd}));
    Weights w = make_norm_weights(hd);
    const cuda::DeviceBuffer dqkv = upload_bf16(qkv), dkc = upload_bf16(kc0), dvc = upload_bf16(vc0);
    const cuda::DeviceBuffer dslots = upload_i32(slot_ids), dpos = upload_i32(positions);
    const cuda::DeviceBuffer dout = poisoned(static_cast<size_t>(B * s.hq * hd) * sizeof(cuda::bf16));
    const cuda::DeviceBuffer ws =
        poisoned(std::max<size_t>(1, cuda::gated_attention_decode_workspace_bytes(s, B, max_ctx, kernel)));
    const cuda::KvCache cache{dkc.as<cuda::bf16>(), dvc.as<cuda::bf16>(), max_ctx};
    cuda::gated_attention_decode(s, dqkv.as<cuda::bf16>(), B, dslots.as<int32_t>(), dpos.as<int32_t>(),
                                 w.dq.as<float>(), w.dk.as<float>(), cache, dout.as<cuda::bf16>(), ws.data(), nullptr,
                                 kernel);
    QINFER_CUDA_CHECK(cudaDeviceSynchronize());

    const Tensor out = download_bf16(dout, {B, s.hq * hd});
    const Tensor kc = download_bf16(dkc, {nslots * max_ctx, s.hkv, hd});
    const Tensor vc = download_bf16(dvc, {nslots * max_ctx, s.hkv, hd});
    std::vector<std::pair<int64_t, int64_t>> written;
    Tensor ref_out({B, s.hq * hd}), got_k({B, s.hkv, hd}), ref_k({B, s.hkv, hd});
    for (int64_t b = 0; b < B; ++b) {
        const int64_t slot = slot_ids[static_cast<size_t>(b)], pos = positions[static_cast<size_t>(b)];
        Tensor row({1, qkv_dim});
        std::copy(qkv.row(b), qkv.row(b) + qkv_dim, row.data());
        const RefOut r = reference(s, row, cache_rows(kc0, max_ctx, slot, 0, pos), cache_rows(vc0, max_ctx, slot, 0, pos),
                                   pos, w.q_norm, w.k_norm);
        std::copy(r.out.vec().begin(), r.out.vec().end(), ref_out.row(b));
        std::copy(r.k_new.vec().begin(), r.k_new.vec().end(), ref_k.data() + b * s.hkv * hd);
        const Tensor gk = cache_rows(kc, max_ctx, slot, pos, 1);
        std::copy(gk.vec().begin(), gk.vec().end(), got_k.data() + b * s.hkv * hd);
        EXPECT_EQ(max_abs_diff(cache_rows(vc, max_ctx, slot, pos, 1), r.v_new), 0.0) << "cache v of sequence " << b;
        written.emplace_back(slot, pos);
    }
    expect_close(out, ref_out, 1e-2, "out");
    expect_close(got_k, ref_k, 4e-3, "cache k");
    track(out, ref_out, got_k, ref_k);
    EXPECT_EQ(changed_outside(kc, kc0, max_ctx, written), 0) << "k cache cells outside the new tokens changed";
    EXPECT_EQ(changed_outside(vc, vc0, max_ctx, written), 0) << "v cache cells outside the new tokens changed";
}

void decode_suite(int hd, int rot, float theta) {
    for (cuda::DecodeKernel k : kDecodeKernels) {
        for (Heads h : {Heads{16, 2}, Heads{8, 2}, Heads{4, 4}, Heads{4, 1}}) {
            for (int64_t B : {1, 3, 8}) run_decode_case(h, hd, rot, theta, B, 1100, k);
        }
        run_decode_case(Heads{8, 2}, hd, rot, theta, 8, 70, k);     // short cache: few splits, positions clamped
        run_decode_case(Heads{16, 2}, hd, rot, theta, 3, 5000, k);  // long context, many splits
        run_decode_case(Heads{16, 2}, hd, rot, theta, 64, 300, k);  // the B = 64 plan (one split per group)
        print_worst(("decode " + std::string(kernel_name(k)) + " hd " + std::to_string(hd)).c_str());
    }
}

TEST(CudaAttentionDecode, HeadDim256Rotary64) {
    QINFER_REQUIRE_GPU();
    decode_suite(256, 64, 1e7f);
}
TEST(CudaAttentionDecode, HeadDim128) {
    QINFER_REQUIRE_GPU();
    decode_suite(128, 32, 1e4f);
}
TEST(CudaAttentionDecode, HeadDim48TinyModel) {
    QINFER_REQUIRE_GPU();
    decode_suite(48, 24, 1e4f);
}
TEST(CudaAttentionDecode, HeadDim32TinyModel) {
    QINFER_REQUIRE_GPU();
    decode_suite(32, 8, 1e7f);
}

// Prefill of T tokens then decode of token T must equal one prefill of T + 1 tokens (last row): the two paths agree on
// cache layout, positions and RoPE, as a model's generation loop needs.
TEST(CudaAttentionDecode, ContinuesAPrefill) {
    QINFER_REQUIRE_GPU();
    for (cuda::DecodeKernel kernel : kDecodeKernels) {
        SCOPED_TRACE(kernel_name(kernel));
        const cuda::AttentionShape s = make_shape(Heads{4, 2}, 32, 8, 1e7f);
        const int64_t T = 45, qkv_dim = 2LL * s.hq * 32 + 2LL * s.hkv * 32, max_ctx = 64;
        const Tensor qkv = round_to_bf16(randn({T + 1, qkv_dim}));
        Weights w = make_norm_weights(32);
        const cuda::DeviceBuffer dqkv = upload_bf16(qkv);
        const size_t cache_bytes = static_cast<size_t>(2 * max_ctx * s.hkv * 32) * sizeof(cuda::bf16);
        const cuda::DeviceBuffer k1 = poisoned(cache_bytes), v1 = poisoned(cache_bytes);
        const cuda::DeviceBuffer k2 = poisoned(cache_bytes), v2 = poisoned(cache_bytes);
        const cuda::DeviceBuffer o1 = poisoned(static_cast<size_t>((T + 1) * s.hq * 32) * 2);
        const cuda::DeviceBuffer o2 = poisoned(static_cast<size_t>(s.hq * 32) * 2);
        const cuda::DeviceBuffer dslot = upload_i32({1}), dpos = upload_i32({static_cast<int32_t>(T)});
        const cuda::DeviceBuffer ws =
            poisoned(std::max<size_t>(1, cuda::gated_attention_decode_workspace_bytes(s, 1, max_ctx, kernel)));
        const cuda::KvCache c1{k1.as<cuda::bf16>(), v1.as<cuda::bf16>(), max_ctx};
        const cuda::KvCache c2{k2.as<cuda::bf16>(), v2.as<cuda::bf16>(), max_ctx};
        cuda::gated_attention_prefill(s, dqkv.as<cuda::bf16>(), T + 1, 1, 0, w.dq.as<float>(), w.dk.as<float>(), c1,
                                      o1.as<cuda::bf16>(), nullptr);
        cuda::gated_attention_prefill(s, dqkv.as<cuda::bf16>(), T, 1, 0, w.dq.as<float>(), w.dk.as<float>(), c2,
                                      o1.as<cuda::bf16>(), nullptr);
        cuda::gated_attention_decode(s, dqkv.as<cuda::bf16>() + T * qkv_dim, 1, dslot.as<int32_t>(),
                                     dpos.as<int32_t>(), w.dq.as<float>(), w.dk.as<float>(), c2, o2.as<cuda::bf16>(),
                                     ws.data(), nullptr, kernel);
        QINFER_CUDA_CHECK(cudaDeviceSynchronize());
        // o1 was overwritten by the second prefill for rows < T only; its row T is the (T+1)-token prefill's last row.
        const Tensor all = download_bf16(o1, {T + 1, s.hq * 32});
        Tensor last({1, s.hq * 32});
        std::copy(all.row(T), all.row(T) + s.hq * 32, last.data());
        // Same bf16 inputs, different split of the keys among warps/splits: fp32 reassociation + P rounding only.
        expect_close(download_bf16(o2, {1, s.hq * 32}), last, 1e-2, "decode after prefill vs one prefill");
        // The decode appended the k / v the longer prefill wrote: v bit for bit (a copy), k within one bf16 rounding
        // (same math; the two kernels may contract the RoPE products into FMAs differently).
        const Tensor kc1 = download_bf16(k1, {2 * max_ctx, s.hkv, 32}), kc2 = download_bf16(k2, {2 * max_ctx, s.hkv, 32});
        const Tensor vc1 = download_bf16(v1, {2 * max_ctx, s.hkv, 32}), vc2 = download_bf16(v2, {2 * max_ctx, s.hkv, 32});
        expect_close(cache_rows(kc2, max_ctx, 1, T, 1), cache_rows(kc1, max_ctx, 1, T, 1), 4e-3, "decode k vs prefill k");
        EXPECT_EQ(max_abs_diff(cache_rows(vc2, max_ctx, 1, T, 1), cache_rows(vc1, max_ctx, 1, T, 1)), 0.0);
    }
}

// Contexts on the key-split boundaries of the plan the call will use (gated_attention_decode_splits): n = pos + 1
// keys cut into ns chunks of split_chunk(n) = 64·ceil(ceil(n/ns)/64) keys, so the number of non-empty chunks and the
// chunk that owns the new token change at n = 64·k·ns and 64·k·ns ± 1, n = 64·(ns − 1) ± 1, and the new token's row
// sits at tile row 0 (pos = 64k) or 63 (pos = 64k − 1). Each batch size picks its own plan (B = 1: many splits).
void boundary_cases(Heads h, int hd, int rot) {
    for (cuda::DecodeKernel k : kDecodeKernels) {
        for (int64_t B : {1, 2, 9}) {
            const int64_t max_ctx = 2600;
            const cuda::AttentionShape s = make_shape(h, hd, rot, 1e7f);
            const int64_t ns = cuda::gated_attention_decode_splits(s, B, max_ctx, k);
            std::printf("[ attention ] %s B %lld: %lld splits at max_ctx %lld\n", kernel_name(k),
                        static_cast<long long>(B), static_cast<long long>(ns), static_cast<long long>(max_ctx));
            const std::vector<int64_t> ns_cands = {64 * ns - 1,      64 * ns,      64 * ns + 1, 128 * ns, 128 * ns + 1,
                                                   64 * (ns - 1) + 1, 64 * ns + 64, 65,          64,       2,
                                                   1,                 max_ctx,      max_ctx - 64, 64 * (ns + 1) - 1};
            // B sequences walk through the candidates (n, then pos = n − 1), a different start per batch size.
            std::vector<int32_t> pos(static_cast<size_t>(B));
            for (int64_t b = 0; b < B; ++b) {
                const int64_t n = std::clamp<int64_t>(ns_cands[static_cast<size_t>((b + B) % 14)], 1, max_ctx);
                pos[static_cast<size_t>(b)] = static_cast<int32_t>(n - 1);
            }
            run_decode_case(h, hd, rot, 1e7f, B, max_ctx, k, pos);
            if (B == 1) {  // every candidate once at B = 1
                for (int64_t n : ns_cands)
                    run_decode_case(h, hd, rot, 1e7f, 1, max_ctx, k,
                                    {static_cast<int32_t>(std::clamp<int64_t>(n, 1, max_ctx) - 1)});
            }
        }
        print_worst(("decode boundaries " + std::string(kernel_name(k)) + " hd " + std::to_string(hd)).c_str());
    }
}

TEST(CudaAttentionDecode, SplitBoundariesHeadDim256) {
    QINFER_REQUIRE_GPU();
    boundary_cases(Heads{16, 2}, 256, 64);
}
TEST(CudaAttentionDecode, SplitBoundariesHeadDim32) {
    QINFER_REQUIRE_GPU();
    boundary_cases(Heads{4, 2}, 32, 8);
}

// One decode captured in a CUDA graph, replayed three times with new positions and new qkv rows written into the same
// device buffers between replays (as a generation loop does): each replay must match the reference computed on the
// cache the previous replay left, and must append its own k / v. Nothing in the call may depend on host state
// captured at the first replay (positions, split plan, counters).
TEST(CudaAttentionDecode, GraphReplaysFollowDevicePositions) {
    QINFER_REQUIRE_GPU();
    for (cuda::DecodeKernel kernel : kDecodeKernels) {
        SCOPED_TRACE(kernel_name(kernel));
        const cuda::AttentionShape s = make_shape(Heads{16, 2}, 256, 64, 1e7f);
        const int64_t B = 3, hd = 256, max_ctx = 1500, nslots = 4;
        const int64_t qkv_dim = 2LL * s.hq * hd + 2LL * s.hkv * hd;
        const std::vector<int32_t> slot_ids = {2, 0, 3};
        std::vector<int32_t> positions = {0, 1023, 700};  // advance by 1, 1 (tile edge 1024), 64 per replay
        const Tensor kc0 = round_to_bf16(randn({nslots * max_ctx, s.hkv, hd}));
        const Tensor vc0 = round_to_bf16(randn({nslots * max_ctx, s.hkv, hd}));
        Weights w = make_norm_weights(static_cast<int>(hd));
        const cuda::DeviceBuffer dkc = upload_bf16(kc0), dvc = upload_bf16(vc0);
        const cuda::DeviceBuffer dslots = upload_i32(slot_ids), dpos = upload_i32(positions);
        const cuda::DeviceBuffer dqkv = poisoned(static_cast<size_t>(B * qkv_dim) * sizeof(cuda::bf16));
        const cuda::DeviceBuffer dout = poisoned(static_cast<size_t>(B * s.hq * hd) * sizeof(cuda::bf16));
        const cuda::DeviceBuffer ws =
            poisoned(std::max<size_t>(1, cuda::gated_attention_decode_workspace_bytes(s, B, max_ctx, kernel)));
        const cuda::KvCache cache{dkc.as<cuda::bf16>(), dvc.as<cuda::bf16>(), max_ctx};

        cudaStream_t stream = nullptr;
        QINFER_CUDA_CHECK(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));
        cudaGraph_t graph = nullptr;
        cudaGraphExec_t exec = nullptr;
        QINFER_CUDA_CHECK(cudaStreamBeginCapture(stream, cudaStreamCaptureModeThreadLocal));
        cuda::gated_attention_decode(s, dqkv.as<cuda::bf16>(), B, dslots.as<int32_t>(), dpos.as<int32_t>(),
                                     w.dq.as<float>(), w.dk.as<float>(), cache, dout.as<cuda::bf16>(), ws.data(),
                                     stream, kernel);
        QINFER_CUDA_CHECK(cudaStreamEndCapture(stream, &graph));
        QINFER_CUDA_CHECK(cudaGraphInstantiate(&exec, graph, 0));

        Tensor kc_before = kc0, vc_before = vc0;
        for (int replay = 0; replay < 3; ++replay) {
            SCOPED_TRACE("replay " + std::to_string(replay));
            const Tensor qkv = round_to_bf16(randn({B, qkv_dim}));
            const cuda::DeviceBuffer fresh = upload_bf16(qkv);
            QINFER_CUDA_CHECK(cudaMemcpy(dqkv.data(), fresh.data(), fresh.bytes(), cudaMemcpyDeviceToDevice));
            QINFER_CUDA_CHECK(cudaMemcpy(dpos.data(), positions.data(), positions.size() * 4, cudaMemcpyHostToDevice));
            QINFER_CUDA_CHECK(cudaMemset(dout.data(), 0xFF, dout.bytes()));
            QINFER_CUDA_CHECK(cudaGraphLaunch(exec, stream));
            QINFER_CUDA_CHECK(cudaStreamSynchronize(stream));

            const Tensor out = download_bf16(dout, {B, s.hq * hd});
            const Tensor kc = download_bf16(dkc, {nslots * max_ctx, s.hkv, hd});
            const Tensor vc = download_bf16(dvc, {nslots * max_ctx, s.hkv, hd});
            Tensor ref_out({B, s.hq * hd});
            std::vector<std::pair<int64_t, int64_t>> written;
            for (int64_t b = 0; b < B; ++b) {
                const int64_t slot = slot_ids[static_cast<size_t>(b)], p = positions[static_cast<size_t>(b)];
                Tensor row({1, qkv_dim});
                std::copy(qkv.row(b), qkv.row(b) + qkv_dim, row.data());
                const RefOut r = reference(s, row, cache_rows(kc_before, max_ctx, slot, 0, p),
                                           cache_rows(vc_before, max_ctx, slot, 0, p), p, w.q_norm, w.k_norm);
                std::copy(r.out.vec().begin(), r.out.vec().end(), ref_out.row(b));
                expect_close(cache_rows(kc, max_ctx, slot, p, 1), r.k_new, 4e-3, "cache k");
                EXPECT_EQ(max_abs_diff(cache_rows(vc, max_ctx, slot, p, 1), r.v_new), 0.0) << "cache v of " << b;
                written.emplace_back(slot, p);
            }
            expect_close(out, ref_out, 1e-2, "out");
            track(out, ref_out, out, ref_out);
            EXPECT_EQ(changed_outside(kc, kc_before, max_ctx, written), 0) << "k cache cells outside the new tokens";
            EXPECT_EQ(changed_outside(vc, vc_before, max_ctx, written), 0) << "v cache cells outside the new tokens";
            kc_before = kc;
            vc_before = vc;
            positions[0] += 1;
            positions[1] += 1;
            positions[2] += 64;
        }
        QINFER_CUDA_CHECK(cudaGraphExecDestroy(exec));
        QINFER_CUDA_CHECK(cudaGraphDestroy(graph));
        QINFER_CUDA_CHECK(cudaStreamDestroy(stream));
        print_worst(("decode graph replays " + std::string(kernel_name(kernel))).c_str());
    }
}

}  // namespace
}  // namespace qinfer::test::gpu
