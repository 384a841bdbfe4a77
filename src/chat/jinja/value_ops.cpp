// defines: Python value semantics (see value_ops.h): str/repr, ==, <, arithmetic, in, iteration, len, getattr,
//          getitem, slicing

#include "chat/jinja/value_ops.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <limits>

#include "chat/jinja/error.h"
#include "chat/jinja/methods.h"
#include "chat/jinja/unicode.h"

namespace qinfer::jinja {

namespace {

// `'x' * n` and `[x] * n` are bounded (Python is not) so that a template cannot exhaust memory.
constexpr size_t kMaxRepeatBytes = size_t(64) << 20;
constexpr size_t kMaxRepeatItems = size_t(1) << 20;

const char* list_kind_name(ListKind k) {
    switch (k) {
        case ListKind::List:
            return "list";
        case ListKind::Tuple:
            return "tuple";
        case ListKind::Range:
            return "range";
        case ListKind::DictKeys:
            return "dict_keys";
        case ListKind::DictValues:
            return "dict_values";
        case ListKind::DictItems:
            return "dict_items";
        case ListKind::Iterator:
            return "generator";
    }
    return "list";
}

[[noreturn]] void fail_operands(const char* op, const Value& a, const Value& b) {
    fail_value("unsupported operand type(s) for ", op, ": '", type_name(a), "' and '", type_name(b), "'");
}

void check_defined(const Value& a, const Value& b) {
    if (a.is_undefined()) fail_undefined(a);
    if (b.is_undefined()) fail_undefined(b);
}

int64_t checked(bool overflow, int64_t v) {
    if (overflow) fail_value("integer overflow (Python integers are unbounded; this interpreter uses 64 bits)");
    return v;
}

// Python's float floor division and modulo (Objects/floatobject.c float_divmod).
void float_divmod(double a, double b, double& div, double& mod) {
    if (b == 0.0) fail_value("float division by zero");
    mod = std::fmod(a, b);
    div = (a - mod) / b;
    if (mod != 0.0) {
        if ((b < 0) != (mod < 0)) {
            mod += b;
            div -= 1.0;
        }
    } else {
        mod = std::copysign(0.0, b);
    }
    if (div != 0.0) {
        double floordiv = std::floor(div);
        if (div - floordiv > 0.5) floordiv += 1.0;
        div = floordiv;
    } else {
        div = std::copysign(0.0, a / b);
    }
}

std::string repeat(const std::string& s, int64_t n) {
    std::string out;
    if (n <= 0) return out;
    if (s.size() * static_cast<size_t>(n) > kMaxRepeatBytes) {
        fail_value("string repetition result of ", s.size() * static_cast<size_t>(n), " bytes is too large (limit ",
                   kMaxRepeatBytes, ")");
    }
    out.reserve(s.size() * static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) out += s;
    return out;
}

// Python's PySlice_AdjustIndices: normalised (start, stop, step) and the element count.
struct SliceIndices {
    int64_t start, stop, step, count;
};

int64_t slice_bound(const Value& v, bool& ok) {
    if (v.is_none()) return 0;
    if (!v.is_integral()) ok = false;
    return v.is_integral() ? v.as_int() : 0;
}

bool adjust_slice(int64_t len, const Value& vstart, const Value& vstop, const Value& vstep, SliceIndices& out) {
    bool ok = true;
    int64_t step = vstep.is_none() ? 1 : slice_bound(vstep, ok);
    int64_t start = slice_bound(vstart, ok);
    int64_t stop = slice_bound(vstop, ok);
    if (!ok) return false;
    if (step == 0) fail_value("slice step cannot be zero");
    if (vstart.is_none()) {
        start = step < 0 ? len - 1 : 0;
    } else if (start < 0) {
        start += len;
        if (start < 0) start = step < 0 ? -1 : 0;
    } else if (start >= len) {
        start = step < 0 ? len - 1 : len;
    }
    if (vstop.is_none()) {
        stop = step < 0 ? -1 : len;
    } else if (stop < 0) {
        stop += len;
        if (stop < 0) stop = step < 0 ? -1 : 0;
    } else if (stop >= len) {
        stop = step < 0 ? len - 1 : len;
    }
    int64_t count = 0;
    if (step > 0 && start < stop) count = (stop - start - 1) / step + 1;
    if (step < 0 && stop < start) count = (start - stop - 1) / (-step) + 1;
    out = {start, stop, step, count};
    return true;
}

Value missing_attribute(const Value& v, const std::string& name) {
    return Value::undefined(str_cat("'", type_name(v), " object' has no attribute '", name, "'"));
}

Value missing_element(const Value& v, const Value& key) {
    return Value::undefined(str_cat("'", type_name(v), " object' has no element ", to_repr(key)));
}

}  // namespace

std::string html_escape(const std::string& s) {
    std::string out;
    for (char c : s) {
        switch (c) {
            case '&':
                out += "&amp;";
                break;
            case '<':
                out += "&lt;";
                break;
            case '>':
                out += "&gt;";
                break;
            case '"':
                out += "&#34;";
                break;
            case '\'':
                out += "&#39;";
                break;
            default:
                out.push_back(c);
        }
    }
    return out;
}

std::string type_name(const Value& v) {
    switch (v.kind()) {
        case ValueKind::Undefined:
            return "Undefined";
        case ValueKind::None:
            return "NoneType";
        case ValueKind::Bool:
            return "bool";
        case ValueKind::Int:
            return "int";
        case ValueKind::Float:
            return "float";
        case ValueKind::String:
            return v.is_markup() ? "Markup" : "str";
        case ValueKind::List:
            return list_kind_name(v.as_list().kind);
        case ValueKind::Dict:
            return "dict";
        case ValueKind::Function:
            return v.as_function().kind == FunctionKind::Macro ? "Macro" : "builtin_function_or_method";
        case ValueKind::Object:
            return v.as_object()->type_name();
    }
    return "object";
}

void fail_undefined(const Value& v) {
    if (v.is_undefined() && !v.undefined_hint().empty()) throw ValueError(v.undefined_hint());
    throw ValueError("undefined value used");
}

bool truthy(const Value& v) {
    switch (v.kind()) {
        case ValueKind::Undefined:
        case ValueKind::None:
            return false;
        case ValueKind::Bool:
            return v.as_bool();
        case ValueKind::Int:
            return v.as_int() != 0;
        case ValueKind::Float:
            return v.as_float() != 0.0;
        case ValueKind::String:
            return !v.as_string().empty();
        case ValueKind::List:
            return v.as_list().kind == ListKind::Iterator || !v.items().empty();
        case ValueKind::Dict:
            return v.as_dict().size() != 0;
        case ValueKind::Function:
        case ValueKind::Object:
            return true;
    }
    return true;
}

std::string float_repr(double d) {
    if (std::isnan(d)) return "nan";
    if (std::isinf(d)) return d < 0 ? "-inf" : "inf";
    char buf[64];
    auto res = std::to_chars(buf, buf + sizeof(buf), d, std::chars_format::scientific);
    std::string sci(buf, res.ptr);
    // sci: [-]D[.DDD]e(+|-)XX
    std::string sign;
    size_t p = 0;
    if (sci[0] == '-') {
        sign = "-";
        p = 1;
    }
    size_t e = sci.find('e');
    std::string digits;
    for (size_t i = p; i < e; ++i) {
        if (sci[i] != '.') digits.push_back(sci[i]);
    }
    int exp10 = std::stoi(sci.substr(e + 1));
    while (digits.size() > 1 && digits.back() == '0') digits.pop_back();
    int decpt = exp10 + 1;
    const int n = static_cast<int>(digits.size());
    std::string out = sign;
    if (decpt > -4 && decpt <= 16) {
        if (decpt <= 0) {
            out += "0." + std::string(static_cast<size_t>(-decpt), '0') + digits;
        } else if (decpt >= n) {
            out += digits + std::string(static_cast<size_t>(decpt - n), '0') + ".0";
        } else {
            out += digits.substr(0, static_cast<size_t>(decpt)) + "." + digits.substr(static_cast<size_t>(decpt));
        }
        return out;
    }
    out += digits.substr(0, 1);
    if (n > 1) out += "." + digits.substr(1);
    int x = decpt - 1;
    out += x < 0 ? "e-" : "e+";
    std::string xs = std::to_string(x < 0 ? -x : x);
    if (xs.size() < 2) xs = "0" + xs;
    return out + xs;
}

std::string string_repr(const std::string& s) {
    bool has_single = s.find('\'') != std::string::npos;
    bool has_double = s.find('"') != std::string::npos;
    char quote = (has_single && !has_double) ? '"' : '\'';
    std::string out(1, quote);
    for (char32_t c : utf8_decode(s)) {
        if (c == static_cast<char32_t>(quote) || c == '\\') {
            out.push_back('\\');
            out.push_back(static_cast<char>(c));
        } else if (c == '\t') {
            out += "\\t";
        } else if (c == '\n') {
            out += "\\n";
        } else if (c == '\r') {
            out += "\\r";
        } else if (c < 0x20 || c == 0x7F) {
            char buf[8];
            std::snprintf(buf, sizeof(buf), "\\x%02x", static_cast<unsigned>(c));
            out += buf;
        } else if (c < 0x80 || py_isprintable(c)) {
            utf8_append(out, c);
        } else {
            char buf[16];
            if (c <= 0xFF) {
                std::snprintf(buf, sizeof(buf), "\\x%02x", static_cast<unsigned>(c));
            } else if (c <= 0xFFFF) {
                std::snprintf(buf, sizeof(buf), "\\u%04x", static_cast<unsigned>(c));
            } else {
                std::snprintf(buf, sizeof(buf), "\\U%08x", static_cast<unsigned>(c));
            }
            out += buf;
        }
    }
    out.push_back(quote);
    return out;
}

namespace {

std::string join_repr(const std::vector<Value>& items) {
    std::string out;
    for (size_t i = 0; i < items.size(); ++i) {
        if (i) out += ", ";
        out += to_repr(items[i]);
    }
    return out;
}

std::string sequence_str(const ListData& l) {
    switch (l.kind) {
        case ListKind::List:
            return "[" + join_repr(l.items) + "]";
        case ListKind::Tuple:
            return "(" + join_repr(l.items) + (l.items.size() == 1 ? ",)" : ")");
        case ListKind::Range:
            return str_cat("range(", l.range_start, ", ", l.range_stop,
                           l.range_step != 1 ? str_cat(", ", l.range_step) : std::string(), ")");
        case ListKind::DictKeys:
            return "dict_keys([" + join_repr(l.items) + "])";
        case ListKind::DictValues:
            return "dict_values([" + join_repr(l.items) + "])";
        case ListKind::DictItems:
            return "dict_items([" + join_repr(l.items) + "])";
        case ListKind::Iterator:
            fail_value("cannot convert a generator to a string (Python prints its address); apply |list first");
    }
    return "";
}

}  // namespace

std::string to_str(const Value& v) {
    switch (v.kind()) {
        case ValueKind::Undefined:
            return "";
        case ValueKind::None:
            return "None";
        case ValueKind::Bool:
            return v.as_bool() ? "True" : "False";
        case ValueKind::Int:
            return std::to_string(v.as_int());
        case ValueKind::Float:
            return float_repr(v.as_float());
        case ValueKind::String:
            return v.as_string();
        case ValueKind::List:
            return sequence_str(v.as_list());
        case ValueKind::Dict: {
            std::string out = "{";
            bool first = true;
            for (const auto& [k, val] : v.as_dict().entries()) {
                if (!first) out += ", ";
                first = false;
                out += to_repr(k) + ": " + to_repr(val);
            }
            return out + "}";
        }
        case ValueKind::Function:
            if (v.as_function().kind == FunctionKind::Macro) return "<Macro '" + v.as_function().name + "'>";
            fail_value("cannot convert the function '", v.as_function().name,
                       "' to a string (Python prints a memory address)");
        case ValueKind::Object:
            return v.as_object()->repr();
    }
    return "";
}

std::string to_repr(const Value& v) {
    if (v.is_string()) {
        return v.is_markup() ? "Markup(" + string_repr(v.as_string()) + ")" : string_repr(v.as_string());
    }
    if (v.is_undefined()) return "Undefined";
    return to_str(v);
}

bool equals(const Value& a, const Value& b) {
    if (a.is_number() && b.is_number()) {
        if (a.is_integral() && b.is_integral()) return a.as_int() == b.as_int();
        if (a.is_float() && b.is_float()) return a.as_float() == b.as_float();
        double f = a.is_float() ? a.as_float() : b.as_float();
        int64_t i = a.is_float() ? b.as_int() : a.as_int();
        if (std::isnan(f) || f != std::floor(f) || std::fabs(f) >= 9.2233720368547758e18) return false;
        return static_cast<int64_t>(f) == i;
    }
    if (a.kind() != b.kind()) return false;
    switch (a.kind()) {
        case ValueKind::Undefined:
        case ValueKind::None:
            return true;
        case ValueKind::String:
            return a.as_string() == b.as_string();
        case ValueKind::List: {
            const ListData& x = a.as_list();
            const ListData& y = b.as_list();
            if (x.kind == ListKind::Iterator || y.kind == ListKind::Iterator) return &x == &y;
            bool x_seq = x.kind == ListKind::List || x.kind == ListKind::Tuple || x.kind == ListKind::Range;
            if (x.kind != y.kind && !(x.kind == ListKind::Range && y.kind == ListKind::Range)) return false;
            if (!x_seq) fail_value("comparing dict views is not supported");
            if (x.items.size() != y.items.size()) return false;
            for (size_t i = 0; i < x.items.size(); ++i) {
                if (!equals(x.items[i], y.items[i])) return false;
            }
            return true;
        }
        case ValueKind::Dict: {
            const DictData& x = a.as_dict();
            const DictData& y = b.as_dict();
            if (x.size() != y.size()) return false;
            for (const auto& [k, v] : x.entries()) {
                const Value* other = y.find(k);
                if (!other || !equals(v, *other)) return false;
            }
            return true;
        }
        case ValueKind::Function:
        case ValueKind::Object:
            return a.identity() == b.identity();
        case ValueKind::Bool:
        case ValueKind::Int:
        case ValueKind::Float:
            break;
    }
    return false;
}

bool less_than(const Value& a, const Value& b) {
    check_defined(a, b);
    if (a.is_number() && b.is_number()) {
        if (a.is_integral() && b.is_integral()) return a.as_int() < b.as_int();
        return a.as_float() < b.as_float();
    }
    if (a.is_string() && b.is_string()) return a.as_string() < b.as_string();
    if (a.is_list() && b.is_list() && a.as_list().kind == b.as_list().kind &&
        (a.as_list().kind == ListKind::List || a.as_list().kind == ListKind::Tuple)) {
        const auto& x = a.items();
        const auto& y = b.items();
        size_t n = std::min(x.size(), y.size());
        for (size_t i = 0; i < n; ++i) {
            if (!equals(x[i], y[i])) return less_than(x[i], y[i]);
        }
        return x.size() < y.size();
    }
    fail_value("'<' not supported between instances of '", type_name(a), "' and '", type_name(b), "'");
}

Value op_add(const Value& a, const Value& b) {
    check_defined(a, b);
    if (a.is_number() && b.is_number()) {
        if (a.is_integral() && b.is_integral()) {
            int64_t r = 0;
            bool overflow = __builtin_add_overflow(a.as_int(), b.as_int(), &r);
            return Value::integer(checked(overflow, r));
        }
        return Value::floating(a.as_float() + b.as_float());
    }
    if (a.is_string() && b.is_string()) {
        if (a.is_markup() == b.is_markup()) return Value::string(a.as_string() + b.as_string(), a.is_markup());
        // markupsafe: Markup + str escapes the str (and str + Markup too, through Markup.__radd__).
        if (a.is_markup()) return Value::string(a.as_string() + html_escape(b.as_string()), true);
        return Value::string(html_escape(a.as_string()) + b.as_string(), true);
    }
    if (a.is_string()) fail_value("can only concatenate str (not \"", type_name(b), "\") to str");
    if (a.is_list() && b.is_list()) {
        ListKind ka = a.as_list().kind, kb = b.as_list().kind;
        if (ka == kb && (ka == ListKind::List || ka == ListKind::Tuple)) {
            std::vector<Value> items = a.items();
            items.insert(items.end(), b.items().begin(), b.items().end());
            return Value::list(std::move(items), ka);
        }
        if (ka == ListKind::List) fail_value("can only concatenate list (not \"", type_name(b), "\") to list");
        if (ka == ListKind::Tuple) fail_value("can only concatenate tuple (not \"", type_name(b), "\") to tuple");
    }
    fail_operands("+", a, b);
}

Value op_sub(const Value& a, const Value& b) {
    check_defined(a, b);
    if (a.is_number() && b.is_number()) {
        if (a.is_integral() && b.is_integral()) {
            int64_t r = 0;
            bool overflow = __builtin_sub_overflow(a.as_int(), b.as_int(), &r);
            return Value::integer(checked(overflow, r));
        }
        return Value::floating(a.as_float() - b.as_float());
    }
    fail_operands("-", a, b);
}

Value op_mul(const Value& a, const Value& b) {
    check_defined(a, b);
    if (a.is_number() && b.is_number()) {
        if (a.is_integral() && b.is_integral()) {
            int64_t r = 0;
            bool overflow = __builtin_mul_overflow(a.as_int(), b.as_int(), &r);
            return Value::integer(checked(overflow, r));
        }
        return Value::floating(a.as_float() * b.as_float());
    }
    const Value* seq = nullptr;
    const Value* count = nullptr;
    if (b.is_integral() && (a.is_string() || a.is_list())) {
        seq = &a;
        count = &b;
    } else if (a.is_integral() && (b.is_string() || b.is_list())) {
        seq = &b;
        count = &a;
    }
    if (seq && seq->is_string()) return Value::string(repeat(seq->as_string(), count->as_int()), seq->is_markup());
    if (seq && (seq->as_list().kind == ListKind::List || seq->as_list().kind == ListKind::Tuple)) {
        std::vector<Value> items;
        if (count->as_int() > 0 && seq->items().size() * static_cast<size_t>(count->as_int()) > kMaxRepeatItems) {
            fail_value("list repetition result of ", seq->items().size() * static_cast<size_t>(count->as_int()),
                       " items is too large (limit ", kMaxRepeatItems, ")");
        }
        for (int64_t i = 0; i < count->as_int(); ++i) {
            items.insert(items.end(), seq->items().begin(), seq->items().end());
        }
        return Value::list(std::move(items), seq->as_list().kind);
    }
    fail_operands("*", a, b);
}

Value op_div(const Value& a, const Value& b) {
    check_defined(a, b);
    if (a.is_number() && b.is_number()) {
        if (b.as_float() == 0.0)
            fail_value(a.is_float() || b.is_float() ? "float division by zero" : "division by zero");
        return Value::floating(a.as_float() / b.as_float());
    }
    fail_operands("/", a, b);
}

Value op_floordiv(const Value& a, const Value& b) {
    check_defined(a, b);
    if (a.is_number() && b.is_number()) {
        if (a.is_integral() && b.is_integral()) {
            int64_t x = a.as_int(), y = b.as_int();
            if (y == 0) fail_value("integer division or modulo by zero");
            if (x == std::numeric_limits<int64_t>::min() && y == -1) checked(true, 0);
            int64_t q = x / y;
            if ((x % y != 0) && ((x < 0) != (y < 0))) --q;
            return Value::integer(q);
        }
        double div, mod;
        float_divmod(a.as_float(), b.as_float(), div, mod);
        return Value::floating(div);
    }
    fail_operands("//", a, b);
}

Value op_mod(const Value& a, const Value& b) {
    if (a.is_string()) {  // str % anything: the arguments are only str()-ed (an undefined one too)
        if (a.is_markup()) fail_value("'%' formatting of a Markup string (from |safe or |escape) is not supported");
        return Value::string(percent_format(a.as_string(), b));
    }
    check_defined(a, b);
    if (a.is_number() && b.is_number()) {
        if (a.is_integral() && b.is_integral()) {
            int64_t x = a.as_int(), y = b.as_int();
            if (y == 0) fail_value("integer modulo by zero");
            if (y == -1) return Value::integer(0);
            int64_t r = x % y;
            if (r != 0 && ((r < 0) != (y < 0))) r += y;
            return Value::integer(r);
        }
        if (b.as_float() == 0.0) fail_value("float modulo");
        double div, mod;
        float_divmod(a.as_float(), b.as_float(), div, mod);
        return Value::floating(mod);
    }
    fail_operands("%", a, b);
}

Value op_pow(const Value& a, const Value& b) {
    check_defined(a, b);
    if (a.is_number() && b.is_number()) {
        if (a.is_integral() && b.is_integral() && b.as_int() >= 0) {
            int64_t base = a.as_int(), e = b.as_int(), r = 1;
            while (e > 0) {
                if (e & 1) checked(__builtin_mul_overflow(r, base, &r), 0);
                e >>= 1;
                if (e > 0) checked(__builtin_mul_overflow(base, base, &base), 0);
            }
            return Value::integer(r);
        }
        double x = a.as_float(), y = b.as_float();
        if (x == 0.0 && y < 0) fail_value("0.0 cannot be raised to a negative power");
        if (x < 0 && y != std::floor(y))
            fail_value("a negative number to a fractional power is complex: not supported");
        double r = std::pow(x, y);
        if (std::isinf(r) && std::isfinite(x) && std::isfinite(y)) fail_value("(34, 'Numerical result out of range')");
        return Value::floating(r);
    }
    fail_operands("** or pow()", a, b);
}

Value op_neg(const Value& a) {
    if (a.is_undefined()) fail_undefined(a);
    if (a.is_integral()) {
        if (a.as_int() == std::numeric_limits<int64_t>::min()) checked(true, 0);
        return Value::integer(-a.as_int());
    }
    if (a.is_float()) return Value::floating(-a.as_float());
    fail_value("bad operand type for unary -: '", type_name(a), "'");
}

Value op_pos(const Value& a) {
    if (a.is_undefined()) fail_undefined(a);
    if (a.is_integral()) return Value::integer(a.as_int());
    if (a.is_float()) return a;
    fail_value("bad operand type for unary +: '", type_name(a), "'");
}

bool op_in(const Value& item, const Value& container) {
    switch (container.kind()) {
        case ValueKind::Undefined:
            return false;
        case ValueKind::String:
            if (!item.is_string()) {
                fail_value("'in <string>' requires string as left operand, not ", type_name(item));
            }
            return container.as_string().find(item.as_string()) != std::string::npos;
        case ValueKind::List: {
            const ListData& l = container.as_list();
            if (l.kind == ListKind::Iterator) {
                // `in` consumes a generator up to (and including) the match.
                while (l.consumed < l.items.size()) {
                    if (equals(l.items[l.consumed++], item)) return true;
                }
                return false;
            }
            for (const Value& x : l.items) {
                if (equals(x, item)) return true;
            }
            return false;
        }
        case ValueKind::Dict:
            return container.as_dict().find(item) != nullptr;
        case ValueKind::None:
        case ValueKind::Bool:
        case ValueKind::Int:
        case ValueKind::Float:
        case ValueKind::Function:
        case ValueKind::Object:
            break;
    }
    fail_value("argument of type '", type_name(container), "' is not iterable");
}

std::vector<Value> iterate(const Value& v) {
    switch (v.kind()) {
        case ValueKind::Undefined:
            return {};
        case ValueKind::String: {
            std::vector<Value> out;
            std::string buf;
            for (char32_t c : utf8_decode(v.as_string())) {
                buf.clear();
                utf8_append(buf, c);
                out.push_back(Value::string(buf));
            }
            return out;
        }
        case ValueKind::List: {
            const ListData& l = v.as_list();
            if (l.kind != ListKind::Iterator) return l.items;
            std::vector<Value> rest(l.items.begin() + static_cast<std::ptrdiff_t>(l.consumed), l.items.end());
            l.consumed = l.items.size();
            return rest;
        }
        case ValueKind::Dict: {
            std::vector<Value> out;
            for (const auto& kv : v.as_dict().entries()) out.push_back(kv.first);
            return out;
        }
        case ValueKind::None:
        case ValueKind::Bool:
        case ValueKind::Int:
        case ValueKind::Float:
        case ValueKind::Function:
        case ValueKind::Object:
            break;
    }
    fail_value("'", type_name(v), "' object is not iterable");
}

int64_t length(const Value& v) {
    switch (v.kind()) {
        case ValueKind::Undefined:
            return 0;
        case ValueKind::String:
            return static_cast<int64_t>(utf8_length(v.as_string()));
        case ValueKind::List:
            if (v.as_list().kind == ListKind::Iterator) break;
            return static_cast<int64_t>(v.items().size());
        case ValueKind::Dict:
            return static_cast<int64_t>(v.as_dict().size());
        case ValueKind::None:
        case ValueKind::Bool:
        case ValueKind::Int:
        case ValueKind::Float:
        case ValueKind::Function:
        case ValueKind::Object:
            break;
    }
    fail_value("object of type '", type_name(v), "' has no len()");
}

Value get_attr(const Value& v, const std::string& name) {
    if (v.is_undefined()) fail_undefined(v);
    if (v.is_object()) return v.as_object()->get_attr(name);
    if (std::optional<Value> m = find_method(v, name)) return *m;
    if (v.is_dict()) {
        if (const Value* hit = v.as_dict().find(std::string_view(name))) return *hit;
    }
    return missing_attribute(v, name);
}

Value get_item(const Value& v, const Value& key) {
    if (v.is_undefined()) fail_undefined(v);
    switch (v.kind()) {
        case ValueKind::String:
        case ValueKind::List:
            if (key.is_integral()) {
                int64_t i = key.as_int();
                if (v.is_string()) {
                    std::u32string cps = utf8_decode(v.as_string());
                    int64_t n = static_cast<int64_t>(cps.size());
                    if (i < 0) i += n;
                    if (i < 0 || i >= n) return missing_element(v, key);
                    std::string out;
                    utf8_append(out, cps[static_cast<size_t>(i)]);
                    return Value::string(out, v.is_markup());
                }
                const ListData& l = v.as_list();
                if (l.kind == ListKind::DictKeys || l.kind == ListKind::DictValues || l.kind == ListKind::DictItems ||
                    l.kind == ListKind::Iterator) {
                    break;  // dict views and generators are not subscriptable
                }
                int64_t n = static_cast<int64_t>(l.items.size());
                if (i < 0) i += n;
                if (i < 0 || i >= n) return missing_element(v, key);
                return l.items[static_cast<size_t>(i)];
            }
            break;
        case ValueKind::Dict:
            if (is_hashable(key)) {
                if (const Value* hit = v.as_dict().find(key)) return *hit;
            }
            break;
        case ValueKind::Undefined:
        case ValueKind::None:
        case ValueKind::Bool:
        case ValueKind::Int:
        case ValueKind::Float:
        case ValueKind::Function:
        case ValueKind::Object:
            break;
    }
    if (key.is_string()) {
        if (v.is_object()) return v.as_object()->get_attr(key.as_string());
        if (std::optional<Value> m = find_method(v, key.as_string())) return *m;
        return missing_attribute(v, key.as_string());
    }
    return missing_element(v, key);
}

Value get_slice(const Value& v, const Value& start, const Value& stop, const Value& step) {
    // jinja2 compiles x[a:b:c] to a plain Python subscript (not environment.getitem): errors propagate.
    if (v.is_undefined()) fail_undefined(v);
    auto bad_indices = []() -> Value {
        fail_value("slice indices must be integers or None or have an __index__ method");
    };
    if (v.is_string()) {
        std::u32string cps = utf8_decode(v.as_string());
        SliceIndices s{};
        if (!adjust_slice(static_cast<int64_t>(cps.size()), start, stop, step, s)) return bad_indices();
        std::u32string out;
        for (int64_t k = 0, i = s.start; k < s.count; ++k, i += s.step) out.push_back(cps[static_cast<size_t>(i)]);
        return Value::string(utf8_encode(out), v.is_markup());
    }
    if (v.is_list()) {
        const ListData& l = v.as_list();
        if (l.kind == ListKind::DictKeys || l.kind == ListKind::DictValues || l.kind == ListKind::DictItems ||
            l.kind == ListKind::Iterator) {
            fail_value("'", type_name(v), "' object is not subscriptable");
        }
        SliceIndices s{};
        if (!adjust_slice(static_cast<int64_t>(l.items.size()), start, stop, step, s)) return bad_indices();
        auto out = std::make_shared<ListData>();
        out->kind = l.kind;
        for (int64_t k = 0, i = s.start; k < s.count; ++k, i += s.step) {
            out->items.push_back(l.items[static_cast<size_t>(i)]);
        }
        if (l.kind == ListKind::Range) {
            out->range_start = l.range_start + s.start * l.range_step;
            out->range_stop = l.range_start + s.stop * l.range_step;
            out->range_step = l.range_step * s.step;
        }
        return Value::list(std::move(out));
    }
    if (v.is_dict()) fail_value("unhashable type: 'slice'");
    fail_value("'", type_name(v), "' object is not subscriptable");
}

bool is_hashable(const Value& v) {
    switch (v.kind()) {
        case ValueKind::None:
        case ValueKind::Bool:
        case ValueKind::Int:
        case ValueKind::Float:
        case ValueKind::String:
        case ValueKind::Function:
        case ValueKind::Object:
        case ValueKind::Undefined:
            return true;
        case ValueKind::List: {
            const ListData& l = v.as_list();
            if (l.kind == ListKind::Range || l.kind == ListKind::Iterator) return true;
            if (l.kind != ListKind::Tuple) return false;
            for (const Value& x : l.items) {
                if (!is_hashable(x)) return false;
            }
            return true;
        }
        case ValueKind::Dict:
            return false;
    }
    return false;
}

}  // namespace qinfer::jinja
