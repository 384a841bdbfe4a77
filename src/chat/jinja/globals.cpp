// defines: qinfer::jinja::find_global (the globals of transformers' sandboxed jinja2 environment)

#include <ctime>

#include "chat/jinja/builtins.h"
#include "chat/jinja/call_args.h"
#include "chat/jinja/error.h"
#include "chat/jinja/interpreter.h"
#include "chat/jinja/value_ops.h"

namespace qinfer::jinja {

namespace {

constexpr int64_t kMaxRange = 100000;  // jinja2.sandbox.MAX_RANGE

Value g_range(Interpreter&, CallArgs& args) {
    if (!args.keyword.empty()) fail_value("range() takes no keyword arguments");
    const auto& p = args.positional;
    if (p.empty() || p.size() > 3) fail_value("range expected 1 to 3 arguments, got ", p.size());
    for (const Value& v : p) {
        if (!v.is_integral()) fail_value("'", type_name(v), "' object cannot be interpreted as an integer");
    }
    int64_t start = p.size() == 1 ? 0 : p[0].as_int();
    int64_t stop = p.size() == 1 ? p[0].as_int() : p[1].as_int();
    int64_t step = p.size() == 3 ? p[2].as_int() : 1;
    if (step == 0) fail_value("range() arg 3 must not be zero");
    auto data = std::make_shared<ListData>();
    data->kind = ListKind::Range;
    data->range_start = start;
    data->range_stop = stop;
    data->range_step = step;
    for (int64_t i = start; step > 0 ? i < stop : i > stop; i += step) {
        if (static_cast<int64_t>(data->items.size()) >= kMaxRange) {
            fail_value("Range too big. The sandbox blocks ranges larger than MAX_RANGE (", kMaxRange, ").");
        }
        data->items.push_back(Value::integer(i));
    }
    return Value::list(std::move(data));
}

// dict(*args, **kwargs) as Python builds it: a mapping or an iterable of pairs, then keywords.
DictData build_dict(const char* fn, const CallArgs& args) {
    if (args.positional.size() > 1) fail_value(fn, " expected at most 1 argument, got ", args.positional.size());
    DictData d;
    if (!args.positional.empty()) {
        const Value& src = args.positional[0];
        if (src.is_dict()) {
            d = src.as_dict();
        } else {
            for (const Value& pair : iterate(src)) {
                std::vector<Value> kv = iterate(pair);
                if (kv.size() != 2)
                    fail_value("dictionary update sequence element has length ", kv.size(), "; 2 is required");
                d.set(kv[0], kv[1]);
            }
        }
    }
    for (const auto& [k, v] : args.keyword) d.set(Value::string(k), v);
    return d;
}

Value g_dict(Interpreter&, CallArgs& args) {
    return Value::dict(build_dict("dict", args));
}

Value g_namespace(Interpreter&, CallArgs& args) {
    auto ns = std::make_shared<Namespace>();
    DictData attrs = build_dict("namespace", args);
    for (const auto& [k, v] : attrs.entries()) {
        if (!k.is_string()) fail_value("namespace attribute names must be strings");
        ns->set_attr(k.as_string(), v);
    }
    return Value::object(std::move(ns));
}

Value g_raise_exception(Interpreter& interp, CallArgs& args) {
    BoundArgs b = bind_args("raise_exception", args, {"message"}, 1);
    interp.raise(to_str(b[0]));
}

Value g_strftime_now(Interpreter&, CallArgs& args) {
    BoundArgs b = bind_args("strftime_now", args, {"format"}, 1);
    if (!b[0].is_string()) fail_value("strftime() argument 1 must be str, not ", type_name(b[0]));
    std::time_t now = std::time(nullptr);
    std::tm local{};
    localtime_r(&now, &local);
    const std::string& fmt = b[0].as_string();
    if (fmt.empty()) return Value::string("");
    std::string buf(256 + fmt.size() * 8, '\0');
    size_t n = std::strftime(buf.data(), buf.size(), fmt.c_str(), &local);
    if (n == 0) fail_value("strftime_now: could not format '", fmt, "'");
    buf.resize(n);
    return Value::string(buf);
}

Value g_unsupported(Interpreter&, CallArgs&) {
    fail_value("cycler(), joiner() and lipsum() are not supported by this chat-template interpreter");
}

}  // namespace

std::optional<Value> find_global(std::string_view name) {
    if (name == "range") return Value::function("range", FunctionKind::Builtin, g_range);
    if (name == "dict") return Value::function("dict", FunctionKind::Builtin, g_dict);
    if (name == "namespace") return Value::function("namespace", FunctionKind::Builtin, g_namespace);
    if (name == "raise_exception") return Value::function("raise_exception", FunctionKind::Builtin, g_raise_exception);
    if (name == "strftime_now") return Value::function("strftime_now", FunctionKind::Builtin, g_strftime_now);
    if (name == "cycler" || name == "joiner" || name == "lipsum") {
        return Value::function(std::string(name), FunctionKind::Builtin, g_unsupported);
    }
    return std::nullopt;
}

}  // namespace qinfer::jinja
