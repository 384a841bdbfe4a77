// Chat-template goldens from transformers' apply_chat_template (tools/chat/make_chat_goldens.py) for the real Qwen3
// template (read from shared/data, skipped when absent) and the Qwen3.5-style template of tests/chat/data; plus the
// message/input parsing and the template loader of chat_template.h.

#include <gtest/gtest.h>

#include "chat/chat_template.h"
#include "chat/chat_test_util.h"

namespace qinfer {
namespace {

using nlohmann::ordered_json;
namespace fs = std::filesystem;

void check_goldens(const std::string& tmpl, const ordered_json& goldens, const std::string& template_name) {
    ChatTemplate compiled(tmpl, template_name);
    size_t n = 0;
    for (const ordered_json& c : goldens.at("cases")) {
        const std::string name = c.at("name").get<std::string>();
        SCOPED_TRACE("case: " + name);
        ++n;
        std::string out;
        std::string error;
        bool raised = false;
        try {
            out = compiled.render(ChatTemplateInputs::from_json(c.at("inputs")));
        } catch (const jinja::TemplateRaisedError& e) {
            raised = true;
            error = e.message();
        } catch (const Error& e) {
            error = e.what();
        }
        if (c.contains("expected")) {
            EXPECT_EQ(error, "");
            EXPECT_EQ(out, c.at("expected").get<std::string>());
            // The one-shot entry point gives the same text.
            if (error.empty()) {
                EXPECT_EQ(render_chat_template(tmpl, c.at("inputs")), out);
            }
        } else {
            const ordered_json& err = c.at("error");
            EXPECT_FALSE(error.empty()) << "transformers fails (" << err.at("type").get<std::string>() << ": "
                                        << err.at("message").get<std::string>() << ") but qinfer rendered:\n"
                                        << out;
            if (err.at("type") == "raise_exception") {
                EXPECT_TRUE(raised);
                EXPECT_EQ(error, err.at("message").get<std::string>());
            }
        }
    }
    EXPECT_GE(n, 20u);
}

TEST(ChatTemplateGoldens, Qwen3RealTemplate) {
    fs::path shared = test::shared_data_dir();
    if (shared.empty() || !fs::is_directory(shared / "qwen3-tokenizer")) {
        GTEST_SKIP() << "shared/data/qwen3-tokenizer not found next to the repository (" << test::source_dir().string()
                     << "/../shared): the real Qwen3 template is read from there";
    }
    ChatTemplateSource src = load_chat_template(shared / "qwen3-tokenizer");
    EXPECT_NE(src.origin.find("tokenizer_config.json"), std::string::npos);
    check_goldens(src.text, test::read_json_file(test::chat_data_dir() / "qwen3_chat_goldens.json"), src.origin);
}

TEST(ChatTemplateGoldens, Qwen35StyleTemplate) {
    std::string tmpl = test::read_text_file(test::chat_data_dir() / "qwen3_5_style_chat_template.jinja");
    check_goldens(tmpl, test::read_json_file(test::chat_data_dir() / "qwen3_5_style_chat_goldens.json"),
                  "qwen3_5_style_chat_template.jinja");
}

// ---- inputs

TEST(ChatTemplateInputs, ParsesOpenAIStyleMessages) {
    ordered_json j = ordered_json::parse(R"({
        "messages": [
            {"role": "user", "content": "hi", "name": "bob"},
            {"role": "assistant", "content": null, "tool_calls": [
                {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{\"b\": 1, \"a\": 2}"}},
                {"name": "g", "arguments": {"z": 1, "y": [true]}}]},
            {"role": "tool", "content": "r", "tool_call_id": "c1"},
            {"role": "assistant", "content": [{"type": "text", "text": "x"}], "reasoning_content": "why",
             "tool_calls": null}
        ],
        "tools": [{"type": "function", "function": {"name": "f"}}],
        "add_generation_prompt": true, "enable_thinking": false, "eos_token": "<e>", "custom": [1, 2]
    })");
    ChatTemplateInputs in = ChatTemplateInputs::from_json(j);
    ASSERT_EQ(in.messages.size(), 4u);
    EXPECT_EQ(in.messages[0].extra.at("name"), "bob");
    ASSERT_TRUE(in.messages[1].content.has_value());
    EXPECT_TRUE(in.messages[1].content->is_null());
    ASSERT_TRUE(in.messages[1].tool_calls.has_value());
    ASSERT_EQ(in.messages[1].tool_calls->size(), 2u);
    const ChatToolCall& c0 = (*in.messages[1].tool_calls)[0];
    EXPECT_EQ(c0.name, "f");
    EXPECT_EQ(c0.id.value_or(""), "c1");
    EXPECT_TRUE(c0.arguments.is_string());
    EXPECT_TRUE(c0.wrapped);
    const ChatToolCall& c1 = (*in.messages[1].tool_calls)[1];
    EXPECT_FALSE(c1.wrapped);
    EXPECT_EQ(c1.arguments.dump(), R"({"z":1,"y":[true]})");  // key order kept
    EXPECT_FALSE(in.messages[3].tool_calls.has_value());
    EXPECT_TRUE(in.messages[3].extra.at("tool_calls").is_null());
    EXPECT_EQ(in.messages[3].reasoning_content->get<std::string>(), "why");
    EXPECT_TRUE(in.add_generation_prompt);
    EXPECT_EQ(in.enable_thinking, std::optional<bool>(false));
    EXPECT_EQ(in.eos_token.value_or(""), "<e>");
    EXPECT_EQ(in.extra_kwargs.at("custom").dump(), "[1,2]");

