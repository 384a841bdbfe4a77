// `qinfer inspect` decisions on the quantized goldens: every module's format and the rule that decided it.

#include <fstream>
#include <map>

#include <nlohmann/json.hpp>

#include "models/inspect.h"
#include "models/model.h"
#include "test_util.h"

namespace qinfer::test {
namespace {

std::filesystem::path quant_case(const std::string& name) { return source_dir() / "tests" / "golden" / "quant" / name; }

std::map<std::string, nlohmann::json> modules_of(const std::string& name) {
    std::map<std::string, nlohmann::json> out;
    const nlohmann::json report = models::inspect_checkpoint(quant_case(name));  // keep alive across the loop
    for (const auto& m : report["modules"]) out[m["module"].get<std::string>()] = m;
    return out;
}

class QuantInspect : public ::testing::Test {
protected:
    void SetUp() override {
        if (!std::filesystem::exists(quant_case("mixed_shards"))) GTEST_SKIP() << "quantized goldens missing";
    }
};

TEST_F(QuantInspect, NvidiaLayoutKeepsGdnAttentionAndSharedExpertsBf16) {
    auto m = modules_of("nvfp4_nvidia_moe");
    const std::string p = "model.language_model.layers.0.";
    for (const char* gdn : {"linear_attn.in_proj_qkv", "linear_attn.in_proj_z", "linear_attn.in_proj_b",
                            "linear_attn.in_proj_a", "linear_attn.out_proj"}) {
        ASSERT_TRUE(m.contains(p + gdn)) << gdn;
        EXPECT_EQ(m[p + gdn]["format"], "bf16") << gdn;
        EXPECT_NE(m[p + gdn]["reason"].get<std::string>().find("linear_attn*"), std::string::npos) << gdn;
    }
    // Packed groups whose shards all agree run fused.
    EXPECT_TRUE(m[p + "linear_attn.in_proj_qkv"]["fused"].get<bool>());
    EXPECT_EQ(m[p + "linear_attn.in_proj_qkv"]["runtime"], "model.layers.0.linear_attn.in_proj_qkvz");
    EXPECT_EQ(m[p + "mlp.experts.3.up_proj"]["format"], "nvfp4");
    EXPECT_EQ(m[p + "mlp.experts.3.up_proj"]["runtime"], "model.layers.0.mlp.experts.gate_up_proj");
    EXPECT_EQ(m[p + "mlp.shared_expert.gate_proj"]["format"], "bf16");
    EXPECT_EQ(m[p + "mlp.gate"]["format"], "bf16");  // the router is not in the exclude list and still stays BF16
    EXPECT_EQ(m["lm_head"]["format"], "bf16");
}

TEST_F(QuantInspect, MixedShardsRunAsSeparateGemms) {
    auto m = modules_of("mixed_shards");
    const auto& qkv = m["model.layers.0.linear_attn.in_proj_qkv"];
    const auto& z = m["model.layers.0.linear_attn.in_proj_z"];
    EXPECT_EQ(qkv["format"], "nvfp4");
    EXPECT_EQ(z["format"], "bf16");
    EXPECT_EQ(qkv["runtime"], z["runtime"]);
    EXPECT_FALSE(qkv["fused"].get<bool>());
    EXPECT_TRUE(qkv["packed"].get<bool>());
    EXPECT_EQ(z["reason"], "not in quantized_layers");
    EXPECT_EQ(m["model.layers.2.self_attn.q_proj"]["format"], "bf16");
    EXPECT_EQ(m["model.layers.2.self_attn.k_proj"]["format"], "fp8");
    EXPECT_FALSE(m["model.layers.2.self_attn.k_proj"]["fused"].get<bool>());
    // gate/up agree in scheme (their weight_scale_2 values differ, which dequantization keeps exactly): one GEMM.
    EXPECT_TRUE(m["model.layers.0.mlp.gate_proj"]["fused"].get<bool>());
}

TEST_F(QuantInspect, CompressedTensorsAndQwen3Next) {
    auto ct = modules_of("ct_nvfp4_moe");
    EXPECT_EQ(ct["model.layers.0.linear_attn.in_proj_b"]["format"], "bf16");
    EXPECT_EQ(ct["model.layers.0.linear_attn.in_proj_qkv"]["format"], "nvfp4");
    EXPECT_EQ(ct["model.layers.0.mlp.experts.0.down_proj"]["format"], "nvfp4");
    auto next = modules_of("nvfp4_next");
    EXPECT_EQ(next["model.layers.0.linear_attn.in_proj_qkvz"]["format"], "fp8");  // one fused-on-disk module
    EXPECT_EQ(next["model.layers.0.linear_attn.in_proj_qkvz"]["runtime"], "model.layers.0.linear_attn.in_proj_qkvz");
}

TEST_F(QuantInspect, ContradictionIsALoudError) {
    // Copy fp8_dense and claim in its config that in_proj_a is quantized too: the tensor is BF16.
    const auto dst = make_temp_dir("quant_contradiction");
    for (const auto& e : std::filesystem::directory_iterator(quant_case("fp8_dense"))) {
        std::filesystem::copy_file(e.path(), dst / e.path().filename());
    }
    std::filesystem::remove(dst / "hf_quant_config.json");
    std::ifstream in(dst / "config.json");
    nlohmann::json cfg = nlohmann::json::parse(in);
    in.close();
    nlohmann::json& ignore = cfg["quantization_config"]["ignore"];
    nlohmann::json kept = nlohmann::json::array();
    for (const auto& e : ignore) {
        if (e.get<std::string>().find("in_proj_a") == std::string::npos) kept.push_back(e);
    }
    ignore = kept;
    if (cfg["quantization_config"].contains("exclude_modules")) cfg["quantization_config"]["exclude_modules"] = kept;
    write_text(dst / "config.json", cfg.dump(2));
    EXPECT_ERROR_CONTAINS(models::inspect_checkpoint(dst), "in_proj_a", "BF16");
    EXPECT_ERROR_CONTAINS(Model::load(dst), "in_proj_a");
}

}  // namespace
}  // namespace qinfer::test
