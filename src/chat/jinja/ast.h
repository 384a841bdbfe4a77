#pragma once
// defines: qinfer::jinja::Expr, Stmt and their node types (the parsed template), references_name
//
// The node set follows jinja2.nodes for the constructs this interpreter supports. Nodes are owned by unique_ptr;
// each has a kind tag (switched on by the interpreter) and the source position of its first token.

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "chat/jinja/error.h"
#include "chat/jinja/value.h"

namespace qinfer::jinja {

// ---- expressions

enum class ExprKind : uint8_t {
    Const,     // literal
    Name,      // variable
    NsRef,     // ns.attr as an assignment target
    List,      // [a, b] or (a, b)
    Dict,      // {k: v}
    GetAttr,   // x.name
    GetItem,   // x[key] / x[a:b:c]
    Slice,     // a:b:c (only as a GetItem key)
    Call,      // f(args)
    Filter,    // x | f(args)
    Test,      // x is t(args)
    Unary,     // not x, -x, +x
    Binary,    // arithmetic, and, or
    Concat,    // a ~ b ~ c
    Compare,   // a < b == c, in, not in
    CondExpr,  // a if c else b
};

struct Expr {
    ExprKind kind;
    SourcePos pos;
    // May be built only of literals (no variables, calls or context filters; for `and`, `or` and `x if c else y`
    // only the constant operand that decides is known here): jinja2's optimizer folds such expressions at compile
    // time, which changes a few results (see Interpreter::try_fold). Set by mark_constant_expressions.
    bool constant = false;
    Expr(ExprKind k, SourcePos p) : kind(k), pos(p) {}
    virtual ~Expr() = default;
};
using ExprPtr = std::unique_ptr<Expr>;

struct ConstExpr : Expr {
    Value value;
    ConstExpr(SourcePos p, Value v) : Expr(ExprKind::Const, p), value(std::move(v)) {}
};

struct NameExpr : Expr {
    std::string name;
    NameExpr(SourcePos p, std::string n) : Expr(ExprKind::Name, p), name(std::move(n)) {}
};

struct NsRefExpr : Expr {
    std::string ns, attr;
    NsRefExpr(SourcePos p, std::string n, std::string a)
        : Expr(ExprKind::NsRef, p), ns(std::move(n)), attr(std::move(a)) {}
};

struct ListExpr : Expr {
    std::vector<ExprPtr> items;
    bool tuple = false;
    ListExpr(SourcePos p, bool is_tuple) : Expr(ExprKind::List, p), tuple(is_tuple) {}
};

struct DictExpr : Expr {
    std::vector<std::pair<ExprPtr, ExprPtr>> items;
    explicit DictExpr(SourcePos p) : Expr(ExprKind::Dict, p) {}
};

struct GetAttrExpr : Expr {
    ExprPtr object;
    std::string name;
    GetAttrExpr(SourcePos p, ExprPtr o, std::string n)
        : Expr(ExprKind::GetAttr, p), object(std::move(o)), name(std::move(n)) {}
};

struct GetItemExpr : Expr {
    ExprPtr object;
    ExprPtr key;  // a SliceExpr for x[a:b:c]
    GetItemExpr(SourcePos p, ExprPtr o, ExprPtr k)
        : Expr(ExprKind::GetItem, p), object(std::move(o)), key(std::move(k)) {}
};

struct SliceExpr : Expr {
    ExprPtr start, stop, step;  // null when omitted
    explicit SliceExpr(SourcePos p) : Expr(ExprKind::Slice, p) {}
};

// Arguments as written in a call, filter or test.
struct ArgList {
    std::vector<ExprPtr> positional;
    std::vector<std::pair<std::string, ExprPtr>> keyword;
    ExprPtr star_args;    // *args
    ExprPtr star_kwargs;  // **kwargs
};

struct CallExpr : Expr {
    ExprPtr callee;
    ArgList args;
    CallExpr(SourcePos p, ExprPtr c) : Expr(ExprKind::Call, p), callee(std::move(c)) {}
};

struct FilterExpr : Expr {
    ExprPtr input;  // null for the first filter of {% filter %} / {% set x | f %} (applied to the block's output)
    std::string name;
    ArgList args;
    FilterExpr(SourcePos p, ExprPtr in, std::string n)
        : Expr(ExprKind::Filter, p), input(std::move(in)), name(std::move(n)) {}
};

struct TestExpr : Expr {
    ExprPtr input;
    std::string name;
    ArgList args;
    TestExpr(SourcePos p, ExprPtr in, std::string n)
        : Expr(ExprKind::Test, p), input(std::move(in)), name(std::move(n)) {}
};

enum class UnaryOp : uint8_t { Not, Neg, Pos };

struct UnaryExpr : Expr {
    UnaryOp op;
    ExprPtr operand;
    UnaryExpr(SourcePos p, UnaryOp o, ExprPtr x) : Expr(ExprKind::Unary, p), op(o), operand(std::move(x)) {}
};

enum class BinaryOp : uint8_t { Add, Sub, Mul, Div, FloorDiv, Mod, Pow, And, Or };

struct BinaryExpr : Expr {
    BinaryOp op;
    ExprPtr left, right;
    BinaryExpr(SourcePos p, BinaryOp o, ExprPtr l, ExprPtr r)
        : Expr(ExprKind::Binary, p), op(o), left(std::move(l)), right(std::move(r)) {}
};

struct ConcatExpr : Expr {
    std::vector<ExprPtr> parts;
    explicit ConcatExpr(SourcePos p) : Expr(ExprKind::Concat, p) {}
};

enum class CompareOp : uint8_t { Eq, Ne, Lt, Le, Gt, Ge, In, NotIn };

struct CompareExpr : Expr {
    ExprPtr first;
    std::vector<std::pair<CompareOp, ExprPtr>> rest;
    CompareExpr(SourcePos p, ExprPtr f) : Expr(ExprKind::Compare, p), first(std::move(f)) {}
};

struct CondExpr : Expr {
    ExprPtr test, then, otherwise;  // otherwise may be null (-> undefined)
    CondExpr(SourcePos p, ExprPtr t, ExprPtr a, ExprPtr b)
        : Expr(ExprKind::CondExpr, p), test(std::move(t)), then(std::move(a)), otherwise(std::move(b)) {}
};

// ---- statements

enum class StmtKind : uint8_t {
    Data,         // template text
    Output,       // {{ expr }} / {% print expr %}
    If,           // {% if %}{% elif %}{% else %}
    For,          // {% for target in iter [if filter] %}...{% else %}
    Set,          // {% set target = expr %}
    SetBlock,     // {% set target [| filters] %}...{% endset %}
    Macro,        // {% macro name(params) %}
    CallBlock,    // {% call [(params)] macro(args) %}...{% endcall %}
    FilterBlock,  // {% filter f %}...{% endfilter %}
    With,         // {% with a = 1 %}...{% endwith %}
    Break,        // {% break %}
    Continue,     // {% continue %}
    Scope,        // body with no semantics of its own ({% generation %})
};

struct Stmt {
    StmtKind kind;
    SourcePos pos;
    Stmt(StmtKind k, SourcePos p) : kind(k), pos(p) {}
    virtual ~Stmt() = default;
};
using StmtPtr = std::unique_ptr<Stmt>;
using Body = std::vector<StmtPtr>;

struct DataStmt : Stmt {
    std::string text;
    DataStmt(SourcePos p, std::string t) : Stmt(StmtKind::Data, p), text(std::move(t)) {}
};

struct OutputStmt : Stmt {
    ExprPtr expr;
    OutputStmt(SourcePos p, ExprPtr e) : Stmt(StmtKind::Output, p), expr(std::move(e)) {}
};

struct IfStmt : Stmt {
    std::vector<std::pair<ExprPtr, Body>> branches;  // if + elifs
    Body else_body;
    explicit IfStmt(SourcePos p) : Stmt(StmtKind::If, p) {}
};

struct ForStmt : Stmt {
    ExprPtr target;  // NameExpr or tuple ListExpr of names
    ExprPtr iter;
    ExprPtr filter;  // may be null
    Body body, else_body;
    std::vector<std::string> body_undefined, else_undefined;  // see scoping.h
    explicit ForStmt(SourcePos p) : Stmt(StmtKind::For, p) {}
};

struct SetStmt : Stmt {
    ExprPtr target;  // NameExpr, tuple ListExpr of names, or NsRefExpr
    ExprPtr value;
    explicit SetStmt(SourcePos p) : Stmt(StmtKind::Set, p) {}
};

struct SetBlockStmt : Stmt {
    ExprPtr target;
    ExprPtr filter;  // FilterExpr chain whose innermost input is null; may be null
    Body body;
    std::vector<std::string> undefined_on_entry;  // see scoping.h
    explicit SetBlockStmt(SourcePos p) : Stmt(StmtKind::SetBlock, p) {}
};

// Parameters and body of a macro (also the `caller` of a call block).
struct MacroDef {
    std::string name;
    std::vector<std::string> params;
    std::vector<ExprPtr> defaults;  // for the last defaults.size() params
    Body body;
    bool uses_varargs = false, uses_kwargs = false, uses_caller = false;
    SourcePos pos;
    std::vector<std::string> undefined_on_entry;  // see scoping.h
};

struct MacroStmt : Stmt {
    MacroDef def;
    explicit MacroStmt(SourcePos p) : Stmt(StmtKind::Macro, p) {}
};

struct CallBlockStmt : Stmt {
    ExprPtr call;  // a CallExpr
    MacroDef caller;
    explicit CallBlockStmt(SourcePos p) : Stmt(StmtKind::CallBlock, p) {}
};

struct FilterBlockStmt : Stmt {
    ExprPtr filter;  // FilterExpr chain whose innermost input is null
    Body body;
    std::vector<std::string> undefined_on_entry;  // see scoping.h
    explicit FilterBlockStmt(SourcePos p) : Stmt(StmtKind::FilterBlock, p) {}
};

struct WithStmt : Stmt {
    std::vector<ExprPtr> targets;
    std::vector<ExprPtr> values;
    Body body;
    std::vector<std::string> undefined_on_entry;  // see scoping.h
    explicit WithStmt(SourcePos p) : Stmt(StmtKind::With, p) {}
};

struct ScopeStmt : Stmt {
    Body body;
    std::vector<std::string> undefined_on_entry;  // see scoping.h
    explicit ScopeStmt(SourcePos p) : Stmt(StmtKind::Scope, p) {}
};

struct LoopControlStmt : Stmt {
    LoopControlStmt(SourcePos p, bool is_break) : Stmt(is_break ? StmtKind::Break : StmtKind::Continue, p) {}
};

// True when `name` is read anywhere in `body` (including nested macros and blocks), as jinja2's
// find_undeclared does to decide whether a macro takes varargs / kwargs / caller.
bool references_name(const Body& body, std::string_view name);
bool expr_references_name(const Expr* expr, std::string_view name);  // expr may be null

// Sets Expr::constant on every expression of `body`.
void mark_constant_expressions(Body& body);

}  // namespace qinfer::jinja