    // Round trip: what the template sees keeps the wire shape.
    EXPECT_EQ(in.messages[1].to_json().dump(),
              R"({"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function","function":)"
              R"({"name":"f","arguments":"{\"b\": 1, \"a\": 2}"}},{"name":"g","arguments":{"z":1,"y":[true]}}]})");
    ordered_json ctx = in.to_template_context();
    EXPECT_TRUE(ctx.at("documents").is_null());
    EXPECT_EQ(ctx.at("enable_thinking"), false);
    EXPECT_FALSE(ctx.contains("bos_token"));
}

TEST(ChatTemplateInputs, EnableThinkingAbsentNullAndSet) {
    const std::string tmpl =
        "{{ enable_thinking is defined }}/{{ enable_thinking is none }}/{{ enable_thinking is false }}|{{ tools }}";
    auto render = [&](const char* json) { return render_chat_template(tmpl, ordered_json::parse(json)); };
    EXPECT_EQ(render(R"({"messages": [{"role": "user", "content": "x"}]})"), "False/False/False|None");
    EXPECT_EQ(render(R"({"messages": [{"role": "user", "content": "x"}], "enable_thinking": null})"),
              "True/True/False|None");
    EXPECT_EQ(render(R"({"messages": [{"role": "user", "content": "x"}], "enable_thinking": false, "tools": null})"),
              "True/False/True|None");
}

TEST(ChatTemplateInputs, RejectsMalformedInput) {
    auto parse = [](const char* json) { return ChatTemplateInputs::from_json(ordered_json::parse(json)); };
    EXPECT_ERROR_CONTAINS(parse(R"({"msgs": []})"), "\"messages\" array");
    EXPECT_ERROR_CONTAINS(parse(R"({"messages": [{"content": "x"}]})"), "messages[0]", "\"role\"");
    EXPECT_ERROR_CONTAINS(parse(R"({"messages": [{"role": "user", "content": 5}]})"), "messages[0]", "content");
    EXPECT_ERROR_CONTAINS(
        parse(R"({"messages": [{"role": "assistant", "tool_calls": [{"function": {"arguments": {}}}]}]})"),
        "messages[0]", "\"name\"");
    EXPECT_ERROR_CONTAINS(
        parse(R"({"messages": [{"role": "assistant", "tool_calls": [{"function": {"name": "f", "arguments": 3}}]}]})"),
        "tool call 'f'", "arguments");
    EXPECT_ERROR_CONTAINS(parse(R"({"messages": [], "tools": {"a": 1}})"), "\"tools\"");
    EXPECT_ERROR_CONTAINS(parse(R"({"messages": [], "add_generation_prompt": "yes"})"), "add_generation_prompt");
    EXPECT_ERROR_CONTAINS(render_chat_template("x", ordered_json::parse(R"({"messages": []})")), "empty conversation");
}

