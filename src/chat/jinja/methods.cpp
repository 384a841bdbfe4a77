// defines: qinfer::jinja::find_method: str, dict, list/tuple/range and number methods

#include "chat/jinja/methods.h"

#include <algorithm>
#include <set>

#include "chat/jinja/call_args.h"
#include "chat/jinja/error.h"
#include "chat/jinja/unicode.h"
#include "chat/jinja/value_ops.h"

namespace qinfer::jinja {

namespace {

using Impl = Value (*)(const Value& self, const CallArgs& args);

struct MethodEntry {
    const char* name;
    Impl impl;
};

// ---- helpers

// `fn` is a string_view so that a call with a literal creates no temporary std::string (GCC 13's
// -Wdangling-reference would take the returned reference to be one into it; it refers into `v`).
const std::string& arg_str(std::string_view fn, const Value& v, const char* what = "argument") {
    if (!v.is_string()) fail_value(fn, "() ", what, " must be str, not ", type_name(v));
    return v.as_string();
}

int64_t arg_int(const std::string& fn, const Value& v) {
    if (!v.is_integral()) fail_value(fn, "(): '", type_name(v), "' object cannot be interpreted as an integer");
    return v.as_int();
}

// The [start:end] window of a str method, in code points, with slice semantics.
struct Window {
    size_t begin, end;
};

Window window(size_t n, const BoundArgs& b, size_t start_i, size_t end_i) {
    auto clamp = [&](const Value& v, int64_t dflt) {
        if (v.is_none()) return dflt;
        if (!v.is_integral()) fail_value("slice indices must be integers or None");
        int64_t x = v.as_int();
        if (x < 0) x += static_cast<int64_t>(n);
        return std::clamp<int64_t>(x, 0, static_cast<int64_t>(n));
    };
    int64_t s = b.has(start_i) ? clamp(b[start_i], 0) : 0;
    int64_t e = b.has(end_i) ? clamp(b[end_i], static_cast<int64_t>(n)) : static_cast<int64_t>(n);
    return {static_cast<size_t>(s), static_cast<size_t>(std::max(s, e))};
}

Value str_list(const std::vector<std::string>& parts) {
    std::vector<Value> items;
    for (const std::string& p : parts) items.push_back(Value::string(p));
    return Value::list(std::move(items));
}

// ---- str

Value affix_test(const Value& self, const CallArgs& args, bool prefix) {
    const char* fn = prefix ? "startswith" : "endswith";
    BoundArgs b = bind_args(fn, args, {"prefix", "start", "end"}, 1);
    std::u32string s = utf8_decode(self.as_string());
    Window w = window(s.size(), b, 1, 2);
    std::u32string_view view = std::u32string_view(s).substr(w.begin, w.end - w.begin);
    std::vector<Value> candidates;
    if (b[0].is_list() && b[0].as_list().kind == ListKind::Tuple) {
        candidates = b[0].items();
    } else if (b[0].is_string()) {
        candidates.push_back(b[0]);
    } else {
        fail_value(fn, " first arg must be str or a tuple of str, not ", type_name(b[0]));
    }
    for (const Value& c : candidates) {
        std::u32string a = utf8_decode(arg_str(fn, c));
        if (a.size() > view.size() || (w.begin > s.size())) continue;
        if (prefix ? view.substr(0, a.size()) == a : view.substr(view.size() - a.size()) == a) {
            return Value::boolean(true);
        }
    }
    return Value::boolean(false);
}

Value m_startswith(const Value& self, const CallArgs& args) {
    return affix_test(self, args, true);
}
Value m_endswith(const Value& self, const CallArgs& args) {
    return affix_test(self, args, false);
}

Value split_impl(const Value& self, const CallArgs& args, bool right) {
    const char* fn = right ? "rsplit" : "split";
    BoundArgs b = bind_args(fn, args, {"sep", "maxsplit"}, 0);
    std::optional<std::string> sep;
    if (b.has(0) && !b[0].is_none()) sep = arg_str(fn, b[0]);
    int64_t maxsplit = b.has(1) ? arg_int(fn, b[1]) : -1;
    const std::string* sp = sep ? &*sep : nullptr;
    return str_list(right ? py_rsplit(self.as_string(), sp, maxsplit) : py_split(self.as_string(), sp, maxsplit));
}

Value m_split(const Value& self, const CallArgs& args) {
    return split_impl(self, args, false);
}
Value m_rsplit(const Value& self, const CallArgs& args) {
    return split_impl(self, args, true);
}

Value strip_impl(const Value& self, const CallArgs& args, const char* fn, bool left, bool right) {
    BoundArgs b = bind_args(fn, args, {"chars"}, 0);
    std::optional<std::string> chars;
    if (b.has(0) && !b[0].is_none()) chars = arg_str(fn, b[0]);
    return Value::string(py_strip(self.as_string(), chars ? &*chars : nullptr, left, right));
}

Value m_strip(const Value& self, const CallArgs& args) {
    return strip_impl(self, args, "strip", true, true);
}
Value m_lstrip(const Value& self, const CallArgs& args) {
    return strip_impl(self, args, "lstrip", true, false);
}
Value m_rstrip(const Value& self, const CallArgs& args) {
    return strip_impl(self, args, "rstrip", false, true);
}

Value m_lower(const Value& self, const CallArgs& args) {
    bind_args("lower", args, {}, 0);
    return Value::string(py_lower(self.as_string()));
}
Value m_upper(const Value& self, const CallArgs& args) {
    bind_args("upper", args, {}, 0);
    return Value::string(py_upper(self.as_string()));
}
Value m_title(const Value& self, const CallArgs& args) {
    bind_args("title", args, {}, 0);
    return Value::string(py_title(self.as_string()));
}
Value m_capitalize(const Value& self, const CallArgs& args) {
    bind_args("capitalize", args, {}, 0);
    return Value::string(py_capitalize(self.as_string()));
}
Value m_swapcase(const Value& self, const CallArgs& args) {
    bind_args("swapcase", args, {}, 0);
    return Value::string(py_swapcase(self.as_string()));
}

Value m_replace(const Value& self, const CallArgs& args) {
    BoundArgs b = bind_args("replace", args, {"old", "new", "count"}, 2);
    const std::string& old = arg_str("replace", b[0]);
    const std::string& repl = arg_str("replace", b[1]);
    int64_t count = b.has(2) ? arg_int("replace", b[2]) : -1;
    const std::string& s = self.as_string();
    std::string out;
    if (old.empty()) {
        // Inserts `new` before every code point and at the end (up to count times).
        std::u32string cps = utf8_decode(s);
        int64_t done = 0;
        for (char32_t c : cps) {
            if (count < 0 || done < count) {
                out += repl;
                ++done;
            }
            utf8_append(out, c);
        }
        if (count < 0 || done < count) out += repl;
        return Value::string(out);
    }
    size_t pos = 0;
    int64_t done = 0;
    while (count < 0 || done < count) {
        size_t hit = s.find(old, pos);
        if (hit == std::string::npos) break;
        out.append(s, pos, hit - pos);
        out += repl;
        pos = hit + old.size();
        ++done;
    }
    out.append(s, pos, std::string::npos);
    return Value::string(out);
}

// find / rfind / index / rindex / count over code points.
Value search_impl(const Value& self, const CallArgs& args, const char* fn, bool reverse, bool must_find, bool count) {
    BoundArgs b = bind_args(fn, args, {"sub", "start", "end"}, 1);
    std::u32string s = utf8_decode(self.as_string());
    std::u32string sub = utf8_decode(arg_str(fn, b[0]));
    Window w = window(s.size(), b, 1, 2);
    std::u32string_view view = std::u32string_view(s).substr(w.begin, w.end - w.begin);
    if (count) {
        if (sub.empty()) return Value::integer(static_cast<int64_t>(view.size() + 1));
        int64_t n = 0;
        for (size_t p = view.find(sub); p != std::u32string_view::npos; p = view.find(sub, p + sub.size())) ++n;
        return Value::integer(n);
    }
    size_t hit = reverse ? view.rfind(sub) : view.find(sub);
    if (hit == std::u32string_view::npos) {
        if (must_find) fail_value("substring not found");
        return Value::integer(-1);
    }
    return Value::integer(static_cast<int64_t>(hit + w.begin));
}

Value m_find(const Value& self, const CallArgs& args) {
    return search_impl(self, args, "find", false, false, false);
}
Value m_rfind(const Value& self, const CallArgs& args) {
    return search_impl(self, args, "rfind", true, false, false);
}
Value m_index(const Value& self, const CallArgs& args) {
    return search_impl(self, args, "index", false, true, false);
}
Value m_rindex(const Value& self, const CallArgs& args) {
    return search_impl(self, args, "rindex", true, true, false);
}
Value m_count(const Value& self, const CallArgs& args) {
    return search_impl(self, args, "count", false, false, true);
}

Value m_join(const Value& self, const CallArgs& args) {
    BoundArgs b = bind_args("join", args, {"iterable"}, 1);
    std::string out;
    size_t i = 0;
    for (const Value& item : iterate(b[0])) {
        if (!item.is_string()) {
            fail_value("sequence item ", i, ": expected str instance, ", type_name(item), " found");
        }
        if (i++) out += self.as_string();
        out += item.as_string();
    }
    return Value::string(out);
}

template <bool (*Pred)(char32_t)>
Value char_class(const Value& self, const CallArgs& args) {
    bind_args("is...", args, {}, 0);
    std::u32string s = utf8_decode(self.as_string());
    if (s.empty()) return Value::boolean(false);
    return Value::boolean(std::all_of(s.begin(), s.end(), Pred));
}

bool is_alnum_char(char32_t c) {
    return py_isalpha(c) || py_isdecimal(c) || py_isdigit(c) || py_isnumeric(c);
}
bool is_ascii_char(char32_t c) {
    return c < 0x80;
}

Value m_isascii(const Value& self, const CallArgs& args) {
    bind_args("isascii", args, {}, 0);
    std::u32string s = utf8_decode(self.as_string());
    return Value::boolean(std::all_of(s.begin(), s.end(), is_ascii_char));
}

Value case_test(const Value& self, const CallArgs& args, bool lower) {
    bind_args(lower ? "islower" : "isupper", args, {}, 0);
    bool cased = false;
    for (char32_t c : utf8_decode(self.as_string())) {
        if (lower ? (py_is_upper_char(c) || py_is_title_char(c)) : (py_is_lower_char(c) || py_is_title_char(c))) {
            return Value::boolean(false);
        }
        if (!cased && (lower ? py_is_lower_char(c) : py_is_upper_char(c))) cased = true;
    }
    return Value::boolean(cased);
}

Value m_islower(const Value& self, const CallArgs& args) {
    return case_test(self, args, true);
}
Value m_isupper(const Value& self, const CallArgs& args) {
    return case_test(self, args, false);
}

Value m_splitlines(const Value& self, const CallArgs& args) {
    BoundArgs b = bind_args("splitlines", args, {"keepends"}, 0);
    return str_list(py_splitlines(self.as_string(), b.has(0) && truthy(b[0])));
}

Value m_removeprefix(const Value& self, const CallArgs& args) {
    BoundArgs b = bind_args("removeprefix", args, {"prefix"}, 1);
    const std::string& p = arg_str("removeprefix", b[0]);
    const std::string& s = self.as_string();
    return Value::string(s.compare(0, p.size(), p) == 0 ? s.substr(p.size()) : s);
}

Value m_removesuffix(const Value& self, const CallArgs& args) {
    BoundArgs b = bind_args("removesuffix", args, {"suffix"}, 1);
    const std::string& p = arg_str("removesuffix", b[0]);
    const std::string& s = self.as_string();
    bool hit = !p.empty() && s.size() >= p.size() && s.compare(s.size() - p.size(), p.size(), p) == 0;
    return Value::string(hit ? s.substr(0, s.size() - p.size()) : s);
}

Value justify(const Value& self, const CallArgs& args, const char* fn, int mode) {
    BoundArgs b = bind_args(fn, args, {"width", "fillchar"}, 1);
    int64_t width = arg_int(fn, b[0]);
    std::string fill = b.has(1) ? arg_str(fn, b[1]) : std::string(" ");
    if (utf8_length(fill) != 1) fail_value("The fill character must be exactly one character long");
    const std::string& s = self.as_string();
    int64_t len = static_cast<int64_t>(utf8_length(s));
    if (width <= len) return Value::string(s);
    int64_t total = width - len;
    auto rep = [&](int64_t n) {
        std::string out;
        for (int64_t i = 0; i < n; ++i) out += fill;
        return out;
    };
    if (mode < 0) return Value::string(s + rep(total));
    if (mode > 0) return Value::string(rep(total) + s);
    // center: Python puts the extra character on the left when the width and the string length are both odd
    int64_t left = total / 2 + (total & width & 1);
    return Value::string(rep(left) + s + rep(total - left));
}

Value m_ljust(const Value& self, const CallArgs& args) {
    return justify(self, args, "ljust", -1);
}
Value m_rjust(const Value& self, const CallArgs& args) {
    return justify(self, args, "rjust", 1);
}
Value m_center(const Value& self, const CallArgs& args) {
    return justify(self, args, "center", 0);
}

Value m_zfill(const Value& self, const CallArgs& args) {
    BoundArgs b = bind_args("zfill", args, {"width"}, 1);
    int64_t width = arg_int("zfill", b[0]);
    const std::string& s = self.as_string();
    int64_t len = static_cast<int64_t>(utf8_length(s));
    if (width <= len) return Value::string(s);
    size_t at = (!s.empty() && (s[0] == '+' || s[0] == '-')) ? 1 : 0;
    return Value::string(s.substr(0, at) + std::string(static_cast<size_t>(width - len), '0') + s.substr(at));
}

Value partition_impl(const Value& self, const CallArgs& args, bool right) {
    const char* fn = right ? "rpartition" : "partition";
    BoundArgs b = bind_args(fn, args, {"sep"}, 1);
    const std::string& sep = arg_str(fn, b[0]);
    if (sep.empty()) fail_value("empty separator");
    const std::string& s = self.as_string();
    size_t hit = right ? s.rfind(sep) : s.find(sep);
    std::vector<Value> parts;
    if (hit == std::string::npos) {
        if (right) {
            parts = {Value::string(""), Value::string(""), Value::string(s)};
        } else {
            parts = {Value::string(s), Value::string(""), Value::string("")};
        }
    } else {
        parts = {Value::string(s.substr(0, hit)), Value::string(sep), Value::string(s.substr(hit + sep.size()))};
    }
    return Value::list(std::move(parts), ListKind::Tuple);
}

Value m_partition(const Value& self, const CallArgs& args) {
    return partition_impl(self, args, false);
}
Value m_rpartition(const Value& self, const CallArgs& args) {
    return partition_impl(self, args, true);
}

// str.format with plain fields only: {} {0} {name}, and {{ }} escapes.
Value m_format(const Value& self, const CallArgs& args) {
    const std::string& f = self.as_string();
    std::string out;
    size_t auto_index = 0;
    for (size_t i = 0; i < f.size(); ++i) {
        char c = f[i];
        if (c == '}') {
            if (i + 1 < f.size() && f[i + 1] == '}') {
                out.push_back('}');
                ++i;
                continue;
            }
            fail_value("Single '}' encountered in format string");
        }
        if (c != '{') {
            out.push_back(c);
            continue;
        }
        if (i + 1 < f.size() && f[i + 1] == '{') {
            out.push_back('{');
            ++i;
            continue;
        }
        size_t close = f.find('}', i);
        if (close == std::string::npos) fail_value("Single '{' encountered in format string");
        std::string field = f.substr(i + 1, close - i - 1);
        if (field.find_first_of(":!.[") != std::string::npos) {
            fail_value("str.format with conversions, format specs or attribute/index fields is not supported");
        }
        const Value* arg = nullptr;
        if (field.empty() || std::all_of(field.begin(), field.end(), [](char d) { return d >= '0' && d <= '9'; })) {
            size_t index = field.empty() ? auto_index++ : std::stoul(field);
            if (index >= args.positional.size()) fail_value("Replacement index ", index, " out of range");
            arg = &args.positional[index];
        } else {
            for (const auto& [k, v] : args.keyword) {
                if (k == field) arg = &v;
            }
            if (!arg) fail_value("KeyError: '", field, "'");
        }
        out += to_str(*arg);
        i = close;
    }
    return Value::string(out);
}

const MethodEntry kStrMethods[] = {
    {"startswith", m_startswith},
    {"endswith", m_endswith},
    {"split", m_split},
    {"rsplit", m_rsplit},
    {"strip", m_strip},
    {"lstrip", m_lstrip},
    {"rstrip", m_rstrip},
    {"lower", m_lower},
    {"upper", m_upper},
    {"title", m_title},
    {"capitalize", m_capitalize},
    {"swapcase", m_swapcase},
    {"replace", m_replace},
    {"find", m_find},
    {"rfind", m_rfind},
    {"index", m_index},
    {"rindex", m_rindex},
    {"count", m_count},
    {"join", m_join},
    {"isalpha", char_class<py_isalpha>},
    {"isdigit", char_class<py_isdigit>},
    {"isdecimal", char_class<py_isdecimal>},
    {"isnumeric", char_class<py_isnumeric>},
    {"isalnum", char_class<is_alnum_char>},
    {"isspace", char_class<py_isspace>},
    {"isascii", m_isascii},
    {"islower", m_islower},
    {"isupper", m_isupper},
    {"splitlines", m_splitlines},
    {"removeprefix", m_removeprefix},
    {"removesuffix", m_removesuffix},
    {"ljust", m_ljust},
    {"rjust", m_rjust},
    {"center", m_center},
    {"zfill", m_zfill},
    {"partition", m_partition},
    {"rpartition", m_rpartition},
    {"format", m_format},
};

const std::set<std::string> kStrOther = {"casefold",    "encode",  "expandtabs", "format_map", "isidentifier",
                                         "isprintable", "istitle", "maketrans",  "translate"};

// ---- dict

Value m_get(const Value& self, const CallArgs& args) {
    BoundArgs b = bind_args("get", args, {"key", "default"}, 1);
    if (const Value* hit = self.as_dict().find(b[0])) return *hit;
    return b.get(1, Value::none());
}

Value m_items(const Value& self, const CallArgs& args) {
    bind_args("items", args, {}, 0);
    std::vector<Value> items;
    for (const auto& [k, v] : self.as_dict().entries()) items.push_back(Value::list({k, v}, ListKind::Tuple));
    return Value::list(std::move(items), ListKind::DictItems);
}

Value m_keys(const Value& self, const CallArgs& args) {
    bind_args("keys", args, {}, 0);
    std::vector<Value> items;
    for (const auto& kv : self.as_dict().entries()) items.push_back(kv.first);
    return Value::list(std::move(items), ListKind::DictKeys);
}

Value m_values(const Value& self, const CallArgs& args) {
    bind_args("values", args, {}, 0);
    std::vector<Value> items;
    for (const auto& kv : self.as_dict().entries()) items.push_back(kv.second);
    return Value::list(std::move(items), ListKind::DictValues);
}

Value m_dict_copy(const Value& self, const CallArgs& args) {
    bind_args("copy", args, {}, 0);
    return Value::dict(self.as_dict());
}

Value m_fromkeys(const Value&, const CallArgs& args) {
    BoundArgs b = bind_args("fromkeys", args, {"iterable", "value"}, 1);
    DictData d;
    for (const Value& k : iterate(b[0])) d.set(k, b.get(1, Value::none()));
    return Value::dict(std::move(d));
}

const MethodEntry kDictMethods[] = {
    {"get", m_get},       {"items", m_items},    {"keys", m_keys},
    {"values", m_values}, {"copy", m_dict_copy}, {"fromkeys", m_fromkeys},
};
const std::set<std::string> kDictUnsafe = {"clear", "pop", "popitem", "setdefault", "update"};

// ---- list / tuple / range

Value m_list_count(const Value& self, const CallArgs& args) {
    BoundArgs b = bind_args("count", args, {"value"}, 1);
    int64_t n = 0;
    for (const Value& x : self.items()) n += equals(x, b[0]) ? 1 : 0;
    return Value::integer(n);
}

Value m_list_index(const Value& self, const CallArgs& args) {
    BoundArgs b = bind_args("index", args, {"value", "start", "stop"}, 1);
    Window w = window(self.items().size(), b, 1, 2);
    for (size_t i = w.begin; i < w.end; ++i) {
        if (equals(self.items()[i], b[0])) return Value::integer(static_cast<int64_t>(i));
    }
    fail_value(to_repr(b[0]), " is not in ", type_name(self));
}

Value m_list_copy(const Value& self, const CallArgs& args) {
    bind_args("copy", args, {}, 0);
    return Value::list(self.items());
}

const MethodEntry kSeqMethods[] = {{"count", m_list_count}, {"index", m_list_index}};
const std::set<std::string> kListUnsafe = {"append", "clear", "extend", "insert", "pop", "remove", "reverse", "sort"};

const std::set<std::string> kIntAttrs = {"as_integer_ratio", "bit_count", "bit_length", "conjugate", "denominator",
                                         "from_bytes",       "imag",      "numerator",  "real",      "to_bytes"};
const std::set<std::string> kFloatAttrs = {"as_integer_ratio", "conjugate", "fromhex", "hex", "imag",
                                           "is_integer",       "real"};

Value bind(const Value& self, const std::string& name, Impl impl) {
    return Value::function(name, FunctionKind::Method,
                           [self, impl](Interpreter&, CallArgs& args) { return impl(self, args); });
}

template <size_t N>
Impl lookup(const MethodEntry (&table)[N], const std::string& name) {
    for (const MethodEntry& e : table) {
        if (name == e.name) return e.impl;
    }
    return nullptr;
}

Value unsafe(const Value& self, const std::string& name) {
    return Value::undefined(str_cat("access to attribute '", name, "' of '", type_name(self), "' object is unsafe."));
}

[[noreturn]] void unsupported(const Value& self, const std::string& name) {
    fail_value("the Python attribute '", name, "' of '", type_name(self), "' objects is not supported");
}

}  // namespace

std::optional<Value> find_method(const Value& self, const std::string& name) {
    switch (self.kind()) {
        case ValueKind::String:
            if (Impl impl = lookup(kStrMethods, name)) {
                if (self.is_markup()) fail_value("methods of Markup strings (from |safe or |escape) are not supported");
                return bind(self, name, impl);
            }
            if (kStrOther.count(name)) unsupported(self, name);
            return std::nullopt;
        case ValueKind::Dict:
            if (Impl impl = lookup(kDictMethods, name)) return bind(self, name, impl);
            if (kDictUnsafe.count(name)) return unsafe(self, name);
            return std::nullopt;
        case ValueKind::List: {
            ListKind k = self.as_list().kind;
            if (k == ListKind::List || k == ListKind::Tuple || k == ListKind::Range) {
                if (Impl impl = lookup(kSeqMethods, name)) return bind(self, name, impl);
            }
            if (k == ListKind::List) {
                if (name == "copy") return bind(self, name, m_list_copy);
                if (kListUnsafe.count(name)) return unsafe(self, name);
            }
            if (k == ListKind::Range) {
                if (name == "start") return Value::integer(self.as_list().range_start);
                if (name == "stop") return Value::integer(self.as_list().range_stop);
                if (name == "step") return Value::integer(self.as_list().range_step);
            }
            if (k == ListKind::DictKeys || k == ListKind::DictValues || k == ListKind::DictItems) {
                if (name == "mapping" || name == "isdisjoint") unsupported(self, name);
            }
            return std::nullopt;
        }
        case ValueKind::Bool:
        case ValueKind::Int:
            if (kIntAttrs.count(name)) unsupported(self, name);
            return std::nullopt;
        case ValueKind::Float:
            if (kFloatAttrs.count(name)) unsupported(self, name);
            return std::nullopt;
        case ValueKind::Function:
            unsupported(self, name);
        case ValueKind::Undefined:
        case ValueKind::None:
        case ValueKind::Object:
            return std::nullopt;
    }
    return std::nullopt;
}

}  // namespace qinfer::jinja
