// `qinfer synth` through the real binary: a small run prints its summary and leaves a loadable folder; bad input is
// one line on stderr with a non-zero exit code.

#include <algorithm>

#include <gtest/gtest.h>

#include "models/inspect.h"
#include "test_util.h"

namespace qinfer::test {
namespace {

namespace fs = std::filesystem;

class SynthCli : public ::testing::Test {
protected:
    void SetUp() override {
#ifndef QINFER_CLI_PATH
        GTEST_SKIP() << "the qinfer CLI is not built";
#endif
    }
};

TEST_F(SynthCli, WritesAFolderAndSummarises) {
    const fs::path root = make_temp_dir("synth_cli");
    const CliResult r = run_cli(
        "synth --preset qwen3.5-35b-a3b --layout qwen3.6-mixed --layers 2 --threads 2 "
        "--set vocab_size=512 --set hidden_size=128 --set num_experts=16 "
        "--set moe_intermediate_size=64 --set shared_expert_intermediate_size=64 "
        "--set mtp_num_hidden_layers=0 "
        "--seed 3 --max-shard-size 500KB --out " +
        shell_quote((root / "m").string()));
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_NE(r.out.find("qwen3.5-35b-a3b qwen3.6-mixed (MIXED_PRECISION), seed 3"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("on 2 threads"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("model.safetensors.index.json"), std::string::npos) << r.out;
    const nlohmann::json report = models::inspect_checkpoint(root / "m");
    EXPECT_EQ(report["layers"].size(), 2u);
    fs::remove_all(root);
}

TEST_F(SynthCli, BadInputIsOneLine) {
    const fs::path root = make_temp_dir("synth_cli_bad");
    const std::string out = " --out " + shell_quote((root / "m").string());
    struct Case {
        std::string args, needle;
    };
    const Case cases[] = {
        {"synth --preset qwen3.5-7b --layout bf16" + out, "valid presets: qwen3-next-80b-a3b, qwen3.5-0.8b"},
        {"synth --preset qwen3.5-0.8b --layout int4" + out, "unknown --layout \"int4\""},
        {"synth --preset qwen3.5-27b --layout nvidia-nvfp4" + out, "routed experts only"},
        {"synth --preset qwen3.5-0.8b --layout bf16 --layers 0" + out, "--layers must be >= 1"},
        {"synth --preset qwen3.5-0.8b --layout bf16 --set vocab=3" + out, "no integer field \"vocab\""},
        {"synth --preset qwen3.5-0.8b --layout bf16", "--out"},
    };
    for (const Case& c : cases) {
        const CliResult r = run_cli(c.args);
        EXPECT_EQ(r.code, 1) << c.args;
        EXPECT_NE(r.err.find(c.needle), std::string::npos) << c.args << "\n" << r.err;
        EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    }
    EXPECT_FALSE(fs::exists(root / "m"));  // nothing was created for bad input
    const CliResult help = run_cli("synth --help");
    EXPECT_EQ(help.code, 0);
    EXPECT_NE(help.out.find("qwen3.6-mixed"), std::string::npos);
    fs::remove_all(root);
}

}  // namespace
}  // namespace qinfer::test
