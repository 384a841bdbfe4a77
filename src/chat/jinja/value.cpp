// defines: Value factories, DictData, Namespace (see value.h)

#include "chat/jinja/value.h"

#include "chat/jinja/error.h"
#include "chat/jinja/value_ops.h"

namespace qinfer::jinja {

Value Value::undefined(std::string hint) {
    Value v;
    v.data_ = std::move(hint);
    return v;
}

Value Value::none() {
    Value v;
    v.kind_ = ValueKind::None;
    v.data_ = std::monostate{};
    return v;
}

Value Value::boolean(bool b) {
    Value v;
    v.kind_ = ValueKind::Bool;
    v.data_ = b;
    return v;
}

Value Value::integer(int64_t i) {
    Value v;
    v.kind_ = ValueKind::Int;
    v.data_ = i;
    return v;
}

Value Value::floating(double d) {
    Value v;
    v.kind_ = ValueKind::Float;
    v.data_ = d;
    return v;
}

Value Value::string(std::string s, bool markup) {
    Value v;
    v.kind_ = ValueKind::String;
    v.markup_ = markup;
    v.data_ = std::move(s);
    return v;
}

Value Value::list(std::vector<Value> items, ListKind kind) {
    auto data = std::make_shared<ListData>();
    data->items = std::move(items);
    data->kind = kind;
    return list(std::move(data));
}

Value Value::list(std::shared_ptr<const ListData> data) {
    Value v;
    v.kind_ = ValueKind::List;
    v.data_ = std::move(data);
    return v;
}

Value Value::dict(DictData d) {
    Value v;
    v.kind_ = ValueKind::Dict;
    v.data_ = std::shared_ptr<const DictData>(std::make_shared<DictData>(std::move(d)));
    return v;
}

Value Value::function(std::string name, FunctionKind kind, NativeFunction fn) {
    Value v;
    v.kind_ = ValueKind::Function;
    v.data_ =
        std::shared_ptr<const Function>(std::make_shared<Function>(Function{std::move(name), kind, std::move(fn)}));
    return v;
}

Value Value::object(std::shared_ptr<Object> obj) {
    Value v;
    v.kind_ = ValueKind::Object;
    v.data_ = std::move(obj);
    return v;
}

double Value::as_float() const {
    switch (kind_) {
        case ValueKind::Bool:
            return std::get<bool>(data_) ? 1.0 : 0.0;
        case ValueKind::Int:
            return static_cast<double>(std::get<int64_t>(data_));
        case ValueKind::Float:
            return std::get<double>(data_);
        case ValueKind::Undefined:
        case ValueKind::None:
        case ValueKind::String:
        case ValueKind::List:
        case ValueKind::Dict:
        case ValueKind::Function:
        case ValueKind::Object:
            break;
    }
    fail_value("expected a number, got ", type_name(*this));
}

const void* Value::identity() const {
    switch (kind_) {
        case ValueKind::List:
            return std::get<std::shared_ptr<const ListData>>(data_).get();
        case ValueKind::Dict:
            return std::get<std::shared_ptr<const DictData>>(data_).get();
        case ValueKind::Function:
            return std::get<std::shared_ptr<const Function>>(data_).get();
        case ValueKind::Object:
            return std::get<std::shared_ptr<Object>>(data_).get();
        case ValueKind::Undefined:
        case ValueKind::None:
        case ValueKind::Bool:
        case ValueKind::Int:
        case ValueKind::Float:
        case ValueKind::String:
            break;
    }
    return nullptr;
}

const Value* DictData::find(const Value& key) const {
    if (!is_hashable(key)) fail_value("unhashable type: '", type_name(key), "'");
    for (const auto& [k, v] : entries_) {
        if (equals(k, key)) return &v;
    }
    return nullptr;
}

const Value* DictData::find(std::string_view key) const {
    for (const auto& [k, v] : entries_) {
        if (k.is_string() && k.as_string() == key) return &v;
    }
    return nullptr;
}

void DictData::set(Value key, Value value) {
    if (!is_hashable(key)) fail_value("unhashable type: '", type_name(key), "'");
    for (auto& [k, v] : entries_) {
        if (equals(k, key)) {
            v = std::move(value);
            return;
        }
    }
    entries_.emplace_back(std::move(key), std::move(value));
}

Value Namespace::get_attr(std::string_view name) const {
    if (const Value* v = attrs_.find(name)) return *v;
    return Value::undefined(str_cat("'Namespace' object has no attribute '", name, "'"));
}

std::string Namespace::repr() const {
    return "<Namespace " + to_repr(Value::dict(attrs_)) + ">";
}

void Namespace::set_attr(const std::string& name, Value v) {
    attrs_.set(Value::string(name), std::move(v));
}

}  // namespace qinfer::jinja
