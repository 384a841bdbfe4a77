#pragma once
// defines: qinfer::jinja::Value, ValueKind, ListKind, ListData, DictData, CallArgs, Function, FunctionKind, Object,
//          Namespace
//
// The value model of the template interpreter, mirroring the Python objects jinja2 handles when transformers renders
// a chat template: Undefined (jinja2's default Undefined, carrying the reason it is undefined), None, bool, int
// (int64), float, str (UTF-8; `markup` marks markupsafe.Markup produced by |safe / |escape), list and tuple (plus
// range and the dict views, which only print differently), dict (insertion-ordered; keys compared with Python
// equality), callables (builtins, bound methods, macros) and objects (namespace(), the loop variable).
//
// Lists, dicts and functions are shared and immutable once built (the sandbox transformers uses forbids mutating
// them); a Namespace is shared and mutable, as `{% set ns.attr = ... %}` requires.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace qinfer::jinja {

class Interpreter;
class Value;

enum class ValueKind : uint8_t { Undefined, None, Bool, Int, Float, String, List, Dict, Function, Object };

// What Python type a sequence is: how it prints and which operations it allows. Iterator stands for the
// generators and iterators jinja2 filters return (|map, |select, |reverse, |items, ...): iterable once, no len(),
// no indexing, always true, not printable.
enum class ListKind : uint8_t { List, Tuple, Range, DictKeys, DictValues, DictItems, Iterator };

struct ListData {
    std::vector<Value> items;
    ListKind kind = ListKind::List;
    int64_t range_start = 0, range_stop = 0, range_step = 1;  // ListKind::Range only, for printing
    mutable size_t consumed = 0;                              // ListKind::Iterator: items already taken
};

// An insertion-ordered dict. Keys must be hashable (none, bool, int, float, str, tuple of those); lookups use
// Python equality, so 1, 1.0 and true are the same key.
class DictData {
public:
    const Value* find(const Value& key) const;
    const Value* find(std::string_view key) const;
    // Inserts, or replaces the value of an equal key (keeping the first key, as Python does).
    void set(Value key, Value value);
    const std::vector<std::pair<Value, Value>>& entries() const { return entries_; }
    size_t size() const { return entries_.size(); }

private:
    std::vector<std::pair<Value, Value>> entries_;
};

// Arguments of a call: positional, then keyword (in call order).
struct CallArgs {
    std::vector<Value> positional;
    std::vector<std::pair<std::string, Value>> keyword;
};

using NativeFunction = std::function<Value(Interpreter&, CallArgs&)>;

enum class FunctionKind : uint8_t { Builtin, Method, Macro };

struct Function {
    std::string name;
    FunctionKind kind = FunctionKind::Builtin;
    NativeFunction fn;
};

// Objects with attributes: namespace() and the loop variable.
class Object {
public:
    virtual ~Object() = default;
    virtual std::string type_name() const = 0;                // Python type name, for messages
    virtual Value get_attr(std::string_view name) const = 0;  // undefined when absent
    virtual std::string repr() const = 0;                     // str() of the object
};

class Value {
public:
    Value() = default;  // undefined, no hint
    static Value undefined(std::string hint);
    static Value none();
    static Value boolean(bool b);
    static Value integer(int64_t i);
    static Value floating(double d);
    static Value string(std::string s, bool markup = false);
    static Value list(std::vector<Value> items, ListKind kind = ListKind::List);
    static Value list(std::shared_ptr<const ListData> data);
    static Value dict(DictData d);
    static Value function(std::string name, FunctionKind kind, NativeFunction fn);
    static Value object(std::shared_ptr<Object> obj);

    ValueKind kind() const { return kind_; }
    bool is_undefined() const { return kind_ == ValueKind::Undefined; }
    bool is_none() const { return kind_ == ValueKind::None; }
    bool is_bool() const { return kind_ == ValueKind::Bool; }
    bool is_int() const { return kind_ == ValueKind::Int; }
    bool is_float() const { return kind_ == ValueKind::Float; }
    bool is_string() const { return kind_ == ValueKind::String; }
    bool is_list() const { return kind_ == ValueKind::List; }
    bool is_dict() const { return kind_ == ValueKind::Dict; }
    bool is_function() const { return kind_ == ValueKind::Function; }
    bool is_object() const { return kind_ == ValueKind::Object; }
    // bool, int or float (Python's numbers.Number; bool is an int).
    bool is_number() const { return is_bool() || is_int() || is_float(); }
    // bool or int (usable as an index).
    bool is_integral() const { return is_bool() || is_int(); }

    bool as_bool() const { return std::get<bool>(data_); }
    // int value of a bool or int.
    int64_t as_int() const { return is_bool() ? int64_t(std::get<bool>(data_)) : std::get<int64_t>(data_); }
    // float value of a bool, int or float.
    double as_float() const;
    const std::string& as_string() const { return std::get<std::string>(data_); }
    bool is_markup() const { return markup_; }
    const ListData& as_list() const { return *std::get<std::shared_ptr<const ListData>>(data_); }
    const std::vector<Value>& items() const { return as_list().items; }
    const std::shared_ptr<const ListData>& list_ptr() const { return std::get<std::shared_ptr<const ListData>>(data_); }
    const DictData& as_dict() const { return *std::get<std::shared_ptr<const DictData>>(data_); }
    const Function& as_function() const { return *std::get<std::shared_ptr<const Function>>(data_); }
    const std::shared_ptr<Object>& as_object() const { return std::get<std::shared_ptr<Object>>(data_); }
    // Why this value is undefined, e.g. "'foo' is undefined" (may be empty).
    const std::string& undefined_hint() const { return std::get<std::string>(data_); }
    // Address of the shared payload (lists, dicts, functions, objects), for `is sameas`; nullptr otherwise.
    const void* identity() const;

private:
    ValueKind kind_ = ValueKind::Undefined;
    bool markup_ = false;
    std::variant<std::string, std::monostate, bool, int64_t, double, std::shared_ptr<const ListData>,
                 std::shared_ptr<const DictData>, std::shared_ptr<const Function>, std::shared_ptr<Object>>
        data_;
};

// namespace(...): a mutable attribute bag.
class Namespace : public Object {
public:
    std::string type_name() const override { return "Namespace"; }
    Value get_attr(std::string_view name) const override;
    std::string repr() const override;
    void set_attr(const std::string& name, Value v);
    const DictData& attrs() const { return attrs_; }

private:
    DictData attrs_;
};

}  // namespace qinfer::jinja
