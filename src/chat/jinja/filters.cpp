// defines: qinfer::jinja::find_filter, jinja2_has_filter (jinja2's builtin filters, with transformers' tojson)

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <set>

#include "chat/jinja/builtins.h"
#include "chat/jinja/call_args.h"
#include "chat/jinja/error.h"
#include "chat/jinja/interpreter.h"
#include "chat/jinja/json.h"
#include "chat/jinja/methods.h"
#include "chat/jinja/unicode.h"
#include "chat/jinja/value_ops.h"

namespace qinfer::jinja {

namespace {

// ---- helpers

// jinja2's soft_str: strings (and Markup) unchanged, anything else str().
Value soft_str(const Value& v) {
    return v.is_string() ? v : Value::string(to_str(v));
}

Value iterator_of(std::vector<Value> items) {
    return Value::list(std::move(items), ListKind::Iterator);
}

// jinja2's make_attrgetter: "a.b.0" -> item["a"]["b"][0] through environment.getitem.
Value attr_lookup(const Value& item, const Value& attribute) {
    if (!attribute.is_string()) return get_item(item, attribute);
    Value cur = item;
    const std::string& a = attribute.as_string();
    size_t start = 0;
    while (true) {
        size_t dot = a.find('.', start);
        std::string part = a.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
        bool digits =
            !part.empty() && std::all_of(part.begin(), part.end(), [](char c) { return c >= '0' && c <= '9'; });
        cur = get_item(cur, digits ? Value::integer(std::stoll(part)) : Value::string(part));
        if (dot == std::string::npos) break;
        start = dot + 1;
    }
    return cur;
}

Value ignore_case(const Value& v) {
    return v.is_string() ? Value::string(py_lower(v.as_string())) : v;
}

// Python int(str, base).
std::optional<int64_t> parse_int(const std::string& text, int64_t base) {
    std::u32string cps = utf8_decode(text);
    size_t b = 0, e = cps.size();
    while (b < e && py_isspace(cps[b])) ++b;
    while (e > b && py_isspace(cps[e - 1])) --e;
    std::string s = utf8_encode(std::u32string_view(cps).substr(b, e - b));
    size_t i = 0;
    bool neg = false;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) neg = s[i++] == '-';
    auto has_prefix = [&](char p) { return i + 1 < s.size() && s[i] == '0' && (s[i + 1] | 0x20) == p; };
    if ((base == 0 || base == 16) && has_prefix('x')) {
        base = 16;
        i += 2;
    } else if ((base == 0 || base == 8) && has_prefix('o')) {
        base = 8;
        i += 2;
    } else if ((base == 0 || base == 2) && has_prefix('b')) {
        base = 2;
        i += 2;
    } else if (base == 0) {
        base = 10;
        if (i + 1 < s.size() && s[i] == '0' && s.find_first_not_of("0_", i) != std::string::npos) return std::nullopt;
    }
    if (base < 2 || base > 36) fail_value("int() base must be >= 2 and <= 36, or 0");
    std::string digits;
    bool prev_digit = i > 0 && i >= 2 && (s[i - 1] | 0x20) >= 'a';  // an underscore may follow a base prefix
    for (; i < s.size(); ++i) {
        char c = s[i];
        if (c == '_') {
            if (!prev_digit) return std::nullopt;
            prev_digit = false;
            continue;
        }
        int d = (c >= '0' && c <= '9')                     ? c - '0'
                : ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') ? (c | 0x20) - 'a' + 10
                                                           : 99;
        if (d >= base) return std::nullopt;
        digits.push_back(c);
        prev_digit = true;
    }
    if (digits.empty() || !prev_digit) return std::nullopt;
    errno = 0;
    long long v = std::strtoll(digits.c_str(), nullptr, static_cast<int>(base));
    if (errno == ERANGE) fail_value("integer too large (this interpreter uses 64-bit integers)");
    return neg ? -v : v;
}

// Python float(str).
std::optional<double> parse_float(const std::string& text) {
    std::u32string cps = utf8_decode(text);
    size_t b = 0, e = cps.size();
    while (b < e && py_isspace(cps[b])) ++b;
    while (e > b && py_isspace(cps[e - 1])) --e;
    std::string s = utf8_encode(std::u32string_view(cps).substr(b, e - b));
    std::string lower = py_lower(s);
    std::string body = lower;
    if (!body.empty() && (body[0] == '+' || body[0] == '-')) body = body.substr(1);
    if (body == "inf" || body == "infinity" || body == "nan") return std::strtod(lower.c_str(), nullptr);
    // [sign] digits [. digits] [e [sign] digits], underscores only between digits
    std::string clean;
    size_t i = 0;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) clean.push_back(s[i++]);
    bool any_digit = false, seen_dot = false, seen_e = false, prev_digit = false;
    for (; i < s.size(); ++i) {
        char c = s[i];
        if (c >= '0' && c <= '9') {
            clean.push_back(c);
            any_digit = prev_digit = true;
        } else if (c == '_') {
            if (!prev_digit || i + 1 >= s.size() || !(s[i + 1] >= '0' && s[i + 1] <= '9')) return std::nullopt;
        } else if (c == '.' && !seen_dot && !seen_e) {
            clean.push_back(c);
            seen_dot = true;
            prev_digit = false;
        } else if ((c == 'e' || c == 'E') && any_digit && !seen_e) {
            clean.push_back(c);
            seen_e = true;
            prev_digit = false;
            if (i + 1 < s.size() && (s[i + 1] == '+' || s[i + 1] == '-')) clean.push_back(s[++i]);
            if (i + 1 >= s.size()) return std::nullopt;
        } else {
            return std::nullopt;
        }
    }
    if (!any_digit || (seen_e && !prev_digit)) return std::nullopt;
    return std::strtod(clean.c_str(), nullptr);
}

