#pragma once
// defines: qinfer::jinja::find_method (Python methods of str, dict, list/tuple and numbers, as the immutable
//          sandbox of transformers exposes them)

#include <optional>
#include <string>

#include "chat/jinja/value.h"

namespace qinfer::jinja {

// self.name when `name` is a method (or attribute) of self's Python type:
//   - an implemented method: a bound Function;
//   - a mutating method the ImmutableSandboxedEnvironment forbids (list.append, dict.update, ...): an undefined
//     value whose use raises jinja2's SecurityError message;
//   - a real Python attribute this interpreter does not implement: throws ValueError ("not supported").
// nullopt when the type has no such attribute (the caller then tries an item lookup or gives undefined).
std::optional<Value> find_method(const Value& self, const std::string& name);

}  // namespace qinfer::jinja
