// defines: qinfer::jinja::Template

#include "chat/jinja/template.h"

#include "chat/jinja/interpreter.h"
#include "chat/jinja/json.h"
#include "chat/jinja/lexer.h"
#include "chat/jinja/parser.h"

namespace qinfer::jinja {

Template::Template(const std::string& source, std::string name) : name_(std::move(name)) {
    body_ = std::make_shared<const Body>(parse_template(tokenize(source, name_), name_));
}

std::string Template::render(const DictData& context) const { return Interpreter(name_).render(*body_, context); }

std::string Template::render(const nlohmann::ordered_json& context) const {
    QINFER_CHECK(context.is_object(), name_, ": the render context must be a JSON object, got ", context.type_name());
    Value v;
    try {
        v = value_from_json(context);
    } catch (const ValueError& e) {
        QINFER_FAIL(name_, ": invalid render context: ", e.what());
    }
    return render(v.as_dict());
}

}  // namespace qinfer::jinja