// ---- filters

Value f_abs(Interpreter&, const Value& v, const CallArgs& args) {
    bind_args("abs", args, {}, 0);
    if (v.is_integral()) {
        if (v.as_int() == INT64_MIN) fail_value("integer overflow");
        return Value::integer(std::llabs(v.as_int()));
    }
    if (v.is_float()) return Value::floating(std::fabs(v.as_float()));
    if (v.is_undefined()) fail_undefined(v);
    fail_value("bad operand type for abs(): '", type_name(v), "'");
}

Value f_attr(Interpreter&, const Value& v, const CallArgs& args) {
    BoundArgs b = bind_args("attr", args, {"name"}, 1);
    std::string name = to_str(b[0]);
    if (v.is_undefined()) fail_undefined(v);
    if (v.is_object()) return v.as_object()->get_attr(name);
    if (std::optional<Value> m = find_method(v, name)) return *m;
    return Value::undefined(str_cat("'", type_name(v), " object' has no attribute '", name, "'"));
}

Value f_capitalize(Interpreter&, const Value& v, const CallArgs& args) {
    bind_args("capitalize", args, {}, 0);
    return Value::string(py_capitalize(to_str(v)));
}

Value f_center(Interpreter& interp, const Value& v, const CallArgs& args) {
    BoundArgs b = bind_args("center", args, {"width"}, 0);
    CallArgs inner;
    inner.positional.push_back(b.get(0, Value::integer(80)));
    return find_method(Value::string(to_str(v)), "center")->as_function().fn(interp, inner);
}

Value f_length(Interpreter&, const Value& v, const CallArgs& args) {
    bind_args("length", args, {}, 0);
    return Value::integer(length(v));
}

Value f_default(Interpreter&, const Value& v, const CallArgs& args) {
    BoundArgs b = bind_args("default", args, {"default_value", "boolean"}, 0);
    bool boolean = b.has(1) && truthy(b[1]);
    if (v.is_undefined() || (boolean && !truthy(v))) return b.get(0, Value::string(""));
    return v;
}

