// `qinfer synth` end to end on small configurations: every layout loads with qinfer's loader at the formats the
// layout promises (inspect), the output is deterministic for a seed and independent of the thread count, one seed
// gives the same model in every layout, values have their intended scales, and the CPU forward gives finite,
// non-degenerate logits.
//
// Sizes: CI runs on 2 cores, also under ASan, so the models keep each preset's structure (layer kinds, head counts
// and head dims, GDN widths, per-expert layout) and shrink only what costs time: --layers, and --set for vocab_size,
// hidden_size, expert count and widths. One test writes real 0.8B widths (four layers) without running them.

#include <cmath>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "io/hf_config.h"
#include "io/safetensors.h"
#include "models/inspect.h"
#include "models/model.h"
#include "quant/nvfp4.h"
#include "quant/quantize.h"
#include "synth/synth.h"
#include "test_util.h"

namespace qinfer::test {
namespace {

namespace fs = std::filesystem;
using synth::SynthLayout;

// A synthetic checkpoint in a temp dir, removed with the object.
struct Synthed {
    fs::path root, dir;
    synth::SynthReport report;
    Synthed(const Synthed&) = delete;
    Synthed& operator=(const Synthed&) = delete;
    Synthed(fs::path r, fs::path d) : root(std::move(r)), dir(std::move(d)) {}
    ~Synthed() {
        std::error_code ec;
        fs::remove_all(root, ec);
    }
};

// The small MoE / dense configurations (see the file comment). The MTP head (one more decoder layer) is left out
// (mtp_num_hidden_layers=0) except where a test is about it; Qwen3-Next's config has no such field.
std::vector<synth::ConfigOverride> small_moe(bool qwen3_5 = true) {
    std::vector<synth::ConfigOverride> set = {{"vocab_size", 512},
                                              {"hidden_size", 128},
                                              {"num_experts", 16},
                                              {"moe_intermediate_size", 64},
                                              {"shared_expert_intermediate_size", 64},
                                              {"full_attention_interval", 2}};
    if (qwen3_5) set.push_back({"mtp_num_hidden_layers", 0});
    return set;
}
std::vector<synth::ConfigOverride> small_dense() {
    return {{"vocab_size", 512},
            {"hidden_size", 128},
            {"intermediate_size", 256},
            {"full_attention_interval", 2},
            {"mtp_num_hidden_layers", 0}};
}

synth::SynthOptions options(const std::string& preset, SynthLayout layout, std::vector<synth::ConfigOverride> set,
                            int64_t layers = 2) {
    synth::SynthOptions o;
    o.preset = preset;
    o.layout = layout;
    o.layers = layers;
    o.overrides = std::move(set);
    o.progress = false;
    return o;
}

std::unique_ptr<Synthed> run(synth::SynthOptions o) {
    const fs::path root = make_temp_dir("synth");
    auto s = std::make_unique<Synthed>(root, root / "out");
    o.out = s->dir;
    s->report = synth::synth_checkpoint(o);
    return s;
}

bool has_component(const std::string& module, const std::string& c) {
    return ("." + module + ".").find("." + c + ".") != std::string::npos;
}
bool last_is(const std::string& module, const std::string& c) {
    return module == c || module.ends_with("." + c);
}
bool is_routed_expert(const std::string& m) {
    return has_component(m, "experts");
}
bool never_quantized(const std::string& m) {
    return last_is(m, "gate") || last_is(m, "shared_expert_gate");
}

// The scheme inspect must report for each module under a layout (synth.h).
std::string expected_scheme(SynthLayout layout, const std::string& m) {
    constexpr const char* kBf16 = "bf16";
    constexpr const char* kW4a4 = "nvfp4 w4a4 g16 static";
    constexpr const char* kW4a16 = "nvfp4 w4a16 g16";
    constexpr const char* kFp8 = "fp8 w8a8 per-tensor static";
    switch (layout) {
        case SynthLayout::Bf16:
            return kBf16;
        case SynthLayout::Nvfp4All:
            return never_quantized(m) || m == "lm_head" ? kBf16 : kW4a4;
        case SynthLayout::NvidiaNvfp4:
            return is_routed_expert(m) ? kW4a4 : kBf16;
        case SynthLayout::Fp8:
            return never_quantized(m) || m == "lm_head" ? kBf16 : kFp8;
        case SynthLayout::Qwen36Mixed:
            if (never_quantized(m)) return kBf16;
            if (has_component(m, "mlp") || m == "lm_head") return kW4a16;
            if (last_is(m, "in_proj_a") || last_is(m, "in_proj_b") || last_is(m, "in_proj_ba")) return kBf16;
            return kFp8;  // self_attn q/k/v/o, linear_attn in_proj_qkv / in_proj_z / in_proj_qkvz / out_proj
    }
    return "?";
}

// Checks every module's scheme; returns how many modules each scheme has.
std::map<std::string, int> expect_schemes(const fs::path& dir, SynthLayout layout) {
    std::map<std::string, int> count;
    const nlohmann::json report = models::inspect_checkpoint(dir);
    for (const auto& m : report["modules"]) {
        const std::string module = m["module"].get<std::string>(), scheme = m["scheme"].get<std::string>();
        EXPECT_EQ(scheme, expected_scheme(layout, module)) << module << " (" << m["reason"] << ")";
        ++count[scheme];
    }
    return count;
}

// Softmax entropy of one logits row, in nats.
double entropy(const float* row, int64_t n) {
    const double mx = *std::max_element(row, row + n);
    double z = 0.0, s = 0.0;
    for (int64_t i = 0; i < n; ++i) z += std::exp(row[i] - mx);
    for (int64_t i = 0; i < n; ++i) {
        const double p = std::exp(row[i] - mx) / z;
        s -= p * std::log(p);
    }
    return s;
}

// Runs a few tokens through the CPU forward and checks the logits: finite, varying, neither uniform nor one-hot.
void expect_sane_forward(const fs::path& dir, bool activation_quant = false) {
    auto model = Model::load(dir, LoadOptions{.activation_quant = activation_quant, .progress = false});
    SequenceState state = model->new_sequence();
    const std::vector<int64_t> ids = {1, 17, 300, 5, 42, 99};
    const Tensor logits = model->forward(ids, state);
    const int64_t V = model->config().vocab_size;
    ASSERT_EQ(logits.shape(), (Shape{static_cast<int64_t>(ids.size()), V}));
    for (int64_t i = 0; i < logits.numel(); ++i) ASSERT_TRUE(std::isfinite(logits.data()[i])) << "element " << i;
    std::set<int64_t> argmaxes;
    for (size_t t = 0; t < ids.size(); ++t) {
        const float* row = logits.data() + static_cast<int64_t>(t) * V;
        const double h = entropy(row, V);
        // Random weights give a broad distribution, but not the uniform one (log V) nor a collapsed one.
        EXPECT_LT(h, std::log(static_cast<double>(V)) - 0.005) << "position " << t;
        EXPECT_GT(h, 0.5 * std::log(static_cast<double>(V))) << "position " << t;
        argmaxes.insert(std::max_element(row, row + V) - row);
    }
    EXPECT_GT(argmaxes.size(), 1u) << "every position predicts the same token";
}

std::string file_bytes(const fs::path& p) {
    return read_text(p);
}

// Every file of a folder by name -> content.
std::map<std::string, std::string> folder(const fs::path& dir) {
    std::map<std::string, std::string> out;
    for (const auto& e : fs::directory_iterator(dir)) out[e.path().filename().string()] = file_bytes(e.path());
    return out;
}

TEST(SynthCheckpoint, MoeEveryLayoutLoadsWithItsFormats) {
    for (SynthLayout layout : synth::all_synth_layouts()) {
        SCOPED_TRACE(std::string(synth::synth_layout_name(layout)));
        auto s = run(options("qwen3.5-35b-a3b", layout, small_moe()));
        const std::map<std::string, int> schemes = expect_schemes(s->dir, layout);
        // 2 layers (GDN, attention): 16 experts x 3 per-expert modules per layer, quantized or not.
        if (layout == SynthLayout::Bf16) {
            EXPECT_TRUE(fs::exists(s->dir / "model.safetensors"));
            EXPECT_FALSE(fs::exists(s->dir / "hf_quant_config.json"));
            const TensorTable t = open_checkpoint(s->dir);
            EXPECT_TRUE(t.contains("model.language_model.layers.0.mlp.experts.gate_up_proj"));  // fused 3-D, as HF
            EXPECT_EQ(t.at("model.language_model.layers.0.mlp.experts.gate_up_proj").shape, (Shape{16, 128, 128}));
        } else {
            EXPECT_TRUE(fs::exists(s->dir / "hf_quant_config.json"));
            const TensorTable t = open_checkpoint(s->dir);
            const std::string e = "model.language_model.layers.1.mlp.experts.15.down_proj";
            EXPECT_TRUE(t.contains(e + ".weight"));  // per expert, as ModelOpt exports
            EXPECT_TRUE(t.contains(e + ".weight_scale"));
            EXPECT_FALSE(t.contains("model.language_model.layers.1.mlp.experts.down_proj"));
        }
        EXPECT_EQ(s->report.quant_algo, layout == SynthLayout::Bf16          ? ""
                                        : layout == SynthLayout::Fp8         ? "FP8"
                                        : layout == SynthLayout::Qwen36Mixed ? "MIXED_PRECISION"
                                                                             : "NVFP4");
        expect_sane_forward(s->dir);
    }
}

TEST(SynthCheckpoint, DenseAndNextLayoutsLoadWithTheirFormats) {
    for (SynthLayout layout : {SynthLayout::Bf16, SynthLayout::Nvfp4All, SynthLayout::Qwen36Mixed, SynthLayout::Fp8}) {
        SCOPED_TRACE(std::string(synth::synth_layout_name(layout)));
        auto s = run(options("qwen3.5-0.8b", layout, small_dense()));
        expect_schemes(s->dir, layout);
        const ModelConfig c = load_model_config(s->dir);
        EXPECT_TRUE(c.tie_word_embeddings);
        EXPECT_FALSE(open_checkpoint(s->dir).contains("lm_head.weight"));
        expect_sane_forward(s->dir);
    }
    for (SynthLayout layout : synth::all_synth_layouts()) {
        SCOPED_TRACE("qwen3-next " + std::string(synth::synth_layout_name(layout)));
        std::vector<synth::ConfigOverride> set = small_moe(/*qwen3_5=*/false);
        set.push_back({"num_experts_per_tok", 4});
        auto s = run(options("qwen3-next-80b-a3b", layout, set));
        expect_schemes(s->dir, layout);
        const TensorTable t = open_checkpoint(s->dir);
        EXPECT_TRUE(t.contains("model.layers.0.linear_attn.in_proj_qkvz.weight"));  // Qwen3-Next's fused layout
        EXPECT_TRUE(t.contains("model.layers.0.mlp.experts.3.gate_proj.weight"));
        expect_sane_forward(s->dir);
    }
}

TEST(SynthCheckpoint, ActivationQuantizationWithTheConstantInputScales) {
    auto s = run(options("qwen3.5-35b-a3b", SynthLayout::Nvfp4All, small_moe()));
    const TensorTable t = open_checkpoint(s->dir);
    const float in = t.at("model.language_model.layers.0.linear_attn.in_proj_qkv.input_scale").to_f32().data()[0];
    EXPECT_FLOAT_EQ(in, synth::kSynthInputAmax / (6.0f * 448.0f));
    expect_sane_forward(s->dir, /*activation_quant=*/true);
    auto f = run(options("qwen3.5-35b-a3b", SynthLayout::Fp8, small_moe()));
    expect_sane_forward(f->dir, /*activation_quant=*/true);
}

TEST(SynthCheckpoint, RealWidthsWriteAndPlan) {
    // Qwen3.5-0.8B at its real widths, small vocabulary: one GDN layer (FP8 / BF16 / NVFP4 under qwen3.6-mixed) and
    // the MTP head, whose layer is a full-attention layer (BF16). Shapes come straight from the preset.
    auto s = run(options("qwen3.5-0.8b", SynthLayout::Qwen36Mixed, {{"vocab_size", 512}}, 1));
    const TensorTable t = open_checkpoint(s->dir);
    const std::string p = "model.language_model.layers.0.";
    EXPECT_EQ(t.at(p + "linear_attn.in_proj_qkv.weight").shape, (Shape{6144, 1024}));  // FP8 [2·16·128 + 16·128, H]
    EXPECT_EQ(t.at(p + "linear_attn.in_proj_qkv.weight").dtype, DType::F8E4M3);
    EXPECT_EQ(t.at(p + "linear_attn.in_proj_a.weight").shape, (Shape{16, 1024}));  // BF16
    EXPECT_EQ(t.at(p + "linear_attn.conv1d.weight").shape, (Shape{6144, 1, 4}));
    EXPECT_EQ(t.at(p + "mlp.down_proj.weight").shape, (Shape{1024, 3584 / 2}));  // NVFP4 packed
    EXPECT_EQ(t.at(p + "mlp.down_proj.weight_scale").shape, (Shape{1024, 3584 / 16}));
    EXPECT_EQ(t.at("mtp.layers.0.self_attn.q_proj.weight").shape, (Shape{4096, 1024}));  // [8·256·2, H], BF16
    EXPECT_EQ(t.at("mtp.layers.0.self_attn.q_proj.weight").dtype, DType::BF16);
    EXPECT_EQ(t.at("mtp.fc.weight").shape, (Shape{1024, 2048}));
    expect_schemes(s->dir, SynthLayout::Qwen36Mixed);
}

TEST(SynthCheckpoint, DeterministicForASeedWhateverTheThreads) {
    synth::SynthOptions o = options("qwen3.5-35b-a3b", SynthLayout::Nvfp4All, small_moe());
    o.max_shard_bytes = 1'000'000;  // several shards, so the index is compared too
    o.threads = 1;
    auto a = run(o);
    o.threads = 2;
    auto b = run(o);
    const auto fa = folder(a->dir), fb = folder(b->dir);
    ASSERT_TRUE(fa.contains("model.safetensors.index.json"));
    EXPECT_GT(a->report.files.size(), 6u);
    ASSERT_EQ(fa.size(), fb.size());
    for (const auto& [name, bytes] : fa) {
        ASSERT_TRUE(fb.contains(name)) << name;
        EXPECT_TRUE(bytes == fb.at(name)) << name << " differs between 1 and 2 threads";
    }
    o.seed = 7;
    auto c = run(o);
    const auto fc = folder(c->dir);
    ASSERT_EQ(fc.size(), fa.size());  // the same shard layout: sizes do not depend on values
    for (const auto& [name, bytes] : fa) {
        if (name.ends_with(".safetensors")) {
            EXPECT_FALSE(bytes == fc.at(name)) << name << ": seed 7 wrote seed 0's bytes";
        }
    }
}

TEST(SynthCheckpoint, OneSeedIsOneModelInEveryLayout) {
    // Unquantized modules are bit-identical across layouts; quantized experts dequantize to within the NVFP4 error
    // bound of the bf16 layout's fused 3-D experts.
    auto bf = run(options("qwen3.5-35b-a3b", SynthLayout::Bf16, small_moe()));
    auto nv = run(options("qwen3.5-35b-a3b", SynthLayout::NvidiaNvfp4, small_moe()));
    const TensorTable a = open_checkpoint(bf->dir), b = open_checkpoint(nv->dir);
    for (const char* name :
         {"model.language_model.layers.0.linear_attn.in_proj_qkv.weight",
          "model.language_model.layers.1.self_attn.q_proj.weight", "lm_head.weight",
          "model.language_model.embed_tokens.weight", "model.language_model.layers.0.linear_attn.A_log"}) {
        const auto x = a.at(name).bytes, y = b.at(name).bytes;
        EXPECT_TRUE(x.size() == y.size() && std::equal(x.begin(), x.end(), y.begin())) << name;
    }
    const Tensor fused = a.at("model.language_model.layers.1.mlp.experts.gate_up_proj").to_f32();  // [16, 128, 128]
    const std::string e = "model.language_model.layers.1.mlp.experts.5.up_proj";
    const TensorInfo& packed = b.at(e + ".weight");
    const TensorInfo& scales = b.at(e + ".weight_scale");
    const float s2 = b.at(e + ".weight_scale_2").to_f32().data()[0];
    constexpr int64_t I = 64, H = 128;
    Tensor deq({I, H});
    quant::nvfp4_dequantize({reinterpret_cast<const uint8_t*>(packed.bytes.data()), packed.bytes.size()},
                            {reinterpret_cast<const uint8_t*>(scales.bytes.data()), scales.bytes.size()}, s2, I, H,
                            deq.span());
    // up_proj of expert 5 = rows [I, 2I) of gate_up_proj[5]; BF16 rounding of the original is far below the bound.
    const float* orig = fused.data() + (5 * 2 * I + I) * H;
    double max_err = 0.0, max_abs = 0.0;
    for (int64_t i = 0; i < I * H; ++i) {
        max_err = std::max(max_err, static_cast<double>(std::fabs(deq.data()[i] - orig[i])));
        max_abs = std::max(max_abs, static_cast<double>(std::fabs(orig[i])));
    }
    EXPECT_GT(max_abs, 0.0);
    EXPECT_LT(max_err, 0.2 * max_abs);  // NVFP4: within ~(1/6)·block amax of the value (test_quantize.cpp bound)
}

TEST(SynthCheckpoint, QuantizedLayoutsAreWhatQuantizeMakesOfTheBf16Layout) {
    // The same seed's bf16 layout through `qinfer quantize` gives, byte for byte, the synthetic quantized layout:
    // every tensor (per-expert split, packed nibbles, block scales, shared weight scales), config.json and
    // hf_quant_config.json. Only input_scale values differ: quantize calibrates them, synth uses a constant.
    using quant::QuantizeFormat;
    using quant::QuantizePreset;
    auto bf = run(options("qwen3.5-35b-a3b", SynthLayout::Bf16, small_moe()));
    const struct {
        SynthLayout layout;
        QuantizeFormat format;
        QuantizePreset preset;
    } cases[] = {{SynthLayout::Nvfp4All, QuantizeFormat::Nvfp4, QuantizePreset::AllLinear},
                 {SynthLayout::NvidiaNvfp4, QuantizeFormat::Nvfp4, QuantizePreset::NvidiaQwen35},
                 {SynthLayout::Qwen36Mixed, QuantizeFormat::Mixed, QuantizePreset::Qwen36Mixed},
                 {SynthLayout::Fp8, QuantizeFormat::Fp8, QuantizePreset::AllLinear}};
    for (const auto& c : cases) {
        SCOPED_TRACE(std::string(synth::synth_layout_name(c.layout)));
        auto syn = run(options("qwen3.5-35b-a3b", c.layout, small_moe()));
        quant::QuantizeOptions qo;
        qo.format = c.format;
        qo.preset = c.preset;
        qo.progress = false;
        // 16 calibration tokens instead of the default 64 (the ASan run's time): each picks 8 of the 16 experts, so
        // every expert still sees input (quantize fails loudly otherwise).
        write_text(syn->root / "calib.txt", "1 17 300 5 42 99 7 250 123 64 511 2 3 404 77 18");
        qo.calib_ids = syn->root / "calib.txt";
        const fs::path qdir = syn->root / "quantized";
        quant::quantize_checkpoint(bf->dir, qdir, qo);
        EXPECT_EQ(read_text(syn->dir / "config.json"), read_text(qdir / "config.json"));
        EXPECT_EQ(read_text(syn->dir / "hf_quant_config.json"), read_text(qdir / "hf_quant_config.json"));
        const TensorTable a = open_checkpoint(syn->dir), b = open_checkpoint(qdir);
        ASSERT_EQ(a.size(), b.size());
        size_t compared = 0;
        for (const auto& [name, info] : a.all()) {
            const TensorInfo* other = b.find(name);
            ASSERT_NE(other, nullptr) << name << " is not in the quantized bf16 layout";
            EXPECT_EQ(info->dtype, other->dtype) << name;
            EXPECT_EQ(info->shape, other->shape) << name;
            if (name.ends_with(".input_scale")) continue;
            EXPECT_TRUE(std::equal(info->bytes.begin(), info->bytes.end(), other->bytes.begin(), other->bytes.end()))
                << name;
            ++compared;
        }
        EXPECT_GT(compared, 100u);
    }
}

TEST(SynthCheckpoint, ValuesHaveTheirIntendedScales) {
    auto s = run(options("qwen3.5-35b-a3b", SynthLayout::Bf16, small_moe()));
    const TensorTable t = open_checkpoint(s->dir);
    auto stats = [&](const std::string& name) {
        const Tensor v = t.at(name).to_f32();
        double sum = 0.0, sq = 0.0, lo = 1e30, hi = -1e30;
        for (int64_t i = 0; i < v.numel(); ++i) {
            sum += v.data()[i];
            sq += static_cast<double>(v.data()[i]) * v.data()[i];
            lo = std::min(lo, static_cast<double>(v.data()[i]));
            hi = std::max(hi, static_cast<double>(v.data()[i]));
        }
        const double mean = sum / static_cast<double>(v.numel());
        return std::array<double, 4>{mean, std::sqrt(sq / static_cast<double>(v.numel()) - mean * mean), lo, hi};
    };
    const std::string p = "model.language_model.layers.0.";
    const auto w = stats(p + "linear_attn.in_proj_qkv.weight");  // Normal(0, 0.02)
    EXPECT_NEAR(w[0], 0.0, 1e-3);
    EXPECT_NEAR(w[1], 0.02, 1e-3);
    EXPECT_LE(w[3], 0.02 * 3.47);                           // Irwin-Hall tails stop at sqrt(12) sigma
    const auto norm = stats(p + "input_layernorm.weight");  // zero-centred: around 0
    EXPECT_NEAR(norm[0], 0.0, 0.03);
    EXPECT_NEAR(norm[1], 0.1, 0.03);
    const auto gated = stats(p + "linear_attn.norm.weight");  // plain weight: around 1
    EXPECT_NEAR(gated[0], 1.0, 0.05);
    const auto a_log = stats(p + "linear_attn.A_log");  // log(Uniform(1, 16))
    EXPECT_GE(a_log[2], 0.0);
    EXPECT_LE(a_log[3], std::log(16.0) + 0.01);
    const auto dt = stats(p + "linear_attn.dt_bias");  // softplus^-1 of [0.001, 0.1]
    EXPECT_GE(dt[2], std::log(std::expm1(0.001)) - 0.05);
    EXPECT_LE(dt[3], std::log(std::expm1(0.1)) + 0.05);
    const auto conv = stats(p + "linear_attn.conv1d.weight");  // Uniform(±1/sqrt(4))
    EXPECT_GE(conv[2], -0.5);
    EXPECT_LE(conv[3], 0.5);
    EXPECT_NEAR(conv[1], 1.0 / std::sqrt(12.0), 0.02);
}

TEST(SynthCheckpoint, WritesTheConfigFilesOfARelease) {
    std::vector<synth::ConfigOverride> set = small_moe();
    set.pop_back();  // keep the preset's MTP head
    auto s = run(options("qwen3.5-35b-a3b", SynthLayout::NvidiaNvfp4, set));
    const nlohmann::json cfg = nlohmann::json::parse(read_text(s->dir / "config.json"));
    EXPECT_EQ(cfg["architectures"][0], "Qwen3_5MoeForConditionalGeneration");
    EXPECT_EQ(cfg["text_config"]["num_hidden_layers"], 2);
    EXPECT_EQ(cfg["quantization_config"]["quant_method"], "modelopt");
    EXPECT_EQ(cfg["quantization_config"]["quant_algo"], "NVFP4");
    const nlohmann::json hq = nlohmann::json::parse(read_text(s->dir / "hf_quant_config.json"));
    EXPECT_EQ(hq["quantization"]["quant_algo"], "NVFP4");
    EXPECT_EQ(hq["quantization"]["group_size"], 16);
    // NVIDIA's Qwen3.5 pattern (quantized_checkpoints.md §4): every GDN / attention / shared-expert module and
    // lm_head excluded, the router not listed.
    const auto& ex = hq["quantization"]["exclude_modules"];
    std::set<std::string> patterns(ex.begin(), ex.end());
    EXPECT_TRUE(patterns.contains("lm_head"));
    EXPECT_TRUE(patterns.contains("model.language_model.layers.0.linear_attn*"));
    EXPECT_TRUE(patterns.contains("model.language_model.layers.1.self_attn*"));
    EXPECT_TRUE(patterns.contains("mtp*"));  // the MTP head stays BF16, as in the releases
    const TensorTable t = open_checkpoint(s->dir);
    EXPECT_EQ(t.at("mtp.layers.0.mlp.experts.gate_up_proj").dtype, DType::BF16);  // fused 3-D, as Qwen3.6's index
    EXPECT_TRUE(t.contains("mtp.pre_fc_norm_hidden.weight"));
    // The loader ignores the MTP head's 19 tensors: fc + 3 norms, and a full-attention MoE layer (2 norms, q/k/v/o,
    // q/k norms, router, fused gate_up / down experts, shared expert gate/up/down, shared_expert_gate).
    EXPECT_EQ(models::inspect_checkpoint(s->dir)["ignored_tensors"], 19);
    for (const std::string& pat : patterns) EXPECT_EQ(pat.find("mlp.gate"), std::string::npos) << pat;
    EXPECT_EQ(cfg["quantization_config"]["ignore"], ex);
    const nlohmann::json gen = nlohmann::json::parse(read_text(s->dir / "generation_config.json"));
    EXPECT_EQ(gen["eos_token_id"], 248044);
    EXPECT_NE(read_text(s->dir / "README.md").find("RANDOM WEIGHTS"), std::string::npos);
    const auto meta = SafetensorsFile::open(s->dir / "model.safetensors")->metadata();
    EXPECT_EQ(meta.at("format"), "pt");
    EXPECT_EQ(meta.at("qinfer.synth"), "preset=qwen3.5-35b-a3b layout=nvidia-nvfp4 seed=0 layers=2");
}

TEST(SynthCheckpoint, BadInputLeavesTheFolderAlone) {
    // nvidia-nvfp4 quantizes routed experts only: nothing in a dense model.
    EXPECT_ERROR_CONTAINS(run(options("qwen3.5-0.8b", SynthLayout::NvidiaNvfp4, small_dense())),
                          "--layout nvidia-nvfp4 on preset qwen3.5-0.8b", "quantizes no module", "routed experts only");
    const fs::path root = make_temp_dir("synth_busy");
    write_text(root / "notes.txt", "mine");
    synth::SynthOptions o = options("qwen3.5-0.8b", SynthLayout::Bf16, small_dense());
    o.out = root;
    EXPECT_ERROR_CONTAINS(synth::synth_checkpoint(o), root.string(), "not empty", "--force");
    o.force = true;  // replaces checkpoint files only
    write_text(root / "hf_quant_config.json", "{}");
    synth::synth_checkpoint(o);
    EXPECT_EQ(read_text(root / "notes.txt"), "mine");
    EXPECT_FALSE(fs::exists(root / "hf_quant_config.json"));  // a stale quantization config would mislead loaders
    EXPECT_TRUE(fs::exists(root / "model.safetensors"));
    fs::remove_all(root);
}

}  // namespace
}  // namespace qinfer::test
