#pragma once
// defines: qinfer::jinja::JsonDumpOptions, json_dumps (Python's json.dumps over Values, as transformers' |tojson
//          calls it), value_from_json (nlohmann JSON -> Value, key order preserved)

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "chat/jinja/value.h"

namespace qinfer::jinja {

struct JsonDumpOptions {
    bool ensure_ascii = false;          // transformers' default (json.dumps' own default is True)
    std::optional<std::string> indent;  // nullopt: one line; else the per-level indent ("" puts items on new lines)
    std::string item_separator = ", ";  // json.dumps: ", " without indent, "," with indent
    std::string key_separator = ": ";
    bool sort_keys = false;
};

// json.dumps(v, ...): floats as Python repr (NaN/Infinity allowed), tuples as arrays, keys of type int/float/bool/
// None converted to strings. Throws ValueError for values JSON cannot hold (undefined, functions, namespaces).
std::string json_dumps(const Value& v, const JsonDumpOptions& opts);

// JSON -> Value. Objects keep their key order (use ordered_json to preserve the order of the source text;
// nlohmann::json has already sorted its keys). Integers beyond int64 are an error.
Value value_from_json(const nlohmann::ordered_json& j);
Value value_from_json(const nlohmann::json& j);

}  // namespace qinfer::jinja
