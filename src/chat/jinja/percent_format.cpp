// defines: qinfer::jinja::percent_format (Python's printf-style `str % args`, used by `%` and the |format filter)

#include <cmath>
#include <cstdio>

#include "chat/jinja/error.h"
#include "chat/jinja/unicode.h"
#include "chat/jinja/value_ops.h"

namespace qinfer::jinja {

namespace {

struct Spec {
    bool left = false, plus = false, space = false, alt = false, zero = false;
    int width = -1, precision = -1;
    char type = 's';
};

std::string pad(std::string body, const Spec& s, bool numeric) {
    int64_t len = static_cast<int64_t>(utf8_length(body));
    if (s.width < 0 || len >= s.width) return body;
    size_t fill = static_cast<size_t>(s.width - len);
    if (s.left) return body + std::string(fill, ' ');
    if (numeric && s.zero) {
        // Zero padding goes after the sign and 0x/0o prefix.
        size_t at = 0;
        if (!body.empty() && (body[0] == '-' || body[0] == '+' || body[0] == ' ')) at = 1;
        if (body.size() >= at + 2 && body[at] == '0' &&
            (body[at + 1] == 'x' || body[at + 1] == 'X' || body[at + 1] == 'o')) {
            at += 2;
        }
        return body.substr(0, at) + std::string(fill, '0') + body.substr(at);
    }
    return std::string(fill, ' ') + body;
}

std::string sign_prefix(bool negative, const Spec& s) {
    if (negative) return "-";
    if (s.plus) return "+";
    if (s.space) return " ";
    return "";
}

std::string format_integer(const Value& arg, const Spec& s) {
    if (!arg.is_number()) {
        fail_value("%", s.type,
                   " format: ", (s.type == 'x' || s.type == 'X' || s.type == 'o') ? "an integer" : "a real number",
                   " is required, not ", type_name(arg));
    }
    if (arg.is_float() && (s.type == 'x' || s.type == 'X' || s.type == 'o')) {
        fail_value("%", s.type, " format: an integer is required, not float");
    }
    int64_t v;
    if (arg.is_float()) {
        double d = std::trunc(arg.as_float());
        if (!std::isfinite(d) || std::fabs(d) >= 9.2233720368547758e18)
            fail_value("%d of a float too large to convert");
        v = static_cast<int64_t>(d);
    } else {
        v = arg.as_int();
    }
    bool negative = v < 0;
    uint64_t mag = negative ? uint64_t(0) - static_cast<uint64_t>(v) : static_cast<uint64_t>(v);
    char buf[80];
    std::string prefix;
    switch (s.type) {
        case 'x':
            std::snprintf(buf, sizeof(buf), "%llx", static_cast<unsigned long long>(mag));
            if (s.alt) prefix = "0x";
            break;
        case 'X':
            std::snprintf(buf, sizeof(buf), "%llX", static_cast<unsigned long long>(mag));
            if (s.alt) prefix = "0X";
            break;
        case 'o':
            std::snprintf(buf, sizeof(buf), "%llo", static_cast<unsigned long long>(mag));
            if (s.alt) prefix = "0o";
            break;
        default:
            std::snprintf(buf, sizeof(buf), "%llu", static_cast<unsigned long long>(mag));
            break;
    }
    std::string digits = buf;
    if (s.precision >= 0 && static_cast<int>(digits.size()) < s.precision) {
        digits = std::string(static_cast<size_t>(s.precision) - digits.size(), '0') + digits;
    }
    return pad(sign_prefix(negative, s) + prefix + digits, s, true);
}

std::string format_float(const Value& arg, const Spec& s) {
    if (!arg.is_number()) fail_value("must be real number, not ", type_name(arg));
    double d = arg.as_float();
    if (std::isnan(d) || std::isinf(d)) {
        std::string body = std::isnan(d) ? "nan" : "inf";
        if (s.type == 'E' || s.type == 'F' || s.type == 'G') body = (body == "nan") ? "NAN" : "INF";
        return pad(sign_prefix(!std::isnan(d) && d < 0, s) + body, s, false);
    }
    std::string fmt = "%";
    if (s.plus) fmt += '+';
    if (s.space) fmt += ' ';
    if (s.alt) fmt += '#';
    fmt += '.';
    fmt += std::to_string(s.precision < 0 ? 6 : s.precision);
    fmt += s.type;
    char buf[512];
    int n = std::snprintf(buf, sizeof(buf), fmt.c_str(), d);
    if (n < 0 || n >= static_cast<int>(sizeof(buf))) fail_value("float formatting result is too long");
    return pad(buf, s, true);
}

std::string format_one(const Value& arg, const Spec& s) {
    switch (s.type) {
        case 's': {
            std::string body = to_str(arg);
            if (s.precision >= 0) body = body.substr(0, utf8_offset(body, static_cast<size_t>(s.precision)));
            return pad(body, s, false);
        }
        case 'r':
        case 'a': {
            std::string body = to_repr(arg);
            if (s.precision >= 0) body = body.substr(0, utf8_offset(body, static_cast<size_t>(s.precision)));
            return pad(body, s, false);
        }
        case 'd':
        case 'i':
        case 'u':
        case 'x':
        case 'X':
        case 'o':
            return format_integer(arg, s);
        case 'e':
        case 'E':
        case 'f':
        case 'F':
        case 'g':
        case 'G':
            return format_float(arg, s);
        case 'c': {
            std::string body;
            if (arg.is_integral()) {
                int64_t cp = arg.as_int();
                if (cp < 0 || cp > 0x10FFFF) fail_value("%c arg not in range(0x110000)");
                utf8_append(body, static_cast<char32_t>(cp));
            } else if (arg.is_string() && utf8_length(arg.as_string()) == 1) {
                body = arg.as_string();
            } else {
                fail_value("%c requires int or char");
            }
            return pad(body, s, false);
        }
        default:
            fail_value("unsupported format character '", s.type, "'");
    }
}

}  // namespace

std::string percent_format(const std::string& fmt, const Value& args) {
    std::vector<Value> positional;
    const DictData* mapping = nullptr;
    bool is_tuple = args.is_list() && args.as_list().kind == ListKind::Tuple;
    // PyMapping_Check: anything subscriptable but a tuple or str (dicts, lists, undefined) is "a mapping" for the
    // purpose of not complaining about unused arguments.
    bool mapping_like = !is_tuple && (args.is_dict() || args.is_list() || args.is_undefined());
    if (is_tuple) {
        positional = args.items();
    } else {
        if (args.is_dict()) mapping = &args.as_dict();
        positional.push_back(args);
    }
    size_t next = 0;
    auto take = [&]() -> const Value& {
        if (next >= positional.size()) fail_value("not enough arguments for format string");
        return positional[next++];
    };
    std::string out;
    size_t i = 0;
    bool used_mapping = false;
    while (i < fmt.size()) {
        char c = fmt[i];
        if (c != '%') {
            out.push_back(c);
            ++i;
            continue;
        }
        ++i;
        if (i >= fmt.size()) fail_value("incomplete format");
        if (fmt[i] == '%') {
            out.push_back('%');
            ++i;
            continue;
        }
        const Value* key_value = nullptr;
        if (fmt[i] == '(') {
            if (!mapping)
                fail_value(mapping_like ? "list indices must be integers or slices, not str"
                                        : "format requires a mapping");
            size_t depth = 1, j = i + 1;
            while (j < fmt.size() && depth > 0) {
                if (fmt[j] == '(') ++depth;
                if (fmt[j] == ')') --depth;
                ++j;
            }
            if (depth != 0) fail_value("incomplete format key");
            std::string key = fmt.substr(i + 1, j - i - 2);
            key_value = mapping->find(std::string_view(key));
            if (!key_value) fail_value("KeyError: ", string_repr(key));
            used_mapping = true;
            i = j;
        }
        Spec s;
        for (; i < fmt.size(); ++i) {
            char f = fmt[i];
            if (f == '-')
                s.left = true;
            else if (f == '+')
                s.plus = true;
            else if (f == ' ')
                s.space = true;
            else if (f == '#')
                s.alt = true;
            else if (f == '0')
                s.zero = true;
            else
                break;
        }
        if (i < fmt.size() && fmt[i] == '*') {
            const Value& w = take();
            if (!w.is_integral()) fail_value("* wants int");
            s.width = static_cast<int>(w.as_int());
            if (s.width < 0) {
                s.left = true;
                s.width = -s.width;
            }
            ++i;
        } else {
            while (i < fmt.size() && fmt[i] >= '0' && fmt[i] <= '9')
                s.width = (s.width < 0 ? 0 : s.width * 10) + (fmt[i++] - '0');
        }
        if (i < fmt.size() && fmt[i] == '.') {
            ++i;
            s.precision = 0;
            if (i < fmt.size() && fmt[i] == '*') {
                const Value& p = take();
                if (!p.is_integral()) fail_value("* wants int");
                s.precision = static_cast<int>(std::max<int64_t>(0, p.as_int()));
                ++i;
            } else {
                while (i < fmt.size() && fmt[i] >= '0' && fmt[i] <= '9')
                    s.precision = s.precision * 10 + (fmt[i++] - '0');
            }
        }
        while (i < fmt.size() && (fmt[i] == 'h' || fmt[i] == 'l' || fmt[i] == 'L')) ++i;
        if (i >= fmt.size()) fail_value("incomplete format");
        s.type = fmt[i++];
        const Value& arg = key_value ? *key_value : take();
        out += format_one(arg, s);
    }
    if (!used_mapping && !mapping_like && next < positional.size()) {
        fail_value("not all arguments converted during string formatting");
    }
    return out;
}

}  // namespace qinfer::jinja
