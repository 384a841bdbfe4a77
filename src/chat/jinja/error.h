#pragma once
// defines: qinfer::jinja::SourcePos, TemplateError, TemplateRaisedError, ValueError, fail_value
//
// Two kinds of error reach callers, both qinfer::Error:
//   - TemplateError: the template is malformed, uses something this interpreter does not support, or fails at run
//     time (type error, undefined value used, ...). The message names the template, line and column.
//   - TemplateRaisedError: the template itself called raise_exception(msg); message() is exactly msg.
// ValueError is internal: value operations throw it without a position, and the interpreter rethrows it as a
// TemplateError located at the expression being evaluated.

#include <stdexcept>
#include <string>

#include "core/check.h"

namespace qinfer::jinja {

struct SourcePos {
    int line = 0;    // 1-based
    int column = 0;  // 1-based, in code points
};

std::string format_template_location(const std::string& template_name, SourcePos pos);

class TemplateError : public qinfer::Error {
public:
    TemplateError(const std::string& template_name, SourcePos pos, const std::string& msg);
    SourcePos pos() const { return pos_; }
    // The message without the location prefix.
    const std::string& detail() const { return detail_; }

private:
    SourcePos pos_;
    std::string detail_;
};

class TemplateRaisedError : public qinfer::Error {
public:
    TemplateRaisedError(const std::string& template_name, SourcePos pos, const std::string& msg);
    SourcePos pos() const { return pos_; }
    // Exactly the argument of raise_exception().
    const std::string& message() const { return message_; }

private:
    SourcePos pos_;
    std::string message_;
};

class ValueError : public std::runtime_error {
public:
    explicit ValueError(const std::string& msg) : std::runtime_error(msg) {}
};

// Throws ValueError(str_cat(args...)).
template <class... Args>
[[noreturn]] void fail_value(Args&&... args) {
    throw ValueError(str_cat(std::forward<Args>(args)...));
}

}  // namespace qinfer::jinja
