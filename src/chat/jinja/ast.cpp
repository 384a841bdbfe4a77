// defines: qinfer::jinja::references_name (a read-only walk over the AST)

#include "chat/jinja/ast.h"

namespace qinfer::jinja {

namespace {

bool expr_refs(const Expr* e, std::string_view name);

bool args_refs(const ArgList& a, std::string_view name) {
    for (const ExprPtr& x : a.positional) {
        if (expr_refs(x.get(), name)) return true;
    }
    for (const auto& kv : a.keyword) {
        if (expr_refs(kv.second.get(), name)) return true;
    }
    return expr_refs(a.star_args.get(), name) || expr_refs(a.star_kwargs.get(), name);
}

bool expr_refs(const Expr* e, std::string_view name) {
    if (!e) return false;
    switch (e->kind) {
        case ExprKind::Const:
        case ExprKind::NsRef:
            return false;
        case ExprKind::Name:
            return static_cast<const NameExpr*>(e)->name == name;
        case ExprKind::List:
            for (const ExprPtr& x : static_cast<const ListExpr*>(e)->items) {
                if (expr_refs(x.get(), name)) return true;
            }
            return false;
        case ExprKind::Dict:
            for (const auto& kv : static_cast<const DictExpr*>(e)->items) {
                if (expr_refs(kv.first.get(), name) || expr_refs(kv.second.get(), name)) return true;
            }
            return false;
        case ExprKind::GetAttr:
            return expr_refs(static_cast<const GetAttrExpr*>(e)->object.get(), name);
        case ExprKind::GetItem: {
            auto* g = static_cast<const GetItemExpr*>(e);
            return expr_refs(g->object.get(), name) || expr_refs(g->key.get(), name);
        }
        case ExprKind::Slice: {
            auto* s = static_cast<const SliceExpr*>(e);
            return expr_refs(s->start.get(), name) || expr_refs(s->stop.get(), name) || expr_refs(s->step.get(), name);
        }
        case ExprKind::Call: {
            auto* c = static_cast<const CallExpr*>(e);
            return expr_refs(c->callee.get(), name) || args_refs(c->args, name);
        }
        case ExprKind::Filter: {
            auto* f = static_cast<const FilterExpr*>(e);
            return expr_refs(f->input.get(), name) || args_refs(f->args, name);
        }
        case ExprKind::Test: {
            auto* t = static_cast<const TestExpr*>(e);
            return expr_refs(t->input.get(), name) || args_refs(t->args, name);
        }
        case ExprKind::Unary:
            return expr_refs(static_cast<const UnaryExpr*>(e)->operand.get(), name);
        case ExprKind::Binary: {
            auto* b = static_cast<const BinaryExpr*>(e);
            return expr_refs(b->left.get(), name) || expr_refs(b->right.get(), name);
        }
        case ExprKind::Concat:
            for (const ExprPtr& x : static_cast<const ConcatExpr*>(e)->parts) {
                if (expr_refs(x.get(), name)) return true;
            }
            return false;
        case ExprKind::Compare: {
            auto* c = static_cast<const CompareExpr*>(e);
            if (expr_refs(c->first.get(), name)) return true;
            for (const auto& r : c->rest) {
                if (expr_refs(r.second.get(), name)) return true;
            }
            return false;
        }
        case ExprKind::CondExpr: {
            auto* c = static_cast<const CondExpr*>(e);
            return expr_refs(c->test.get(), name) || expr_refs(c->then.get(), name) ||
                   expr_refs(c->otherwise.get(), name);
        }
    }
    return false;
}

bool macro_refs(const MacroDef& m, std::string_view name) {
    for (const ExprPtr& d : m.defaults) {
        if (expr_refs(d.get(), name)) return true;
    }
    return references_name(m.body, name);
}

bool stmt_refs(const Stmt* s, std::string_view name) {
    switch (s->kind) {
        case StmtKind::Data:
        case StmtKind::Break:
        case StmtKind::Continue:
            return false;
        case StmtKind::Output:
            return expr_refs(static_cast<const OutputStmt*>(s)->expr.get(), name);
        case StmtKind::If: {
            auto* x = static_cast<const IfStmt*>(s);
            for (const auto& br : x->branches) {
                if (expr_refs(br.first.get(), name) || references_name(br.second, name)) return true;
            }
            return references_name(x->else_body, name);
        }
        case StmtKind::For: {
            auto* x = static_cast<const ForStmt*>(s);
            return expr_refs(x->iter.get(), name) || expr_refs(x->filter.get(), name) ||
                   references_name(x->body, name) || references_name(x->else_body, name);
        }
        case StmtKind::Set:
            return expr_refs(static_cast<const SetStmt*>(s)->value.get(), name);
        case StmtKind::SetBlock: {
            auto* x = static_cast<const SetBlockStmt*>(s);
            return expr_refs(x->filter.get(), name) || references_name(x->body, name);
        }
        case StmtKind::Macro:
            return macro_refs(static_cast<const MacroStmt*>(s)->def, name);
        case StmtKind::CallBlock: {
            auto* x = static_cast<const CallBlockStmt*>(s);
            return expr_refs(x->call.get(), name) || macro_refs(x->caller, name);
        }
        case StmtKind::FilterBlock: {
            auto* x = static_cast<const FilterBlockStmt*>(s);
            return expr_refs(x->filter.get(), name) || references_name(x->body, name);
        }
        case StmtKind::With: {
            auto* x = static_cast<const WithStmt*>(s);
            for (const ExprPtr& v : x->values) {
                if (expr_refs(v.get(), name)) return true;
            }
            return references_name(x->body, name);
        }
        case StmtKind::Scope:
            return references_name(static_cast<const ScopeStmt*>(s)->body, name);
    }
    return false;
}

// ---- constant marking

bool mark_expr(Expr* e);

bool mark_args(ArgList& a) {
    bool c = !a.star_args && !a.star_kwargs;
    for (ExprPtr& x : a.positional) c = mark_expr(x.get()) && c;
    for (auto& kv : a.keyword) c = mark_expr(kv.second.get()) && c;
    if (a.star_args) mark_expr(a.star_args.get());
    if (a.star_kwargs) mark_expr(a.star_kwargs.get());
    return c;
}

// jinja2 filters that take the template context: never folded.
bool context_filter(const std::string& name) {
    return name == "map" || name == "select" || name == "reject" || name == "selectattr" || name == "rejectattr" ||
           name == "random";
}

// Marks e and its children; returns e->constant (true for a null e, an omitted part).
bool mark_expr(Expr* e) {
    if (!e) return true;
    bool c = false;
    switch (e->kind) {
        case ExprKind::Const:
            c = true;
            break;
        case ExprKind::Name:
        case ExprKind::NsRef:
            c = false;
            break;
        case ExprKind::List:
            c = true;
            for (ExprPtr& x : static_cast<ListExpr*>(e)->items) c = mark_expr(x.get()) && c;
            break;
        case ExprKind::Dict:
            c = true;
            for (auto& kv : static_cast<DictExpr*>(e)->items) {
                c = mark_expr(kv.first.get()) && c;
                c = mark_expr(kv.second.get()) && c;
            }
            break;
        case ExprKind::GetAttr:
            c = mark_expr(static_cast<GetAttrExpr*>(e)->object.get());
            break;
        case ExprKind::GetItem: {
            auto* g = static_cast<GetItemExpr*>(e);
            c = mark_expr(g->object.get());
            c = mark_expr(g->key.get()) && c;
            break;
        }
        case ExprKind::Slice: {
            auto* x = static_cast<SliceExpr*>(e);
            c = mark_expr(x->start.get());
            c = mark_expr(x->stop.get()) && c;
            c = mark_expr(x->step.get()) && c;
            break;
        }
        case ExprKind::Call: {
            auto* x = static_cast<CallExpr*>(e);
            mark_expr(x->callee.get());
            mark_args(x->args);
            c = false;
            break;
        }
        case ExprKind::Filter: {
            auto* f = static_cast<FilterExpr*>(e);
            c = f->input != nullptr && mark_expr(f->input.get());
            c = mark_args(f->args) && c && !context_filter(f->name);
            break;
        }
        case ExprKind::Test: {
            auto* t = static_cast<TestExpr*>(e);
            c = mark_expr(t->input.get());
            c = mark_args(t->args) && c;
            break;
        }
        case ExprKind::Unary:
            c = mark_expr(static_cast<UnaryExpr*>(e)->operand.get());
            break;
        case ExprKind::Binary: {
            // and / or short-circuit: a constant left side may decide alone (the interpreter finds out)
            auto* b = static_cast<BinaryExpr*>(e);
            c = mark_expr(b->left.get());
            bool right = mark_expr(b->right.get());
            if (b->op != BinaryOp::And && b->op != BinaryOp::Or) c = c && right;
            break;
        }
        case ExprKind::Concat:
            c = true;
            for (ExprPtr& x : static_cast<ConcatExpr*>(e)->parts) c = mark_expr(x.get()) && c;
            break;
        case ExprKind::Compare: {
            auto* x = static_cast<CompareExpr*>(e);
            c = mark_expr(x->first.get());
            for (auto& r : x->rest) c = mark_expr(r.second.get()) && c;
            break;
        }
        case ExprKind::CondExpr: {
            // only the branch the constant test selects must be constant (the interpreter finds out)
            auto* x = static_cast<CondExpr*>(e);
            c = mark_expr(x->test.get());
            mark_expr(x->then.get());
            mark_expr(x->otherwise.get());
            break;
        }
    }
    e->constant = c;
    return c;
}

void mark_macro(MacroDef& m) {
    for (ExprPtr& d : m.defaults) mark_expr(d.get());
    mark_constant_expressions(m.body);
}

void mark_stmt(Stmt* s) {
    switch (s->kind) {
        case StmtKind::Data:
        case StmtKind::Break:
        case StmtKind::Continue:
            return;
        case StmtKind::Output:
            mark_expr(static_cast<OutputStmt*>(s)->expr.get());
            return;
        case StmtKind::If: {
            auto* x = static_cast<IfStmt*>(s);
            for (auto& br : x->branches) {
                mark_expr(br.first.get());
                mark_constant_expressions(br.second);
            }
            mark_constant_expressions(x->else_body);
            return;
        }
        case StmtKind::For: {
            auto* x = static_cast<ForStmt*>(s);
            mark_expr(x->iter.get());
            mark_expr(x->filter.get());
            mark_constant_expressions(x->body);
            mark_constant_expressions(x->else_body);
            return;
        }
        case StmtKind::Set:
            mark_expr(static_cast<SetStmt*>(s)->value.get());
            return;
        case StmtKind::SetBlock: {
            auto* x = static_cast<SetBlockStmt*>(s);
            mark_expr(x->filter.get());
            mark_constant_expressions(x->body);
            return;
        }
        case StmtKind::Macro:
            mark_macro(static_cast<MacroStmt*>(s)->def);
            return;
        case StmtKind::CallBlock: {
            auto* x = static_cast<CallBlockStmt*>(s);
            mark_expr(x->call.get());
            mark_macro(x->caller);
            return;
        }
        case StmtKind::FilterBlock: {
            auto* x = static_cast<FilterBlockStmt*>(s);
            mark_expr(x->filter.get());
            mark_constant_expressions(x->body);
            return;
        }
        case StmtKind::With: {
            auto* x = static_cast<WithStmt*>(s);
            for (ExprPtr& v : x->values) mark_expr(v.get());
            mark_constant_expressions(x->body);
            return;
        }
        case StmtKind::Scope:
            mark_constant_expressions(static_cast<ScopeStmt*>(s)->body);
            return;
    }
}

}  // namespace

void mark_constant_expressions(Body& body) {
    for (StmtPtr& s : body) mark_stmt(s.get());
}

bool expr_references_name(const Expr* expr, std::string_view name) {
    return expr_refs(expr, name);
}

bool references_name(const Body& body, std::string_view name) {
    for (const StmtPtr& s : body) {
        if (stmt_refs(s.get(), name)) return true;
    }
    return false;
}

}  // namespace qinfer::jinja
