#pragma once
// defines: qinfer::ChatToolCall, ChatMessage, ChatTemplateInputs, ChatTemplate, render_chat_template,
//          ChatTemplateSource, load_chat_template
//
// Renders a model's Jinja2 chat template exactly as transformers' tokenizer.apply_chat_template(..., tokenize=False)
// does (transformers 5.x, jinja2 3.1): same template variables (messages, tools, documents, add_generation_prompt,
// the special tokens, extra kwargs such as enable_thinking), same environment (qinfer::jinja::Template).
//
// JSON inputs should be parsed as nlohmann::ordered_json: tools are printed with |tojson, and Python keeps the key
// order of the request, so a std::map-backed nlohmann::json (sorted keys) can render different text.
//
//     auto src = qinfer::load_chat_template(model_dir);             // chat_template.jinja or tokenizer_config.json
//     qinfer::ChatTemplate tmpl(src.text, src.origin);
//     auto in = qinfer::ChatTemplateInputs::from_json(request);     // {"messages": [...], "tools": [...], ...}
//     in.add_generation_prompt = true;
//     std::string prompt = tmpl.render(in);

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "chat/jinja/template.h"

namespace qinfer {

// One entry of an assistant message's tool_calls.
struct ChatToolCall {
    std::optional<std::string> id;    // "id", when given
    std::optional<std::string> type;  // "type" (normally "function"), when given
    std::string name;                 // function name
    // The arguments: an object (templates print it with |tojson, keys in order) or a string (the OpenAI wire
    // format, a JSON text; templates print it verbatim). Absent arguments are an error.
    nlohmann::ordered_json arguments;
    // true: {"id", "type", "function": {"name", "arguments"}} (OpenAI); false: flat {"name", "arguments"}.
    bool wrapped = true;
    nlohmann::ordered_json extra = nlohmann::ordered_json::object();  // other keys of the tool call, in order

    static ChatToolCall from_json(const nlohmann::ordered_json& j);
    nlohmann::ordered_json to_json() const;
};

struct ChatMessage {
    std::string role;  // "system", "user", "assistant", "tool", ... (the template decides what it accepts)
    // Absent (nullopt; the template sees undefined), null, a string, or a list of parts such as
    // {"type": "text", "text": "..."} (passed to the template as given).
    std::optional<nlohmann::ordered_json> content;
    std::optional<nlohmann::ordered_json> reasoning_content;  // absent, null or a string
    std::optional<std::vector<ChatToolCall>> tool_calls;      // absent, or the list (possibly empty); a JSON
                                                              // null is kept in `extra` (the template sees none)
    nlohmann::ordered_json extra = nlohmann::ordered_json::object();  // other keys (tool_call_id, name, ...)

    // Validates one OpenAI-style message object; throws qinfer::Error naming the offending field.
    static ChatMessage from_json(const nlohmann::ordered_json& j);
    // The object the template sees: role, content, reasoning_content, tool_calls (those present), then `extra`.
    nlohmann::ordered_json to_json() const;
};

struct ChatTemplateInputs {
    std::vector<ChatMessage> messages;
    std::optional<nlohmann::ordered_json> tools;  // an array of JSON tool definitions; nullopt: `tools` is none
    bool add_generation_prompt = false;
    std::optional<bool> enable_thinking;   // nullopt: undefined in the template (as when not passed)
    std::optional<std::string> bos_token;  // special tokens transformers passes (when the tokenizer has them)
    std::optional<std::string> eos_token;
    nlohmann::ordered_json extra_kwargs = nlohmann::ordered_json::object();  // any other template variables

    // From {"messages": [...], "tools": [...]?, "add_generation_prompt": bool?, "enable_thinking": bool|null?,
    // "bos_token": str?, "eos_token": str?, ...}: every other key becomes an extra template variable, as
    // apply_chat_template's **kwargs. "tools": null is the same as no tools (transformers passes tools=None either
    // way); "enable_thinking": null is passed as none (in extra_kwargs), as transformers would.
    static ChatTemplateInputs from_json(const nlohmann::ordered_json& j);
    // The template variables: messages, tools, documents (none unless given), add_generation_prompt, bos/eos
    // tokens and enable_thinking when set, then extra_kwargs.
    nlohmann::ordered_json to_template_context() const;
};

// A compiled chat template, reusable across requests (rendering is const and thread-safe).
class ChatTemplate {
public:
    // Parses the template; throws jinja::TemplateError (line and column) on syntax errors or unknown constructs.
    explicit ChatTemplate(const std::string& source, std::string name = "chat template");
    // Throws jinja::TemplateError on runtime errors and jinja::TemplateRaisedError when the template calls
    // raise_exception() (e.g. for a message order it does not accept).
    std::string render(const ChatTemplateInputs& inputs) const;

private:
    jinja::Template template_;
};

std::string render_chat_template(const std::string& tmpl, const ChatTemplateInputs& inputs);
std::string render_chat_template(const std::string& tmpl, const nlohmann::ordered_json& inputs);
// Convenience for std::map-backed JSON: object keys reach the template sorted (see the note at the top).
std::string render_chat_template(const std::string& tmpl, const nlohmann::json& inputs);

struct ChatTemplateSource {
    std::string text;    // the Jinja2 source
    std::string origin;  // where it came from, e.g. "/m/chat_template.jinja" or "/m/tokenizer_config.json#default"
};

// The chat template of a Hugging Face model folder, found as transformers finds it:
//   1. chat_template.jinja (the default template) and chat_templates/<name>.jinja (named ones); if any exists,
//      tokenizer_config.json's chat_template is ignored;
//   2. otherwise tokenizer_config.json "chat_template": a string, or a list of {"name", "template"};
//   3. otherwise chat_template.json {"chat_template": "..."} (processor-style folders).
// With several named templates: `name` if given, else "tool_use" when with_tools and present, else "default".
// Throws qinfer::Error saying what was looked for when there is none, or naming the available templates.
ChatTemplateSource load_chat_template(const std::filesystem::path& model_dir, bool with_tools = false,
                                      const std::string& name = "");

}  // namespace qinfer
