#include "synth/init.h"

#include <cmath>

#include "core/check.h"

namespace qinfer::synth {

namespace {

constexpr uint64_t kGolden = 0x9e3779b97f4a7c15ull;  // splitmix64's increment

// splitmix64's output function (Steele, Lea, Flood 2014): a bijective 64-bit mixer.
uint64_t mix64(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

// The i-th output of splitmix64 seeded with `stream`.
uint64_t bits_at(uint64_t stream, uint64_t i) {
    return mix64(stream + (i + 1) * kGolden);
}

uint64_t fnv1a64(std::string_view s) {
    uint64_t h = 0xcbf29ce484222325ull;
    for (char c : s) {
        h ^= static_cast<uint8_t>(c);
        h *= 0x100000001b3ull;
    }
    return h;
}

// Irwin-Hall(4) of the four 16-bit fields, centred and scaled to unit variance. Each field is uniform on
// {0..65535}: mean 32767.5, variance (65536² - 1)/12; the sum has mean 131070 and sd sqrt(4·(65536² - 1)/12).
float unit_normal(uint64_t b) {
    constexpr float kMean = 131070.0f;
    constexpr float kInvSd = 1.0f / 37837.2265f;
    const uint64_t s = (b & 0xffffu) + ((b >> 16) & 0xffffu) + ((b >> 32) & 0xffffu) + (b >> 48);
    return (static_cast<float>(s) - kMean) * kInvSd;
}

// Uniform in [0, 1) from the top 24 bits (every value exact in fp32).
float unit_uniform(uint64_t b) {
    return static_cast<float>(b >> 40) * 0x1p-24f;
}

// The components of a dotted name, from the end: last(n, 0) is the last one.
std::string_view last_component(std::string_view name, int from_end) {
    for (int i = 0; i < from_end; ++i) {
        const size_t dot = name.rfind('.');
        if (dot == std::string_view::npos) return {};
        name = name.substr(0, dot);
    }
    const size_t dot = name.rfind('.');
    return dot == std::string_view::npos ? name : name.substr(dot + 1);
}

}  // namespace

ParamInit param_init(const models::ParamSpec& p, double initializer_range) {
    const auto r = static_cast<float>(initializer_range);
    switch (p.role) {
        case models::ParamRole::Linear:
        case models::ParamRole::Embedding:
            return {InitKind::Normal, 0.0f, r};
        case models::ParamRole::Norm:
            // "layers.N.linear_attn.norm.weight" is the gated norm, a plain weight; every other norm is zero-centred.
            if (last_component(p.name, 2) == "linear_attn" && last_component(p.name, 1) == "norm") {
                return {InitKind::Normal, 1.0f, 0.1f};
            }
            return {InitKind::Normal, 0.0f, 0.1f};
        case models::ParamRole::Conv: {
            const float bound = 1.0f / std::sqrt(static_cast<float>(p.shape.back()));
            return {InitKind::Uniform, -bound, bound};
        }
        case models::ParamRole::Vector: {
            const std::string_view c = last_component(p.name, 0);
            if (c == "A_log") return {InitKind::LogOfUniform, 1.0f, 16.0f};
            if (c == "dt_bias") return {InitKind::InvSoftplusLogUniform, 0.001f, 0.1f};
            break;
        }
    }
    QINFER_FAIL("synth: no value rule for parameter ", p.name, " (", models::param_role_name(p.role), ")");
}

uint64_t param_stream(uint64_t seed, std::string_view runtime_name) {
    return mix64(seed ^ fnv1a64(runtime_name));
}

void fill_values(const ParamInit& init, uint64_t stream, int64_t first, std::span<float> out) {
    const auto base = static_cast<uint64_t>(first);
    const size_t n = out.size();
    switch (init.kind) {
        case InitKind::Normal:
            for (size_t j = 0; j < n; ++j) out[j] = init.a + init.b * unit_normal(bits_at(stream, base + j));
            return;
        case InitKind::Uniform:
            for (size_t j = 0; j < n; ++j)
                out[j] = init.a + (init.b - init.a) * unit_uniform(bits_at(stream, base + j));
            return;
        case InitKind::LogOfUniform:
            for (size_t j = 0; j < n; ++j) {
                out[j] = std::log(init.a + (init.b - init.a) * unit_uniform(bits_at(stream, base + j)));
            }
            return;
        case InitKind::InvSoftplusLogUniform: {
            const float lo = std::log(init.a), hi = std::log(init.b);
            for (size_t j = 0; j < n; ++j) {
                const float dt = std::exp(lo + (hi - lo) * unit_uniform(bits_at(stream, base + j)));
                out[j] = dt + std::log(-std::expm1(-dt));  // log(exp(dt) - 1), stable for small dt
            }
            return;
        }
    }
}

}  // namespace qinfer::synth
