// defines: qinfer::jinja::analyze_scopes (jinja2's idtracking: which names a frame starts as undefined)
//
// jinja2 compiles each frame (the template, a for-loop body or else block, a macro or call-block body, with,
// filter and set blocks) to Python locals. A name assigned in a frame is local to the whole frame, like in Python:
// when the frame's first reference to it is the assignment and no enclosing frame knows the name, it starts
// undefined, even if the render context has a value of that name. So in
//     {% for m in messages %}{{ tools }}{% endfor %}{% set tools = [] %}
// the loop prints nothing although `tools` was passed in. Everything else (reading a value set earlier, reading
// the context, set inside a loop not leaking out) follows from ordinary nested scopes; this pass only finds the
// names that must be bound to undefined when a frame is entered. It mirrors jinja2/idtracking.py (Symbols,
// FrameSymbolVisitor, RootVisitor).

#include <map>
#include <set>

#include "chat/jinja/scoping.h"

namespace qinfer::jinja {

namespace {

enum class Load { Parameter, Resolve, Alias, Undefined };

struct Symbols {
    const Symbols* parent = nullptr;
    std::map<std::string, Load> refs;
    std::set<std::string> stores;

    bool find_ref(const std::string& name) const {
        for (const Symbols* s = this; s; s = s->parent) {
            if (s->refs.count(name)) return true;
        }
        return false;
    }
    void load(const std::string& name) {
        if (!find_ref(name)) refs[name] = Load::Resolve;
    }
    void store(const std::string& name) {
        stores.insert(name);
        if (refs.count(name)) return;
        refs[name] = (parent && parent->find_ref(name)) ? Load::Alias : Load::Undefined;
    }
    void declare_parameter(const std::string& name) {
        stores.insert(name);
        refs[name] = Load::Parameter;
    }
    // Names first stored in an if/elif/else branch: taken from the enclosing frame or the context, not undefined.
    void branch_update(const std::vector<Symbols>& branches) {
        std::set<std::string> new_stores;
        for (const Symbols& b : branches) {
            for (const std::string& n : b.stores) {
                if (!stores.count(n)) new_stores.insert(n);
            }
        }
        for (const Symbols& b : branches) {
            for (const auto& kv : b.refs) refs[kv.first] = kv.second;
            stores.insert(b.stores.begin(), b.stores.end());
        }
        for (const std::string& n : new_stores) refs[n] = (parent && parent->find_ref(n)) ? Load::Alias : Load::Resolve;
    }
    std::vector<std::string> undefined_names() const {
        std::vector<std::string> out;
        for (const auto& kv : refs) {
            if (kv.second == Load::Undefined) out.push_back(kv.first);
        }
        return out;
    }
};

// FrameSymbolVisitor: the loads and stores of one frame; child frames are collected for later.
class FrameVisitor {
public:
    FrameVisitor(Symbols& s, std::vector<Stmt*>& children) : sym_(&s), children_(children) {}

