#pragma once
// defines: qinfer::synth::InitKind, ParamInit, param_init, param_stream, fill_values
//
// The random values of a synthetic checkpoint: scaled like a real model so that norms, routing and the Gated DeltaNet
// decay behave plausibly, and keyed by position so that the output is deterministic for a seed whatever the threads.
//
// Deterministic and parallel: every runtime parameter (models/weight_spec.h name, e.g. "layers.0.mlp.experts.
// gate_up_proj") has its own stream key = splitmix64(seed ^ fnv1a64(name)), and the element at flat index i of the
// runtime parameter is a pure function of (key, i) (splitmix64 at counter i: a counter-based generator). A chunk of
// any tensor can therefore be generated alone, in any order, on any thread. Because the index is the runtime
// parameter's, one seed gives the SAME model in every layout: fused 3-D experts [E, 2I, H] (bf16) and per-expert
// gate_proj / up_proj slices (quantized) hold identical values before quantization, so a quantized synthetic model
// can be compared with its bf16 twin.
//
// Distributions (initializer_range r = the config's "initializer_range", 0.02 in every preset, as HF's _init_weights
// uses for Linear and Embedding):
//   Linear weights, routers, embeddings, lm_head  ~ Normal(0, r)
//   zero-centred RMSNorm weights (used as 1 + w)  ~ Normal(0, 0.1): small values around 0
//   the GDN gated norm (linear_attn.norm, plain w) ~ Normal(1, 0.1)
//   conv1d [C, 1, K]                              ~ Uniform(-1/sqrt(K), 1/sqrt(K)) (PyTorch's Conv1d default, fan-in K)
//   A_log                                          = log(A), A ~ Uniform(1, 16)
//   dt_bias                                        = softplus^-1(dt), dt log-uniform in [0.001, 0.1] (the Mamba / FLA
//                                                   GatedDeltaNet init: decays exp(-A·softplus(a + dt_bias)) spread
//                                                   over (0, 1) instead of all ≈ 0 with HF's dt_bias = 1)
// "Normal" is the Irwin-Hall sum of four 16-bit uniforms, rescaled to unit variance: it is close to Gaussian but its
// tails stop at ±sqrt(12) ≈ 3.46 σ. That keeps generation at a few ns per value; real weights have heavier tails, so
// synthetic NVFP4 / FP8 block scales are somewhat better behaved than a real checkpoint's.

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "models/weight_spec.h"

namespace qinfer::synth {

enum class InitKind : uint8_t {
    Normal,                 // mean a, standard deviation b
    Uniform,                // [a, b)
    LogOfUniform,           // log(u), u ~ Uniform(a, b)            (A_log)
    InvSoftplusLogUniform,  // softplus^-1(exp(Uniform(log a, log b)))  (dt_bias)
};

struct ParamInit {
    InitKind kind = InitKind::Normal;
    float a = 0.0f, b = 0.0f;
};

// The distribution of a runtime parameter, by its role and name (dot-separated components, never substrings).
// Throws for a Vector parameter other than A_log / dt_bias (a new model family needs its own rule).
ParamInit param_init(const models::ParamSpec& p, double initializer_range);

// The stream key of a runtime parameter.
uint64_t param_stream(uint64_t seed, std::string_view runtime_name);

// out[j] = value at flat index first + j of the parameter with this stream.
void fill_values(const ParamInit& init, uint64_t stream, int64_t first, std::span<float> out);

}  // namespace qinfer::synth