Value f_dictsort(Interpreter&, const Value& v, const CallArgs& args) {
    BoundArgs b = bind_args("dictsort", args, {"case_sensitive", "by", "reverse"}, 0);
    if (!v.is_dict()) fail_value("dictsort: the value must be a dict, not ", type_name(v));
    bool case_sensitive = b.has(0) && truthy(b[0]);
    std::string by = b.has(1) ? to_str(b[1]) : "key";
    if (by != "key" && by != "value") fail_value("You can only sort by either \"key\" or \"value\"");
    size_t pos = by == "key" ? 0 : 1;
    bool reverse = b.has(2) && truthy(b[2]);
    std::vector<Value> items;
    for (const auto& [k, val] : v.as_dict().entries()) items.push_back(Value::list({k, val}, ListKind::Tuple));
    auto key = [&](const Value& item) {
        const Value& x = item.items()[pos];
        return case_sensitive ? x : ignore_case(x);
    };
    std::stable_sort(items.begin(), items.end(), [&](const Value& a, const Value& c) {
        return reverse ? less_than(key(c), key(a)) : less_than(key(a), key(c));
    });
    return Value::list(std::move(items));
}

Value f_escape(Interpreter&, const Value& v, const CallArgs& args) {
    bind_args("escape", args, {}, 0);
    if (v.is_string() && v.is_markup()) return v;
    return Value::string(html_escape(to_str(v)), true);
}

Value f_forceescape(Interpreter&, const Value& v, const CallArgs& args) {
    bind_args("forceescape", args, {}, 0);
    return Value::string(html_escape(to_str(v)), true);
}

Value f_first(Interpreter&, const Value& v, const CallArgs& args) {
    bind_args("first", args, {}, 0);
    if (v.is_list() && v.as_list().kind == ListKind::Iterator) {
        const ListData& l = v.as_list();
        if (l.consumed < l.items.size()) return l.items[l.consumed++];
        return Value::undefined("No first item, sequence was empty.");
    }
    std::vector<Value> items = iterate(v);
    if (items.empty()) return Value::undefined("No first item, sequence was empty.");
    return items.front();
}

Value f_last(Interpreter&, const Value& v, const CallArgs& args) {
    bind_args("last", args, {}, 0);
    if (v.is_undefined()) return Value::undefined("No last item, sequence was empty.");
    if (!(v.is_string() || v.is_dict() || (v.is_list() && v.as_list().kind != ListKind::Iterator))) {
        fail_value("'", type_name(v), "' object is not reversible");
    }
    std::vector<Value> items = iterate(v);
    if (items.empty()) return Value::undefined("No last item, sequence was empty.");
    return items.back();
}

Value f_float(Interpreter&, const Value& v, const CallArgs& args) {
    BoundArgs b = bind_args("float", args, {"default"}, 0);
    Value dflt = b.get(0, Value::floating(0.0));
    if (v.is_undefined()) fail_undefined(v);  // float(Undefined) raises
    if (v.is_number()) return Value::floating(v.as_float());
    if (v.is_string()) {
        if (std::optional<double> d = parse_float(v.as_string())) return Value::floating(*d);
    }
    return dflt;
}

Value f_format(Interpreter&, const Value& v, const CallArgs& args) {
    if (!args.positional.empty() && !args.keyword.empty()) {
        fail_value("can't handle positional and keyword arguments at the same time");
    }
    Value fmt = soft_str(v);
    if (!args.keyword.empty()) {
        DictData d;
        for (const auto& [k, x] : args.keyword) d.set(Value::string(k), x);
        return Value::string(percent_format(fmt.as_string(), Value::dict(std::move(d))));
    }
    return Value::string(percent_format(fmt.as_string(), Value::list(args.positional, ListKind::Tuple)));
}

