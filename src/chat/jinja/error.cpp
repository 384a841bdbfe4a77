// defines: TemplateError, TemplateRaisedError (see error.h)

#include "chat/jinja/error.h"

namespace qinfer::jinja {

std::string format_template_location(const std::string& template_name, SourcePos pos) {
    return str_cat(template_name.empty() ? std::string("chat template") : template_name, " line ", pos.line,
                   ", column ", pos.column);
}

TemplateError::TemplateError(const std::string& template_name, SourcePos pos, const std::string& msg)
    : qinfer::Error(str_cat(format_template_location(template_name, pos), ": ", msg)), pos_(pos), detail_(msg) {}

TemplateRaisedError::TemplateRaisedError(const std::string& template_name, SourcePos pos, const std::string& msg)
    : qinfer::Error(str_cat(format_template_location(template_name, pos), ": raise_exception: ", msg)),
      pos_(pos),
      message_(msg) {}

}  // namespace qinfer::jinja
