// defines: qinfer::jinja::find_test, jinja2_has_test (jinja2's builtin tests)

#include <set>

#include "chat/jinja/builtins.h"
#include "chat/jinja/call_args.h"
#include "chat/jinja/error.h"
#include "chat/jinja/methods.h"
#include "chat/jinja/value_ops.h"

namespace qinfer::jinja {

namespace {

void no_args(const char* name, const CallArgs& args) {
    bind_args(name, args, {}, 0);
}

Value one_arg(const char* name, const CallArgs& args) {
    return bind_args(name, args, {"other"}, 1)[0];
}

bool t_defined(Interpreter&, const Value& v, const CallArgs& a) {
    return no_args("defined", a), !v.is_undefined();
}
bool t_undefined(Interpreter&, const Value& v, const CallArgs& a) {
    return no_args("undefined", a), v.is_undefined();
}
bool t_none(Interpreter&, const Value& v, const CallArgs& a) {
    return no_args("none", a), v.is_none();
}
bool t_boolean(Interpreter&, const Value& v, const CallArgs& a) {
    return no_args("boolean", a), v.is_bool();
}
bool t_false(Interpreter&, const Value& v, const CallArgs& a) {
    return no_args("false", a), v.is_bool() && !v.as_bool();
}
bool t_true(Interpreter&, const Value& v, const CallArgs& a) {
    return no_args("true", a), v.is_bool() && v.as_bool();
}
bool t_integer(Interpreter&, const Value& v, const CallArgs& a) {
    return no_args("integer", a), v.is_int();
}
bool t_float(Interpreter&, const Value& v, const CallArgs& a) {
    return no_args("float", a), v.is_float();
}
bool t_number(Interpreter&, const Value& v, const CallArgs& a) {
    return no_args("number", a), v.is_number();
}
bool t_string(Interpreter&, const Value& v, const CallArgs& a) {
    return no_args("string", a), v.is_string();
}
bool t_mapping(Interpreter&, const Value& v, const CallArgs& a) {
    return no_args("mapping", a), v.is_dict();
}
bool t_escaped(Interpreter&, const Value& v, const CallArgs& a) {
    return no_args("escaped", a), v.is_string() && v.is_markup();
}

bool t_iterable(Interpreter&, const Value& v, const CallArgs& a) {
    no_args("iterable", a);
    return v.is_undefined() || v.is_string() || v.is_list() || v.is_dict();
}

// len() and __getitem__ both exist (jinja2's test_sequence).
bool t_sequence(Interpreter&, const Value& v, const CallArgs& a) {
    no_args("sequence", a);
    if (v.is_undefined() || v.is_string() || v.is_dict()) return true;
    if (!v.is_list()) return false;
    ListKind k = v.as_list().kind;
    return k == ListKind::List || k == ListKind::Tuple || k == ListKind::Range;
}

bool t_callable(Interpreter&, const Value& v, const CallArgs& a) {
    no_args("callable", a);
    // jinja2's Undefined defines __call__ (which raises), so callable() is true for it
    return v.is_function() || v.is_undefined() || (v.is_object() && v.as_object()->type_name() == "LoopContext");
}

bool t_sameas(Interpreter&, const Value& v, const CallArgs& a) {
    const Value& o = one_arg("sameas", a);
    if (v.is_none() || o.is_none()) return v.is_none() && o.is_none();
    if (v.is_bool() || o.is_bool()) return v.is_bool() && o.is_bool() && v.as_bool() == o.as_bool();
    if (v.identity() && o.identity()) return v.identity() == o.identity();
    if (v.is_undefined() || o.is_undefined()) return false;
    fail_value("'sameas' on ", type_name(v), " values depends on CPython object identity and is not supported");
}

bool t_eq(Interpreter&, const Value& v, const CallArgs& a) {
    return equals(v, one_arg("eq", a));
}
bool t_ne(Interpreter&, const Value& v, const CallArgs& a) {
    return !equals(v, one_arg("ne", a));
}
bool t_lt(Interpreter&, const Value& v, const CallArgs& a) {
    return less_than(v, one_arg("lt", a));
}
bool t_gt(Interpreter&, const Value& v, const CallArgs& a) {
    return less_than(one_arg("gt", a), v);
}
bool t_le(Interpreter&, const Value& v, const CallArgs& a) {
    const Value& o = one_arg("le", a);
    return less_than(v, o) || equals(v, o);
}
bool t_ge(Interpreter&, const Value& v, const CallArgs& a) {
    const Value& o = one_arg("ge", a);
    return less_than(o, v) || equals(v, o);
}
bool t_in(Interpreter&, const Value& v, const CallArgs& a) {
    return op_in(v, one_arg("in", a));
}

bool t_odd(Interpreter&, const Value& v, const CallArgs& a) {
    no_args("odd", a);
    return equals(op_mod(v, Value::integer(2)), Value::integer(1));
}
bool t_even(Interpreter&, const Value& v, const CallArgs& a) {
    no_args("even", a);
    return equals(op_mod(v, Value::integer(2)), Value::integer(0));
}
bool t_divisibleby(Interpreter&, const Value& v, const CallArgs& a) {
    BoundArgs b = bind_args("divisibleby", a, {"num"}, 1);
    return equals(op_mod(v, b[0]), Value::integer(0));
}

// str(value).islower() / .isupper()
bool case_test(Interpreter& interp, const Value& v, const CallArgs& a, const char* name, const char* method) {
    no_args(name, a);
    CallArgs none;
    return truthy(find_method(Value::string(to_str(v)), method)->as_function().fn(interp, none));
}
bool t_lower(Interpreter& i, const Value& v, const CallArgs& a) {
    return case_test(i, v, a, "lower", "islower");
}
bool t_upper(Interpreter& i, const Value& v, const CallArgs& a) {
    return case_test(i, v, a, "upper", "isupper");
}

bool t_filter(Interpreter&, const Value& v, const CallArgs& a) {
    no_args("filter", a);
    return v.is_string() && jinja2_has_filter(v.as_string());
}
bool t_test(Interpreter&, const Value& v, const CallArgs& a) {
    no_args("test", a);
    return v.is_string() && jinja2_has_test(v.as_string());
}

struct TestEntry {
    const char* name;
    TestFn fn;
};

const TestEntry kTests[] = {
    {"defined", t_defined},
    {"undefined", t_undefined},
    {"none", t_none},
    {"boolean", t_boolean},
    {"false", t_false},
    {"true", t_true},
    {"integer", t_integer},
    {"float", t_float},
    {"number", t_number},
    {"string", t_string},
    {"mapping", t_mapping},
    {"iterable", t_iterable},
    {"sequence", t_sequence},
    {"callable", t_callable},
    {"sameas", t_sameas},
    {"escaped", t_escaped},
    {"eq", t_eq},
    {"equalto", t_eq},
    {"==", t_eq},
    {"ne", t_ne},
    {"!=", t_ne},
    {"lt", t_lt},
    {"lessthan", t_lt},
    {"<", t_lt},
    {"le", t_le},
    {"<=", t_le},
    {"gt", t_gt},
    {"greaterthan", t_gt},
    {">", t_gt},
    {"ge", t_ge},
    {">=", t_ge},
    {"in", t_in},
    {"odd", t_odd},
    {"even", t_even},
    {"divisibleby", t_divisibleby},
    {"lower", t_lower},
    {"upper", t_upper},
    {"filter", t_filter},
    {"test", t_test},
};

}  // namespace

TestFn find_test(std::string_view name) {
    for (const TestEntry& e : kTests) {
        if (name == e.name) return e.fn;
    }
    return nullptr;
}

bool jinja2_has_test(std::string_view name) {
    return find_test(name) != nullptr;
}

}  // namespace qinfer::jinja
