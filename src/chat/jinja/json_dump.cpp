// defines: qinfer::jinja::json_dumps (Python's json.dumps; see json.h)

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "chat/jinja/error.h"
#include "chat/jinja/json.h"
#include "chat/jinja/unicode.h"
#include "chat/jinja/value_ops.h"

namespace qinfer::jinja {

namespace {

void append_u_escape(std::string& out, unsigned v) {
    char buf[16];
    std::snprintf(buf, sizeof(buf), "\\u%04x", v & 0xFFFFu);
    out += buf;
}

// json.encoder's py_encode_basestring (ensure_ascii=False) / py_encode_basestring_ascii.
void encode_string(std::string& out, const std::string& s, bool ensure_ascii) {
    out.push_back('"');
    for (char32_t c : utf8_decode(s)) {
        switch (c) {
            case '\\':
                out += "\\\\";
                continue;
            case '"':
                out += "\\\"";
                continue;
            case '\b':
                out += "\\b";
                continue;
            case '\f':
                out += "\\f";
                continue;
            case '\n':
                out += "\\n";
                continue;
            case '\r':
                out += "\\r";
                continue;
            case '\t':
                out += "\\t";
                continue;
            default:
                break;
        }
        if (c < 0x20) {
            append_u_escape(out, static_cast<unsigned>(c));
        } else if (ensure_ascii && c > 0x7E) {
            if (c >= 0x10000) {
                char32_t v = c - 0x10000;
                append_u_escape(out, static_cast<unsigned>(0xD800 | (v >> 10)));
                append_u_escape(out, static_cast<unsigned>(0xDC00 | (v & 0x3FF)));
            } else {
                append_u_escape(out, static_cast<unsigned>(c));
            }
        } else {
            utf8_append(out, c);
        }
    }
    out.push_back('"');
}

std::string float_json(double d) {
    if (std::isnan(d)) return "NaN";
    if (std::isinf(d)) return d < 0 ? "-Infinity" : "Infinity";
    return float_repr(d);
}

class Dumper {
public:
    explicit Dumper(const JsonDumpOptions& o) : o_(o) {}

    void dump(std::string& out, const Value& v, int level) {
        switch (v.kind()) {
            case ValueKind::None:
                out += "null";
                return;
            case ValueKind::Bool:
                out += v.as_bool() ? "true" : "false";
                return;
            case ValueKind::Int:
                out += std::to_string(v.as_int());
                return;
            case ValueKind::Float:
                out += float_json(v.as_float());
                return;
            case ValueKind::String:
                encode_string(out, v.as_string(), o_.ensure_ascii);
                return;
            case ValueKind::List: {
                const ListData& l = v.as_list();
                if (l.kind != ListKind::List && l.kind != ListKind::Tuple) break;
                if (l.items.empty()) {
                    out += "[]";
                    return;
                }
                out.push_back('[');
                for (size_t i = 0; i < l.items.size(); ++i) {
                    if (i) out += o_.item_separator;
                    newline(out, level + 1);
                    dump(out, l.items[i], level + 1);
                }
                newline(out, level);
                out.push_back(']');
                return;
            }
            case ValueKind::Dict: {
                std::vector<std::pair<std::string, const Value*>> items;
                for (const auto& [k, val] : v.as_dict().entries()) items.emplace_back(key_string(k), &val);
                if (o_.sort_keys) sort_items(v.as_dict(), items);
                if (items.empty()) {
                    out += "{}";
                    return;
                }
                out.push_back('{');
                for (size_t i = 0; i < items.size(); ++i) {
                    if (i) out += o_.item_separator;
                    newline(out, level + 1);
                    encode_string(out, items[i].first, o_.ensure_ascii);
                    out += o_.key_separator;
                    dump(out, *items[i].second, level + 1);
                }
                newline(out, level);
                out.push_back('}');
                return;
            }
            case ValueKind::Undefined:
            case ValueKind::Function:
            case ValueKind::Object:
                break;
        }
        fail_value("Object of type ", type_name(v), " is not JSON serializable");
    }

private:
    void newline(std::string& out, int level) const {
        if (!o_.indent) return;
        out.push_back('\n');
        for (int i = 0; i < level; ++i) out += *o_.indent;
    }

    static std::string key_string(const Value& k) {
        switch (k.kind()) {
            case ValueKind::String:
                return k.as_string();
            case ValueKind::Float:
                return float_json(k.as_float());
            case ValueKind::Bool:
                return k.as_bool() ? "true" : "false";
            case ValueKind::Int:
                return std::to_string(k.as_int());
            case ValueKind::None:
                return "null";
            case ValueKind::Undefined:
            case ValueKind::List:
            case ValueKind::Dict:
            case ValueKind::Function:
            case ValueKind::Object:
                break;
        }
        fail_value("keys must be str, int, float, bool or None, not ", type_name(k));
    }

    // sort_keys sorts by the original keys (Python compares them, so mixed types are an error).
    static void sort_items(const DictData& d, std::vector<std::pair<std::string, const Value*>>& items) {
        std::vector<size_t> order(items.size());
        for (size_t i = 0; i < order.size(); ++i) order[i] = i;
        const auto& entries = d.entries();
        std::stable_sort(order.begin(), order.end(),
                         [&](size_t a, size_t b) { return less_than(entries[a].first, entries[b].first); });
        std::vector<std::pair<std::string, const Value*>> sorted;
        for (size_t i : order) sorted.push_back(items[i]);
        items = std::move(sorted);
    }

    const JsonDumpOptions& o_;
};

}  // namespace

std::string json_dumps(const Value& v, const JsonDumpOptions& opts) {
    std::string out;
    Dumper(opts).dump(out, v, 0);
    return out;
}

}  // namespace qinfer::jinja
