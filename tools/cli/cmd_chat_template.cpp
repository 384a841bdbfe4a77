#include <fstream>
#include <optional>
#include <iostream>

#include <nlohmann/json.hpp>

#include "args.h"
#include "chat/chat_template.h"
#include "commands.h"
#include "core/check.h"

namespace qinfer::cli {

namespace {

nlohmann::ordered_json read_json_file(const std::string& flag, const std::string& path) {
    std::ifstream in(path);
    QINFER_CHECK(in.good(), "--", flag, ": cannot read ", path);
    try {
        return nlohmann::ordered_json::parse(in);
    } catch (const nlohmann::json::parse_error& e) {
        QINFER_FAIL("--", flag, ": ", path, " is not valid JSON: ", e.what());
    }
}

std::optional<bool> parse_bool_flag(const Args& args, const std::string& flag) {
    if (!args.has(flag)) return std::nullopt;
    const std::string v = args.get(flag);
    QINFER_CHECK(v == "true" || v == "false", "--", flag, ": expected true or false, got '", v, "'");
    return v == "true";
}

// The special-token strings transformers passes to the template (bos_token, eos_token, pad_token, unk_token) from
// tokenizer_config.json, as strings or {"content": ...} objects. Read directly: loading the whole tokenizer.json just
// for these names would cost more than the rendering.
void add_special_tokens(const std::filesystem::path& model_dir, ChatTemplateInputs& in) {
    const std::filesystem::path path = model_dir / "tokenizer_config.json";
    if (!std::filesystem::exists(path)) return;
    std::ifstream f(path);
    nlohmann::ordered_json cfg;
    try {
        cfg = nlohmann::ordered_json::parse(f);
    } catch (const nlohmann::json::parse_error& e) {
        QINFER_FAIL(path.string(), ": invalid JSON: ", e.what());
    }
    const auto token = [&](const char* key) -> std::optional<std::string> {
        auto it = cfg.find(key);
        if (it == cfg.end() || it->is_null()) return std::nullopt;
        if (it->is_string()) return it->get<std::string>();
        if (it->is_object() && it->contains("content") && (*it)["content"].is_string()) return (*it)["content"].get<std::string>();
        QINFER_FAIL(path.string(), ": field ", key, " must be a string or an object with \"content\"");
    };
    in.bos_token = token("bos_token");
    in.eos_token = token("eos_token");
    for (const char* key : {"pad_token", "unk_token"}) {
        if (auto t = token(key)) in.extra_kwargs[key] = *t;
    }
}

}  // namespace

std::string render_chat_prompt(const std::filesystem::path& model_dir, const std::string& user, const Args& args) {
    ChatTemplateInputs in;
    if (args.has("system")) in.messages.push_back(ChatMessage::from_json({{"role", "system"}, {"content", args.get("system")}}));
    in.messages.push_back(ChatMessage::from_json({{"role", "user"}, {"content", user}}));
    in.add_generation_prompt = true;
    in.enable_thinking = parse_bool_flag(args, "enable-thinking");
    add_special_tokens(model_dir, in);
    return ChatTemplate(load_chat_template(model_dir).text).render(in);
}

int cmd_chat_template(const std::vector<std::string>& argv) {
    Args args("chat-template",
              "Renders the model's chat template (chat_template.jinja, or tokenizer_config.json's chat_template) for\n"
              "a conversation and prints the prompt exactly, with no newline added, as transformers'\n"
              "apply_chat_template(..., tokenize=False) does.",
              {},
              {{"model", "DIR", "folder with the chat template (and tokenizer files)"},
               {"messages", "FILE.json", "JSON array of messages ({role, content, reasoning_content, tool_calls, ...})"},
               {"tools", "FILE.json", "JSON array of tool (function) definitions"},
               {"add-generation-prompt", "", "end with the assistant turn's opening"},
               {"enable-thinking", "true|false", "passed to the template (default: undefined, the template decides)"}},
              argv);
    if (args.help_requested()) {
        std::cout << args.usage();
        return 0;
    }
    const std::filesystem::path model_dir = args.get("model");
    ChatTemplateInputs in;
    const nlohmann::ordered_json messages = read_json_file("messages", args.get("messages"));
    QINFER_CHECK(messages.is_array(), "--messages: ", args.get("messages"), " must hold a JSON array of messages");
    for (const auto& m : messages) in.messages.push_back(ChatMessage::from_json(m));
    if (args.has("tools")) {
        in.tools = read_json_file("tools", args.get("tools"));
        QINFER_CHECK(in.tools->is_array(), "--tools: ", args.get("tools"), " must hold a JSON array");
    }
    in.add_generation_prompt = args.has("add-generation-prompt");
    in.enable_thinking = parse_bool_flag(args, "enable-thinking");
    add_special_tokens(model_dir, in);
    const ChatTemplateSource src = load_chat_template(model_dir, in.tools.has_value());
    std::cout << ChatTemplate(src.text, src.origin).render(in);
    return 0;
}

}  // namespace qinfer::cli
