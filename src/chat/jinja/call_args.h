#pragma once
// defines: qinfer::jinja::bind_args, BoundArgs (Python-style binding of CallArgs to a parameter list, for the
//          builtin filters, tests, methods and globals)

#include <initializer_list>
#include <optional>
#include <string>
#include <vector>

#include "chat/jinja/value.h"

namespace qinfer::jinja {

class BoundArgs {
public:
    explicit BoundArgs(std::vector<std::optional<Value>> values) : values_(std::move(values)) {}
    bool has(size_t i) const { return values_[i].has_value(); }
    const Value& operator[](size_t i) const { return *values_[i]; }
    // The value, or `fallback` when the argument was not given.
    Value get(size_t i, Value fallback) const { return values_[i] ? *values_[i] : std::move(fallback); }

private:
    std::vector<std::optional<Value>> values_;
};

// Binds positional then keyword arguments to `params` (all positional-or-keyword, the first `required` mandatory).
// Throws ValueError like Python does: too many positional arguments, unknown or repeated keywords, missing ones.
BoundArgs bind_args(const std::string& fn_name, const CallArgs& args, std::initializer_list<const char*> params,
                    size_t required);

}  // namespace qinfer::jinja
