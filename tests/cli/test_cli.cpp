// The qinfer binary end to end: exit codes, one-line errors, --help, and the files it writes.

#include <array>
#include <cstdio>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>
#include <sys/wait.h>

#include "golden/golden_cases.h"
#include "io/npy.h"
#include "io/safetensors.h"
#include "test_util.h"

namespace qinfer::test {
namespace {

CliResult run(const std::string& args) { return run_cli(args); }

std::string model(const std::string& name) { return (golden_dir() / name).string(); }

TEST(Cli, HelpEverywhere) {
    for (const std::string c : {"", "inspect ", "logits ", "generate "}) {
        const CliResult r = run(c + "--help");
        EXPECT_EQ(r.code, 0) << c;
        EXPECT_NE(r.out.find("usage: qinfer"), std::string::npos) << c;
    }
}

TEST(Cli, UnknownCommandAndOptionFailWithOneLine) {
    CliResult r = run("frobnicate");
    EXPECT_NE(r.code, 0);
    EXPECT_NE(r.err.find("unknown command"), std::string::npos);
    r = run("logits --model x --bogus 1");
    EXPECT_NE(r.code, 0);
    EXPECT_NE(r.err.find("--bogus"), std::string::npos);
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
}

TEST(Cli, MissingModelDirIsAOneLineError) {
    const CliResult r = run("inspect /nonexistent/model");
    EXPECT_EQ(r.code, 1);
    EXPECT_NE(r.err.find("/nonexistent/model"), std::string::npos) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
}

TEST(Cli, InspectJsonHasModules) {
    if (golden_cases().empty()) GTEST_SKIP() << "no golden data";
    const CliResult r = run("inspect --json " + model("dense_text"));
    ASSERT_EQ(r.code, 0) << r.err;
    const auto j = nlohmann::json::parse(r.out);
    ASSERT_TRUE(j["modules"].is_array());
    EXPECT_FALSE(j["modules"].empty());
    for (const auto& m : j["modules"]) {
        EXPECT_TRUE(m.contains("module") && m.contains("format") && m.contains("runtime"));
    }
    const CliResult text = run("inspect " + model("dense_text"));
    EXPECT_EQ(text.code, 0);
    EXPECT_NE(text.out.find("in_proj_qkvz"), std::string::npos);
}

TEST(Cli, LogitsPrefillPlusDecodeEqualsFullPrefill) {
    if (golden_cases().empty()) GTEST_SKIP() << "no golden data";
    const auto dir = make_temp_dir("cli_logits");
    const std::string ids = "5,17,3,99,42,7,7,1,0,250,31";
    CliResult r = run("logits --model " + model("dense_text") + " --ids " + ids + " --out " + (dir / "full.npy").string() +
                " --dump " + (dir / "dump").string());
    ASSERT_EQ(r.code, 0) << r.err;
    r = run("logits --model " + model("dense_text") + " --ids " + ids + " --prefill 4 --out " +
            (dir / "split.npy").string());
    ASSERT_EQ(r.code, 0) << r.err;
    const Tensor full = read_npy_f32(dir / "full.npy"), split = read_npy_f32(dir / "split.npy");
    ASSERT_EQ(full.shape(), (Shape{11, full.dim(1)}));
    ASSERT_EQ(split.shape(), full.shape());
    double max_ref = 0, max_diff = 0;
    for (int64_t i = 0; i < full.numel(); ++i) {
        max_ref = std::max(max_ref, static_cast<double>(std::abs(full.data()[i])));
        max_diff = std::max(max_diff, static_cast<double>(std::abs(full.data()[i] - split.data()[i])));
    }
    EXPECT_LE(max_diff, 1e-4 * max_ref);
    const auto taps = SafetensorsFile::open(dir / "dump" / "taps.safetensors");
    ASSERT_NE(taps->find("model.layers.0.linear_attn.out"), nullptr);
    ASSERT_NE(taps->find("model.layers.3.self_attn.out"), nullptr);
    ASSERT_NE(taps->find("state.model.layers.0.linear_attn.recurrent"), nullptr);
    EXPECT_EQ(taps->find("model.layers.0.out")->shape[0], 11);
}

TEST(Cli, LogitsRejectsOutOfRangeIdsAndBadPrefill) {
    if (golden_cases().empty()) GTEST_SKIP() << "no golden data";
    const auto dir = make_temp_dir("cli_bad");
    CliResult r = run("logits --model " + model("dense_text") + " --ids 1,2,99999999 --out " + (dir / "x.npy").string());
    EXPECT_EQ(r.code, 1);
    EXPECT_NE(r.err.find("99999999"), std::string::npos) << r.err;
    r = run("logits --model " + model("dense_text") + " --ids 1,2 --prefill 5 --out " + (dir / "x.npy").string());
    EXPECT_EQ(r.code, 1);
    EXPECT_NE(r.err.find("--prefill"), std::string::npos) << r.err;
    r = run("logits --model " + model("dense_text") + " --ids 1,x --out " + (dir / "x.npy").string());
    EXPECT_EQ(r.code, 1);
    EXPECT_NE(r.err.find("--ids"), std::string::npos) << r.err;
}

TEST(Cli, GenerateIsDeterministicAndHonoursMaxNewTokens) {
    if (golden_cases().empty()) GTEST_SKIP() << "no golden data";
    const std::string base = "generate --model " + model("dense_text") + " --ids 1,2,3 --ignore-eos --max-new-tokens 6";
    const CliResult a = run(base), b = run(base), c = run(base + " --temperature 0.9 --top-p 0.9 --seed 4");
    ASSERT_EQ(a.code, 0) << a.err;
    ASSERT_EQ(c.code, 0) << c.err;
    EXPECT_EQ(a.out, b.out);
    EXPECT_EQ(std::count(a.out.begin(), a.out.end(), ','), 5) << a.out;
    EXPECT_NE(a.err.find("tok/s"), std::string::npos);
    EXPECT_EQ(run(base + " --temperature 0.9 --top-p 0.9 --seed 4").out, c.out);
}

}  // namespace
}  // namespace qinfer::test

namespace qinfer::test {
namespace {

TEST(CliText2, GenerateTextAndChatReplOnTheBundledModel) {
    const std::string m = (source_dir() / "models" / "tiny-qwen35-dense").string();
    const CliResult g = run_cli("generate --model " + shell_quote(m) + " --prompt 'def fibonacci(' --max-new-tokens 12 "
                                "--stop 'zzz_never'");
    ASSERT_EQ(g.code, 0) << g.err;
    EXPECT_GT(g.out.size(), 5u);
    EXPECT_NE(g.err.find("tok/s"), std::string::npos);
    const auto dir = make_temp_dir("chat");
    write_text(dir / "in.txt", "def add(a, b):\n/reset\nimport os\n/exit\n");
    const CliResult c = run_cli("chat --model " + shell_quote(m) + " --max-new-tokens 8", dir / "in.txt");
    ASSERT_EQ(c.code, 0) << c.err;
    EXPECT_NE(c.out.find("(conversation cleared)"), std::string::npos) << c.out;
    EXPECT_EQ(std::count(c.err.begin(), c.err.end(), '\n'), 2) << c.err;  // one stats line per answer
}

}  // namespace
}  // namespace qinfer::test