Value f_indent(Interpreter&, const Value& v, const CallArgs& args) {
    BoundArgs b = bind_args("indent", args, {"width", "first", "blank"}, 0);
    std::string indention;
    if (b.has(0) && b[0].is_string()) {
        indention = b[0].as_string();
    } else {
        int64_t w = b.has(0) ? b[0].as_int() : 4;
        indention = std::string(static_cast<size_t>(std::max<int64_t>(0, w)), ' ');
    }
    bool first = b.has(1) && truthy(b[1]);
    bool blank = b.has(2) && truthy(b[2]);
    if (v.is_undefined()) fail_undefined(v);
    if (!v.is_string()) fail_value("indent: expected a string, got ", type_name(v));
    std::string s = v.as_string() + "\n";
    std::vector<std::string> lines = py_splitlines(s, false);
    std::string rv;
    if (blank) {
        for (size_t i = 0; i < lines.size(); ++i) rv += (i ? "\n" + indention : std::string()) + lines[i];
    } else {
        rv = lines.empty() ? std::string() : lines[0];
        for (size_t i = 1; i < lines.size(); ++i) rv += "\n" + (lines[i].empty() ? lines[i] : indention + lines[i]);
    }
    if (first) rv = indention + rv;
    return Value::string(rv);
}

Value f_int(Interpreter&, const Value& v, const CallArgs& args) {
    BoundArgs b = bind_args("int", args, {"default", "base"}, 0);
    Value dflt = b.get(0, Value::integer(0));
    int64_t base = b.has(1) ? b[1].as_int() : 10;
    if (v.is_undefined()) fail_undefined(v);  // int(Undefined) raises
    if (v.is_integral()) return Value::integer(v.as_int());
    auto from_double = [](double d) {
        if (!std::isfinite(d)) fail_value("cannot convert float ", float_repr(d), " to integer");
        if (std::fabs(d) >= 9.2233720368547758e18)
            fail_value("integer too large (this interpreter uses 64-bit integers)");
        return Value::integer(static_cast<int64_t>(std::trunc(d)));
    };
    if (v.is_float()) return from_double(v.as_float());
    if (v.is_string()) {
        if (std::optional<int64_t> i = parse_int(v.as_string(), base)) return Value::integer(*i);
        if (std::optional<double> d = parse_float(v.as_string())) return from_double(*d);
    }
    return dflt;
}

Value f_items(Interpreter&, const Value& v, const CallArgs& args) {
    bind_args("items", args, {}, 0);
    if (v.is_undefined()) return iterator_of({});
    if (!v.is_dict()) fail_value("Can only get item pairs from a mapping.");
    std::vector<Value> items;
    for (const auto& [k, val] : v.as_dict().entries()) items.push_back(Value::list({k, val}, ListKind::Tuple));
    return iterator_of(std::move(items));
}

Value f_join(Interpreter&, const Value& v, const CallArgs& args) {
    BoundArgs b = bind_args("join", args, {"d", "attribute"}, 0);
    std::string sep = b.has(0) ? to_str(b[0]) : std::string();
    std::string out;
    bool first = true;
    for (const Value& item : iterate(v)) {
        if (!first) out += sep;
        first = false;
        out += to_str(b.has(1) && !b[1].is_none() ? attr_lookup(item, b[1]) : item);
    }
    return Value::string(out);
}

Value f_list(Interpreter&, const Value& v, const CallArgs& args) {
    bind_args("list", args, {}, 0);
    return Value::list(iterate(v));
}

Value f_lower(Interpreter&, const Value& v, const CallArgs& args) {
    bind_args("lower", args, {}, 0);
    return Value::string(py_lower(to_str(v)), v.is_string() && v.is_markup());
}

Value f_upper(Interpreter&, const Value& v, const CallArgs& args) {
    bind_args("upper", args, {}, 0);
    return Value::string(py_upper(to_str(v)), v.is_string() && v.is_markup());
}