TEST(ChatTemplate, SortedJsonOverloadAndErrors) {
    // nlohmann::json sorts keys: documented, and visible through |tojson.
    nlohmann::json j = {{"messages", {{{"role", "user"}, {"content", "x"}}}}, {"tools", {{{"b", 1}, {"a", 2}}}}};
    EXPECT_EQ(render_chat_template("{{ tools[0]|tojson }}", j), R"({"a": 2, "b": 1})");
    ordered_json oj =
        ordered_json::parse(R"({"messages": [{"role": "user", "content": "x"}], "tools": [{"b": 1, "a": 2}]})");
    EXPECT_EQ(render_chat_template("{{ tools[0]|tojson }}", oj), R"({"b": 1, "a": 2})");
    // Template errors name the line and column.
    EXPECT_ERROR_CONTAINS(ChatTemplate("line one\n{{ messages | nosuch }}", "t.jinja"), "t.jinja line 2, column 15",
                          "no filter named 'nosuch'");
    try {
        render_chat_template("{% if messages|length < 2 %}{{ raise_exception('need two') }}{% endif %}", oj);
        ADD_FAILURE() << "expected TemplateRaisedError";
    } catch (const jinja::TemplateRaisedError& e) {
        EXPECT_EQ(e.message(), "need two");
        EXPECT_EQ(e.pos().line, 1);
    }
}

// ---- loading

TEST(ChatTemplateLoader, FindsTemplatesLikeTransformers) {
    fs::path dir = test::make_temp_dir("chat_loader");
    EXPECT_ERROR_CONTAINS(load_chat_template(dir / "missing"), "does not exist");
    EXPECT_ERROR_CONTAINS(load_chat_template(dir), "no chat template", "chat_template.jinja", "tokenizer_config.json");

    // tokenizer_config.json string
    test::write_text(dir / "tokenizer_config.json", R"({"chat_template": "from config", "eos_token": "x"})");
    ChatTemplateSource s = load_chat_template(dir);
    EXPECT_EQ(s.text, "from config");
    EXPECT_NE(s.origin.find("tokenizer_config.json"), std::string::npos);
    EXPECT_ERROR_CONTAINS(load_chat_template(dir, false, "tool_use"), "no template named 'tool_use'");

    // chat_template.jinja wins over tokenizer_config.json
    test::write_text(dir / "chat_template.jinja", "from jinja file\n");
    s = load_chat_template(dir);
    EXPECT_EQ(s.text, "from jinja file\n");
    EXPECT_NE(s.origin.find("chat_template.jinja"), std::string::npos);

    // named templates in chat_templates/
    test::write_text(dir / "chat_templates" / "tool_use.jinja", "tool template");
    EXPECT_EQ(load_chat_template(dir).text, "from jinja file\n");
    EXPECT_EQ(load_chat_template(dir, true).text, "tool template");
    EXPECT_EQ(load_chat_template(dir, false, "tool_use").text, "tool template");
    EXPECT_ERROR_CONTAINS(load_chat_template(dir, false, "nope"), "no chat template named 'nope'", "default, tool_use");
}

TEST(ChatTemplateLoader, ListOfNamedTemplatesInConfig) {
    fs::path dir = test::make_temp_dir("chat_loader_list");
    test::write_text(
        dir / "tokenizer_config.json",
        R"({"chat_template": [{"name": "default", "template": "D"}, {"name": "tool_use", "template": "T"}]})");
    EXPECT_EQ(load_chat_template(dir).text, "D");
    EXPECT_EQ(load_chat_template(dir, true).text, "T");
    EXPECT_NE(load_chat_template(dir).origin.find("#default"), std::string::npos);

    test::write_text(dir / "tokenizer_config.json", R"({"chat_template": [{"name": "a", "template": "A"}]})");
    EXPECT_ERROR_CONTAINS(load_chat_template(dir), "none is named \"default\"", "available: a");
    test::write_text(dir / "tokenizer_config.json", R"({"chat_template": [{"name": "a"}]})");
    EXPECT_ERROR_CONTAINS(load_chat_template(dir), "each entry of \"chat_template\"");
    test::write_text(dir / "tokenizer_config.json", R"({"chat_template": 3})");
    EXPECT_ERROR_CONTAINS(load_chat_template(dir), "must be a string or a list");
    test::write_text(dir / "tokenizer_config.json", R"({"chat_template": )");
    EXPECT_ERROR_CONTAINS(load_chat_template(dir), "tokenizer_config.json", "not valid JSON");
}

TEST(ChatTemplateLoader, ProcessorChatTemplateJson) {
    fs::path dir = test::make_temp_dir("chat_loader_processor");
    test::write_text(dir / "tokenizer_config.json", R"({"eos_token": "x"})");
    test::write_text(dir / "chat_template.json", R"({"chat_template": "P"})");
    EXPECT_EQ(load_chat_template(dir).text, "P");
}

}  // namespace
}  // namespace qinfer
