// Text commands end to end against transformers' goldens: `qinfer tokenize` (tests/tokenizer/data, made with HF
// tokenizers) and `qinfer chat-template` (tests/chat/data, made with apply_chat_template), on the real Qwen3 tokenizer.

#include <fstream>

#include <nlohmann/json.hpp>

#include "test_util.h"

namespace qinfer::test {
namespace {

std::filesystem::path qwen3_dir() { return source_dir() / ".." / "shared" / "data" / "qwen3-tokenizer"; }

nlohmann::ordered_json load_json(const std::filesystem::path& p) {  // ordered: key order is part of the rendering
    std::ifstream in(p);
    return nlohmann::ordered_json::parse(in);
}

class CliText : public ::testing::Test {
protected:
    void SetUp() override {
        if (!std::filesystem::exists(qwen3_dir() / "tokenizer.json")) {
            GTEST_SKIP() << "the shared Qwen3 tokenizer is not at " << qwen3_dir() << " (../shared absent)";
        }
    }
};

TEST_F(CliText, TokenizeMatchesHfTokenizers) {
    const nlohmann::ordered_json g = load_json(source_dir() / "tests" / "tokenizer" / "data" / "qwen3_encode.json");
    const auto dir = make_temp_dir("cli_tok");
    int checked = 0;
    for (const auto& c : g["cases"]) {
        if (checked >= 4) break;  // a sample through the binary; the library tests cover every case
        write_text(dir / "in.txt", c["text"].get<std::string>());
        const CliResult r = run_cli("tokenize --json --model " + shell_quote(qwen3_dir().string()), dir / "in.txt");
        ASSERT_EQ(r.code, 0) << r.err;
        EXPECT_EQ(nlohmann::ordered_json::parse(r.out), c["ids"]) << c["name"];
        ++checked;
    }
    EXPECT_EQ(checked, 4);
}

TEST_F(CliText, DetokenizeRoundTrip) {
    const CliResult r = run_cli("detokenize --model " + shell_quote(qwen3_dir().string()) + " --ids 9707,11,1879,0");
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(r.out, "Hello, world!");
    const CliResult bad = run_cli("detokenize --model " + shell_quote(qwen3_dir().string()) + " --ids 99999999");
    EXPECT_EQ(bad.code, 1);
    EXPECT_NE(bad.err.find("99999999"), std::string::npos);
}

TEST_F(CliText, ChatTemplateMatchesApplyChatTemplate) {
    const nlohmann::ordered_json g = load_json(source_dir() / "tests" / "chat" / "data" / "qwen3_chat_goldens.json");
    const auto dir = make_temp_dir("cli_chat");
    int checked = 0;
    for (const auto& c : g["cases"]) {
        const auto& in = c["inputs"];
        write_text(dir / "messages.json", in["messages"].dump());
        std::string args = "chat-template --model " + shell_quote(qwen3_dir().string()) + " --messages " +
                           (dir / "messages.json").string();
        if (in.contains("tools") && !in["tools"].is_null()) {
            write_text(dir / "tools.json", in["tools"].dump());
            args += " --tools " + (dir / "tools.json").string();
        }
        if (in.value("add_generation_prompt", false)) args += " --add-generation-prompt";
        if (in.contains("enable_thinking") && in["enable_thinking"].is_boolean()) {
            args += std::string(" --enable-thinking ") + (in["enable_thinking"].get<bool>() ? "true" : "false");
        }
        const CliResult r = run_cli(args);
        if (c.contains("error")) {  // transformers raised: so must we, with its message
            EXPECT_EQ(r.code, 1) << c["name"];
            EXPECT_NE(r.err.find(c["error"]["message"].get<std::string>()), std::string::npos) << c["name"] << ": " << r.err;
            continue;
        }
        ASSERT_EQ(r.code, 0) << c["name"] << ": " << r.err;
        EXPECT_EQ(r.out, c["expected"].get<std::string>()) << c["name"];
        ++checked;
    }
    EXPECT_GT(checked, 5);
}

}  // namespace
}  // namespace qinfer::test