Value f_map(Interpreter& interp, const Value& v, const CallArgs& args) {
    std::vector<Value> out;
    if (!truthy(v)) return iterator_of({});  // jinja2: `if value:` before iterating
    if (args.positional.empty() && !args.keyword.empty() && args.keyword[0].first == "attribute") {
        Value attribute, dflt = Value::none();
        bool has_default = false;
        for (const auto& [k, x] : args.keyword) {
            if (k == "attribute") {
                attribute = x;
            } else if (k == "default") {
                dflt = x;
                has_default = true;
            } else {
                fail_value("Unexpected keyword argument '", k, "'");
            }
        }
        for (const Value& item : iterate(v)) {
            Value r = attr_lookup(item, attribute);
            out.push_back(r.is_undefined() && has_default ? dflt : r);
        }
        return iterator_of(std::move(out));
    }
    bool has_attribute_kw = false;
    for (const auto& kv : args.keyword) has_attribute_kw |= kv.first == "attribute";
    if (args.positional.empty()) {
        if (has_attribute_kw) fail_value("map: the attribute= form takes only attribute= and default=");
        fail_value("map requires a filter argument");
    }
    std::string name = to_str(args.positional[0]);
    if (!jinja2_has_filter(name)) fail_value("No filter named '", name, "'.");
    CallArgs rest;
    rest.positional.assign(args.positional.begin() + 1, args.positional.end());
    rest.keyword = args.keyword;
    for (const Value& item : iterate(v)) out.push_back(interp.apply_filter(name, item, rest));
    return iterator_of(std::move(out));
}

Value min_or_max(const Value& v, const CallArgs& args, const char* fn, bool want_max) {
    BoundArgs b = bind_args(fn, args, {"case_sensitive", "attribute"}, 0);
    bool case_sensitive = b.has(0) && truthy(b[0]);
    std::vector<Value> items = iterate(v);
    if (items.empty()) return Value::undefined("No aggregated item, sequence was empty.");
    auto key = [&](const Value& item) {
        Value k = b.has(1) && !b[1].is_none() ? attr_lookup(item, b[1]) : item;
        return case_sensitive ? k : ignore_case(k);
    };
    size_t best = 0;
    Value best_key = key(items[0]);
    for (size_t i = 1; i < items.size(); ++i) {
        Value k = key(items[i]);
        if (want_max ? less_than(best_key, k) : less_than(k, best_key)) {
            best = i;
            best_key = k;
        }
    }
    return items[best];
}

Value f_max(Interpreter&, const Value& v, const CallArgs& args) {
    return min_or_max(v, args, "max", true);
}
Value f_min(Interpreter&, const Value& v, const CallArgs& args) {
    return min_or_max(v, args, "min", false);
}

Value select_or_reject(Interpreter& interp, const Value& v, const CallArgs& args, bool select, bool lookup_attr) {
    if (!truthy(v)) return iterator_of({});  // jinja2: `if value:` before iterating
    size_t off = 0;
    Value attribute;
    if (lookup_attr) {
        if (args.positional.empty()) fail_value("Missing parameter for attribute name");
        attribute = args.positional[0];
        off = 1;
    }
    std::optional<std::string> test;
    CallArgs rest;
    if (args.positional.size() > off) {
        test = to_str(args.positional[off]);
        if (!jinja2_has_test(*test)) fail_value("No test named '", *test, "'.");
        rest.positional.assign(args.positional.begin() + static_cast<std::ptrdiff_t>(off) + 1, args.positional.end());
        rest.keyword = args.keyword;
    }
    std::vector<Value> out;
    for (const Value& item : iterate(v)) {
        Value x = lookup_attr ? attr_lookup(item, attribute) : item;
        bool ok = test ? interp.apply_test(*test, x, rest) : truthy(x);
        if (ok == select) out.push_back(item);
    }
    return iterator_of(std::move(out));
}

Value f_select(Interpreter& i, const Value& v, const CallArgs& a) {
    return select_or_reject(i, v, a, true, false);
}
Value f_reject(Interpreter& i, const Value& v, const CallArgs& a) {
    return select_or_reject(i, v, a, false, false);
}
Value f_selectattr(Interpreter& i, const Value& v, const CallArgs& a) {
    return select_or_reject(i, v, a, true, true);
}
Value f_rejectattr(Interpreter& i, const Value& v, const CallArgs& a) {
    return select_or_reject(i, v, a, false, true);
}

