#pragma once
// defines: qinfer::jinja::FilterFn, TestFn, find_filter, find_test, jinja2_has_filter, jinja2_has_test,
//          find_global (the registries of builtin filters, tests and global functions)

#include <optional>
#include <string_view>

#include "chat/jinja/value.h"

namespace qinfer::jinja {

using FilterFn = Value (*)(Interpreter& interp, const Value& input, const CallArgs& args);
using TestFn = bool (*)(Interpreter& interp, const Value& input, const CallArgs& args);

// The implementation of a filter / test, or nullptr when this interpreter does not implement it.
FilterFn find_filter(std::string_view name);
TestFn find_test(std::string_view name);
// Whether jinja2 (with transformers' overrides) defines the name; an unknown name is a parse error there too.
bool jinja2_has_filter(std::string_view name);
bool jinja2_has_test(std::string_view name);

// The global functions of transformers' environment: range, dict, namespace, cycler/joiner/lipsum (unsupported),
// raise_exception, strftime_now. nullopt for other names.
std::optional<Value> find_global(std::string_view name);

}  // namespace qinfer::jinja
