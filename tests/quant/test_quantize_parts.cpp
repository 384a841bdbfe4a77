// The pieces of `qinfer quantize`: ModelOpt's exclude summary, calibration ids, the input observer the calibration
// uses, and the errors (library and CLI).

#include <fnmatch.h>
#include <sys/wait.h>

#include <cmath>
#include <fstream>
#include <sstream>

#include "golden/golden_cases.h"
#include "io/hf_config.h"
#include "models/model.h"
#include "models/registry.h"
#include "quant/calibrate.h"
#include "quant/exclude_summary.h"
#include "quant/quantize.h"
#include "test_util.h"

namespace qinfer::test {
namespace {

namespace fs = std::filesystem;
using quant::check_exclude_summary;
using quant::summarise_exclude;
using Names = std::vector<std::string>;

bool fnmatches(const std::string& p, const std::string& n) { return ::fnmatch(p.c_str(), n.c_str(), FNM_NOESCAPE) == 0; }

// ---------------------------------------------------------------------------------------------------------------
// Exclude summary

TEST(QuantizeExcludeSummary, PrefixWildcardStopsWhereAQuantizedSiblingStarts) {
    const Names unq = {"m.layers.0.linear_attn.in_proj_qkv", "m.layers.0.linear_attn.out_proj",
                       "m.layers.1.linear_attn.in_proj_qkv"};
    const Names q = {"m.layers.0.mlp.experts.0.gate_proj", "m.layers.1.mlp.experts.0.gate_proj"};
    EXPECT_EQ(summarise_exclude(unq, q), (Names{"m.layers.0.linear_attn*", "m.layers.1.linear_attn*"}));
}

TEST(QuantizeExcludeSummary, ExcludedInProjADoesNotCatchInProjAb) {
    const Names unq = {"m.layers.0.linear_attn.in_proj_a"};
    const Names q = {"m.layers.0.linear_attn.in_proj_ab", "m.layers.0.linear_attn.in_proj_qkv"};
    const Names s = summarise_exclude(unq, q);
    EXPECT_EQ(s, (Names{"m.layers.0.linear_attn.in_proj_a"}));
    for (const auto& p : s) EXPECT_FALSE(fnmatches(p, "m.layers.0.linear_attn.in_proj_ab")) << p;
    EXPECT_NO_THROW(check_exclude_summary(s, unq, q));
}

TEST(QuantizeExcludeSummary, WholeUnquantizedLayerBecomesOnePrefix) {
    Names unq, q;
    for (const char* m : {"self_attn.q_proj", "self_attn.o_proj", "mlp.down_proj"}) {
        unq.push_back(std::string("model.layers.3.") + m);
        q.push_back(std::string("model.layers.2.") + m);
    }
    EXPECT_EQ(summarise_exclude(unq, q), (Names{"model.layers.3*"}));
    // With a quantized layer 30, `model.layers.3*` would catch it: the pair {name, name.*} is used instead.
    q.push_back("model.layers.30.mlp.down_proj");
    const Names s = summarise_exclude(unq, q);
    EXPECT_EQ(s, (Names{"model.layers.3", "model.layers.3.*"}));
    EXPECT_NO_THROW(check_exclude_summary(s, unq, q));
}

TEST(QuantizeExcludeSummary, NeverCatchesAQuantizedModuleOnARealisticLayout) {
    // All-linear NVFP4 on 12 layers with lm_head, every in_proj_a / in_proj_b and all of layer 10 excluded.
    Names unq = {"lm_head"}, q;
    for (int l = 0; l < 12; ++l) {
        const std::string p = "model.language_model.layers." + std::to_string(l) + ".";
        for (const char* m : {"linear_attn.in_proj_qkv", "linear_attn.in_proj_z", "linear_attn.in_proj_b",
                              "linear_attn.in_proj_a", "linear_attn.out_proj", "mlp.gate_proj", "mlp.up_proj",
                              "mlp.down_proj"}) {
            const std::string n = p + m;
            const bool ab = n.ends_with("in_proj_a") || n.ends_with("in_proj_b");
            (l == 10 || ab ? unq : q).push_back(n);
        }
    }
    const Names s = summarise_exclude(unq, q);
    EXPECT_NO_THROW(check_exclude_summary(s, unq, q));
    for (const auto& p : s) {
        for (const auto& n : q) EXPECT_FALSE(fnmatches(p, n)) << p << " catches " << n;
    }
    // layers.1* would catch layers.10/11: the summary names layer 1's modules exactly instead.
    EXPECT_EQ(std::count(s.begin(), s.end(), "model.language_model.layers.1*"), 0);
    EXPECT_EQ(std::count(s.begin(), s.end(), "model.language_model.layers.10*"), 1);
    EXPECT_EQ(std::count(s.begin(), s.end(), "model.language_model.layers.1.linear_attn.in_proj_a"), 1);
}

TEST(QuantizeExcludeSummary, CheckRejectsPatternsThatCatchQuantizedOrMissUnquantized) {
    EXPECT_ERROR_CONTAINS(check_exclude_summary({"m.layers.0*"}, {"m.layers.0.a"}, {"m.layers.0.b"}),
                          "\"m.layers.0*\"", "quantized module m.layers.0.b");
    EXPECT_ERROR_CONTAINS(check_exclude_summary({"m.layers.0.a"}, {"m.layers.0.a", "m.layers.0.c"}, {"m.layers.0.b"}),
                          "no pattern matches the unquantized module m.layers.0.c");
    EXPECT_ERROR_CONTAINS(summarise_exclude({"m.x*"}, {}), "glob character");
}

// ---------------------------------------------------------------------------------------------------------------
// Calibration ids

TEST(QuantizeCalibration, DefaultIdsAreFixedAndInRange) {
    const std::vector<int64_t> a = quant::default_calibration_ids(256), b = quant::default_calibration_ids(256);
    EXPECT_EQ(a, b);
    ASSERT_EQ(a.size(), static_cast<size_t>(quant::kCalibrationLength));
    for (int64_t id : a) EXPECT_TRUE(id >= 0 && id < 256) << id;
    EXPECT_GT(std::set<int64_t>(a.begin(), a.end()).size(), 40u);  // spread over the vocabulary
}

TEST(QuantizeCalibration, IdsFileParsingAndErrors) {
    const fs::path d = make_temp_dir("calib_ids");
    write_text(d / "ok.txt", "1, 2,3\n4 5\t6,\n7\n");
    EXPECT_EQ(quant::read_calibration_ids(d / "ok.txt", 10), (std::vector<int64_t>{1, 2, 3, 4, 5, 6, 7}));
    write_text(d / "word.txt", "1,2,x7,3");
    EXPECT_ERROR_CONTAINS(quant::read_calibration_ids(d / "word.txt", 10), "word.txt", "'x7'");
    write_text(d / "neg.txt", "1 -2");
    EXPECT_ERROR_CONTAINS(quant::read_calibration_ids(d / "neg.txt", 10), "neg.txt", "'-2'");
    write_text(d / "big.txt", "1 10");
    EXPECT_ERROR_CONTAINS(quant::read_calibration_ids(d / "big.txt", 10), "big.txt", "token id 10", "vocab size 10");
    write_text(d / "empty.txt", " \n");
    EXPECT_ERROR_CONTAINS(quant::read_calibration_ids(d / "empty.txt", 10), "empty.txt", "no token ids");
    write_text(d / "comma.txt", "1,,2");
    EXPECT_ERROR_CONTAINS(quant::read_calibration_ids(d / "comma.txt", 10), "comma.txt", "empty element");
    EXPECT_ERROR_CONTAINS(quant::read_calibration_ids(d / "missing.txt", 10), "cannot open", "missing.txt");
    fs::remove_all(d);
}

// ---------------------------------------------------------------------------------------------------------------
// Input observer

class QuantizeObserver : public ::testing::Test {
protected:
    void SetUp() override {
        if (!fs::exists(golden_dir() / "moe_text_per_expert")) GTEST_SKIP() << "golden checkpoints missing";
    }
};

TEST_F(QuantizeObserver, SeesEveryLinearAndTheDeclaredSameInputsAndChangesNothing) {
    for (const char* c : {"moe_text_per_expert", "next"}) {
        const fs::path dir = golden_dir() / c;
        const auto model = Model::load(dir, LoadOptions{.progress = false});
        const std::vector<int64_t> ids = quant::default_calibration_ids(model->config().vocab_size);
        SequenceState s0 = model->new_sequence();
        const Tensor plain = model->forward(ids, s0);

        std::map<std::string, std::vector<Tensor>> seen;  // param -> inputs, in call order
        std::map<std::string, int64_t> expert_rows;       // stacked experts: rows reported
        model->set_input_observer([&](const std::string& p, int64_t r0, int64_t r1, const Tensor& x) {
            seen[p].push_back(x);
            if (p.find("experts") != std::string::npos) expert_rows[p] += r1 - r0;
        });
        SequenceState s1 = model->new_sequence();
        const Tensor observed = model->forward(ids, s1);
        model->set_input_observer({});
        // Observation does not change the result (the MoE per-token path sums in the same order as moe_experts).
        ASSERT_EQ(plain.vec(), observed.vec()) << c;

        const ModelConfig cfg = load_model_config(dir);
        const models::WeightSpec spec = models::find_model_family(cfg.architecture).weight_spec(cfg);
        for (const auto& p : spec.params) {
            if (p.role != models::ParamRole::Linear || !p.tied_to.empty()) continue;
            EXPECT_TRUE(seen.contains(p.name)) << c << ": " << p.name << " not observed";
        }
        // Routed experts: every (token, selected expert) reports its rows: T*k*2I rows of gate_up.
        const int64_t T = static_cast<int64_t>(ids.size()), k = cfg.num_experts_per_tok;
        EXPECT_EQ(expert_rows.at("layers.0.mlp.experts.gate_up_proj"), T * k * 2 * cfg.moe_intermediate_size) << c;
        // The spec's same-input declarations are true: those parameters see identical inputs.
        ASSERT_FALSE(spec.same_input.empty());
        for (const auto& set : spec.same_input) {
            for (const auto& p : set) {
                ASSERT_EQ(seen.at(p).size(), seen.at(set.front()).size()) << p;
                for (size_t i = 0; i < seen.at(p).size(); ++i) EXPECT_EQ(seen.at(p)[i].vec(), seen.at(set.front())[i].vec()) << p;
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Errors

class QuantizeErrors : public ::testing::Test {
protected:
    void SetUp() override {
        if (!fs::exists(golden_dir() / "dense_text")) GTEST_SKIP() << "golden checkpoints missing";
        tmp_ = make_temp_dir("quantize_errors");
    }
    void TearDown() override { fs::remove_all(tmp_); }
    quant::QuantizeReport run(const fs::path& in, const fs::path& out, quant::QuantizeOptions o = {}) {
        o.progress = false;
        return quant::quantize_checkpoint(in, out, o);
    }
    fs::path tmp_;
};

TEST_F(QuantizeErrors, UnknownFormatAndPresetListTheSupportedOnes) {
    EXPECT_ERROR_CONTAINS(quant::parse_quantize_format("int4"), "\"int4\"", "nvfp4, w4a16_nvfp4, fp8, mixed");
    EXPECT_ERROR_CONTAINS(quant::parse_quantize_preset("nvidia"), "\"nvidia\"",
                          "nvidia-qwen3.5, all-linear, qwen3.6-mixed");
    quant::QuantizeOptions o;
    o.format = quant::QuantizeFormat::Nvfp4;
    o.preset = quant::QuantizePreset::Qwen36Mixed;
    EXPECT_ERROR_CONTAINS(run(golden_dir() / "dense_text", tmp_ / "a", o), "--format nvfp4", "qwen3.6-mixed");
    o.preset = quant::QuantizePreset::NvidiaQwen35;  // a dense model has no routed experts
    EXPECT_ERROR_CONTAINS(run(golden_dir() / "dense_text", tmp_ / "b", o), "quantizes no module", "routed experts");
    o.preset.reset();
    o.exclude = {"*.nonexistent_proj"};
    EXPECT_ERROR_CONTAINS(run(golden_dir() / "dense_text", tmp_ / "c", o), "\"*.nonexistent_proj\"", "matches no");
    EXPECT_FALSE(fs::exists(tmp_ / "a") || fs::exists(tmp_ / "b") || fs::exists(tmp_ / "c"));  // nothing written
}

TEST_F(QuantizeErrors, AlreadyQuantizedInputIsRejected) {
    const fs::path q = source_dir() / "tests" / "golden" / "quant" / "fp8_dense";
    if (!fs::exists(q)) GTEST_SKIP() << "quantized goldens missing";
    EXPECT_ERROR_CONTAINS(run(q, tmp_ / "out"), "already quantized", "modelopt FP8");
}

TEST_F(QuantizeErrors, NonEmptyOutDirNeedsForce) {
    write_text(tmp_ / "out" / "model-00001-of-00002.safetensors", "stale");
    write_text(tmp_ / "out" / "notes.txt", "kept");
    EXPECT_ERROR_CONTAINS(run(golden_dir() / "dense_text", tmp_ / "out"), "exists and is not empty", "--force");
    EXPECT_ERROR_CONTAINS(run(golden_dir() / "dense_text", golden_dir() / "dense_text"), "is IN_DIR");
    quant::QuantizeOptions o;
    o.force = true;
    run(golden_dir() / "dense_text", tmp_ / "out", o);
    EXPECT_FALSE(fs::exists(tmp_ / "out" / "model-00001-of-00002.safetensors"));  // stale checkpoint files removed
    EXPECT_TRUE(fs::exists(tmp_ / "out" / "notes.txt"));
    EXPECT_NO_THROW(Model::load(tmp_ / "out", LoadOptions{.progress = false}));
}

// ---------------------------------------------------------------------------------------------------------------
// CLI

struct CliResult {
    int code;
    std::string out, err;
};

CliResult cli(const std::string& args, const fs::path& tmp) {
    const std::string cmd = std::string(QINFER_CLI_PATH) + " " + args + " >" + (tmp / "stdout").string() + " 2>" +
                            (tmp / "stderr").string();
    const int status = std::system(cmd.c_str());
    auto slurp = [](const fs::path& p) {
        std::ifstream f(p);
        std::stringstream ss;
        ss << f.rdbuf();
        return ss.str();
    };
    return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, slurp(tmp / "stdout"), slurp(tmp / "stderr")};
}

TEST_F(QuantizeErrors, CliHelpErrorsAndARun) {
    CliResult r = cli("quantize --help", tmp_);
    EXPECT_EQ(r.code, 0);
    EXPECT_NE(r.out.find("usage: qinfer quantize IN_DIR OUT_DIR"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("--exclude GLOB..."), std::string::npos) << r.out;
    const std::string in = (golden_dir() / "dense_text").string();
    for (const std::string bad : {"--format int4", "--format nvfp4 --preset bogus", ""}) {
        r = cli("quantize " + in + " " + (tmp_ / "x").string() + " " + bad, tmp_);
        EXPECT_EQ(r.code, 1) << bad;
        EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << bad << ": " << r.err;
    }
    write_text(tmp_ / "ids.txt", "1,2,banana");
    r = cli("quantize " + in + " " + (tmp_ / "y").string() + " --format fp8 --calib-ids " + (tmp_ / "ids.txt").string(),
            tmp_);
    EXPECT_EQ(r.code, 1);
    EXPECT_NE(r.err.find("ids.txt: token 'banana'"), std::string::npos) << r.err;
    r = cli("quantize " + in + " " + (tmp_ / "z").string() +
                " --format w4a16_nvfp4 --exclude '*.in_proj_a' --exclude '*.in_proj_b'",
            tmp_);
    EXPECT_EQ(r.code, 0) << r.err;
    EXPECT_NE(r.out.find("W4A16_NVFP4 (preset all-linear)"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("model.layers.0.linear_attn.in_proj_a"), std::string::npos) << r.out;
    EXPECT_TRUE(fs::exists(tmp_ / "z" / "hf_quant_config.json"));
}

}  // namespace
}  // namespace qinfer::test