Value f_replace(Interpreter& interp, const Value& v, const CallArgs& args) {
    BoundArgs b = bind_args("replace", args, {"old", "new", "count"}, 2);
    CallArgs inner;
    inner.positional = {Value::string(to_str(b[0])), Value::string(to_str(b[1]))};
    if (b.has(2) && !b[2].is_none()) inner.positional.push_back(b[2]);
    return find_method(Value::string(to_str(v)), "replace")->as_function().fn(interp, inner);
}

Value f_reverse(Interpreter&, const Value& v, const CallArgs& args) {
    bind_args("reverse", args, {}, 0);
    if (v.is_string()) {
        std::u32string s = utf8_decode(v.as_string());
        std::reverse(s.begin(), s.end());
        return Value::string(utf8_encode(s));
    }
    std::vector<Value> items = iterate(v);
    std::reverse(items.begin(), items.end());
    // reversed() of a generator or undefined fails, and jinja2 falls back to a reversed list
    if (v.is_undefined() || (v.is_list() && v.as_list().kind == ListKind::Iterator))
        return Value::list(std::move(items));
    return iterator_of(std::move(items));
}

// Python's round(int, ndigits) for ndigits < 0: half to even on multiples of 10**-ndigits.
int64_t round_int(int64_t x, int64_t ndigits) {
    if (ndigits >= 0) return x;
    if (ndigits < -18) return 0;
    int64_t p = 1;
    for (int64_t k = 0; k < -ndigits; ++k) p *= 10;
    int64_t q = x / p, r = x % p;
    if (r < 0) {
        r += p;
        --q;
    }
    if (2 * r > p || (2 * r == p && (q & 1))) ++q;
    int64_t out;
    if (__builtin_mul_overflow(q, p, &out)) fail_value("integer overflow");
    return out;
}

Value f_round(Interpreter&, const Value& v, const CallArgs& args) {
    BoundArgs b = bind_args("round", args, {"precision", "method"}, 0);
    int64_t precision = b.has(0) ? b[0].as_int() : 0;
    std::string method = b.has(1) ? to_str(b[1]) : "common";
    if (method != "common" && method != "ceil" && method != "floor") {
        fail_value("method must be common, ceil or floor");
    }
    if (!v.is_number()) fail_value("type ", type_name(v), " doesn't define __round__ method");
    if (method == "common") {
        if (v.is_integral()) return Value::integer(round_int(v.as_int(), precision));
        if (precision < 0) fail_value("round() of a float with negative precision is not supported");
        double d = v.as_float();
        if (!std::isfinite(d)) return v;
        char buf[512];
        std::snprintf(buf, sizeof(buf), "%.*f", static_cast<int>(std::min<int64_t>(precision, 300)), d);
        return Value::floating(std::strtod(buf, nullptr));
    }
    double p = std::pow(10.0, static_cast<double>(precision));
    double x = v.as_float() * p;
    double r = method == "ceil" ? std::ceil(x) : std::floor(x);
    return Value::floating(r / p);
}

Value f_safe(Interpreter&, const Value& v, const CallArgs& args) {
    bind_args("safe", args, {}, 0);
    return Value::string(to_str(v), true);
}

Value f_sort(Interpreter&, const Value& v, const CallArgs& args) {
    BoundArgs b = bind_args("sort", args, {"reverse", "case_sensitive", "attribute"}, 0);
    bool reverse = b.has(0) && truthy(b[0]);
    bool case_sensitive = b.has(1) && truthy(b[1]);
    std::vector<Value> items = iterate(v);
    std::vector<Value> keys;
    for (const Value& item : items) {
        Value k = b.has(2) && !b[2].is_none() ? attr_lookup(item, b[2]) : item;
        keys.push_back(case_sensitive ? k : ignore_case(k));
    }
    std::vector<size_t> order(items.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t c) {
        return reverse ? less_than(keys[c], keys[a]) : less_than(keys[a], keys[c]);
    });
    std::vector<Value> out;
    for (size_t i : order) out.push_back(items[i]);
    return Value::list(std::move(out));
}

Value f_string(Interpreter&, const Value& v, const CallArgs& args) {
    bind_args("string", args, {}, 0);
    return soft_str(v);
}

