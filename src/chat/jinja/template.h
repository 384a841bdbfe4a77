#pragma once
// defines: qinfer::jinja::Template (the public entry point of the Jinja2 interpreter)
//
// A Jinja2 template compiled once and rendered many times, with the environment transformers uses for chat
// templates (ImmutableSandboxedEnvironment, trim_blocks, lstrip_blocks, loopcontrols, default Undefined, its
// tojson / raise_exception / strftime_now). See lexer.h, parser.h and interpreter.h for the details.
//
//     qinfer::jinja::Template t("{% for m in messages %}{{ m.role }}: {{ m.content }}\n{% endfor %}");
//     std::string s = t.render(nlohmann::ordered_json{{"messages", ...}});
//
// Errors: TemplateError (syntax, unsupported construct, runtime error; names line and column) and
// TemplateRaisedError (the template called raise_exception), both qinfer::Error.

#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "chat/jinja/ast.h"
#include "chat/jinja/value.h"

namespace qinfer::jinja {

class Template {
public:
    // Parses `source`; `name` prefixes error messages ("chat template line 3, column 7: ...").
    explicit Template(const std::string& source, std::string name = "chat template");

    // Renders with top-level variables (a dict whose keys are strings).
    std::string render(const DictData& context) const;
    // Renders with the members of a JSON object as top-level variables (key order preserved).
    std::string render(const nlohmann::ordered_json& context) const;

    const std::string& name() const { return name_; }

private:
    std::string name_;
    std::shared_ptr<const Body> body_;
    std::vector<std::string> undefined_on_entry_;  // of the template frame (scoping.h)
};

}  // namespace qinfer::jinja
