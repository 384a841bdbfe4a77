// Tests for quant/resolver: per-module precision decisions on the published layouts, the substring traps, mixed
// shards, and every contradiction between config and tensors.
//
// Each layout test builds the tensor table of a tiny checkpoint (layer 0 = Gated DeltaNet, layer 3 = full attention,
// MoE experts 0..2, plus globals, vision and MTP where relevant) in the names and dtypes/shapes the producer writes
// (quantized_checkpoints.md §1.3, §1.7; qwen3_5_architecture.md §2), resolves every module with the real config
// (tests/quant/data), and asserts format and reason for each Linear module.

#include <algorithm>
#include <fstream>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/check.h"
#include "quant/quant_config.h"
#include "quant/resolver.h"
#include "test_util.h"

namespace qinfer::quant {
namespace {

using nlohmann::json;
using Tensors = std::map<std::string, TensorMeta>;

json fixture(const std::string& name) {
    const auto p = test::source_dir() / "tests" / "quant" / "data" / name;
    std::ifstream f(p);
    EXPECT_TRUE(f.good()) << "missing fixture " << p;
    return json::parse(f);
}

QuantConfig from_hf(const std::string& hf_name, const std::string& cfg_name = "") {
    const json hf = fixture(hf_name);
    const json cfg = cfg_name.empty() ? json() : fixture(cfg_name);
    QuantConfigFiles files;
    files.hf_quant_config = &hf;
    files.config = cfg_name.empty() ? nullptr : &cfg;
    return parse_quant_config(files);
}

QuantConfig from_config(const json& cfg) {
    QuantConfigFiles files;
    files.config = &cfg;
    return parse_quant_config(files);
}

QuantConfig from_hf_json(const json& hf) {
    QuantConfigFiles files;
    files.hf_quant_config = &hf;
    return parse_quant_config(files);
}

json modelopt(const std::string& algo, std::vector<std::string> exclude, json layers = nullptr) {
    json q = {{"quant_algo", algo}, {"kv_cache_quant_algo", "FP8"}, {"exclude_modules", exclude}};
    if (!layers.is_null()) q["quantized_layers"] = layers;
    return json{{"producer", {{"name", "modelopt"}}}, {"quantization", q}};
}

// ---------------------------------------------------------------------------------------------------------------
// Tensor layouts of one Linear module [N, K] as each producer writes it.

enum class Fmt {
    BF16,
    MoNvfp4,         // ModelOpt NVFP4 W4A4: weight U8, weight_scale F8 [N, K/16], weight_scale_2 F32 [], input_scale
    MoNvfp4W4A16,    // ModelOpt W4A16_NVFP4: no input_scale
    MoNvfp4W4A16In,  // ModelOpt W4A16_NVFP4 with an (unused) input_scale, as Qwen3.6-27B ships
    MoFp8,           // ModelOpt FP8: weight F8 [N, K], weight_scale F32 [], input_scale F32 []
    CtNvfp4,         // compressed-tensors NVFP4 W4A4: weight_packed, weight_scale, weight_global_scale [1],
                     // input_global_scale [1]
    CtFp8Channel,    // compressed-tensors FP8 dynamic: weight F8, weight_scale BF16 [N, 1]
    HfFp8Block,      // HF fine-grained FP8: weight F8, weight_scale_inv F32 [ceil(N/128), ceil(K/128)]
};

void add_linear(Tensors& t, const std::string& m, Fmt f, int64_t n, int64_t k) {
    auto put = [&](const std::string& s, DType d, Shape sh) { t[m + "." + s] = TensorMeta{d, std::move(sh)}; };
    switch (f) {
        case Fmt::BF16:
            put("weight", DType::BF16, {n, k});
            return;
        case Fmt::MoNvfp4:
        case Fmt::MoNvfp4W4A16:
        case Fmt::MoNvfp4W4A16In:
            put("weight", DType::U8, {n, k / 2});
            put("weight_scale", DType::F8E4M3, {n, k / 16});
            put("weight_scale_2", DType::F32, {});
            if (f != Fmt::MoNvfp4W4A16) put("input_scale", DType::F32, {});
            return;
        case Fmt::MoFp8:
            put("weight", DType::F8E4M3, {n, k});
            put("weight_scale", DType::F32, {});
            put("input_scale", DType::F32, {});
            return;
        case Fmt::CtNvfp4:
            put("weight_packed", DType::U8, {n, k / 2});
            put("weight_scale", DType::F8E4M3, {n, k / 16});
            put("weight_global_scale", DType::F32, {1});
            put("input_global_scale", DType::F32, {1});
            return;
        case Fmt::CtFp8Channel:
            put("weight", DType::F8E4M3, {n, k});
            put("weight_scale", DType::BF16, {n, 1});
            return;
        case Fmt::HfFp8Block:
            put("weight", DType::F8E4M3, {n, k});
            put("weight_scale_inv", DType::F32, {(n + 127) / 128, (k + 127) / 128});
            return;
    }
}

using FmtFn = std::function<Fmt(const std::string& module)>;

constexpr int64_t kH = 64;     // hidden
constexpr int64_t kQkv = 128;  // GDN conv dim: 2 * HK(2) * dk(16) + HV(4) * dv(16)
constexpr int64_t kV = 64;     // HV * dv
constexpr int64_t kHv = 4;     // HV
constexpr int64_t kI = 32;     // expert / shared-expert intermediate
constexpr int64_t kE = 3;      // experts
constexpr int64_t kVocab = 256;

// One Qwen3.5-MoE text layer (split GDN projections, or gated attention) with its MoE block, per-expert experts.
void add_qwen35_layer(Tensors& t, const std::string& p, bool attention, const FmtFn& fmt) {
    auto lin = [&](const std::string& m, int64_t n, int64_t k) { add_linear(t, p + m, fmt(p + m), n, k); };
    t[p + "input_layernorm.weight"] = {DType::BF16, {kH}};
    t[p + "post_attention_layernorm.weight"] = {DType::BF16, {kH}};
    if (attention) {
        lin("self_attn.q_proj", 2 * 2 * 32, kH);  // Hq=2, hd=32, query+gate
        lin("self_attn.k_proj", 32, kH);
        lin("self_attn.v_proj", 32, kH);
        lin("self_attn.o_proj", kH, 2 * 32);
        t[p + "self_attn.q_norm.weight"] = {DType::BF16, {32}};
        t[p + "self_attn.k_norm.weight"] = {DType::BF16, {32}};
    } else {
        lin("linear_attn.in_proj_qkv", kQkv, kH);
        lin("linear_attn.in_proj_z", kV, kH);
        lin("linear_attn.in_proj_b", kHv, kH);
        lin("linear_attn.in_proj_a", kHv, kH);
        lin("linear_attn.out_proj", kH, kV);
        t[p + "linear_attn.conv1d.weight"] = {DType::BF16, {kQkv, 1, 4}};
        t[p + "linear_attn.A_log"] = {DType::F32, {kHv}};
        t[p + "linear_attn.dt_bias"] = {DType::BF16, {kHv}};
        t[p + "linear_attn.norm.weight"] = {DType::F32, {16}};
    }
    lin("mlp.gate", kE, kH);
    lin("mlp.shared_expert.gate_proj", kI, kH);
    lin("mlp.shared_expert.up_proj", kI, kH);
    lin("mlp.shared_expert.down_proj", kH, kI);
    lin("mlp.shared_expert_gate", 1, kH);
    for (int e = 0; e < kE; ++e) {
        const std::string x = "mlp.experts." + std::to_string(e) + ".";
        lin(x + "gate_proj", kI, kH);
        lin(x + "up_proj", kI, kH);
        lin(x + "down_proj", kH, kI);
    }
}

// A tiny multimodal Qwen3.5-MoE checkpoint: layers 0 (GDN) and 3 (attention), globals, one vision linear, MTP.
Tensors qwen35_moe(const FmtFn& fmt, bool with_mtp_fc = true) {
    Tensors t;
    const std::string P = "model.language_model.";
    t[P + "embed_tokens.weight"] = {DType::BF16, {kVocab, kH}};
    t[P + "norm.weight"] = {DType::BF16, {kH}};
    add_linear(t, "lm_head", fmt("lm_head"), kVocab, kH);
    add_qwen35_layer(t, P + "layers.0.", false, fmt);
    add_qwen35_layer(t, P + "layers.3.", true, fmt);
    add_linear(t, "model.visual.blocks.0.attn.qkv", fmt("model.visual.blocks.0.attn.qkv"), 3 * kH, kH);
    t["model.visual.blocks.0.norm1.weight"] = {DType::BF16, {kH}};
    if (with_mtp_fc) add_linear(t, "mtp.fc", fmt("mtp.fc"), kH, 2 * kH);
    // MTP layer with fused 3-D experts (the Qwen3.6-35B index layout, §2.7): bare names, no .weight.
    t["mtp.layers.0.mlp.experts.gate_up_proj"] = {DType::BF16, {kE, 2 * kI, kH}};
    t["mtp.layers.0.mlp.experts.down_proj"] = {DType::BF16, {kE, kH, kI}};
    add_linear(t, "mtp.layers.0.self_attn.q_proj", Fmt::BF16, 2 * 2 * 32, kH);
    return t;
}

bool contains(const std::string& s, std::string_view needle) {
    return s.find(needle) != std::string::npos;
}

struct Want {
    std::string module;
    std::string scheme;  // scheme_str
    std::string reason;
};

std::map<std::string, Decision> plan(const QuantConfig& c, const Tensors& t) {
    std::map<std::string, Decision> out;
    for (Decision& d : resolve_modules(c, group_by_module(t))) out.emplace(d.module, std::move(d));
    return out;
}

void expect_plan(const std::map<std::string, Decision>& p, const std::vector<Want>& wants) {
    for (const Want& w : wants) {
        auto it = p.find(w.module);
        if (it == p.end()) {
            ADD_FAILURE() << "no decision for " << w.module;
            continue;
        }
        EXPECT_EQ(scheme_str(it->second.scheme), w.scheme) << w.module;
        EXPECT_EQ(it->second.reason, w.reason) << w.module;
    }
}

const std::string L0 = "model.language_model.layers.0.";
const std::string L3 = "model.language_model.layers.3.";

std::vector<std::string> experts_of(const std::string& layer) {
    std::vector<std::string> v;
    for (int e = 0; e < kE; ++e) {
        for (const char* s : {"gate_proj", "up_proj", "down_proj"}) {
            v.push_back(layer + "mlp.experts." + std::to_string(e) + "." + s);
        }
    }
    return v;
}

// ---------------------------------------------------------------------------------------------------------------
// Module kinds and grouping

TEST(ResolverKinds, ModuleKindTable) {
    const std::vector<std::pair<std::string, ModuleKind>> cases = {
        {L0 + "linear_attn.in_proj_qkv", ModuleKind::Linear},
        {L0 + "linear_attn.in_proj_ba", ModuleKind::Linear},
        {L0 + "mlp.gate", ModuleKind::Router},
        {L0 + "mlp.gate_proj", ModuleKind::Linear},
        {L0 + "mlp.gate_up_proj", ModuleKind::Linear},
        {L0 + "mlp.shared_expert.gate_proj", ModuleKind::Linear},
        {L0 + "mlp.shared_expert_gate", ModuleKind::SharedExpertGate},
        {L0 + "mlp.experts.gate_up_proj", ModuleKind::Linear},
        {L0 + "mlp.router", ModuleKind::Router},
        {L0 + "linear_attn.conv1d", ModuleKind::Conv},
        {L0 + "linear_attn.A_log", ModuleKind::Vector},
        {L0 + "linear_attn.dt_bias", ModuleKind::Vector},
        {L0 + "linear_attn.norm", ModuleKind::Norm},
        {L0 + "input_layernorm", ModuleKind::Norm},
        {L3 + "self_attn.q_norm", ModuleKind::Norm},
        {"mtp.pre_fc_norm_embedding", ModuleKind::Norm},
        {"model.visual.blocks.0.norm1", ModuleKind::Norm},
        {"model.language_model.embed_tokens", ModuleKind::Embedding},
        {"lm_head", ModuleKind::Linear},
        {"mtp.fc", ModuleKind::Linear},
    };
    for (const auto& [m, k] : cases) EXPECT_EQ(module_kind(m), k) << m;
    EXPECT_EQ(module_kind_name(ModuleKind::SharedExpertGate), "shared_expert_gate");
}

TEST(ResolverKinds, GroupByModule) {
    Tensors t;
    add_linear(t, L0 + "mlp.experts.1.up_proj", Fmt::MoNvfp4, kI, kH);
    add_linear(t, L0 + "mlp.shared_expert.up_proj", Fmt::CtNvfp4, kI, kH);
    t[L0 + "linear_attn.A_log"] = {DType::F32, {kHv}};
    t[L0 + "linear_attn.norm.weight"] = {DType::F32, {16}};
    t[L0 + "mlp.experts.gate_up_proj"] = {DType::BF16, {kE, 2 * kI, kH}};
    const auto g = group_by_module(t);
    ASSERT_EQ(g.size(), 5u);
    const ModuleTensors& e = g.at(L0 + "mlp.experts.1.up_proj");
    EXPECT_EQ(e.tensors.size(), 4u);
    EXPECT_TRUE(e.tensors.contains("weight_scale_2"));
    EXPECT_TRUE(e.tensors.contains("input_scale"));
    EXPECT_EQ(g.at(L0 + "mlp.shared_expert.up_proj").tensors.count("weight_packed"), 1u);
    EXPECT_EQ(g.at(L0 + "linear_attn.A_log").tensors.count(""), 1u);
    EXPECT_EQ(g.at(L0 + "linear_attn.norm").tensors.count("weight"), 1u);
    EXPECT_EQ(g.at(L0 + "mlp.experts.gate_up_proj").tensors.count(""), 1u);
}

// ---------------------------------------------------------------------------------------------------------------
// Published layouts (§4)

// nvidia/Qwen3.5-397B-A17B-NVFP4: only the routed experts are NVFP4.
TEST(ResolverPublished, Qwen35_397B_OnlyRoutedExpertsNvfp4) {
    const FmtFn fmt = [](const std::string& m) { return contains(m, ".mlp.experts.") ? Fmt::MoNvfp4 : Fmt::BF16; };
    for (const QuantConfig& c : {from_hf("nvidia_qwen3_5_397b_a17b_nvfp4.hf_quant_config.json"),
                                 from_hf("nvidia_qwen3_5_397b_a17b_nvfp4.hf_quant_config.json",
                                         "nvidia_qwen3_5_397b_a17b_nvfp4.config.json")}) {
        SCOPED_TRACE(c.source);
        // mtp.fc is not covered by this list (only mtp.layers.0*); a loader that skips MTP never asks about it.
        const auto p = plan(c, qwen35_moe(fmt, /*with_mtp_fc=*/false));
        const std::string nv = "nvfp4 w4a4 g16 static";
        std::vector<Want> wants = {
            {L0 + "linear_attn.in_proj_qkv", "bf16", "exclude_modules \"" + L0 + "linear_attn*\""},
            {L0 + "linear_attn.in_proj_z", "bf16", "exclude_modules \"" + L0 + "linear_attn*\""},
            {L0 + "linear_attn.in_proj_b", "bf16", "exclude_modules \"" + L0 + "linear_attn*\""},
            {L0 + "linear_attn.in_proj_a", "bf16", "exclude_modules \"" + L0 + "linear_attn*\""},
            {L0 + "linear_attn.out_proj", "bf16", "exclude_modules \"" + L0 + "linear_attn*\""},
            {L0 + "linear_attn.conv1d", "bf16", "conv: never quantized"},
            {L0 + "linear_attn.A_log", "f32", "vector: never quantized"},
            {L0 + "linear_attn.norm", "f32", "norm: never quantized"},
            {L0 + "mlp.gate", "bf16", "router: never quantized"},
            {L0 + "mlp.shared_expert.gate_proj", "bf16", "exclude_modules \"*.mlp.shared_expert.*\""},
            {L0 + "mlp.shared_expert.down_proj", "bf16", "exclude_modules \"*.mlp.shared_expert.*\""},
            {L0 + "mlp.shared_expert_gate", "bf16", "shared_expert_gate: never quantized"},
            {L3 + "self_attn.q_proj", "bf16", "exclude_modules \"" + L3 + "self_attn*\""},
            {L3 + "self_attn.k_proj", "bf16", "exclude_modules \"" + L3 + "self_attn*\""},
            {L3 + "self_attn.v_proj", "bf16", "exclude_modules \"" + L3 + "self_attn*\""},
            {L3 + "self_attn.o_proj", "bf16", "exclude_modules \"" + L3 + "self_attn*\""},
            {L3 + "self_attn.q_norm", "bf16", "norm: never quantized"},
            {L3 + "mlp.gate", "bf16", "router: never quantized"},
            {"lm_head", "bf16", "exclude_modules \"lm_head\""},
            {"model.language_model.embed_tokens", "bf16", "embedding: never quantized"},
            {"model.visual.blocks.0.attn.qkv", "bf16", "exclude_modules \"model.visual*\""},
            {"mtp.layers.0.mlp.experts.gate_up_proj", "bf16", "exclude_modules \"mtp.layers.0*\""},
            {"mtp.layers.0.self_attn.q_proj", "bf16", "exclude_modules \"mtp.layers.0*\""},
        };
        for (const auto& layer : {L0, L3}) {
            for (const auto& e : experts_of(layer)) wants.push_back({e, nv, "default quant_algo NVFP4"});
        }
        expect_plan(p, wants);
        const Decision& e = p.at(L0 + "mlp.experts.2.down_proj");
        EXPECT_EQ(e.weight, L0 + "mlp.experts.2.down_proj.weight");
        EXPECT_EQ(e.weight_scale, L0 + "mlp.experts.2.down_proj.weight_scale");
        EXPECT_EQ(e.global_scale, L0 + "mlp.experts.2.down_proj.weight_scale_2");
        EXPECT_EQ(e.input_scale, L0 + "mlp.experts.2.down_proj.input_scale");
        EXPECT_FALSE(e.reciprocal_global_scales);
        EXPECT_EQ(e.companion_tensors.size(), 3u);
        // Fused groups the model builds: all shards agree.
        EXPECT_TRUE(same_scheme(p.at(L0 + "linear_attn.in_proj_qkv"), p.at(L0 + "linear_attn.in_proj_z")));
        EXPECT_TRUE(same_scheme(p.at(L0 + "linear_attn.in_proj_b"), p.at(L0 + "linear_attn.in_proj_a")));
        EXPECT_TRUE(same_scheme(p.at(L0 + "mlp.experts.0.gate_proj"), p.at(L0 + "mlp.experts.0.up_proj")));
    }
}

TEST(ResolverPublished, Qwen35_122B_MtpExcluded) {
    const FmtFn fmt = [](const std::string& m) { return contains(m, ".mlp.experts.") ? Fmt::MoNvfp4 : Fmt::BF16; };
    const auto p = plan(from_hf("nvidia_qwen3_5_122b_a10b_nvfp4.hf_quant_config.json"), qwen35_moe(fmt));
    expect_plan(p, {
                       {"mtp.fc", "bf16", "exclude_modules \"mtp*\""},
                       {"mtp.layers.0.self_attn.q_proj", "bf16", "exclude_modules \"mtp.layers.0*\""},
                       // no *.mlp.shared_expert.* in this list: the per-layer glob decides
                       {L0 + "mlp.shared_expert.up_proj", "bf16", "exclude_modules \"" + L0 + "mlp.shared_expert*\""},
                       {L3 + "mlp.experts.1.up_proj", "nvfp4 w4a4 g16 static", "default quant_algo NVFP4"},
                   });
}

// nvidia/Qwen3.6-35B-A3B-NVFP4: MIXED_PRECISION. W4A16_NVFP4 on MLP / experts / lm_head; FP8 on self_attn and
// in_proj_qkv / in_proj_z / out_proj; in_proj_a / in_proj_b BF16 (unlisted).
Fmt qwen36_fmt(const std::string& m) {
    if (contains(m, "mtp.") || contains(m, "visual")) return Fmt::BF16;
    if (contains(m, "linear_attn.in_proj_qkv") || contains(m, "linear_attn.in_proj_z") ||
        contains(m, "linear_attn.out_proj") || contains(m, "self_attn.")) {
        return Fmt::MoFp8;
    }
    if (contains(m, "mlp.experts.") || contains(m, "mlp.shared_expert.") || m == "lm_head") return Fmt::MoNvfp4W4A16;
    return Fmt::BF16;
}

TEST(ResolverPublished, Qwen36_35B_MixedPrecision) {
    const QuantConfig both =
        from_hf("nvidia_qwen3_6_35b_a3b_nvfp4.hf_quant_config.json", "nvidia_qwen3_6_35b_a3b_nvfp4.config.json");
    const auto p = plan(both, qwen35_moe(qwen36_fmt));
    const std::string fp8 = "fp8 w8a8 per-tensor static";
    const std::string w4a16 = "nvfp4 w4a16 g16";
    auto key = [](const std::string& k, const std::string& algo) {
        return "quantized_layers \"" + k + "\" (" + algo + ")";
    };
    std::vector<Want> wants = {
        {L0 + "linear_attn.in_proj_qkv", fp8, key(L0 + "linear_attn.in_proj_qkv", "FP8")},
        {L0 + "linear_attn.in_proj_z", fp8, key(L0 + "linear_attn.in_proj_z", "FP8")},
        {L0 + "linear_attn.out_proj", fp8, key(L0 + "linear_attn.out_proj", "FP8")},
        {L0 + "linear_attn.in_proj_b", "bf16", "not in quantized_layers"},
        {L0 + "linear_attn.in_proj_a", "bf16", "not in quantized_layers"},
        {L0 + "mlp.shared_expert.gate_proj", w4a16, key(L0 + "mlp.shared_expert.gate_proj", "W4A16_NVFP4")},
        {L0 + "mlp.shared_expert.down_proj", w4a16, key(L0 + "mlp.shared_expert.down_proj", "W4A16_NVFP4")},
        {L0 + "mlp.shared_expert_gate", "bf16", "shared_expert_gate: never quantized"},
        {L0 + "mlp.gate", "bf16", "router: never quantized"},
        {L3 + "self_attn.q_proj", fp8, key(L3 + "self_attn.q_proj", "FP8")},
        {L3 + "self_attn.o_proj", fp8, key(L3 + "self_attn.o_proj", "FP8")},
        {"lm_head", w4a16, key("lm_head", "W4A16_NVFP4")},
        {"model.visual.blocks.0.attn.qkv", "bf16", "not in quantized_layers"},
        {"mtp.fc", "bf16", "exclude_modules \"mtp*\""},
        {"mtp.layers.0.mlp.experts.gate_up_proj", "bf16", "exclude_modules \"mtp.layers.0*\""},
    };
    // The one `...mlp.experts` key covers every per-expert tensor.
    for (const auto& layer : {L0, L3}) {
        for (const auto& e : experts_of(layer)) wants.push_back({e, w4a16, key(layer + "mlp.experts", "W4A16_NVFP4")});
    }
    expect_plan(p, wants);
    // The GDN fused groups: in_proj_qkvz = FP8 + FP8 can fuse; in_proj_ba = BF16 + BF16 can fuse.
    EXPECT_TRUE(same_scheme(p.at(L0 + "linear_attn.in_proj_qkv"), p.at(L0 + "linear_attn.in_proj_z")));
    EXPECT_TRUE(same_scheme(p.at(L0 + "linear_attn.in_proj_b"), p.at(L0 + "linear_attn.in_proj_a")));
    EXPECT_FALSE(same_scheme(p.at(L0 + "linear_attn.in_proj_qkv"), p.at(L0 + "linear_attn.in_proj_b")));
    const Decision& q = p.at(L3 + "self_attn.q_proj");
    EXPECT_EQ(q.weight_scale, L3 + "self_attn.q_proj.weight_scale");
    EXPECT_EQ(q.input_scale, L3 + "self_attn.q_proj.input_scale");
    EXPECT_TRUE(p.at("lm_head").input_scale.empty());
}

// nvidia/Qwen3.6-27B-NVFP4 (dense): W4A16 projections that also ship an input_scale (accepted, recorded, unused).
TEST(ResolverPublished, Qwen36_27B_DenseW4A16WithInputScale) {
    const QuantConfig c = from_hf("nvidia_qwen3_6_27b_nvfp4.hf_quant_config.json");
    Tensors t;
    const std::string P = "model.language_model.layers.0.";
    add_linear(t, P + "mlp.gate_proj", Fmt::MoNvfp4W4A16In, 96, kH);
    add_linear(t, P + "mlp.up_proj", Fmt::MoNvfp4W4A16In, 96, kH);
    add_linear(t, P + "mlp.down_proj", Fmt::MoNvfp4W4A16In, kH, 96);
    add_linear(t, P + "linear_attn.in_proj_qkv", Fmt::MoFp8, kQkv, kH);
    add_linear(t, P + "linear_attn.in_proj_b", Fmt::BF16, kHv, kH);
    const auto p = plan(c, t);
    expect_plan(
        p, {
               {P + "mlp.gate_proj", "nvfp4 w4a16 g16", "quantized_layers \"" + P + "mlp.gate_proj\" (W4A16_NVFP4)"},
               {P + "mlp.down_proj", "nvfp4 w4a16 g16", "quantized_layers \"" + P + "mlp.down_proj\" (W4A16_NVFP4)"},
               {P + "linear_attn.in_proj_qkv", "fp8 w8a8 per-tensor static",
                "quantized_layers \"" + P + "linear_attn.in_proj_qkv\" (FP8)"},
               {P + "linear_attn.in_proj_b", "bf16", "not in quantized_layers"},
           });
    EXPECT_EQ(p.at(P + "mlp.up_proj").input_scale, P + "mlp.up_proj.input_scale");
    EXPECT_FALSE(p.at(P + "mlp.up_proj").scheme.activations_quantized);
}

// compressed-tensors NVFP4 W4A4 whose ignore list names the split GDN shards individually (vllm#40252 layout).
TEST(ResolverPublished, CompressedTensorsNvfp4IgnoreList) {
    const QuantConfig c = from_config(fixture("ct_qwen3_5_moe_nvfp4.config.json"));
    const FmtFn fmt = [](const std::string& m) {
        if (contains(m, "linear_attn.") || m == "lm_head" || contains(m, "visual") || contains(m, "mtp") ||
            m.ends_with("mlp.gate") || m.ends_with("shared_expert_gate")) {
            return Fmt::BF16;
        }
        return Fmt::CtNvfp4;
    };
    const auto p = plan(c, qwen35_moe(fmt));
    const std::string nv = "nvfp4 w4a4 g16 static";
    std::vector<Want> wants = {
        {"lm_head", "bf16", "ignore \"lm_head\""},
        {"model.visual.blocks.0.attn.qkv", "bf16", "ignore \"re:model[.]visual[.].*\""},
        {"mtp.fc", "bf16", "ignore \"re:^mtp.*\""},
        {L0 + "mlp.gate", "bf16", "router: never quantized"},
        {L0 + "mlp.shared_expert.up_proj", nv, "config_groups.group_0 target \"Linear\""},
        {L3 + "self_attn.q_proj", nv, "config_groups.group_0 target \"Linear\""},
        {L3 + "self_attn.o_proj", nv, "config_groups.group_0 target \"Linear\""},
    };
    for (const char* s : {"in_proj_qkv", "in_proj_z", "in_proj_b", "in_proj_a", "out_proj"}) {
        const std::string m = L0 + "linear_attn." + s;
        wants.push_back({m, "bf16", "ignore \"" + m + "\""});
    }
    for (const auto& e : experts_of(L3)) wants.push_back({e, nv, "config_groups.group_0 target \"Linear\""});
    expect_plan(p, wants);
    const Decision& e = p.at(L3 + "mlp.experts.0.up_proj");
    EXPECT_EQ(e.weight, L3 + "mlp.experts.0.up_proj.weight_packed");
    EXPECT_EQ(e.global_scale, L3 + "mlp.experts.0.up_proj.weight_global_scale");
    EXPECT_EQ(e.input_scale, L3 + "mlp.experts.0.up_proj.input_global_scale");
    EXPECT_TRUE(e.reciprocal_global_scales);
}

// ---------------------------------------------------------------------------------------------------------------
// The seed regression (sgl-project/sglang#23471): exclusions name the GDN checkpoint shards; no `in_proj_qkvz`
// pattern is needed, and a fused runtime name is never what gets matched.

TEST(ResolverRegression, GdnShardExclusionsWithoutFusedPattern) {
    const QuantConfig c =
        from_hf_json(modelopt("NVFP4", {"lm_head", L0 + "linear_attn.in_proj_qkv", L0 + "linear_attn.in_proj_z",
                                        L0 + "linear_attn.in_proj_b", L0 + "linear_attn.in_proj_a"}));
    Tensors t;
    add_linear(t, L0 + "linear_attn.in_proj_qkv", Fmt::BF16, kQkv, kH);
    add_linear(t, L0 + "linear_attn.in_proj_z", Fmt::BF16, kV, kH);
    add_linear(t, L0 + "linear_attn.in_proj_b", Fmt::BF16, kHv, kH);
    add_linear(t, L0 + "linear_attn.in_proj_a", Fmt::BF16, kHv, kH);
    add_linear(t, L0 + "linear_attn.out_proj", Fmt::MoNvfp4, kH, kV);
    const auto p = plan(c, t);
    expect_plan(p,
                {
                    {L0 + "linear_attn.in_proj_qkv", "bf16", "exclude_modules \"" + L0 + "linear_attn.in_proj_qkv\""},
                    {L0 + "linear_attn.in_proj_z", "bf16", "exclude_modules \"" + L0 + "linear_attn.in_proj_z\""},
                    {L0 + "linear_attn.in_proj_b", "bf16", "exclude_modules \"" + L0 + "linear_attn.in_proj_b\""},
                    {L0 + "linear_attn.in_proj_a", "bf16", "exclude_modules \"" + L0 + "linear_attn.in_proj_a\""},
                    {L0 + "linear_attn.out_proj", "nvfp4 w4a4 g16 static", "default quant_algo NVFP4"},
                });
    EXPECT_TRUE(same_scheme(p.at(L0 + "linear_attn.in_proj_qkv"), p.at(L0 + "linear_attn.in_proj_z")));
    EXPECT_TRUE(same_scheme(p.at(L0 + "linear_attn.in_proj_b"), p.at(L0 + "linear_attn.in_proj_a")));

    // The bug's mechanism: asking about the fused runtime name finds no exclusion, so the config would say NVFP4. The
    // resolver refuses instead of silently quantizing a BF16 tensor.
    ModuleTensors fused{L0 + "linear_attn.in_proj_qkvz", {{"weight", {DType::BF16, {kQkv + kV, kH}}}}};
    EXPECT_ERROR_CONTAINS(resolve_module(c, fused), "module " + L0 + "linear_attn.in_proj_qkvz",
                          "config says nvfp4 w4a4 g16 static (default quant_algo NVFP4; hf_quant_config.json)",
                          L0 + "linear_attn.in_proj_qkvz.weight BF16 [192, 64]", "is an unquantized weight");
}

// Qwen3-Next: in_proj_qkvz / in_proj_ba are real checkpoint tensors, decided as such (no global fused table).
TEST(ResolverRegression, Qwen3NextFusedRealTensorsFp8) {
    const QuantConfig c = from_config(fixture("qwen3_next_80b_a3b_fp8.config.json"));
    const FmtFn fmt = [](const std::string& m) {
        if (m == "lm_head" || m.ends_with("in_proj_ba") || m.ends_with("mlp.gate") ||
            m.ends_with("shared_expert_gate")) {
            return Fmt::BF16;
        }
        return Fmt::HfFp8Block;
    };
    Tensors t;
    auto lin = [&](const std::string& m, int64_t n, int64_t k) { add_linear(t, m, fmt(m), n, k); };
    const std::string N0 = "model.layers.0.", N3 = "model.layers.3.";
    lin(N0 + "linear_attn.in_proj_qkvz", 192, kH);
    lin(N0 + "linear_attn.in_proj_ba", 2 * kHv, kH);
    lin(N0 + "linear_attn.out_proj", kH, kV);
    t[N0 + "linear_attn.conv1d.weight"] = {DType::BF16, {kQkv, 1, 4}};
    lin(N3 + "self_attn.q_proj", 128, kH);
    lin(N3 + "self_attn.k_proj", 32, kH);
    lin(N3 + "self_attn.v_proj", 32, kH);
    for (const auto& L : {N0, N3}) {
        lin(L + "mlp.gate", kE, kH);
        lin(L + "mlp.shared_expert_gate", 1, kH);
        lin(L + "mlp.shared_expert.gate_proj", kI, kH);
        lin(L + "mlp.experts.10.down_proj", kH, kI);
    }
    t["model.layers.0.input_layernorm.weight"] = {DType::BF16, {kH}};
    lin("lm_head", kVocab, kH);
    const auto p = plan(c, t);
    const std::string fp8 = "fp8 w8a8 block 128x128 dynamic";
    const std::string dflt = "default quant_method fp8 (" + fp8 + ")";
    expect_plan(p, {
                       {N0 + "linear_attn.in_proj_qkvz", fp8, dflt},
                       {N0 + "linear_attn.in_proj_ba", "bf16",
                        "modules_to_not_convert \"model.layers.0.linear_attn.in_proj_ba\""},
                       {N0 + "linear_attn.out_proj", fp8, dflt},
                       {N0 + "mlp.gate", "bf16", "router: never quantized"},
                       {N0 + "mlp.shared_expert.gate_proj", fp8, dflt},
                       {N3 + "mlp.experts.10.down_proj", fp8, dflt},
                       {N3 + "self_attn.k_proj", fp8, dflt},
                       {"lm_head", "bf16", "modules_to_not_convert \"lm_head\""},
                       {"model.layers.0.input_layernorm", "bf16", "norm: never quantized"},
                   });
    EXPECT_EQ(p.at(N3 + "self_attn.q_proj").weight_scale, N3 + "self_attn.q_proj.weight_scale_inv");
    EXPECT_TRUE(same_scheme(p.at(N3 + "self_attn.q_proj"), p.at(N3 + "self_attn.v_proj")));

    // A ModelOpt config written for Qwen3.5's split names must not exclude Qwen3-Next's fused tensors by substring:
    // `*.in_proj_a` is not `in_proj_ba`, `*in_proj_qkv` is not `in_proj_qkvz`. With BF16 tensors, that is a loud error.
    const QuantConfig split = from_hf_json(
        modelopt("FP8", {"*.linear_attn.in_proj_a", "*.linear_attn.in_proj_b", "*in_proj_qkv", "*in_proj_z"}));
    ModuleTensors ba{N0 + "linear_attn.in_proj_ba", {{"weight", {DType::BF16, {8, kH}}}}};
    EXPECT_ERROR_CONTAINS(resolve_module(split, ba), "module model.layers.0.linear_attn.in_proj_ba",
                          "config says fp8 w8a8 per-tensor static (default quant_algo FP8",
                          "model.layers.0.linear_attn.in_proj_ba.weight BF16 [8, 64]");
    ModuleTensors qkvz{N0 + "linear_attn.in_proj_qkvz", {{"weight", {DType::BF16, {192, kH}}}}};
    EXPECT_ERROR_CONTAINS(resolve_module(split, qkvz), "default quant_algo FP8", "in_proj_qkvz.weight BF16");
}

// ---------------------------------------------------------------------------------------------------------------
// Substring traps and dot boundaries

TEST(ResolverTraps, MlpGateGlobDoesNotCatchGateProjections) {
    const QuantConfig c = from_hf_json(modelopt("NVFP4", {"*mlp.gate", "lm_head"}));
    Tensors t;
    add_linear(t, L0 + "mlp.gate", Fmt::BF16, kE, kH);
    add_linear(t, L0 + "mlp.gate_proj", Fmt::MoNvfp4, kI, kH);
    add_linear(t, L0 + "mlp.gate_up_proj", Fmt::MoNvfp4, 2 * kI, kH);
    add_linear(t, L0 + "mlp.shared_expert.gate_proj", Fmt::MoNvfp4, kI, kH);
    const auto p = plan(c, t);
    const std::string nv = "nvfp4 w4a4 g16 static";
    expect_plan(p, {
                       {L0 + "mlp.gate", "bf16", "router: never quantized"},
                       {L0 + "mlp.gate_proj", nv, "default quant_algo NVFP4"},
                       {L0 + "mlp.gate_up_proj", nv, "default quant_algo NVFP4"},
                       {L0 + "mlp.shared_expert.gate_proj", nv, "default quant_algo NVFP4"},
                   });
}

TEST(ResolverTraps, LayerOneGlobDoesNotCatchLayerTen) {
    const std::string L1 = "model.language_model.layers.1.", L10 = "model.language_model.layers.10.";
    const QuantConfig c = from_hf_json(modelopt("NVFP4", {L1 + "linear_attn*"}));
    Tensors t;
    add_linear(t, L1 + "linear_attn.in_proj_z", Fmt::BF16, kV, kH);
    add_linear(t, L10 + "linear_attn.in_proj_z", Fmt::MoNvfp4, kV, kH);
    expect_plan(plan(c, t), {
                                {L1 + "linear_attn.in_proj_z", "bf16", "exclude_modules \"" + L1 + "linear_attn*\""},
                                {L10 + "linear_attn.in_proj_z", "nvfp4 w4a4 g16 static", "default quant_algo NVFP4"},
                            });
}

TEST(ResolverTraps, QuantizedLayersParentKeyAtDotBoundary) {
    // `...mlp.experts` covers every expert.
    const QuantConfig all = from_hf_json(
        modelopt("MIXED_PRECISION", {}, {{L0 + "mlp.experts", {{"quant_algo", "W4A16_NVFP4"}, {"group_size", 16}}}}));
    ModuleTensors e7{L0 + "mlp.experts.7.down_proj", {}};
    Tensors t;
    add_linear(t, e7.module, Fmt::MoNvfp4W4A16, kH, kI);
    const Decision d = resolve_module(all, group_by_module(t).at(e7.module));
    EXPECT_EQ(scheme_str(d.scheme), "nvfp4 w4a16 g16");
    EXPECT_EQ(d.reason, "quantized_layers \"" + L0 + "mlp.experts\" (W4A16_NVFP4)");

    // `...mlp.experts.1` covers expert 1 only, never expert 10.
    const QuantConfig one =
        from_hf_json(modelopt("MIXED_PRECISION", {}, {{L0 + "mlp.experts.1", {{"quant_algo", "W4A16_NVFP4"}}}}));
    Tensors u;
    add_linear(u, L0 + "mlp.experts.1.up_proj", Fmt::MoNvfp4W4A16, kI, kH);
    add_linear(u, L0 + "mlp.experts.10.up_proj", Fmt::BF16, kI, kH);
    expect_plan(plan(one, u), {
                                  {L0 + "mlp.experts.1.up_proj", "nvfp4 w4a16 g16",
                                   "quantized_layers \"" + L0 + "mlp.experts.1\" (W4A16_NVFP4)"},
                                  {L0 + "mlp.experts.10.up_proj", "bf16", "not in quantized_layers"},
                              });
    Tensors v;
    add_linear(v, L0 + "mlp.experts.10.up_proj", Fmt::MoNvfp4W4A16, kI, kH);
    EXPECT_ERROR_CONTAINS(resolve_module(one, group_by_module(v).begin()->second),
                          "module " + L0 + "mlp.experts.10.up_proj", "config says unquantized (not in quantized_layers",
                          L0 + "mlp.experts.10.up_proj.weight U8 [32, 32]", "NVFP4-packed");
}

TEST(ResolverTraps, MixedShardsDecidedIndividually) {
    // q_proj BF16 (unlisted), k_proj / v_proj FP8: each shard gets its own answer; the model sees they disagree.
    const QuantConfig c = from_hf_json(modelopt(
        "MIXED_PRECISION", {},
        {{L3 + "self_attn.k_proj", {{"quant_algo", "FP8"}}}, {L3 + "self_attn.v_proj", {{"quant_algo", "FP8"}}}}));
    Tensors t;
    add_linear(t, L3 + "self_attn.q_proj", Fmt::BF16, 128, kH);
    add_linear(t, L3 + "self_attn.k_proj", Fmt::MoFp8, 32, kH);
    add_linear(t, L3 + "self_attn.v_proj", Fmt::MoFp8, 32, kH);
    const auto p = plan(c, t);
    expect_plan(p, {
                       {L3 + "self_attn.q_proj", "bf16", "not in quantized_layers"},
                       {L3 + "self_attn.k_proj", "fp8 w8a8 per-tensor static",
                        "quantized_layers \"" + L3 + "self_attn.k_proj\" (FP8)"},
                       {L3 + "self_attn.v_proj", "fp8 w8a8 per-tensor static",
                        "quantized_layers \"" + L3 + "self_attn.v_proj\" (FP8)"},
                   });
    EXPECT_FALSE(same_scheme(p.at(L3 + "self_attn.q_proj"), p.at(L3 + "self_attn.k_proj")));
    EXPECT_TRUE(same_scheme(p.at(L3 + "self_attn.k_proj"), p.at(L3 + "self_attn.v_proj")));
}

TEST(ResolverTraps, PrefixVariantsAndLinearSuffix) {
    // A producer that wrote vLLM-style (language_model.model.) or text-only (model.) roots for a multimodal checkpoint.
    const QuantConfig mixed =
        from_hf_json(modelopt("MIXED_PRECISION", {"model.layers.0.linear_attn*"},
                              {{"language_model.model.layers.3.self_attn.o_proj", {{"quant_algo", "FP8"}}},
                               {"language_model.lm_head", {{"quant_algo", "W4A16_NVFP4"}}}}));
    Tensors t;
    add_linear(t, L3 + "self_attn.o_proj", Fmt::MoFp8, kH, 64);
    add_linear(t, L0 + "linear_attn.out_proj", Fmt::BF16, kH, kV);
    add_linear(t, "lm_head", Fmt::MoNvfp4W4A16, kVocab, kH);
    expect_plan(
        plan(mixed, t),
        {
            {L3 + "self_attn.o_proj", "fp8 w8a8 per-tensor static",
             "quantized_layers \"language_model.model.layers.3.self_attn.o_proj\" (FP8) (matched as "
             "\"language_model.model.layers.3.self_attn.o_proj\")"},
            {L0 + "linear_attn.out_proj", "bf16",
             "exclude_modules \"model.layers.0.linear_attn*\" (matched as \"model.layers.0.linear_attn.out_proj\")"},
            {"lm_head", "nvfp4 w4a16 g16",
             "quantized_layers \"language_model.lm_head\" (W4A16_NVFP4) (matched as \"language_model.lm_head\")"},
        });

    // compressed-tensors entries carrying llm-compressor's `.linear` wrapper suffix.
    const json ct = {
        {"quantization_config",
         {{"quant_method", "compressed-tensors"},
          {"format", "nvfp4-pack-quantized"},
          {"config_groups",
           {{"group_0",
             {{"targets", {"re:.*self_attn.*"}},
              {"weights", {{"num_bits", 4}, {"type", "float"}, {"strategy", "tensor_group"}, {"group_size", 16}}}}}}},
          {"ignore", {L3 + "self_attn.q_proj.linear", "re:.*k_proj.linear$"}}}}};
    Tensors u;
    add_linear(u, L3 + "self_attn.q_proj", Fmt::BF16, 128, kH);
    add_linear(u, L3 + "self_attn.k_proj", Fmt::BF16, 32, kH);
    t.clear();
    add_linear(t, L3 + "self_attn.v_proj", Fmt::CtNvfp4, 32, kH);
    t.erase(L3 + "self_attn.v_proj.input_global_scale");  // weight-only: no input_activations in this group
    u.insert(t.begin(), t.end());
    expect_plan(plan(from_config(ct), u),
                {
                    {L3 + "self_attn.q_proj", "bf16", "ignore \"" + L3 + "self_attn.q_proj.linear\""},
                    {L3 + "self_attn.k_proj", "bf16", "ignore \"re:.*k_proj.linear$\""},
                    {L3 + "self_attn.v_proj", "nvfp4 w4a16 g16", "config_groups.group_0 target \"re:.*self_attn.*\""},
                });
}

TEST(ResolverTraps, CompressedTensorsNameTargetBeatsClassTarget) {
    const json w4 = {{"num_bits", 4}, {"type", "float"}, {"strategy", "tensor_group"}, {"group_size", 16}};
    json groups;
    groups["group_0"] = {{"targets", {"Linear"}},
                         {"weights", w4},
                         {"input_activations", {{"num_bits", 4}, {"type", "float"}, {"dynamic", "local"}}}};
    groups["group_1"] = {{"targets", {"re:.*mlp.experts.*"}}, {"weights", w4}};
    json ct;
    ct["quantization_config"] = {
        {"quant_method", "compressed-tensors"}, {"format", "nvfp4-pack-quantized"}, {"config_groups", groups}};
    const QuantConfig c = from_config(ct);
    Tensors t;
    add_linear(t, L0 + "mlp.experts.0.up_proj", Fmt::CtNvfp4, kI, kH);
    t.erase(L0 + "mlp.experts.0.up_proj.input_global_scale");
    add_linear(t, L0 + "mlp.shared_expert.up_proj", Fmt::CtNvfp4, kI, kH);
    expect_plan(
        plan(c, t),
        {
            {L0 + "mlp.experts.0.up_proj", "nvfp4 w4a16 g16", "config_groups.group_1 target \"re:.*mlp.experts.*\""},
            {L0 + "mlp.shared_expert.up_proj", "nvfp4 w4a4 g16 static", "config_groups.group_0 target \"Linear\""},
        });
}

// ---------------------------------------------------------------------------------------------------------------
// Contradictions: each is an error naming the module, the rule and the tensor.

QuantConfig nvfp4_cfg() {
    return from_hf_json(modelopt("NVFP4", {"lm_head", L0 + "linear_attn*"}));
}

ModuleTensors module_with(const std::string& m, Fmt f, int64_t n, int64_t k,
                          const std::function<void(Tensors&)>& edit = nullptr) {
    Tensors t;
    add_linear(t, m, f, n, k);
    if (edit) edit(t);
    return group_by_module(t).at(m);
}

TEST(ResolverErrors, ConfigQuantizedButTensorBf16) {
    const std::string m = L0 + "mlp.experts.0.up_proj";
    EXPECT_ERROR_CONTAINS(resolve_module(nvfp4_cfg(), module_with(m, Fmt::BF16, kI, kH)), "module " + m,
                          "config says nvfp4 w4a4 g16 static (default quant_algo NVFP4; hf_quant_config.json)",
                          m + ".weight BF16 [32, 64]", "is an unquantized weight");
}

TEST(ResolverErrors, ConfigExcludedButTensorQuantized) {
    const std::string m = L0 + "linear_attn.in_proj_qkv";
    EXPECT_ERROR_CONTAINS(resolve_module(nvfp4_cfg(), module_with(m, Fmt::MoNvfp4, kQkv, kH)), "module " + m,
                          "config says unquantized (exclude_modules \"" + L0 + "linear_attn*\"",
                          m + ".weight U8 [128, 32]", "NVFP4-packed");
    // MIXED_PRECISION: unlisted in_proj_a with FP8 tensors (the vllm#47445 situation, caught instead of mis-loaded).
    const QuantConfig mixed = from_hf("nvidia_qwen3_6_35b_a3b_nvfp4.hf_quant_config.json");
    const std::string a = L0 + "linear_attn.in_proj_a";
    EXPECT_ERROR_CONTAINS(resolve_module(mixed, module_with(a, Fmt::MoFp8, kHv, kH)),
                          "config says unquantized (not in quantized_layers", a + ".weight F8_E4M3 [4, 64]", "is FP8");
    // No config at all.
    EXPECT_ERROR_CONTAINS(resolve_module(QuantConfig{}, module_with(a, Fmt::MoFp8, kHv, kH)),
                          "config says unquantized (no quantization config)", "is FP8");
}

TEST(ResolverErrors, FormatMismatch) {
    const std::string m = L0 + "mlp.experts.0.up_proj";
    const QuantConfig fp8 = from_hf_json(modelopt("FP8", {}));
    EXPECT_ERROR_CONTAINS(resolve_module(fp8, module_with(m, Fmt::MoNvfp4, kI, kH)),
                          "config says fp8 w8a8 per-tensor static (default quant_algo FP8", m + ".weight U8",
                          "NVFP4-packed");
    EXPECT_ERROR_CONTAINS(resolve_module(nvfp4_cfg(), module_with(m, Fmt::MoFp8, kI, kH)),
                          "config says nvfp4 w4a4 g16 static", m + ".weight F8_E4M3 [32, 64] is FP8");
    ModuleTensors e5{m, {{"weight", {DType::F8E5M2, {kI, kH}}}}};
    EXPECT_ERROR_CONTAINS(resolve_module(nvfp4_cfg(), e5), "dtype F8_E5M2 is not a weight format qinfer reads");
}

TEST(ResolverErrors, Nvfp4ScaleTensors) {
    const std::string m = L0 + "mlp.experts.0.up_proj";
    const QuantConfig c = nvfp4_cfg();
    EXPECT_ERROR_CONTAINS(
        resolve_module(c, module_with(m, Fmt::MoNvfp4, kI, kH, [&](Tensors& t) { t.erase(m + ".weight_scale_2"); })),
        "module " + m, "missing " + m + ".weight_scale_2", "global scale");
    EXPECT_ERROR_CONTAINS(
        resolve_module(c, module_with(m, Fmt::MoNvfp4, kI, kH, [&](Tensors& t) { t.erase(m + ".weight_scale"); })),
        "missing " + m + ".weight_scale", "[N, K/16]");
    EXPECT_ERROR_CONTAINS(resolve_module(c, module_with(m, Fmt::MoNvfp4, kI, kH,
                                                        [&](Tensors& t) {
                                                            t[m + ".weight_scale"].shape = {kI, kH / 8};
                                                        })),
                          m + ".weight_scale F8_E4M3 [32, 8]", "must be F8_E4M3 [32, 4]", "K = 64, group 16");
    EXPECT_ERROR_CONTAINS(
        resolve_module(
            c, module_with(m, Fmt::MoNvfp4, kI, kH, [&](Tensors& t) { t[m + ".weight_scale"].dtype = DType::F32; })),
        m + ".weight_scale F32 [32, 4]", "must be F8_E4M3");
    EXPECT_ERROR_CONTAINS(resolve_module(c, module_with(m, Fmt::MoNvfp4, kI, kH,
                                                        [&](Tensors& t) { t[m + ".weight_scale_2"].shape = {kI}; })),
                          m + ".weight_scale_2 F32 [32]", "must be a scalar ([] or [1])");
    EXPECT_ERROR_CONTAINS(
        resolve_module(c, module_with(m, Fmt::MoNvfp4, kI, kH,
                                      [&](Tensors& t) { t[m + ".weight_scale_2"].dtype = DType::F8E4M3; })),
        m + ".weight_scale_2 F8_E4M3 []", "dtype must be F32 or BF16");
    EXPECT_ERROR_CONTAINS(
        resolve_module(c, module_with(m, Fmt::MoNvfp4, kI, kH, [&](Tensors& t) { t.erase(m + ".input_scale"); })),
        "missing " + m + ".input_scale", "config says nvfp4 w4a4 g16 static", "static input scale");
    EXPECT_ERROR_CONTAINS(resolve_module(c, module_with(m, Fmt::MoNvfp4, kI, kH,
                                                        [&](Tensors& t) {
                                                            t[m + ".weight"].shape = {kI, kH / 2, 1};
                                                        })),
                          "must be 2-D [N, K/2]");
    // Accepted: a BF16 weight_scale_2 ([1]) is upcast later (TensorRT-LLM caveat, §1.3).
    const Decision d = resolve_module(c, module_with(m, Fmt::MoNvfp4, kI, kH, [&](Tensors& t) {
                                          t[m + ".weight_scale_2"] = {DType::BF16, {1}};
                                      }));
    EXPECT_EQ(d.global_scale, m + ".weight_scale_2");
}

TEST(ResolverErrors, ProducerNamingMismatch) {
    const std::string m = L0 + "mlp.experts.0.up_proj";
    EXPECT_ERROR_CONTAINS(resolve_module(nvfp4_cfg(), module_with(m, Fmt::CtNvfp4, kI, kH)),
                          m + ".weight_packed U8 [32, 32] uses compressed-tensors NVFP4 naming",
                          "the config is modelopt");
    const QuantConfig ct = from_config(fixture("ct_qwen3_5_moe_nvfp4.config.json"));
    EXPECT_ERROR_CONTAINS(resolve_module(ct, module_with(m, Fmt::MoNvfp4, kI, kH)), "uses ModelOpt NVFP4 naming",
                          "the config is compressed-tensors");
    // Mixed naming inside one module.
    EXPECT_ERROR_CONTAINS(resolve_module(nvfp4_cfg(), module_with(m, Fmt::MoNvfp4, kI, kH,
                                                                  [&](Tensors& t) {
                                                                      t[m + ".weight_global_scale"] = {DType::F32, {1}};
                                                                  })),
                          m + ".weight_global_scale F32 [1] does not belong to a ModelOpt NVFP4 layout");
}

TEST(ResolverErrors, NonLinearKinds) {
    const QuantConfig c = nvfp4_cfg();
    EXPECT_ERROR_CONTAINS(resolve_module(c, module_with(L0 + "mlp.gate", Fmt::MoNvfp4, kE * 16, kH)),
                          "module " + L0 + "mlp.gate", "config says unquantized (router: never quantized",
                          L0 + "mlp.gate.weight U8");
    EXPECT_ERROR_CONTAINS(resolve_module(c, module_with(L0 + "mlp.shared_expert_gate", Fmt::MoFp8, 1, kH)),
                          "shared_expert_gate: never quantized", "is FP8");
    const QuantConfig mixed =
        from_hf_json(modelopt("MIXED_PRECISION", {}, {{L0 + "mlp.gate", {{"quant_algo", "FP8"}}}}));
    EXPECT_ERROR_CONTAINS(resolve_module(mixed, module_with(L0 + "mlp.gate", Fmt::BF16, kE, kH)),
                          "quantized_layers lists it as FP8", "it is a router", "never quantizes");
}

TEST(ResolverErrors, FusedExpertsAndTensorSets) {
    const std::string ex = L0 + "mlp.experts.gate_up_proj";
    ModuleTensors fused_q{ex, {{"", {DType::U8, {kE, 2 * kI, kH / 2}}}}};
    EXPECT_ERROR_CONTAINS(resolve_module(nvfp4_cfg(), fused_q), "quantized fused 3-D expert tensor", ex + " U8");
    ModuleTensors fused_bf16{ex, {{"", {DType::BF16, {kE, 2 * kI, kH}}}}};
    EXPECT_ERROR_CONTAINS(resolve_module(nvfp4_cfg(), fused_bf16), "default quant_algo NVFP4",
                          ex + " BF16 [3, 64, 64]");
    const QuantConfig mixed =
        from_hf_json(modelopt("MIXED_PRECISION", {}, {{L0 + "mlp.experts", {{"quant_algo", "W4A16_NVFP4"}}}}));
    EXPECT_ERROR_CONTAINS(resolve_module(mixed, fused_bf16), "quantized_layers \"" + L0 + "mlp.experts\"",
                          "is an unquantized weight");

    const std::string m = L0 + "mlp.experts.0.up_proj";
    EXPECT_ERROR_CONTAINS(resolve_module(nvfp4_cfg(), ModuleTensors{m, {}}), "module " + m, "no weight tensor");
    ModuleTensors two{m, {{"weight", {DType::BF16, {kI, kH}}}, {"weight_packed", {DType::U8, {kI, kH / 2}}}}};
    EXPECT_ERROR_CONTAINS(resolve_module(nvfp4_cfg(), two), "more than one weight tensor");
    EXPECT_ERROR_CONTAINS(resolve_module(nvfp4_cfg(), module_with(m, Fmt::MoNvfp4, kI, kH,
                                                                  [&](Tensors& t) {
                                                                      t[m + ".weight_zero_point"] = {DType::U8, {kI}};
                                                                  })),
                          "unexpected tensor " + m + ".weight_zero_point");
    const std::string x = L0 + "linear_attn.in_proj_z";
    EXPECT_ERROR_CONTAINS(resolve_module(nvfp4_cfg(), module_with(x, Fmt::BF16, kV, kH,
                                                                  [&](Tensors& t) {
                                                                      t[x + ".weight_scale"] = {DType::F32, {}};
                                                                  })),
                          x + ".weight_scale F32 [] does not belong to a unquantized layout");
}

TEST(ResolverErrors, MixedPrecisionRuleConflicts) {
    const std::string m = L0 + "mlp.experts.0.up_proj";
    const QuantConfig both = from_hf_json(
        modelopt("MIXED_PRECISION", {"*.mlp.experts.*"}, {{L0 + "mlp.experts", {{"quant_algo", "W4A16_NVFP4"}}}}));
    EXPECT_ERROR_CONTAINS(resolve_module(both, module_with(m, Fmt::MoNvfp4W4A16, kI, kH)),
                          "listed in quantized_layers as \"" + L0 + "mlp.experts\"",
                          "excluded by exclude_modules \"*.mlp.experts.*\"");
    const QuantConfig two = from_hf_json(modelopt(
        "MIXED_PRECISION", {},
        {{L0 + "mlp.experts", {{"quant_algo", "W4A16_NVFP4"}}}, {L0 + "mlp.experts.0", {{"quant_algo", "FP8"}}}}));
    EXPECT_ERROR_CONTAINS(resolve_module(two, module_with(m, Fmt::MoFp8, kI, kH)),
                          "quantized_layers keys \"" + L0 + "mlp.experts.0\" (FP8) and \"" + L0 + "mlp.experts\"",
                          "disagree");
}

TEST(ResolverErrors, CompressedTensorsGroupConflict) {
    const json w4 = {{"num_bits", 4}, {"type", "float"}, {"strategy", "tensor_group"}, {"group_size", 16}};
    json groups;
    groups["group_0"] = {{"targets", {"re:.*mlp.experts.*"}},
                         {"weights", w4},
                         {"input_activations", {{"num_bits", 4}, {"type", "float"}, {"dynamic", "local"}}}};
    groups["group_1"] = {{"targets", {L0 + "mlp.experts.0.up_proj"}}, {"weights", w4}};
    json cfg;
    cfg["quantization_config"] = {
        {"quant_method", "compressed-tensors"}, {"format", "nvfp4-pack-quantized"}, {"config_groups", groups}};
    const std::string m = L0 + "mlp.experts.0.up_proj";
    EXPECT_ERROR_CONTAINS(resolve_module(from_config(cfg), module_with(m, Fmt::CtNvfp4, kI, kH)), "module " + m,
                          "config_groups group_0 (target \"re:.*mlp.experts.*\", nvfp4 w4a4 g16 static)",
                          "group_1 (target \"" + m + "\", nvfp4 w4a16 g16) both match");
}

TEST(ResolverErrors, Fp8Scales) {
    const std::string m = L3 + "self_attn.o_proj";
    const QuantConfig mo = from_hf_json(modelopt("FP8", {}));
    EXPECT_ERROR_CONTAINS(resolve_module(mo, module_with(m, Fmt::MoFp8, kH, 64,
                                                         [&](Tensors& t) { t[m + ".weight_scale"].shape = {kH}; })),
                          m + ".weight_scale F32 [64]", "per-tensor FP8 scale must be a scalar");
    EXPECT_ERROR_CONTAINS(
        resolve_module(mo, module_with(m, Fmt::MoFp8, kH, 64, [&](Tensors& t) { t.erase(m + ".input_scale"); })),
        "missing " + m + ".input_scale");

    const json ct_fp8 = {{"quantization_config",
                          {{"quant_method", "compressed-tensors"},
                           {"format", "float-quantized"},
                           {"config_groups",
                            {{"group_0",
                              {{"targets", {"Linear"}},
                               {"weights", {{"num_bits", 8}, {"type", "float"}, {"strategy", "channel"}}},
                               {"input_activations", {{"num_bits", 8}, {"type", "float"}, {"dynamic", true}}}}}}}}}};
    const QuantConfig ct = from_config(ct_fp8);
    const Decision d = resolve_module(ct, module_with(m, Fmt::CtFp8Channel, kH, 64));
    EXPECT_EQ(scheme_str(d.scheme), "fp8 w8a8 per-channel dynamic");
    EXPECT_EQ(d.reason, "config_groups.group_0 target \"Linear\"");
    EXPECT_ERROR_CONTAINS(resolve_module(ct, module_with(m, Fmt::CtFp8Channel, kH, 64,
                                                         [&](Tensors& t) {
                                                             t[m + ".input_scale"] = {DType::F32, {}};
                                                         })),
                          "has " + m + ".input_scale F32 []", "activation scales are dynamic");
    EXPECT_ERROR_CONTAINS(resolve_module(ct, module_with(m, Fmt::CtFp8Channel, kH, 64,
                                                         [&](Tensors& t) {
                                                             t[m + ".weight_scale"].shape = {1, 64};
                                                         })),
                          "per-channel FP8 scale must be [64, 1] or [64]");

    const QuantConfig hf = from_config(fixture("qwen3_next_80b_a3b_fp8.config.json"));
    const std::string q = "model.layers.3.self_attn.q_proj";
    EXPECT_ERROR_CONTAINS(resolve_module(hf, module_with(q, Fmt::HfFp8Block, 300, 200,
                                                         [&](Tensors& t) {
                                                             t[q + ".weight_scale_inv"].shape = {2, 2};
                                                         })),
                          q + ".weight_scale_inv F32 [2, 2]", "block FP8 scale must be [3, 2]");
    EXPECT_ERROR_CONTAINS(resolve_module(hf, module_with(q, Fmt::MoFp8, 128, kH)),
                          q + ".input_scale F32 [] does not belong to a block-wise FP8 (weight_scale_inv) layout");
}

TEST(ResolverErrors, KvCacheScales) {
    const std::string k = L3 + "self_attn.k_proj";
    // kv_cache_quant_algo FP8 declared: k_scale is a companion of the (BF16) k_proj.
    const Decision d =
        resolve_module(nvfp4_cfg(), module_with(L0 + "linear_attn.in_proj_z", Fmt::BF16, kV, kH, [&](Tensors& t) {
                           t[L0 + "linear_attn.in_proj_z.k_scale"] = {DType::F32, {}};
                       }));
    EXPECT_EQ(d.companion_tensors, std::vector<std::string>{L0 + "linear_attn.in_proj_z.k_scale"});
    json no_kv = modelopt("NVFP4", {L3 + "self_attn*"});
    no_kv["quantization"].erase("kv_cache_quant_algo");
    EXPECT_ERROR_CONTAINS(resolve_module(from_hf_json(no_kv), module_with(k, Fmt::BF16, 32, kH,
                                                                          [&](Tensors& t) {
                                                                              t[k + ".k_scale"] = {DType::F32, {}};
                                                                          })),
                          "has " + k + ".k_scale F32 []", "declares no KV-cache quantization");
}

TEST(ResolverErrors, ResolveModulesReportsEveryOffender) {
    Tensors t;
    add_linear(t, L0 + "linear_attn.in_proj_qkv", Fmt::MoNvfp4, kQkv, kH);  // excluded but quantized
    add_linear(t, L0 + "mlp.experts.0.up_proj", Fmt::BF16, kI, kH);         // quantized but BF16
    add_linear(t, L0 + "mlp.experts.0.down_proj", Fmt::MoNvfp4, kH, kI);    // fine
    EXPECT_ERROR_CONTAINS(plan(nvfp4_cfg(), t), "quantization plan: 2 module(s) failed",
                          " | module " + L0 + "linear_attn.in_proj_qkv", " | module " + L0 + "mlp.experts.0.up_proj");
}

TEST(ResolverDump, DecisionString) {
    const Decision d = resolve_module(nvfp4_cfg(), module_with(L0 + "mlp.experts.0.up_proj", Fmt::MoNvfp4, kI, kH));
    EXPECT_EQ(decision_str(d), L0 + "mlp.experts.0.up_proj  nvfp4 w4a4 g16 static  <- default quant_algo NVFP4");
}

}  // namespace
}  // namespace qinfer::quant