Value f_sum(Interpreter&, const Value& v, const CallArgs& args) {
    BoundArgs b = bind_args("sum", args, {"attribute", "start"}, 0);
    Value total = b.get(1, Value::integer(0));
    if (total.is_string()) fail_value("sum() can't sum strings [use ''.join(seq) instead]");
    for (const Value& item : iterate(v)) {
        total = op_add(total, b.has(0) && !b[0].is_none() ? attr_lookup(item, b[0]) : item);
    }
    return total;
}

Value f_title(Interpreter&, const Value& v, const CallArgs& args) {
    bind_args("title", args, {}, 0);
    // "".join(item[0].upper() + item[1:].lower() for item in re.split(r"([-\s({\[<]+)", s) if item)
    std::u32string s = utf8_decode(to_str(v));
    auto is_sep = [](char32_t c) { return c == '-' || c == '(' || c == '{' || c == '[' || c == '<' || py_isspace(c); };
    std::string out;
    size_t i = 0;
    while (i < s.size()) {
        size_t j = i;
        bool sep = is_sep(s[i]);
        while (j < s.size() && is_sep(s[j]) == sep) ++j;
        std::u32string_view item = std::u32string_view(s).substr(i, j - i);
        out += py_upper(utf8_encode(item.substr(0, 1)));
        out += py_lower(utf8_encode(item.substr(1)));
        i = j;
    }
    return Value::string(out);
}

Value f_tojson(Interpreter&, const Value& v, const CallArgs& args) {
    BoundArgs b = bind_args("tojson", args, {"ensure_ascii", "indent", "separators", "sort_keys"}, 0);
    JsonDumpOptions o;
    o.ensure_ascii = b.has(0) && truthy(b[0]);
    if (b.has(1) && !b[1].is_none()) {
        if (b[1].is_string()) {
            o.indent = b[1].as_string();
        } else if (b[1].is_integral()) {
            o.indent = std::string(static_cast<size_t>(std::max<int64_t>(0, b[1].as_int())), ' ');
        } else {
            fail_value("tojson: indent must be an int or a string, not ", type_name(b[1]));
        }
        o.item_separator = ",";
    }
    if (b.has(2) && !b[2].is_none()) {
        if (!b[2].is_list() || b[2].items().size() != 2 || !b[2].items()[0].is_string() ||
            !b[2].items()[1].is_string()) {
            fail_value("tojson: separators must be a pair of strings");
        }
        o.item_separator = b[2].items()[0].as_string();
        o.key_separator = b[2].items()[1].as_string();
    }
    o.sort_keys = b.has(3) && truthy(b[3]);
    return Value::string(json_dumps(v, o));
}

Value f_trim(Interpreter&, const Value& v, const CallArgs& args) {
    BoundArgs b = bind_args("trim", args, {"chars"}, 0);
    std::optional<std::string> chars;
    if (b.has(0) && !b[0].is_none()) chars = to_str(b[0]);
    bool markup = v.is_string() && v.is_markup();
    if (markup && chars) fail_value("trim(chars) of a Markup string is not supported");
    return Value::string(py_strip(to_str(v), chars ? &*chars : nullptr, true, true), markup);
}

Value f_truncate(Interpreter&, const Value& v, const CallArgs& args) {
    BoundArgs b = bind_args("truncate", args, {"length", "killwords", "end", "leeway"}, 0);
    int64_t len = b.has(0) ? b[0].as_int() : 255;
    bool killwords = b.has(1) && truthy(b[1]);
    std::string end = b.has(2) ? to_str(b[2]) : "...";
    int64_t leeway = b.has(3) && !b[3].is_none() ? b[3].as_int() : 5;
    int64_t end_len = static_cast<int64_t>(utf8_length(end));
    if (len < end_len) fail_value("expected length >= ", end_len, ", got ", len);
    if (leeway < 0) fail_value("expected leeway >= 0, got ", leeway);
    if (!v.is_string()) {
        // jinja2 calls len() and slices the value itself: only a short sized value passes through
        if (length(v) <= len + leeway) return v;
        fail_value("truncate of a ", type_name(v), " longer than the limit is not supported (jinja2 fails too)");
    }
    std::string s = v.as_string();
    std::u32string cps = utf8_decode(s);
    if (static_cast<int64_t>(cps.size()) <= len + leeway) return Value::string(s);
    std::string head = utf8_encode(std::u32string_view(cps).substr(0, static_cast<size_t>(len - end_len)));
    if (killwords) return Value::string(head + end);
    size_t sp = head.rfind(' ');
    if (sp != std::string::npos) head = head.substr(0, sp);
    return Value::string(head + end);
}

