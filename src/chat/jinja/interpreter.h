#pragma once
// defines: qinfer::jinja::Interpreter, Scope
//
// Executes a parsed template with jinja2's semantics: scoping (a for-loop iteration, macro call, with block and
// block set each get a fresh child scope, `if` does not; a macro sees later changes to the variables of the scope
// it was defined in), default Undefined (printing it gives "", using it in arithmetic, calls or attribute access is
// an error), Python value semantics (value_ops.h) and the builtin filters, tests and globals (builtins.h).
// Errors carry the template name, line and column of the expression or statement being evaluated.

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "chat/jinja/ast.h"
#include "chat/jinja/value.h"

namespace qinfer::jinja {

class Scope {
public:
    explicit Scope(Scope* parent) : parent_(parent) {}
    // The innermost binding of `name`, or nullptr.
    const Value* lookup(std::string_view name) const;
    // Binds `name` in this scope.
    void set(const std::string& name, Value v);

private:
    Scope* parent_;
    std::vector<std::pair<std::string, Value>> vars_;
};

class Interpreter {
public:
    explicit Interpreter(std::string template_name) : name_(std::move(template_name)) {}

    // Renders `body` with the top-level variables `context` and returns the output. `undefined_on_entry` are the
    // names the template frame starts undefined (analyze_scopes).
    std::string render(const Body& body, const std::vector<std::string>& undefined_on_entry, const DictData& context);

    Value eval(const Expr& e, Scope& scope);
    // Calls a function value (builtin, method or macro).
    Value call(const Value& callee, CallArgs& args);
    Value apply_filter(std::string_view name, const Value& input, const CallArgs& args);
    bool apply_test(std::string_view name, const Value& input, const CallArgs& args);

    const std::string& template_name() const { return name_; }
    // Throws TemplateRaisedError(msg) located at the call being evaluated (raise_exception()).
    [[noreturn]] void raise(const std::string& msg) const;

private:
    enum class Flow { Normal, Break, Continue };

    Scope* new_scope(Scope* parent);
    // A child scope of `parent` for a new jinja2 frame, with `undefined_names` bound to undefined.
    Scope* new_frame(Scope* parent, const std::vector<std::string>& undefined_names);
    Flow exec_body(const Body& body, Scope& scope, std::string& out);
    Flow exec(const Stmt& s, Scope& scope, std::string& out);
    Flow exec_for(const ForStmt& s, Scope& scope, std::string& out);
    Value eval_inner(const Expr& e, Scope& scope);
    std::optional<Value> try_fold(const Expr& e, Scope& scope, bool in_output);
    Value eval_call(const CallExpr& e, Scope& scope, const Value* caller);
    Value eval_filter(const FilterExpr& e, Scope& scope, const Value* block_input);
    CallArgs eval_args(const ArgList& a, Scope& scope);
    bool eval_compare(const CompareExpr& e, Scope& scope);
    void assign(const Expr& target, const Value& v, Scope& scope);
    Value pack_target(const Expr& target, Scope& scope);  // the value of a (tuple) target just assigned
    Value make_macro(const MacroDef& def, Scope* defining_scope);
    Value call_macro(const MacroDef& def, Scope* defining_scope, CallArgs& args);

    std::string name_;
    std::vector<std::unique_ptr<Scope>> scopes_;  // every scope of this render (macros hold raw pointers)
    SourcePos call_pos_;
    int macro_depth_ = 0;   // nested macro calls (bounded: Python would raise RecursionError)
    bool folding_ = false;  // evaluating a constant expression the way jinja2's optimizer folds it
};

}  // namespace qinfer::jinja