    void expr(const Expr* e) {
        if (!e) return;
        switch (e->kind) {
            case ExprKind::Const:
                return;
            case ExprKind::Name:
                sym_->load(static_cast<const NameExpr*>(e)->name);
                return;
            case ExprKind::NsRef:
                sym_->load(static_cast<const NsRefExpr*>(e)->ns);
                return;
            case ExprKind::List:
                for (const ExprPtr& x : static_cast<const ListExpr*>(e)->items) expr(x.get());
                return;
            case ExprKind::Dict:
                for (const auto& kv : static_cast<const DictExpr*>(e)->items) {
                    expr(kv.first.get());
                    expr(kv.second.get());
                }
                return;
            case ExprKind::GetAttr:
                expr(static_cast<const GetAttrExpr*>(e)->object.get());
                return;
            case ExprKind::GetItem: {
                auto* g = static_cast<const GetItemExpr*>(e);
                expr(g->object.get());
                expr(g->key.get());
                return;
            }
            case ExprKind::Slice: {
                auto* s = static_cast<const SliceExpr*>(e);
                expr(s->start.get());
                expr(s->stop.get());
                expr(s->step.get());
                return;
            }
            case ExprKind::Call: {
                auto* c = static_cast<const CallExpr*>(e);
                expr(c->callee.get());
                args(c->args);
                return;
            }
            case ExprKind::Filter: {
                auto* f = static_cast<const FilterExpr*>(e);
                expr(f->input.get());
                args(f->args);
                return;
            }
            case ExprKind::Test: {
                auto* t = static_cast<const TestExpr*>(e);
                expr(t->input.get());
                args(t->args);
                return;
            }
            case ExprKind::Unary:
                expr(static_cast<const UnaryExpr*>(e)->operand.get());
                return;
            case ExprKind::Binary: {
                auto* b = static_cast<const BinaryExpr*>(e);
                expr(b->left.get());
                expr(b->right.get());
                return;
            }
            case ExprKind::Concat:
                for (const ExprPtr& x : static_cast<const ConcatExpr*>(e)->parts) expr(x.get());
                return;
            case ExprKind::Compare: {
                auto* c = static_cast<const CompareExpr*>(e);
                expr(c->first.get());
                for (const auto& r : c->rest) expr(r.second.get());
                return;
            }
            case ExprKind::CondExpr: {
                auto* c = static_cast<const CondExpr*>(e);
                expr(c->then.get());
                expr(c->test.get());
                expr(c->otherwise.get());
                return;
            }
        }
    }

    // Assignment targets: names are stores, ns.attr a load of ns.
    void target(const Expr* e) {
        if (e->kind == ExprKind::Name) {
            sym_->store(static_cast<const NameExpr*>(e)->name);
        } else if (e->kind == ExprKind::NsRef) {
            sym_->load(static_cast<const NsRefExpr*>(e)->ns);
        } else if (e->kind == ExprKind::List) {
            for (const ExprPtr& x : static_cast<const ListExpr*>(e)->items) target(x.get());
        }
    }

    void params(const Expr* e) {
        if (e->kind == ExprKind::Name) {
            sym_->declare_parameter(static_cast<const NameExpr*>(e)->name);
        } else if (e->kind == ExprKind::List) {
            for (const ExprPtr& x : static_cast<const ListExpr*>(e)->items) params(x.get());
        }
    }

    void body(const Body& b) {
        for (const StmtPtr& s : b) stmt(s.get());
    }

    void stmt(Stmt* s) {
        switch (s->kind) {
            case StmtKind::Data:
            case StmtKind::Break:
            case StmtKind::Continue:
                return;
            case StmtKind::Output:
                expr(static_cast<OutputStmt*>(s)->expr.get());
                return;
            case StmtKind::If:
                if_chain(static_cast<IfStmt*>(s), 0, true);
                return;
            case StmtKind::For:
                expr(static_cast<ForStmt*>(s)->iter.get());
                children_.push_back(s);
                return;
            case StmtKind::Set: {
                auto* x = static_cast<SetStmt*>(s);
                expr(x->value.get());
                target(x->target.get());
                return;
            }
            case StmtKind::SetBlock:
                target(static_cast<SetBlockStmt*>(s)->target.get());
                children_.push_back(s);
                return;
            case StmtKind::Macro:
                sym_->store(static_cast<MacroStmt*>(s)->def.name);
                children_.push_back(s);
                return;
            case StmtKind::CallBlock:
                expr(static_cast<CallBlockStmt*>(s)->call.get());
                children_.push_back(s);
                return;
            case StmtKind::FilterBlock:
                expr(static_cast<FilterBlockStmt*>(s)->filter.get());
                children_.push_back(s);
                return;
            case StmtKind::With:
                for (const ExprPtr& v : static_cast<WithStmt*>(s)->values) expr(v.get());
                children_.push_back(s);
                return;
            case StmtKind::Scope:
                children_.push_back(s);
                return;
        }
    }

private:
    // jinja2's If node: test, body, the elif If nodes (one branch), else. Branches are analysed on copies.
    void if_chain(IfStmt* s, size_t k, bool with_else) {
        expr(s->branches[k].first.get());
        Symbols* original = sym_;
        auto branch = [&](auto&& visit) {
            Symbols copy = *original;
            sym_ = &copy;
            visit();
            sym_ = original;
            return copy;
        };
        Symbols body_sym = branch([&] { body(s->branches[k].second); });
        Symbols elif_sym = branch([&] {
            if (k == 0) {
                for (size_t i = 1; i < s->branches.size(); ++i) if_chain(s, i, false);
            }
        });
        Symbols else_sym = branch([&] {
            if (with_else) body(s->else_body);
        });
        sym_->branch_update({body_sym, elif_sym, else_sym});
    }