Value f_unique(Interpreter&, const Value& v, const CallArgs& args) {
    BoundArgs b = bind_args("unique", args, {"case_sensitive", "attribute"}, 0);
    bool case_sensitive = b.has(0) && truthy(b[0]);
    std::vector<Value> seen, out;
    for (const Value& item : iterate(v)) {
        Value k = b.has(1) && !b[1].is_none() ? attr_lookup(item, b[1]) : item;
        if (!case_sensitive) k = ignore_case(k);
        if (!is_hashable(k)) fail_value("unhashable type: '", type_name(k), "'");
        bool dup = false;
        for (const Value& s : seen) dup = dup || equals(s, k);
        if (!dup) {
            seen.push_back(k);
            out.push_back(item);
        }
    }
    return iterator_of(std::move(out));
}

Value f_wordcount(Interpreter&, const Value& v, const CallArgs& args) {
    bind_args("wordcount", args, {}, 0);
    int64_t n = 0;
    bool in_word = false;
    for (char32_t c : utf8_decode(to_str(v))) {
        bool w = c == '_' || py_isalpha(c) || py_isdecimal(c) || py_isdigit(c) || py_isnumeric(c);
        if (w && !in_word) ++n;
        in_word = w;
    }
    return Value::integer(n);
}

struct FilterEntry {
    const char* name;
    FilterFn fn;
};

const FilterEntry kFilters[] = {
    {"abs", f_abs},
    {"attr", f_attr},
    {"capitalize", f_capitalize},
    {"center", f_center},
    {"count", f_length},
    {"d", f_default},
    {"default", f_default},
    {"dictsort", f_dictsort},
    {"e", f_escape},
    {"escape", f_escape},
    {"first", f_first},
    {"float", f_float},
    {"forceescape", f_forceescape},
    {"format", f_format},
    {"indent", f_indent},
    {"int", f_int},
    {"items", f_items},
    {"join", f_join},
    {"last", f_last},
    {"length", f_length},
    {"list", f_list},
    {"lower", f_lower},
    {"map", f_map},
    {"max", f_max},
    {"min", f_min},
    {"reject", f_reject},
    {"rejectattr", f_rejectattr},
    {"replace", f_replace},
    {"reverse", f_reverse},
    {"round", f_round},
    {"safe", f_safe},
    {"select", f_select},
    {"selectattr", f_selectattr},
    {"sort", f_sort},
    {"string", f_string},
    {"sum", f_sum},
    {"title", f_title},
    {"tojson", f_tojson},
    {"trim", f_trim},
    {"truncate", f_truncate},
    {"unique", f_unique},
    {"upper", f_upper},
    {"wordcount", f_wordcount},
};

// jinja2 3.1 filters this interpreter does not implement (a runtime error if reached).
const std::set<std::string_view> kUnimplemented = {"batch",  "filesizeformat", "groupby",   "pprint",
                                                   "random", "slice",          "striptags", "urlencode",
                                                   "urlize", "wordwrap",       "xmlattr"};

}  // namespace

FilterFn find_filter(std::string_view name) {
    for (const FilterEntry& e : kFilters) {
        if (name == e.name) return e.fn;
    }
    return nullptr;
}

bool jinja2_has_filter(std::string_view name) {
    return find_filter(name) != nullptr || kUnimplemented.count(name) != 0;
}

}  // namespace qinfer::jinja
