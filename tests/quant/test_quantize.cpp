// `qinfer quantize` end to end on the BF16 goldens: the written checkpoint loads, qinfer's own resolver reads back
// exactly the intended format (and exclusion rule) for every module, the dequantized weights are within the format's
// error bound of the originals, scales are shared as ModelOpt shares them, and the model still computes.
//
// Bit-exactness against the independent Python quantizer is checked by hand with tools/golden/check_quantize.py
// (see tools/golden/README.md); these tests pin the properties that do not need Python.

#include <cmath>
#include <cstring>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "golden/golden_cases.h"
#include "io/hf_config.h"
#include "io/safetensors.h"
#include "models/inspect.h"
#include "models/model.h"
#include "models/registry.h"
#include "quant/quant_config.h"
#include "quant/quantize.h"
#include "test_util.h"

namespace qinfer::test {
namespace {

namespace fs = std::filesystem;

// A quantized copy of a golden in a temp dir, removed with the object.
struct Quantized {
    fs::path root, dir;
    quant::QuantizeReport report;
    Quantized(fs::path r, fs::path d, quant::QuantizeReport rep) : root(std::move(r)), dir(std::move(d)), report(std::move(rep)) {}
    Quantized(const Quantized&) = delete;
    Quantized& operator=(const Quantized&) = delete;
    ~Quantized() {
        std::error_code ec;
        fs::remove_all(root, ec);
    }
};

Quantized quantize(const std::string& golden_case, quant::QuantizeFormat format,
                   std::optional<quant::QuantizePreset> preset = {}, std::vector<std::string> exclude = {}) {
    quant::QuantizeOptions o;
    o.format = format;
    o.preset = preset;
    o.exclude = std::move(exclude);
    o.progress = false;
    const fs::path root = make_temp_dir("quantize_" + golden_case);
    try {
        return {root, root / "out", quant::quantize_checkpoint(golden_dir() / golden_case, root / "out", o)};
    } catch (...) {
        fs::remove_all(root);
        throw;
    }
}

std::map<std::string, nlohmann::json> inspect_modules(const fs::path& dir) {
    std::map<std::string, nlohmann::json> out;
    const nlohmann::json report = models::inspect_checkpoint(dir);
    for (const auto& m : report["modules"]) out[m["module"].get<std::string>()] = m;
    return out;
}

// The scheme inspect must report for each module, given by the test.
using Expect = std::function<std::string(const std::string& module)>;

void expect_schemes(const fs::path& dir, const Expect& expect) {
    for (const auto& [module, m] : inspect_modules(dir)) {
        EXPECT_EQ(m["scheme"].get<std::string>(), expect(module)) << module << " (" << m["reason"] << ")";
    }
}

bool has_component(const std::string& module, const std::string& c) {
    return ("." + module + ".").find("." + c + ".") != std::string::npos;
}
bool ends_with_component(const std::string& module, const std::string& c) {
    return module == c || module.ends_with("." + c);
}

// Runtime parameters (fp32, dense layout) of a folder, with the plan that made them.
struct Loaded {
    TensorTable table;
    models::WeightSpec spec;
    models::WeightPlan plan;
    std::map<std::string, Tensor> params;
};
std::unique_ptr<Loaded> load_params(const fs::path& dir) {
    auto l = std::make_unique<Loaded>();
    const ModelConfig c = load_model_config(dir);
    l->spec = models::find_model_family(c.architecture).weight_spec(c);
    l->table = open_checkpoint(dir);
    l->plan = models::plan_weights(l->spec, l->table, quant::load_quant_config(dir));
    l->params = models::materialize_weights(l->plan);
    return l;
}

// Every quantized shard of `out` is within its format's error bound of the same rows of `orig`; every unquantized
// shard is bit-identical. The bounds, for one element w of a block with max |w| = block_amax:
//   NVFP4: the unit is u = fp32(E4M3(s))·ws2 with s = block_amax/(6·ws2) clamped to [2^-9, 448]. E4M3 rounds s within
//          2^-4 relative when normal, within 2^-9 absolute when subnormal or clamped, so u <= (17/16)·block_amax/6 +
//          2^-9·ws2. On the E2M1 grid the widest gap is 2u (4 -> 6), so rounding moves w by at most u; saturation
//          above 6u moves it by block_amax - 6u, which the same E4M3 bound keeps below u. Hence
//          |w - q| <= (17/16)·block_amax/6 + 2^-9·ws2 (ws2 = the shard's, possibly shared, weight_scale_2).
//   FP8:   w/scale is within ±448 (the shared scale is >= the shard's own amax/448); E4M3 rounds it within 2^-4
//          relative (normal) or 2^-10 absolute (subnormal): |w - q| <= 2^-4·|w| + 2^-10·scale.
// Both get 1e-7 relative slack for the fp32 products.
// Returns the number of quantized shards checked.
int expect_within_bounds(const Loaded& orig, const Loaded& out) {
    int checked = 0;
    for (const auto& [name, records] : out.plan.shards) {
        const Tensor& a = orig.params.at(name);
        const Tensor& b = out.params.at(name);
        const int64_t K = a.shape().back();
        for (const models::ShardRecord& r : records) {
            const int64_t row0 = r.dst_offset / K, rows = numel(r.logical_shape) / K;
            const quant::WeightFormat f = r.decision.scheme.format;
            const float scale = r.global_scale ? models::read_scalar(*r.global_scale)
                                : r.weight_scale ? models::read_scalar(*r.weight_scale)
                                                 : 0.0f;
            double worst = 0;  // max over elements of |w - q| / bound
            for (int64_t i = row0 * K; i < (row0 + rows) * K; ++i) {
                const float w = a.data()[i], q = b.data()[i];
                switch (f) {
                    case quant::WeightFormat::BF16:
                    case quant::WeightFormat::F16:
                    case quant::WeightFormat::F32:
                        if (std::memcmp(&w, &q, sizeof w) != 0) {
                            ADD_FAILURE() << r.module << " is unquantized but element " << i << " changed";
                            return checked;
                        }
                        break;
                    case quant::WeightFormat::NVFP4: {
                        const int64_t b0 = i - i % 16;
                        float amax = 0;
                        for (int64_t j = b0; j < b0 + 16; ++j) amax = std::max(amax, std::fabs(a.data()[j]));
                        const double bound = 17.0 / 16.0 * amax / 6.0 + std::ldexp(scale, -9) + 1e-7 * amax;
                        worst = std::max(worst, std::fabs(w - q) / bound);
                        break;
                    }
                    case quant::WeightFormat::FP8: {
                        const double bound = std::ldexp(std::fabs(w), -4) + std::ldexp(scale, -10) + 1e-7 * std::fabs(w);
                        worst = std::max(worst, std::fabs(w - q) / bound);
                        break;
                    }
                }
            }
            EXPECT_LE(worst, 1.0) << r.module;
            checked += quant::is_quantized(f) ? 1 : 0;
        }
    }
    return checked;
}

std::vector<int64_t> golden_ids(const std::string& c) {
    const auto g = SafetensorsFile::open(golden_dir() / c / "golden.safetensors");
    const TensorInfo* t = g->find("input_ids");
    std::vector<int64_t> ids(static_cast<size_t>(t->numel()));
    std::memcpy(ids.data(), t->bytes.data(), t->bytes.size());
    return ids;
}

Tensor logits(const fs::path& dir, const std::vector<int64_t>& ids, bool activation_quant = false) {
    const auto m = Model::load(dir, LoadOptions{.activation_quant = activation_quant, .progress = false});
    SequenceState s = m->new_sequence();
    return m->forward(ids, s);
}

// How far quantized logits are from the BF16 model's: relative RMS of the difference and argmax agreement.
struct Closeness {
    double rel_rms = 0, argmax_agree = 0;
};
Closeness compare(const Tensor& ref, const Tensor& got) {
    double d2 = 0, r2 = 0;
    for (int64_t i = 0; i < ref.numel(); ++i) {
        EXPECT_TRUE(std::isfinite(got.data()[i])) << "logit " << i;
        const double d = static_cast<double>(got.data()[i]) - ref.data()[i];
        d2 += d * d;
        r2 += static_cast<double>(ref.data()[i]) * ref.data()[i];
    }
    const int64_t T = ref.dim(0), V = ref.dim(1);
    int agree = 0;
    for (int64_t t = 0; t < T; ++t) {
        const float* a = ref.row(t);
        const float* b = got.row(t);
        agree += std::max_element(a, a + V) - a == std::max_element(b, b + V) - b ? 1 : 0;
    }
    return {std::sqrt(d2 / r2), static_cast<double>(agree) / static_cast<double>(T)};
}

// Logit closeness to the BF16 model, measured on these tiny random models: quantization error is large for them.
// NVFP4 moves a weight by ~9.5% RMS and FP8 by ~2.6% (tests/golden/quant/MANIFEST.md), random N(0, 1/fan_in) weights
// with hidden 64 amplify that through 3-5 layers, and MoE routing flips move whole tokens (transformers on the
// Python-quantized goldens: FP8 max|Δlogit| 2.2 of 8, argmax agreement 0.81; NVFP4 4.6, 0.70). Measured here (relative
// RMS of the logit difference / argmax agreement): dense_text NVFP4 0.48 / 0.51 (with W4A4 activation emulation 0.56 /
// 0.39), moe_mm_fused NVFP4 experts 0.22 / 0.74, moe_text_per_expert mixed 0.34 / 0.46, next FP8 0.24 / 0.70. The
// bounds leave ~25% headroom; a scale, layout or nibble-order bug makes the logits uncorrelated (relative RMS >= 1,
// argmax agreement ~1/vocab) or non-finite.
constexpr double kNvfp4LogitRelRms = 0.6;
constexpr double kFp8LogitRelRms = 0.3;
constexpr double kMinArgmaxAgree = 0.3;

class QuantizeCheckpoint : public ::testing::Test {
protected:
    void SetUp() override {
        if (!fs::exists(golden_dir() / "dense_text")) GTEST_SKIP() << "golden checkpoints missing";
    }
};

TEST_F(QuantizeCheckpoint, DenseTextAllLinearNvfp4) {
    const Quantized q = quantize("dense_text", quant::QuantizeFormat::Nvfp4);
    EXPECT_EQ(q.report.quant_algo, "NVFP4");
    EXPECT_EQ(q.report.exclude_modules, std::vector<std::string>{"lm_head"});
    EXPECT_EQ(q.report.calibration_ids.size(), 64u);
    auto mods = inspect_modules(q.dir);
    for (const auto& [module, m] : mods) {
        const bool head = module == "lm_head";
        EXPECT_EQ(m["scheme"], head ? "bf16" : "nvfp4 w4a4 g16 static") << module;
        EXPECT_EQ(m["reason"], head ? "exclude_modules \"lm_head\"" : "default quant_algo NVFP4") << module;
    }
    EXPECT_EQ(mods.size(), 32u);

    // ModelOpt's same-input sharing: q/k/v one weight_scale_2; all four GDN input projections one weight_scale_2 and
    // one input_scale; gate/up one; o_proj and down_proj their own.
    const TensorTable t = open_checkpoint(q.dir);
    auto scalar = [&](const std::string& n) { return models::read_scalar(t.at(n)); };
    const std::string a = "model.layers.3.self_attn.", g = "model.layers.0.linear_attn.", m = "model.layers.0.mlp.";
    EXPECT_EQ(scalar(a + "q_proj.weight_scale_2"), scalar(a + "k_proj.weight_scale_2"));
    EXPECT_EQ(scalar(a + "q_proj.weight_scale_2"), scalar(a + "v_proj.weight_scale_2"));
    for (const char* s : {"in_proj_z", "in_proj_b", "in_proj_a"}) {
        EXPECT_EQ(scalar(g + "in_proj_qkv.weight_scale_2"), scalar(g + s + std::string(".weight_scale_2"))) << s;
        EXPECT_EQ(scalar(g + "in_proj_qkv.input_scale"), scalar(g + s + std::string(".input_scale"))) << s;
    }
    EXPECT_EQ(scalar(m + "gate_proj.weight_scale_2"), scalar(m + "up_proj.weight_scale_2"));
    EXPECT_NE(scalar(g + "in_proj_qkv.weight_scale_2"), scalar(g + "out_proj.weight_scale_2"));
    EXPECT_EQ(t.at(m + "down_proj.weight").dtype, DType::U8);
    EXPECT_EQ(t.at(m + "down_proj.weight").shape, (Shape{64, 48}));
    EXPECT_EQ(t.at(m + "down_proj.weight_scale").shape, (Shape{64, 6}));
    EXPECT_EQ(t.at(m + "down_proj.weight_scale_2").shape, Shape{});

    const auto orig = load_params(golden_dir() / "dense_text");
    const auto out = load_params(q.dir);
    EXPECT_EQ(expect_within_bounds(*orig, *out), 31);

    const std::vector<int64_t> ids = golden_ids("dense_text");
    const Tensor ref = logits(golden_dir() / "dense_text", ids);
    const Closeness c = compare(ref, logits(q.dir, ids));
    EXPECT_LT(c.rel_rms, kNvfp4LogitRelRms);
    EXPECT_GT(c.argmax_agree, kMinArgmaxAgree);
    const Closeness ca = compare(ref, logits(q.dir, ids, /*activation_quant=*/true));  // W4A4 emulation runs too
    EXPECT_LT(ca.rel_rms, 2 * kNvfp4LogitRelRms);
    std::cout << "[dense_text nvfp4] logits rel RMS " << c.rel_rms << " argmax " << c.argmax_agree
              << "; with activation quant " << ca.rel_rms << " / " << ca.argmax_agree << "\n";
}

TEST_F(QuantizeCheckpoint, MoeFusedNvidiaPresetWritesPerExpertExperts) {
    const Quantized q = quantize("moe_mm_fused", quant::QuantizeFormat::Nvfp4, quant::QuantizePreset::NvidiaQwen35);
    const std::string p = "model.language_model.layers.";
    // NVIDIA's published list shape (quantized_checkpoints.md §4), summarised for this [L,F,L,F] model.
    const std::vector<std::string> want = {
        "lm_head", p + "0.linear_attn*", p + "0.mlp.shared_expert*", p + "0.mlp.shared_expert_gate",
        p + "1.mlp.shared_expert*", p + "1.mlp.shared_expert_gate", p + "1.self_attn*", p + "2.linear_attn*",
        p + "2.mlp.shared_expert*", p + "2.mlp.shared_expert_gate", p + "3.mlp.shared_expert*",
        p + "3.mlp.shared_expert_gate", p + "3.self_attn*", "model.visual*", "mtp*"};
    EXPECT_EQ(q.report.exclude_modules, want);

    const TensorTable in = open_checkpoint(golden_dir() / "moe_mm_fused");
    const TensorTable t = open_checkpoint(q.dir);
    for (int l = 0; l < 4; ++l) {
        const std::string e = p + std::to_string(l) + ".mlp.experts.";
        EXPECT_FALSE(t.contains(e + "gate_up_proj")) << l;
        EXPECT_FALSE(t.contains(e + "down_proj")) << l;
        float in_gate = 0, in_down = 0;
        for (int x = 0; x < 8; ++x) {
            const std::string ex = e + std::to_string(x) + ".";
            EXPECT_EQ(t.at(ex + "gate_proj.weight").shape, (Shape{32, 32}));
            EXPECT_EQ(t.at(ex + "down_proj.weight").shape, (Shape{64, 16}));
            EXPECT_EQ(models::read_scalar(t.at(ex + "gate_proj.weight_scale_2")),
                      models::read_scalar(t.at(ex + "up_proj.weight_scale_2")));
            // One input_scale per layer and projection input, shared by all experts (§1.7, §8).
            if (x == 0) {
                in_gate = models::read_scalar(t.at(ex + "gate_proj.input_scale"));
                in_down = models::read_scalar(t.at(ex + "down_proj.input_scale"));
            }
            EXPECT_EQ(models::read_scalar(t.at(ex + "gate_proj.input_scale")), in_gate);
            EXPECT_EQ(models::read_scalar(t.at(ex + "up_proj.input_scale")), in_gate);
            EXPECT_EQ(models::read_scalar(t.at(ex + "down_proj.input_scale")), in_down);
        }
    }
    // Everything that is not a quantized expert is copied byte for byte (MTP's fused experts and the vision tower too).
    for (const auto& [name, info] : in.all()) {
        if (name.find(".mlp.experts.") != std::string::npos && name.starts_with("model.")) continue;
        const TensorInfo* o = t.find(name);
        ASSERT_NE(o, nullptr) << name;
        EXPECT_EQ(o->dtype, info->dtype) << name;
        EXPECT_TRUE(std::equal(o->bytes.begin(), o->bytes.end(), info->bytes.begin(), info->bytes.end())) << name;
    }
    auto mods = inspect_modules(q.dir);
    for (const auto& [module, m] : mods) {
        const bool expert = has_component(module, "experts");
        const bool router = ends_with_component(module, "gate");
        EXPECT_EQ(m["scheme"], expert ? "nvfp4 w4a4 g16 static" : "bf16") << module;
        const std::string reason = m["reason"];
        if (expert) {
            EXPECT_EQ(reason, "default quant_algo NVFP4") << module;
        } else if (router) {
            EXPECT_EQ(reason, "router: never quantized") << module;
        } else if (ends_with_component(module, "shared_expert_gate")) {
            EXPECT_EQ(reason, "shared_expert_gate: never quantized") << module;
        } else {
            EXPECT_TRUE(reason.starts_with("exclude_modules \"")) << module << ": " << reason;
        }
    }
    const auto orig = load_params(golden_dir() / "moe_mm_fused");
    const auto out = load_params(q.dir);
    EXPECT_EQ(expect_within_bounds(*orig, *out), 4 * 8 * 3);
    const std::vector<int64_t> ids = golden_ids("moe_mm_fused");
    const Closeness c = compare(logits(golden_dir() / "moe_mm_fused", ids), logits(q.dir, ids));
    EXPECT_LT(c.rel_rms, kNvfp4LogitRelRms);
    EXPECT_GT(c.argmax_agree, kMinArgmaxAgree);
    std::cout << "[moe_mm_fused nvidia nvfp4] logits rel RMS " << c.rel_rms << " argmax " << c.argmax_agree << "\n";
}

TEST_F(QuantizeCheckpoint, NextAllLinearFp8) {
    const Quantized q = quantize("next", quant::QuantizeFormat::Fp8);
    EXPECT_EQ(q.report.quant_algo, "FP8");
    // Qwen3-Next's fused-on-disk in_proj_qkvz and in_proj_ba share an input: one weight_scale and one input_scale.
    const TensorTable t = open_checkpoint(q.dir);
    const std::string g = "model.layers.0.linear_attn.";
    EXPECT_EQ(t.at(g + "in_proj_qkvz.weight").dtype, DType::F8E4M3);
    EXPECT_EQ(models::read_scalar(t.at(g + "in_proj_qkvz.weight_scale")), models::read_scalar(t.at(g + "in_proj_ba.weight_scale")));
    EXPECT_EQ(models::read_scalar(t.at(g + "in_proj_qkvz.input_scale")), models::read_scalar(t.at(g + "in_proj_ba.input_scale")));
    expect_schemes(q.dir, [](const std::string& m) {
        const bool keep = m == "lm_head" || ends_with_component(m, "gate") || ends_with_component(m, "shared_expert_gate");
        return std::string(keep ? "bf16" : "fp8 w8a8 per-tensor static");
    });
    const auto orig = load_params(golden_dir() / "next");
    const auto out = load_params(q.dir);
    EXPECT_EQ(expect_within_bounds(*orig, *out), 97);
    const std::vector<int64_t> ids = golden_ids("next");
    const Closeness c = compare(logits(golden_dir() / "next", ids), logits(q.dir, ids));
    EXPECT_LT(c.rel_rms, kFp8LogitRelRms);
    EXPECT_GT(c.argmax_agree, kMinArgmaxAgree);
    std::cout << "[next fp8] logits rel RMS " << c.rel_rms << " argmax " << c.argmax_agree << "\n";
}

TEST_F(QuantizeCheckpoint, MoePerExpertQwen36Mixed) {
    const Quantized q = quantize("moe_text_per_expert", quant::QuantizeFormat::Mixed);
    EXPECT_EQ(q.report.quant_algo, "MIXED_PRECISION");
    // The routed experts of a layer are one parent key, as in the Qwen3.6 releases.
    EXPECT_EQ(q.report.quantized_layers.at("model.layers.0.mlp.experts"), "W4A16_NVFP4");
    EXPECT_FALSE(q.report.quantized_layers.contains("model.layers.0.mlp.experts.0.gate_proj"));
    EXPECT_EQ(q.report.quantized_layers.at("model.layers.3.self_attn.q_proj"), "FP8");
    EXPECT_FALSE(q.report.quantized_layers.contains("model.layers.0.linear_attn.in_proj_a"));
    auto mods = inspect_modules(q.dir);
    for (const auto& [module, m] : mods) {
        const std::string last = module.substr(module.rfind('.') + 1);
        std::string want = "bf16";
        if (has_component(module, "experts") || has_component(module, "shared_expert") || module == "lm_head") {
            want = "nvfp4 w4a16 g16";
        } else if (has_component(module, "self_attn") || last == "in_proj_qkv" || last == "in_proj_z" ||
                   last == "out_proj") {
            want = "fp8 w8a8 per-tensor static";
        }
        EXPECT_EQ(m["scheme"], want) << module;
        const std::string reason = m["reason"];
        if (last == "in_proj_a" || last == "in_proj_b") {
            EXPECT_EQ(reason, "exclude_modules \"" + module + "\"") << module;  // exact: linear_attn* would catch qkv
        } else if (want != "bf16") {
            EXPECT_TRUE(reason.starts_with("quantized_layers \"")) << module << ": " << reason;
        }
    }
    const TensorTable t = open_checkpoint(q.dir);
    EXPECT_FALSE(t.contains("model.layers.0.mlp.experts.0.gate_proj.input_scale"));  // W4A16: no input_scale
    EXPECT_TRUE(t.contains("model.layers.0.linear_attn.in_proj_qkv.input_scale"));
    const auto orig = load_params(golden_dir() / "moe_text_per_expert");
    const auto out = load_params(q.dir);
    EXPECT_EQ(expect_within_bounds(*orig, *out), 122);
    const std::vector<int64_t> ids = golden_ids("moe_text_per_expert");
    const Closeness c = compare(logits(golden_dir() / "moe_text_per_expert", ids), logits(q.dir, ids));
    EXPECT_LT(c.rel_rms, kNvfp4LogitRelRms);
    EXPECT_GT(c.argmax_agree, kMinArgmaxAgree);
    std::cout << "[moe_text_per_expert mixed] logits rel RMS " << c.rel_rms << " argmax " << c.argmax_agree << "\n";
}

TEST_F(QuantizeCheckpoint, TiedMultimodalMixedKeepsDtypesAndTying) {
    // F32 checkpoint with a tied head: unquantized tensors stay F32, the tied head stays with the embedding.
    const Quantized q = quantize("dense_mm_tied", quant::QuantizeFormat::Mixed);
    const TensorTable t = open_checkpoint(q.dir);
    EXPECT_FALSE(t.contains("lm_head.weight"));
    EXPECT_EQ(t.at("model.language_model.layers.1.linear_attn.in_proj_a.weight").dtype, DType::F32);
    EXPECT_EQ(t.at("model.visual.blocks.0.attn.qkv.weight").dtype, DType::F32);
    EXPECT_EQ(q.report.exclude_modules.back(), "model.visual*");
    const auto orig = load_params(golden_dir() / "dense_mm_tied");
    const auto out = load_params(q.dir);
    EXPECT_EQ(expect_within_bounds(*orig, *out), 32);
}

TEST_F(QuantizeCheckpoint, ExcludeGlobsAndDeterminism) {
    const Quantized a = quantize("dense_text_prefix", quant::QuantizeFormat::W4a16Nvfp4, {}, {"*.in_proj_a", "*.layers.2.*"});
    auto mods = inspect_modules(a.dir);
    EXPECT_EQ(mods["model.layers.0.linear_attn.in_proj_a"]["scheme"], "f16");  // F16 input: kept F16
    EXPECT_EQ(mods["model.layers.0.linear_attn.in_proj_b"]["scheme"], "nvfp4 w4a16 g16");
    EXPECT_EQ(mods["model.layers.2.mlp.down_proj"]["scheme"], "f16");
    EXPECT_EQ(mods["model.layers.1.mlp.down_proj"]["scheme"], "nvfp4 w4a16 g16");
    EXPECT_TRUE(a.report.calibration_ids.empty());  // W4A16: no input_scale, no calibration
    // A whole unquantized layer becomes one prefix pattern; in_proj_a, whose siblings are quantized, its exact name.
    const std::vector<std::string> want = {"lm_head", "model.layers.0.linear_attn.in_proj_a", "model.layers.2*"};
    EXPECT_EQ(a.report.exclude_modules, want);
    // The same input gives the same bytes.
    const Quantized b = quantize("dense_text_prefix", quant::QuantizeFormat::W4a16Nvfp4, {}, {"*.in_proj_a", "*.layers.2.*"});
    auto slurp = [](const fs::path& p) {
        std::ifstream f(p, std::ios::binary);
        std::stringstream ss;
        ss << f.rdbuf();
        return ss.str();
    };
    EXPECT_EQ(slurp(a.dir / "model.safetensors"), slurp(b.dir / "model.safetensors"));
    EXPECT_EQ(slurp(a.dir / "config.json"), slurp(b.dir / "config.json"));
    EXPECT_EQ(slurp(a.dir / "generation_config.json"), slurp(golden_dir() / "dense_text_prefix" / "generation_config.json"));
}

}  // namespace
}  // namespace qinfer::test
