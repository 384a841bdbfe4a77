#pragma once
// defines: Python semantics over qinfer::jinja::Value: truthiness, str()/repr(), equality and ordering, arithmetic,
//          `in`, iteration, len(), attribute and item access as jinja2's sandboxed environment performs them.
//
// Every function throws ValueError (no position) on a Python TypeError/ValueError or a use of an undefined value
// that jinja2's default Undefined rejects; the interpreter adds the template location.

#include <optional>
#include <string>
#include <vector>

#include "chat/jinja/value.h"

namespace qinfer::jinja {

// Python type name ("str", "dict", "NoneType", ...); "Undefined" for undefined values.
std::string type_name(const Value& v);
// Throws the error jinja2 raises when an undefined value is used (its hint, or "'x' is undefined").
[[noreturn]] void fail_undefined(const Value& v);

bool truthy(const Value& v);

// str(v) as jinja2 prints it ({{ v }}): undefined -> "", None -> "None", True -> "True", 1.0 -> "1.0",
// lists/dicts -> repr. Builtin functions and methods have no stable str() in Python (it holds an address): error.
std::string to_str(const Value& v);
// repr(v)
std::string to_repr(const Value& v);
// repr() of a float (shortest round-trip, Python's exponent rules).
std::string float_repr(double d);
// Python string literal repr ('...' or "...").
std::string string_repr(const std::string& s);

// Python ==
bool equals(const Value& a, const Value& b);
// Python a < b (TypeError for unorderable types).
bool less_than(const Value& a, const Value& b);

// Arithmetic with Python semantics (bool is int; int overflow is an error).
Value op_add(const Value& a, const Value& b);
Value op_sub(const Value& a, const Value& b);
Value op_mul(const Value& a, const Value& b);
Value op_div(const Value& a, const Value& b);
Value op_floordiv(const Value& a, const Value& b);
Value op_mod(const Value& a, const Value& b);
Value op_pow(const Value& a, const Value& b);
Value op_neg(const Value& a);
Value op_pos(const Value& a);
// item in container (str in str, element in list/tuple, key in dict; undefined container -> false).
bool op_in(const Value& item, const Value& container);

// printf-style formatting: fmt % args (args: a tuple, a dict for %(name)s, or one value).
std::string percent_format(const std::string& fmt, const Value& args);

// The elements `for x in v` visits: list items, dict keys, string characters; undefined -> none.
std::vector<Value> iterate(const Value& v);
// len(v) (undefined -> 0).
int64_t length(const Value& v);

// jinja2's environment.getattr (v.name): attribute first (methods of str/dict/list, object attributes), then item.
Value get_attr(const Value& v, const std::string& name);
// jinja2's environment.getitem (v[key]): item first, then attribute for string keys; undefined when missing.
Value get_item(const Value& v, const Value& key);
// v[start:stop:step] (each may be none / undefined for absent).
Value get_slice(const Value& v, const Value& start, const Value& stop, const Value& step);

// markupsafe.escape: & < > " ' as HTML entities.
std::string html_escape(const std::string& s);

// Python's hashability (dict keys, unique).
bool is_hashable(const Value& v);

}  // namespace qinfer::jinja
