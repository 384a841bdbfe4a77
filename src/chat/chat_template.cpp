// defines: ChatToolCall, ChatMessage, ChatTemplateInputs, ChatTemplate, render_chat_template, load_chat_template
//          (see chat_template.h)

#include "chat/chat_template.h"

#include <algorithm>
#include <fstream>
#include <map>
#include <sstream>

#include "core/check.h"

namespace qinfer {

using ojson = nlohmann::ordered_json;

namespace {

const char* json_kind(const ojson& j) {
    return j.type_name();
}

std::string read_file(const std::filesystem::path& p) {
    std::ifstream f(p, std::ios::binary);
    QINFER_CHECK(f.good(), "cannot read ", p.string());
    std::ostringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

ojson read_json(const std::filesystem::path& p) {
    try {
        return ojson::parse(read_file(p));
    } catch (const ojson::parse_error& e) {
        QINFER_FAIL(p.string(), " is not valid JSON: ", e.what());
    }
}

}  // namespace

// ---- ChatToolCall

ChatToolCall ChatToolCall::from_json(const ojson& j) {
    QINFER_CHECK(j.is_object(), "a tool call must be an object, got ", json_kind(j));
    ChatToolCall tc;
    const ojson* fn = &j;
    tc.wrapped = j.contains("function");
    if (tc.wrapped) {
        fn = &j.at("function");
        QINFER_CHECK(fn->is_object(), "tool call \"function\" must be an object, got ", json_kind(*fn));
    }
    QINFER_CHECK(fn->contains("name") && fn->at("name").is_string(), "a tool call needs a string \"name\"");
    tc.name = fn->at("name").get<std::string>();
    QINFER_CHECK(fn->contains("arguments"), "tool call '", tc.name, "' has no \"arguments\"");
    const ojson& args = fn->at("arguments");
    QINFER_CHECK(args.is_object() || args.is_string(), "tool call '", tc.name,
                 "': \"arguments\" must be an object or a JSON string, got ", json_kind(args));
    tc.arguments = args;
    for (auto it = j.begin(); it != j.end(); ++it) {
        const std::string& k = it.key();
        if (tc.wrapped && k == "function") continue;
        if (!tc.wrapped && (k == "name" || k == "arguments")) continue;
        if (k == "id" && it.value().is_string()) {
            tc.id = it.value().get<std::string>();
        } else if (k == "type" && it.value().is_string()) {
            tc.type = it.value().get<std::string>();
        } else {
            tc.extra[k] = it.value();
        }
    }
    if (tc.wrapped) {
        for (auto it = fn->begin(); it != fn->end(); ++it) {
            QINFER_CHECK(it.key() == "name" || it.key() == "arguments", "tool call '", tc.name, "': unexpected key \"",
                         it.key(), "\" in \"function\"");
        }
    }
    return tc;
}

ojson ChatToolCall::to_json() const {
    ojson j = ojson::object();
    if (id) j["id"] = *id;
    if (type) j["type"] = *type;
    if (wrapped) {
        j["function"] = ojson{{"name", name}, {"arguments", arguments}};
    } else {
        j["name"] = name;
        j["arguments"] = arguments;
    }
    for (auto it = extra.begin(); it != extra.end(); ++it) j[it.key()] = it.value();
    return j;
}

// ---- ChatMessage

ChatMessage ChatMessage::from_json(const ojson& j) {
    QINFER_CHECK(j.is_object(), "a chat message must be an object, got ", json_kind(j));
    QINFER_CHECK(j.contains("role") && j.at("role").is_string(), "a chat message needs a string \"role\"");
    ChatMessage m;
    m.role = j.at("role").get<std::string>();
    for (auto it = j.begin(); it != j.end(); ++it) {
        const std::string& k = it.key();
        const ojson& v = it.value();
        if (k == "role") continue;
        if (k == "content") {
            QINFER_CHECK(v.is_null() || v.is_string() || v.is_array(), "message (role '", m.role,
                         "'): \"content\" must be a string, an array of parts or null, got ", json_kind(v));
            m.content = v;
        } else if (k == "reasoning_content") {
            QINFER_CHECK(v.is_null() || v.is_string(), "message (role '", m.role,
                         "'): \"reasoning_content\" must be a string or null, got ", json_kind(v));
            m.reasoning_content = v;
        } else if (k == "tool_calls") {
            if (v.is_null()) {
                m.extra[k] = v;  // kept as None (defined), as transformers passes it
                continue;
            }
            QINFER_CHECK(v.is_array(), "message (role '", m.role, "'): \"tool_calls\" must be an array, got ",
                         json_kind(v));
            m.tool_calls.emplace();
            for (const ojson& tc : v) m.tool_calls->push_back(ChatToolCall::from_json(tc));
        } else {
            m.extra[k] = v;
        }
    }
    return m;
}

ojson ChatMessage::to_json() const {
    ojson j = ojson::object();
    j["role"] = role;
    if (content) j["content"] = *content;
    if (reasoning_content) j["reasoning_content"] = *reasoning_content;
    if (tool_calls) {
        ojson arr = ojson::array();
        for (const ChatToolCall& tc : *tool_calls) arr.push_back(tc.to_json());
        j["tool_calls"] = std::move(arr);
    }
    for (auto it = extra.begin(); it != extra.end(); ++it) j[it.key()] = it.value();
    return j;
}

// ---- ChatTemplateInputs

ChatTemplateInputs ChatTemplateInputs::from_json(const ojson& j) {
    QINFER_CHECK(j.is_object(), "chat template inputs must be a JSON object, got ", json_kind(j));
    QINFER_CHECK(j.contains("messages") && j.at("messages").is_array(),
                 "chat template inputs need a \"messages\" array");
    ChatTemplateInputs in;
    size_t index = 0;
    for (const ojson& m : j.at("messages")) {
        try {
            in.messages.push_back(ChatMessage::from_json(m));
        } catch (const Error& e) {
            QINFER_FAIL("messages[", index, "]: ", e.what());
        }
        ++index;
    }
    for (auto it = j.begin(); it != j.end(); ++it) {
        const std::string& k = it.key();
        const ojson& v = it.value();
        if (k == "messages") continue;
        if (k == "tools") {
            if (v.is_null()) continue;
            QINFER_CHECK(v.is_array(), "\"tools\" must be an array of tool definitions, got ", json_kind(v));
            for (const ojson& t : v) {
                QINFER_CHECK(t.is_object(), "each tool must be a JSON object (a function schema), got ", json_kind(t));
            }
            in.tools = v;
        } else if (k == "add_generation_prompt") {
            QINFER_CHECK(v.is_boolean(), "\"add_generation_prompt\" must be a boolean, got ", json_kind(v));
            in.add_generation_prompt = v.get<bool>();
        } else if (k == "enable_thinking") {
            if (v.is_null()) {
                in.extra_kwargs[k] = v;  // enable_thinking=None: defined, and neither true nor false
                continue;
            }
            QINFER_CHECK(v.is_boolean(), "\"enable_thinking\" must be a boolean or null, got ", json_kind(v));
            in.enable_thinking = v.get<bool>();
        } else if (k == "bos_token" || k == "eos_token") {
            QINFER_CHECK(v.is_string(), "\"", k, "\" must be a string, got ", json_kind(v));
            (k == "bos_token" ? in.bos_token : in.eos_token) = v.get<std::string>();
        } else {
            in.extra_kwargs[k] = v;
        }
    }
    return in;
}

ojson ChatTemplateInputs::to_template_context() const {
    ojson ctx = ojson::object();
    ojson msgs = ojson::array();
    for (const ChatMessage& m : messages) msgs.push_back(m.to_json());
    ctx["messages"] = std::move(msgs);
    ctx["tools"] = tools ? *tools : ojson(nullptr);
    ctx["documents"] = nullptr;
    ctx["add_generation_prompt"] = add_generation_prompt;
    if (bos_token) ctx["bos_token"] = *bos_token;
    if (eos_token) ctx["eos_token"] = *eos_token;
    if (enable_thinking) ctx["enable_thinking"] = *enable_thinking;
    for (auto it = extra_kwargs.begin(); it != extra_kwargs.end(); ++it) {
        const std::string& k = it.key();
        QINFER_CHECK(k != "messages" && k != "tools" && k != "add_generation_prompt", "extra template variable '", k,
                     "' clashes with an apply_chat_template argument");
        ctx[k] = it.value();
    }
    return ctx;
}

// ---- rendering

ChatTemplate::ChatTemplate(const std::string& source, std::string name) : template_(source, std::move(name)) {}

std::string ChatTemplate::render(const ChatTemplateInputs& inputs) const {
    // transformers refuses before rendering (apply_chat_template)
    QINFER_CHECK(!inputs.messages.empty(),
                 "cannot apply a chat template to an empty conversation; provide at least one message");
    return template_.render(inputs.to_template_context());
}

std::string render_chat_template(const std::string& tmpl, const ChatTemplateInputs& inputs) {
    return ChatTemplate(tmpl).render(inputs);
}

std::string render_chat_template(const std::string& tmpl, const ojson& inputs) {
    return render_chat_template(tmpl, ChatTemplateInputs::from_json(inputs));
}

std::string render_chat_template(const std::string& tmpl, const nlohmann::json& inputs) {
    return render_chat_template(tmpl, ojson(inputs));
}

// ---- loading

ChatTemplateSource load_chat_template(const std::filesystem::path& model_dir, bool with_tools,
                                      const std::string& name) {
    namespace fs = std::filesystem;
    QINFER_CHECK(fs::is_directory(model_dir), "model folder ", model_dir.string(), " does not exist");
    std::map<std::string, ChatTemplateSource> named;  // name -> template
    std::optional<ChatTemplateSource> single;

    const fs::path jinja_file = model_dir / "chat_template.jinja";
    const fs::path jinja_dir = model_dir / "chat_templates";
    if (fs::is_regular_file(jinja_file)) named["default"] = {read_file(jinja_file), jinja_file.string()};
    if (fs::is_directory(jinja_dir)) {
        for (const auto& e : fs::directory_iterator(jinja_dir)) {
            if (e.is_regular_file() && e.path().extension() == ".jinja") {
                named[e.path().stem().string()] = {read_file(e.path()), e.path().string()};
            }
        }
    }
    const fs::path config_file = model_dir / "tokenizer_config.json";
    if (named.empty() && fs::is_regular_file(config_file)) {
        ojson cfg = read_json(config_file);
        if (cfg.is_object() && cfg.contains("chat_template") && !cfg.at("chat_template").is_null()) {
            const ojson& ct = cfg.at("chat_template");
            if (ct.is_string()) {
                single = ChatTemplateSource{ct.get<std::string>(), config_file.string()};
            } else if (ct.is_array()) {
                for (const ojson& t : ct) {
                    QINFER_CHECK(t.is_object() && t.contains("name") && t.at("name").is_string() &&
                                     t.contains("template") && t.at("template").is_string(),
                                 config_file.string(), ": each entry of \"chat_template\" must be {\"name\": ..., ",
                                 "\"template\": ...} with strings");
                    std::string n = t.at("name").get<std::string>();
                    named[n] = {t.at("template").get<std::string>(), config_file.string() + "#" + n};
                }
            } else {
                QINFER_FAIL(config_file.string(),
                            ": \"chat_template\" must be a string or a list of named templates, "
                            "got ",
                            json_kind(ct));
            }
        }
    }
    const fs::path processor_file = model_dir / "chat_template.json";
    if (named.empty() && !single && fs::is_regular_file(processor_file)) {
        ojson j = read_json(processor_file);
        QINFER_CHECK(j.is_object() && j.contains("chat_template") && j.at("chat_template").is_string(),
                     processor_file.string(), ": expected {\"chat_template\": \"...\"}");
        single = ChatTemplateSource{j.at("chat_template").get<std::string>(), processor_file.string()};
    }

    if (named.size() == 1 && named.count("default") && name.empty()) return named["default"];
    if (single && named.empty()) {
        QINFER_CHECK(name.empty() || name == "default", "model folder ", model_dir.string(),
                     " has a single chat template; there is no template named '", name, "'");
        return *single;
    }
    if (named.empty()) {
        QINFER_FAIL(
            "no chat template in ", model_dir.string(), ": looked for chat_template.jinja, ",
            "chat_templates/*.jinja, a \"chat_template\" entry in tokenizer_config.json and chat_template.json");
    }
    std::string names;
    for (const auto& kv : named) names += (names.empty() ? "" : ", ") + kv.first;
    if (!name.empty()) {
        auto it = named.find(name);
        QINFER_CHECK(it != named.end(), "model folder ", model_dir.string(), " has no chat template named '", name,
                     "' (available: ", names, ")");
        return it->second;
    }
    if (with_tools && named.count("tool_use")) return named["tool_use"];
    QINFER_CHECK(named.count("default"), "model folder ", model_dir.string(),
                 " has several chat templates and none is named \"default\" (available: ", names, ")");
    return named["default"];
}

}  // namespace qinfer
