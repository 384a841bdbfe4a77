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
        case ExprKind::NsRef: return false;
        case ExprKind::Name: return static_cast<const NameExpr*>(e)->name == name;
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
        case ExprKind::GetAttr: return expr_refs(static_cast<const GetAttrExpr*>(e)->object.get(), name);
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
        case ExprKind::Unary: return expr_refs(static_cast<const UnaryExpr*>(e)->operand.get(), name);
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
        case StmtKind::Continue: return false;
        case StmtKind::Output: return expr_refs(static_cast<const OutputStmt*>(s)->expr.get(), name);
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
        case StmtKind::Set: return expr_refs(static_cast<const SetStmt*>(s)->value.get(), name);
        case StmtKind::SetBlock: {
            auto* x = static_cast<const SetBlockStmt*>(s);
            return expr_refs(x->filter.get(), name) || references_name(x->body, name);
        }
        case StmtKind::Macro: return macro_refs(static_cast<const MacroStmt*>(s)->def, name);
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
        case StmtKind::Scope: return references_name(static_cast<const ScopeStmt*>(s)->body, name);
    }
    return false;
}

}  // namespace

bool expr_references_name(const Expr* expr, std::string_view name) { return expr_refs(expr, name); }

bool references_name(const Body& body, std::string_view name) {
    for (const StmtPtr& s : body) {
        if (stmt_refs(s.get(), name)) return true;
    }
    return false;
}

}  // namespace qinfer::jinja
