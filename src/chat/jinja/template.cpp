// defines: qinfer::jinja::Template

#include "chat/jinja/template.h"

#include <new>

#include "chat/jinja/interpreter.h"
#include "chat/jinja/json.h"
#include "chat/jinja/lexer.h"
#include "chat/jinja/parser.h"
#include "chat/jinja/scoping.h"

namespace qinfer::jinja {

Template::Template(const std::string& source, std::string name) : name_(std::move(name)) {
    auto body = std::make_shared<Body>(parse_template(tokenize(source, name_), name_));
    undefined_on_entry_ = analyze_scopes(*body);
    body_ = std::move(body);
}

std::string Template::render(const DictData& context) const {
    try {
        return Interpreter(name_).render(*body_, undefined_on_entry_, context);
    } catch (const std::bad_alloc&) {
        QINFER_FAIL(name_, ": out of memory while rendering");
    }
}

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