    void args(const ArgList& a) {
        for (const ExprPtr& x : a.positional) expr(x.get());
        for (const auto& kv : a.keyword) expr(kv.second.get());
        expr(a.star_args.get());
        expr(a.star_kwargs.get());
    }

    Symbols* sym_;
    std::vector<Stmt*>& children_;
};

void analyze_child(const Symbols& parent, Stmt* s);

// Analyses one frame: `visit` declares its parameters and visits its nodes; returns the names it starts
// undefined, after analysing the frames nested in it.
template <class Visit>
std::vector<std::string> analyze_frame(const Symbols* parent, Visit&& visit) {
    Symbols sym;
    sym.parent = parent;
    std::vector<Stmt*> children;
    FrameVisitor v(sym, children);
    visit(v, sym);
    for (Stmt* c : children) analyze_child(sym, c);
    return sym.undefined_names();
}

void analyze_macro(const Symbols& parent, MacroDef& def) {
    def.undefined_on_entry = analyze_frame(&parent, [&](FrameVisitor& v, Symbols& sym) {
        for (const std::string& p : def.params) sym.declare_parameter(p);
        for (const ExprPtr& d : def.defaults) v.expr(d.get());
        for (const char* implicit : {"varargs", "kwargs", "caller"}) sym.declare_parameter(implicit);
        v.body(def.body);
    });
}

void analyze_child(const Symbols& parent, Stmt* s) {
    switch (s->kind) {
        case StmtKind::For: {
            auto* x = static_cast<ForStmt*>(s);
            x->body_undefined = analyze_frame(&parent, [&](FrameVisitor& v, Symbols& sym) {
                v.params(x->target.get());
                sym.declare_parameter("loop");
                v.body(x->body);
            });
            x->else_undefined = analyze_frame(&parent, [&](FrameVisitor& v, Symbols&) { v.body(x->else_body); });
            return;
        }
        case StmtKind::Macro:
            analyze_macro(parent, static_cast<MacroStmt*>(s)->def);
            return;
        case StmtKind::CallBlock:
            analyze_macro(parent, static_cast<CallBlockStmt*>(s)->caller);
            return;
        case StmtKind::FilterBlock: {
            auto* x = static_cast<FilterBlockStmt*>(s);
            x->undefined_on_entry = analyze_frame(&parent, [&](FrameVisitor& v, Symbols&) {
                v.expr(x->filter.get());
                v.body(x->body);
            });
            return;
        }
        case StmtKind::With: {
            auto* x = static_cast<WithStmt*>(s);
            x->undefined_on_entry = analyze_frame(&parent, [&](FrameVisitor& v, Symbols&) {
                for (const ExprPtr& t : x->targets) v.params(t.get());
                v.body(x->body);
            });
            return;
        }
        case StmtKind::SetBlock: {
            auto* x = static_cast<SetBlockStmt*>(s);
            x->undefined_on_entry = analyze_frame(&parent, [&](FrameVisitor& v, Symbols&) { v.body(x->body); });
            return;
        }
        case StmtKind::Scope: {
            auto* x = static_cast<ScopeStmt*>(s);
            x->undefined_on_entry = analyze_frame(&parent, [&](FrameVisitor& v, Symbols&) { v.body(x->body); });
            return;
        }
        case StmtKind::Data:
        case StmtKind::Output:
        case StmtKind::If:
        case StmtKind::Set:
        case StmtKind::Break:
        case StmtKind::Continue:
            return;
    }
}

}  // namespace

std::vector<std::string> analyze_scopes(Body& template_body) {
    return analyze_frame(nullptr, [&](FrameVisitor& v, Symbols&) { v.body(template_body); });
}

}  // namespace qinfer::jinja
