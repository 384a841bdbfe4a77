// Loader coverage proof and bad-checkpoint errors, on copies of transformers-made golden checkpoints mutated in place.

#include <fstream>
#include <functional>

#include <nlohmann/json.hpp>

#include "golden/golden_cases.h"
#include "io/safetensors.h"
#include "models/inspect.h"
#include "models/model.h"
#include "test_util.h"

namespace qinfer::test {
namespace {

using Mutation = std::function<void(std::vector<TensorToWrite>&)>;

std::vector<TensorToWrite> read_all(const std::filesystem::path& file) {
    auto f = SafetensorsFile::open(file);
    std::vector<TensorToWrite> out;
    for (const auto& t : f->tensors()) {
        out.push_back({t.name, t.dtype, t.shape, std::vector<std::byte>(t.bytes.begin(), t.bytes.end())});
    }
    return out;
}

// Copies a single-file golden case (config.json + model.safetensors) to a temp dir, applying `mutate` to its tensors.
std::filesystem::path mutated_copy(const std::string& name, const Mutation& mutate) {
    const auto src = golden_dir() / name;
    const auto dst = make_temp_dir("load_" + name);
    std::filesystem::copy_file(src / "config.json", dst / "config.json");
    auto tensors = read_all(src / "model.safetensors");
    mutate(tensors);
    write_safetensors(dst / "model.safetensors", tensors);
    return dst;
}

TensorToWrite* find(std::vector<TensorToWrite>& ts, const std::string& name) {
    for (auto& t : ts) {
        if (t.name == name) return &t;
    }
    ADD_FAILURE() << "fixture lacks " << name;
    return nullptr;
}

void erase_tensor(std::vector<TensorToWrite>& ts, const std::string& name) {
    std::erase_if(ts, [&](const TensorToWrite& t) { return t.name == name; });
}

class Loading : public ::testing::Test {
protected:
    void SetUp() override {
        if (!std::filesystem::exists(golden_dir() / "dense_text" / "model.safetensors")) {
            GTEST_SKIP() << "golden case dense_text is missing";
        }
    }
};

TEST_F(Loading, MissingTensorIsNamed) {
    const auto dir = mutated_copy("dense_text", [](auto& ts) { erase_tensor(ts, "model.layers.0.linear_attn.in_proj_z.weight"); });
    // The packed group in_proj_qkvz is half there: reported as an incomplete layout naming the missing shard.
    EXPECT_ERROR_CONTAINS(Model::load(dir), "incomplete layouts", "model.layers.0.linear_attn.in_proj_z.weight");
}

TEST_F(Loading, MissingModuleIsNamed) {
    const auto dir = mutated_copy("dense_text", [](auto& ts) { erase_tensor(ts, "model.layers.2.linear_attn.A_log"); });
    EXPECT_ERROR_CONTAINS(Model::load(dir), "missing tensors", "model.layers.2.linear_attn.A_log");
}

TEST_F(Loading, WrongShapeIsNamed) {
    const auto dir = mutated_copy("dense_text", [](auto& ts) {
        TensorToWrite* t = find(ts, "model.layers.3.self_attn.o_proj.weight");
        // Same bytes, transposed shape claim.
        std::swap(t->shape[0], t->shape[1]);
    });
    EXPECT_ERROR_CONTAINS(Model::load(dir), "model.layers.3.self_attn.o_proj.weight", "expected shape");
}

TEST_F(Loading, UnexpectedTensorIsNamed) {
    const auto dir = mutated_copy("dense_text", [](auto& ts) {
        TensorToWrite extra = ts.front();
        extra.name = "model.layers.0.linear_attn.in_proj_qkvz.weight";  // a fused name the checkpoint must not have
        ts.push_back(extra);
    });
    EXPECT_ERROR_CONTAINS(Model::load(dir), "unexpected tensors", "model.layers.0.linear_attn.in_proj_qkvz.weight");
}

TEST_F(Loading, QuantizedDtypeWithoutScalesIsRejected) {
    const auto dir = mutated_copy("dense_text", [](auto& ts) {
        TensorToWrite* t = find(ts, "model.layers.0.mlp.down_proj.weight");
        const size_t n = static_cast<size_t>(numel(t->shape));
        t->dtype = DType::F8E4M3;
        t->raw.assign(n, std::byte{0x38});
    });
    EXPECT_ERROR_CONTAINS(Model::load(dir), "model.layers.0.mlp.down_proj.weight", "F8_E4M3");
}

TEST_F(Loading, TruncatedFileNamesTheFile) {
    const auto dir = mutated_copy("dense_text", [](auto&) {});
    const auto file = dir / "model.safetensors";
    std::filesystem::resize_file(file, std::filesystem::file_size(file) - 100);
    EXPECT_ERROR_CONTAINS(Model::load(dir), "model.safetensors");
}

TEST_F(Loading, UnknownArchitectureListsSupported) {
    const auto dir = mutated_copy("dense_text", [](auto&) {});
    std::ifstream in(dir / "config.json");
    nlohmann::json cfg = nlohmann::json::parse(in);
    cfg["architectures"] = {"LlamaForCausalLM"};
    write_text(dir / "config.json", cfg.dump());
    EXPECT_ERROR_CONTAINS(Model::load(dir), "LlamaForCausalLM", "Qwen3_5ForCausalLM", "Qwen3NextForCausalLM");
}

TEST_F(Loading, MissingConfigIsNamed) {
    const auto dir = mutated_copy("dense_text", [](auto&) {});
    std::filesystem::remove(dir / "config.json");
    EXPECT_ERROR_CONTAINS(Model::load(dir), "config.json");
}

TEST_F(Loading, PartialPerExpertLayoutIsReported) {
    if (!std::filesystem::exists(golden_dir() / "moe_text_per_expert" / "model.safetensors")) GTEST_SKIP();
    const auto dir = mutated_copy("moe_text_per_expert",
                                  [](auto& ts) { erase_tensor(ts, "model.layers.1.mlp.experts.3.up_proj.weight"); });
    EXPECT_ERROR_CONTAINS(Model::load(dir), "incomplete layouts", "model.layers.1.mlp.experts.3.up_proj.weight");
}

TEST(Inspect, DenseTextModulesMapToFusedRuntimeModules) {
    if (!std::filesystem::exists(golden_dir() / "dense_text")) GTEST_SKIP() << "golden case dense_text is missing";
    const nlohmann::json r = models::inspect_checkpoint(golden_dir() / "dense_text");
    std::map<std::string, nlohmann::json> by_module;
    for (const auto& m : r["modules"]) by_module[m["module"].get<std::string>()] = m;
    const auto expect = [&](const std::string& module, const std::string& runtime, bool fused) {
        ASSERT_TRUE(by_module.contains(module)) << module;
        EXPECT_EQ(by_module[module]["runtime"], runtime) << module;
        EXPECT_EQ(by_module[module]["fused"], fused) << module;
    };
    expect("model.layers.0.linear_attn.in_proj_qkv", "model.layers.0.linear_attn.in_proj_qkvz", true);
    expect("model.layers.0.linear_attn.in_proj_z", "model.layers.0.linear_attn.in_proj_qkvz", true);
    expect("model.layers.0.linear_attn.in_proj_b", "model.layers.0.linear_attn.in_proj_ba", true);
    expect("model.layers.0.linear_attn.in_proj_a", "model.layers.0.linear_attn.in_proj_ba", true);
    expect("model.layers.0.linear_attn.out_proj", "model.layers.0.linear_attn.out_proj", false);
    expect("model.layers.3.self_attn.q_proj", "model.layers.3.self_attn.qkv_proj", true);
    expect("model.layers.3.self_attn.v_proj", "model.layers.3.self_attn.qkv_proj", true);
    expect("model.layers.0.mlp.gate_proj", "model.layers.0.mlp.gate_up_proj", true);
    expect("lm_head", "model.lm_head", false);
    EXPECT_EQ(by_module["model.layers.0.mlp.gate_proj"]["format"], "bf16");
    EXPECT_EQ(r["layer_pattern"], "LLLA");
    // Norms, conv and A_log are not linear modules.
    EXPECT_FALSE(by_module.contains("model.layers.0.linear_attn.conv1d"));
}

TEST(Inspect, ExpertsOneEntryPerExpertOrPerFusedTensor) {
    for (const std::string name : {"moe_text_per_expert", "moe_mm_fused"}) {
        if (!std::filesystem::exists(golden_dir() / name)) GTEST_SKIP() << name << " missing";
    }
    const nlohmann::json per = models::inspect_checkpoint(golden_dir() / "moe_text_per_expert");
    const nlohmann::json fused = models::inspect_checkpoint(golden_dir() / "moe_mm_fused");
    const int64_t E = per["config"]["num_experts"];
    int per_expert = 0, fused_entries = 0;
    for (const auto& m : per["modules"]) {
        if (m["runtime"] == "model.layers.0.mlp.experts.gate_up_proj") ++per_expert;
    }
    EXPECT_EQ(per_expert, 2 * E);  // gate_proj and up_proj of every expert
    for (const auto& m : fused["modules"]) {
        if (m["module"] == "model.language_model.layers.0.mlp.experts.gate_up_proj") {
            ++fused_entries;
            EXPECT_EQ(m["runtime"], "model.layers.0.mlp.experts.gate_up_proj");
        }
    }
    EXPECT_EQ(fused_entries, 1);
    EXPECT_GT(fused["ignored_tensors"].get<int>(), 0);  // mtp.* (and model.visual.*) are ignored explicitly
}

}  // namespace
}  // namespace qinfer::test
