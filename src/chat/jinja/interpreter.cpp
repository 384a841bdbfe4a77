// defines: qinfer::jinja::Interpreter, Scope (statement execution and expression evaluation; see interpreter.h)

#include "chat/jinja/interpreter.h"

#include "chat/jinja/builtins.h"
#include "chat/jinja/loop_context.h"
#include "chat/jinja/value_ops.h"

namespace qinfer::jinja {

namespace {

// Filters that behave the same on a markupsafe.Markup string as on a str (others are refused on Markup, whose
// methods escape their arguments).
bool markup_safe_filter(std::string_view name) {
    return name == "safe" || name == "string" || name == "length" || name == "count" || name == "tojson" ||
           name == "default" || name == "d" || name == "e" || name == "escape" || name == "list" || name == "first" ||
           name == "last" || name == "trim" || name == "lower" || name == "upper";
}

// jinja2's has_safe_repr: values the optimizer may embed as constants.
bool has_safe_repr(const Value& v) {
    switch (v.kind()) {
        case ValueKind::None:
        case ValueKind::Bool:
        case ValueKind::Int:
        case ValueKind::Float:
        case ValueKind::String:
            return true;
        case ValueKind::List: {
            const ListData& l = v.as_list();
            if (l.kind == ListKind::Range) return true;
            if (l.kind != ListKind::List && l.kind != ListKind::Tuple) return false;
            for (const Value& x : l.items) {
                if (!has_safe_repr(x)) return false;
            }
            return true;
        }
        case ValueKind::Dict:
            for (const auto& [k, x] : v.as_dict().entries()) {
                if (!has_safe_repr(k) || !has_safe_repr(x)) return false;
            }
            return true;
        case ValueKind::Undefined:
        case ValueKind::Function:
        case ValueKind::Object:
            return false;
    }
    return false;
}

}  // namespace

const Value* Scope::lookup(std::string_view name) const {
    for (const Scope* s = this; s; s = s->parent_) {
        for (auto it = s->vars_.rbegin(); it != s->vars_.rend(); ++it) {
            if (it->first == name) return &it->second;
        }
    }
    return nullptr;
}

void Scope::set(const std::string& name, Value v) {
    for (auto& kv : vars_) {
        if (kv.first == name) {
            kv.second = std::move(v);
            return;
        }
    }
    vars_.emplace_back(name, std::move(v));
}

Scope* Interpreter::new_scope(Scope* parent) {
    scopes_.push_back(std::make_unique<Scope>(parent));
    return scopes_.back().get();
}

Scope* Interpreter::new_frame(Scope* parent, const std::vector<std::string>& undefined_names) {
    Scope* s = new_scope(parent);
    for (const std::string& n : undefined_names) s->set(n, Value::undefined(str_cat("'", n, "' is undefined")));
    return s;
}

std::string Interpreter::render(const Body& body, const std::vector<std::string>& undefined_on_entry,
                                const DictData& context) {
    scopes_.clear();
    macro_depth_ = 0;
    Scope* ctx = new_scope(nullptr);
    for (const auto& [k, v] : context.entries()) {
        if (!k.is_string()) throw TemplateError(name_, SourcePos{1, 1}, "template variable names must be strings");
        ctx->set(k.as_string(), v);
    }
    Scope* top = new_frame(ctx, undefined_on_entry);
    std::string out;
    exec_body(body, *top, out);
    scopes_.clear();
    return out;
}

void Interpreter::raise(const std::string& msg) const {
    throw TemplateRaisedError(name_, call_pos_, msg);
}

// ---- statements

Interpreter::Flow Interpreter::exec_body(const Body& body, Scope& scope, std::string& out) {
    for (const StmtPtr& s : body) {
        Flow f = exec(*s, scope, out);
        if (f != Flow::Normal) return f;
    }
    return Flow::Normal;
}

Interpreter::Flow Interpreter::exec(const Stmt& s, Scope& scope, std::string& out) {
    try {
        switch (s.kind) {
            case StmtKind::Data:
                out += static_cast<const DataStmt&>(s).text;
                return Flow::Normal;
            case StmtKind::Output: {
                const Expr& e = *static_cast<const OutputStmt&>(s).expr;
                std::optional<Value> folded = try_fold(e, scope, true);
                out += to_str(folded ? *folded : eval(e, scope));
                return Flow::Normal;
            }
            case StmtKind::If: {
                const auto& x = static_cast<const IfStmt&>(s);
                for (const auto& [test, body] : x.branches) {
                    if (truthy(eval(*test, scope))) return exec_body(body, scope, out);
                }
                return exec_body(x.else_body, scope, out);
            }
            case StmtKind::For:
                return exec_for(static_cast<const ForStmt&>(s), scope, out);
            case StmtKind::Set: {
                const auto& x = static_cast<const SetStmt&>(s);
                assign(*x.target, eval(*x.value, scope), scope);
                return Flow::Normal;
            }
            case StmtKind::SetBlock: {
                const auto& x = static_cast<const SetBlockStmt&>(s);
                std::string captured;
                // The body is compiled inline: a break / continue in it leaves the enclosing loop's iteration.
                if (Flow f = exec_body(x.body, *new_frame(&scope, x.undefined_on_entry), captured); f != Flow::Normal) {
                    return f;
                }
                Value v = Value::string(captured);
                if (x.filter) v = eval_filter(static_cast<const FilterExpr&>(*x.filter), scope, &v);
                assign(*x.target, v, scope);
                return Flow::Normal;
            }
            case StmtKind::Macro: {
                const auto& x = static_cast<const MacroStmt&>(s);
                scope.set(x.def.name, make_macro(x.def, &scope));
                return Flow::Normal;
            }
            case StmtKind::CallBlock: {
                const auto& x = static_cast<const CallBlockStmt&>(s);
                Value caller = make_macro(x.caller, &scope);
                out += to_str(eval_call(static_cast<const CallExpr&>(*x.call), scope, &caller));
                return Flow::Normal;
            }
            case StmtKind::FilterBlock: {
                const auto& x = static_cast<const FilterBlockStmt&>(s);
                std::string captured;
                if (Flow f = exec_body(x.body, *new_frame(&scope, x.undefined_on_entry), captured); f != Flow::Normal) {
                    return f;
                }
                Value v = Value::string(captured);
                out += to_str(eval_filter(static_cast<const FilterExpr&>(*x.filter), scope, &v));
                return Flow::Normal;
            }
            case StmtKind::With: {
                const auto& x = static_cast<const WithStmt&>(s);
                std::vector<Value> values;
                for (const ExprPtr& v : x.values) values.push_back(eval(*v, scope));
                Scope* inner = new_frame(&scope, x.undefined_on_entry);
                for (size_t i = 0; i < x.targets.size(); ++i) assign(*x.targets[i], values[i], *inner);
                return exec_body(x.body, *inner, out);
            }
            case StmtKind::Scope: {
                const auto& x = static_cast<const ScopeStmt&>(s);
                exec_body(x.body, *new_frame(&scope, x.undefined_on_entry), out);
                return Flow::Normal;
            }
            case StmtKind::Break:
                return Flow::Break;
            case StmtKind::Continue:
                return Flow::Continue;
        }
    } catch (const ValueError& e) {
        throw TemplateError(name_, s.pos, e.what());
    }
    return Flow::Normal;
}

Interpreter::Flow Interpreter::exec_for(const ForStmt& s, Scope& scope, std::string& out) {
    Value iterable = eval(*s.iter, scope);
    // The items, filtered lazily: jinja2 evaluates `for x in xs if cond` for an item only when the loop (or a
    // look-ahead such as loop.last) reaches it, so the loop body can influence later tests.
    struct Source {
        std::vector<Value> items;
        size_t next = 0;
    };
    auto src = std::make_shared<Source>();
    try {
        src->items = iterate(iterable);
    } catch (const ValueError& e) {
        throw TemplateError(name_, s.iter->pos, e.what());
    }
    Scope* outer = &scope;
    const ForStmt* stmt = &s;
    auto loop = std::make_shared<LoopContext>([this, src, outer, stmt]() -> std::optional<Value> {
        while (src->next < src->items.size()) {
            const Value& item = src->items[src->next++];
            if (!stmt->filter) return item;
            Scope* fs = new_scope(outer);
            assign(*stmt->target, item, *fs);
            // jinja2's filter generator yields the target again: unpacked items come back as tuples
            if (truthy(eval(*stmt->filter, *fs))) return pack_target(*stmt->target, *fs);
        }
        return std::nullopt;
    });
    Value loop_value = Value::object(loop);
    // jinja2 runs the else block (in a frame of its own) unless some iteration reached the end of the body: so
    // also after a break, or a continue in every iteration.
    bool completed = false;
    while (loop->advance()) {
        Scope* it = new_frame(&scope, s.body_undefined);
        assign(*s.target, loop->current(), *it);
        it->set("loop", loop_value);
        Flow f = exec_body(s.body, *it, out);
        if (f == Flow::Normal) completed = true;
        if (f == Flow::Break) break;
    }
    if (!completed) return exec_body(s.else_body, *new_frame(&scope, s.else_undefined), out);
    return Flow::Normal;
}

Value Interpreter::pack_target(const Expr& target, Scope& scope) {
    if (target.kind == ExprKind::List) {
        std::vector<Value> parts;
        for (const ExprPtr& x : static_cast<const ListExpr&>(target).items) parts.push_back(pack_target(*x, scope));
        return Value::list(std::move(parts), ListKind::Tuple);
    }
    const Value* v = scope.lookup(static_cast<const NameExpr&>(target).name);
    return v ? *v : Value();
}

void Interpreter::assign(const Expr& target, const Value& v, Scope& scope) {
    switch (target.kind) {
        case ExprKind::Name:
            scope.set(static_cast<const NameExpr&>(target).name, v);
            return;
        case ExprKind::NsRef: {
            const auto& ref = static_cast<const NsRefExpr&>(target);
            const Value* ns = scope.lookup(ref.ns);
            Namespace* obj = (ns && ns->is_object()) ? dynamic_cast<Namespace*>(ns->as_object().get()) : nullptr;
            if (!obj) throw TemplateError(name_, target.pos, "cannot assign attribute on non-namespace object");
            obj->set_attr(ref.attr, v);
            return;
        }
        case ExprKind::List: {
            const auto& names = static_cast<const ListExpr&>(target).items;
            std::vector<Value> parts;
            try {
                parts = iterate(v);
            } catch (const ValueError& e) {
                throw TemplateError(name_, target.pos, str_cat("cannot unpack non-iterable ", type_name(v), " object"));
            }
            if (parts.size() != names.size()) {
                throw TemplateError(
                    name_, target.pos,
                    parts.size() > names.size()
                        ? str_cat("too many values to unpack (expected ", names.size(), ")")
                        : str_cat("not enough values to unpack (expected ", names.size(), ", got ", parts.size(), ")"));
            }
            for (size_t i = 0; i < names.size(); ++i) assign(*names[i], parts[i], scope);
            return;
        }
        case ExprKind::Const:
        case ExprKind::Dict:
        case ExprKind::GetAttr:
        case ExprKind::GetItem:
        case ExprKind::Slice:
        case ExprKind::Call:
        case ExprKind::Filter:
        case ExprKind::Test:
        case ExprKind::Unary:
        case ExprKind::Binary:
        case ExprKind::Concat:
        case ExprKind::Compare:
        case ExprKind::CondExpr:
            break;
    }
    throw TemplateError(name_, target.pos, "can't assign to this expression");
}

// ---- macros

Value Interpreter::make_macro(const MacroDef& def, Scope* defining_scope) {
    const MacroDef* d = &def;
    return Value::function(def.name, FunctionKind::Macro, [d, defining_scope](Interpreter& interp, CallArgs& args) {
        return interp.call_macro(*d, defining_scope, args);
    });
}

Value Interpreter::call_macro(const MacroDef& def, Scope* defining_scope, CallArgs& args) {
    constexpr int kMaxMacroDepth = 256;
    if (macro_depth_ >= kMaxMacroDepth) {
        fail_value("macro '", def.name, "' nests deeper than ", kMaxMacroDepth, " calls (runaway recursion?)");
    }
    struct DepthGuard {
        int& d;
        explicit DepthGuard(int& x) : d(x) { ++d; }
        ~DepthGuard() { --d; }
    } guard(macro_depth_);
    Scope* s = new_frame(defining_scope, def.undefined_on_entry);
    const size_t n = def.params.size();
    std::vector<bool> bound(n, false);
    std::vector<Value> extra;
    for (size_t i = 0; i < args.positional.size(); ++i) {
        if (i < n) {
            s->set(def.params[i], args.positional[i]);
            bound[i] = true;
        } else {
            extra.push_back(args.positional[i]);
        }
    }
    if (!extra.empty() && !def.uses_varargs) {
        fail_value("macro '", def.name, "' takes not more than ", n, " argument(s)");
    }
    DictData kwargs;
    for (auto& [key, value] : args.keyword) {
        size_t i = 0;
        while (i < n && def.params[i] != key) ++i;
        if (i < n) {
            if (bound[i]) fail_value("macro '", def.name, "' got multiple values for argument '", key, "'");
            s->set(key, value);
            bound[i] = true;
        } else if (key == "caller" && def.uses_caller) {
            s->set("caller", value);
        } else if (def.uses_kwargs) {
            kwargs.set(Value::string(key), value);
        } else {
            fail_value("macro '", def.name, "' takes no keyword argument '", key, "'");
        }
    }
    const size_t first_default = n - def.defaults.size();
    for (size_t i = 0; i < n; ++i) {
        if (bound[i]) continue;
        if (i >= first_default) {
            s->set(def.params[i], eval(*def.defaults[i - first_default], *s));
        } else {
            s->set(def.params[i], Value::undefined(str_cat("parameter '", def.params[i], "' was not provided")));
        }
    }
    if (def.uses_varargs) s->set("varargs", Value::list(std::move(extra), ListKind::Tuple));
    if (def.uses_kwargs) s->set("kwargs", Value::dict(std::move(kwargs)));
    if (def.uses_caller && !s->lookup("caller")) {
        s->set("caller", Value::undefined("no caller defined"));
    }
    std::string out;
    exec_body(def.body, *s, out);
    return Value::string(out);
}

// ---- expressions

// jinja2 constant-folds expressions made only of literals: at compile time the optimizer replaces one by its value
// when that value has a safe repr (so not undefined), and an output {{ ... }} by its value in any case. Folding
// differs from run time only where a slice subscript fails (undefined instead of an error). Returns nullopt when
// the expression is not folded.
std::optional<Value> Interpreter::try_fold(const Expr& e, Scope& scope, bool in_output) {
    if (folding_ || !e.constant || e.kind == ExprKind::Const) return std::nullopt;
    folding_ = true;
    try {
        Value v = eval_inner(e, scope);
        folding_ = false;
        if (in_output || has_safe_repr(v)) return v;
    } catch (const ValueError&) {
        folding_ = false;
    } catch (const TemplateError&) {
        folding_ = false;
    }
    return std::nullopt;
}

Value Interpreter::eval(const Expr& e, Scope& scope) {
    if (std::optional<Value> folded = try_fold(e, scope, false)) return *folded;
    try {
        return eval_inner(e, scope);
    } catch (const ValueError& err) {
        throw TemplateError(name_, e.pos, err.what());
    }
}

CallArgs Interpreter::eval_args(const ArgList& a, Scope& scope) {
    CallArgs args;
    for (const ExprPtr& x : a.positional) args.positional.push_back(eval(*x, scope));
    if (a.star_args) {
        for (Value& v : iterate(eval(*a.star_args, scope))) args.positional.push_back(std::move(v));
    }
    for (const auto& [k, x] : a.keyword) args.keyword.emplace_back(k, eval(*x, scope));
    if (a.star_kwargs) {
        Value d = eval(*a.star_kwargs, scope);
        if (!d.is_dict()) fail_value("argument after ** must be a mapping, not ", type_name(d));
        for (const auto& [k, v] : d.as_dict().entries()) {
            if (!k.is_string()) fail_value("keywords must be strings");
            args.keyword.emplace_back(k.as_string(), v);
        }
    }
    return args;
}

Value Interpreter::call(const Value& callee, CallArgs& args) {
    if (callee.is_undefined()) fail_undefined(callee);
    if (!callee.is_function()) fail_value("'", type_name(callee), "' object is not callable");
    return callee.as_function().fn(*this, args);
}

Value Interpreter::eval_call(const CallExpr& e, Scope& scope, const Value* caller) {
    Value callee = eval(*e.callee, scope);
    CallArgs args = eval_args(e.args, scope);
    if (caller) args.keyword.emplace_back("caller", *caller);
    SourcePos saved = call_pos_;
    call_pos_ = e.pos;
    Value result = call(callee, args);
    call_pos_ = saved;
    return result;
}

Value Interpreter::eval_filter(const FilterExpr& e, Scope& scope, const Value* block_input) {
    Value input;
    if (!e.input) {
        input = *block_input;
    } else if (e.input->kind == ExprKind::Filter && block_input) {
        input = eval_filter(static_cast<const FilterExpr&>(*e.input), scope, block_input);
    } else {
        input = eval(*e.input, scope);
    }
    CallArgs args = eval_args(e.args, scope);
    try {
        return apply_filter(e.name, input, args);
    } catch (const ValueError& err) {
        throw TemplateError(name_, e.pos, err.what());
    }
}

Value Interpreter::apply_filter(std::string_view name, const Value& input, const CallArgs& args) {
    FilterFn f = find_filter(name);
    if (!f) fail_value("the filter '", name, "' is not supported by this chat-template interpreter");
    if (input.is_string() && input.is_markup() && !markup_safe_filter(name)) {
        fail_value("the filter '", name, "' on a Markup string (from |safe or |escape) is not supported");
    }
    return f(*this, input, args);
}

bool Interpreter::apply_test(std::string_view name, const Value& input, const CallArgs& args) {
    TestFn t = find_test(name);
    if (!t) fail_value("the test '", name, "' is not supported by this chat-template interpreter");
    return t(*this, input, args);
}

bool Interpreter::eval_compare(const CompareExpr& e, Scope& scope) {
    Value left = eval(*e.first, scope);
    for (const auto& [op, expr] : e.rest) {
        Value right = eval(*expr, scope);
        bool ok = false;
        switch (op) {
            case CompareOp::Eq:
                ok = equals(left, right);
                break;
            case CompareOp::Ne:
                ok = !equals(left, right);
                break;
            case CompareOp::Lt:
                ok = less_than(left, right);
                break;
            case CompareOp::Le:
                ok = less_than(left, right) || equals(left, right);
                break;
            case CompareOp::Gt:
                ok = less_than(right, left);
                break;
            case CompareOp::Ge:
                ok = less_than(right, left) || equals(left, right);
                break;
            case CompareOp::In:
                ok = op_in(left, right);
                break;
            case CompareOp::NotIn:
                ok = !op_in(left, right);
                break;
        }
        if (!ok) return false;
        left = std::move(right);
    }
    return true;
}

Value Interpreter::eval_inner(const Expr& e, Scope& scope) {
    // Folding reached a variable, call or context filter (through and / or / if-else): not a constant.
    if (folding_ && !e.constant) throw ValueError("not a constant expression");
    switch (e.kind) {
        case ExprKind::Const:
            return static_cast<const ConstExpr&>(e).value;
        case ExprKind::Name: {
            const std::string& n = static_cast<const NameExpr&>(e).name;
            if (const Value* v = scope.lookup(n)) return *v;
            if (std::optional<Value> g = find_global(n)) return *g;
            return Value::undefined(str_cat("'", n, "' is undefined"));
        }
        case ExprKind::NsRef: {
            const auto& r = static_cast<const NsRefExpr&>(e);
            fail_value("'", r.ns, ".", r.attr, "' can only be assigned to");
        }
        case ExprKind::List: {
            const auto& l = static_cast<const ListExpr&>(e);
            std::vector<Value> items;
            items.reserve(l.items.size());
            for (const ExprPtr& x : l.items) items.push_back(eval(*x, scope));
            return Value::list(std::move(items), l.tuple ? ListKind::Tuple : ListKind::List);
        }
        case ExprKind::Dict: {
            DictData d;
            for (const auto& [k, v] : static_cast<const DictExpr&>(e).items) {
                Value key = eval(*k, scope);
                d.set(std::move(key), eval(*v, scope));
            }
            return Value::dict(std::move(d));
        }
        case ExprKind::GetAttr: {
            const auto& g = static_cast<const GetAttrExpr&>(e);
            return get_attr(eval(*g.object, scope), g.name);
        }
        case ExprKind::GetItem: {
            const auto& g = static_cast<const GetItemExpr&>(e);
            Value obj = eval(*g.object, scope);
            if (g.key->kind == ExprKind::Slice) {
                const auto& s = static_cast<const SliceExpr&>(*g.key);
                Value a = s.start ? eval(*s.start, scope) : Value::none();
                Value b = s.stop ? eval(*s.stop, scope) : Value::none();
                Value c = s.step ? eval(*s.step, scope) : Value::none();
                if (folding_ && !obj.is_undefined() && !(c.is_integral() && c.as_int() == 0)) {
                    // Folding goes through environment.getitem, which turns a TypeError of the subscript into
                    // undefined; at run time a slice is a plain Python subscript whose errors propagate.
                    bool bounds_ok = true;
                    for (const Value* x : {&a, &b, &c}) bounds_ok = bounds_ok && (x->is_none() || x->is_integral());
                    bool sliceable = obj.is_string() || (obj.is_list() && (obj.as_list().kind == ListKind::List ||
                                                                           obj.as_list().kind == ListKind::Tuple ||
                                                                           obj.as_list().kind == ListKind::Range));
                    if (!bounds_ok || !sliceable) {
                        return Value::undefined(str_cat("'", type_name(obj), "' object cannot be sliced"));
                    }
                }
                return get_slice(obj, a, b, c);
            }
            return get_item(obj, eval(*g.key, scope));
        }
        case ExprKind::Slice:
            fail_value("a slice is only valid inside []");
        case ExprKind::Call:
            return eval_call(static_cast<const CallExpr&>(e), scope, nullptr);
        case ExprKind::Filter:
            return eval_filter(static_cast<const FilterExpr&>(e), scope, nullptr);
        case ExprKind::Test: {
            const auto& t = static_cast<const TestExpr&>(e);
            Value input = eval(*t.input, scope);
            CallArgs args = eval_args(t.args, scope);
            return Value::boolean(apply_test(t.name, input, args));
        }
        case ExprKind::Unary: {
            const auto& u = static_cast<const UnaryExpr&>(e);
            Value x = eval(*u.operand, scope);
            switch (u.op) {
                case UnaryOp::Not:
                    return Value::boolean(!truthy(x));
                case UnaryOp::Neg:
                    return op_neg(x);
                case UnaryOp::Pos:
                    return op_pos(x);
            }
            break;
        }
        case ExprKind::Binary: {
            const auto& b = static_cast<const BinaryExpr&>(e);
            Value left = eval(*b.left, scope);
            if (b.op == BinaryOp::And) return truthy(left) ? eval(*b.right, scope) : left;
            if (b.op == BinaryOp::Or) return truthy(left) ? left : eval(*b.right, scope);
            Value right = eval(*b.right, scope);
            switch (b.op) {
                case BinaryOp::Add:
                    return op_add(left, right);
                case BinaryOp::Sub:
                    return op_sub(left, right);
                case BinaryOp::Mul:
                    return op_mul(left, right);
                case BinaryOp::Div:
                    return op_div(left, right);
                case BinaryOp::FloorDiv:
                    return op_floordiv(left, right);
                case BinaryOp::Mod:
                    return op_mod(left, right);
                case BinaryOp::Pow:
                    return op_pow(left, right);
                case BinaryOp::And:
                case BinaryOp::Or:
                    break;
            }
            break;
        }
        case ExprKind::Concat: {
            std::string out;
            for (const ExprPtr& x : static_cast<const ConcatExpr&>(e).parts) out += to_str(eval(*x, scope));
            return Value::string(out);
        }
        case ExprKind::Compare:
            return Value::boolean(eval_compare(static_cast<const CompareExpr&>(e), scope));
        case ExprKind::CondExpr: {
            const auto& c = static_cast<const CondExpr&>(e);
            if (truthy(eval(*c.test, scope))) return eval(*c.then, scope);
            if (c.otherwise) return eval(*c.otherwise, scope);
            return Value::undefined(str_cat("the inline if-expression on line ", e.pos.line,
                                            " evaluated to false and no else section was defined"));
        }
    }
    fail_value("internal error: unhandled expression");
}

}  // namespace qinfer::jinja
