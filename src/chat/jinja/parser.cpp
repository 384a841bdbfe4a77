// defines: qinfer::jinja::parse_template (jinja2's grammar; see parser.h)

#include "chat/jinja/parser.h"

#include <initializer_list>

#include "chat/jinja/builtins.h"

namespace qinfer::jinja {

namespace {

class Parser {
public:
    Parser(const std::vector<Token>& tokens, const std::string& name) : toks_(tokens), name_(name) {}

    Body parse() {
        Body body = subparse({});
        mark_constant_expressions(body);
        return body;
    }

private:
    using EndTags = std::initializer_list<const char*>;

    // ---- token stream

    const Token& cur() const { return toks_[i_]; }
    const Token& look() const { return toks_[i_ + 1 < toks_.size() ? i_ + 1 : i_]; }
    const Token& next() {
        const Token& t = toks_[i_];
        if (i_ + 1 < toks_.size()) ++i_;
        return t;
    }
    bool is_op(const char* op) const { return cur().type == TokenType::Operator && cur().value == op; }
    bool is_name(const char* n) const { return cur().type == TokenType::Name && cur().value == n; }
    bool skip_op(const char* op) {
        if (!is_op(op)) return false;
        next();
        return true;
    }
    bool skip_name(const char* n) {
        if (!is_name(n)) return false;
        next();
        return true;
    }

    [[noreturn]] void fail(const std::string& msg) const { throw TemplateError(name_, cur().pos, msg); }
    [[noreturn]] void fail_at(SourcePos p, const std::string& msg) const { throw TemplateError(name_, p, msg); }

    const Token& expect_op(const char* op) {
        if (!is_op(op)) fail(str_cat("expected '", op, "', got ", describe_token(cur())));
        return next();
    }
    const Token& expect_name() {
        if (cur().type != TokenType::Name) fail(str_cat("expected a name, got ", describe_token(cur())));
        return next();
    }
    void expect_name(const char* n) {
        if (!is_name(n)) fail(str_cat("expected '", n, "', got ", describe_token(cur())));
        next();
    }
    void expect_type(TokenType t) {
        if (cur().type != t) {
            Token want;
            want.type = t;
            fail(str_cat("expected ", describe_token(want), ", got ", describe_token(cur())));
        }
        next();
    }

    // ---- templates and statements

    static std::string tags_text(const std::vector<std::string>& tags) {
        std::string s;
        for (size_t k = 0; k < tags.size(); ++k) s += (k ? " or '" : "'") + tags[k] + "'";
        return s;
    }

    [[noreturn]] void fail_eof() const {
        std::string msg = "unexpected end of template";
        if (!end_stack_.empty()) msg += "; jinja was looking for " + tags_text(end_stack_.back());
        if (!tag_stack_.empty()) msg += "; the innermost block that needs to be closed is '" + tag_stack_.back() + "'";
        fail(msg);
    }

    Body subparse(const std::vector<std::string>& end_tags) {
        Body body;
        if (!end_tags.empty()) end_stack_.push_back(end_tags);
        while (true) {
            const Token& t = cur();
            switch (t.type) {
                case TokenType::Data:
                    body.push_back(std::make_unique<DataStmt>(t.pos, t.value));
                    next();
                    break;
                case TokenType::VariableBegin: {
                    SourcePos p = next().pos;
                    ExprPtr e = parse_tuple(false, true, {}, false, false);
                    expect_type(TokenType::VariableEnd);
                    body.push_back(std::make_unique<OutputStmt>(p, std::move(e)));
                    break;
                }
                case TokenType::BlockBegin: {
                    next();
                    if (!end_tags.empty() && cur().type == TokenType::Name) {
                        for (const std::string& e : end_tags) {
                            if (cur().value == e) {
                                end_stack_.pop_back();
                                return body;
                            }
                        }
                    }
                    parse_statement(body);
                    expect_type(TokenType::BlockEnd);
                    break;
                }
                case TokenType::Eof:
                    if (!end_tags.empty()) fail_eof();
                    return body;
                case TokenType::VariableEnd:
                case TokenType::BlockEnd:
                case TokenType::Name:
                case TokenType::String:
                case TokenType::Integer:
                case TokenType::Float:
                case TokenType::Operator:
                    fail(str_cat("unexpected ", describe_token(t)));
            }
        }
    }

    // Body of a statement up to one of `end_tags`; the current token is then that tag (consumed if drop_needle).
    Body parse_statements(const std::vector<std::string>& end_tags, bool drop_needle) {
        skip_op(":");
        expect_type(TokenType::BlockEnd);
        Body body = subparse(end_tags);
        if (drop_needle) next();
        return body;
    }

    void parse_statement(Body& out) {
        if (tag_stack_.size() >= 200) fail("statements nested too deeply");
        const Token& t = cur();
        if (t.type != TokenType::Name) fail("tag name expected");
        const std::string tag = t.value;
        tag_stack_.push_back(tag);
        if (tag == "for") {
            out.push_back(parse_for());
        } else if (tag == "if") {
            out.push_back(parse_if());
        } else if (tag == "set") {
            out.push_back(parse_set());
        } else if (tag == "macro") {
            out.push_back(parse_macro());
        } else if (tag == "call") {
            out.push_back(parse_call_block());
        } else if (tag == "filter") {
            out.push_back(parse_filter_block());
        } else if (tag == "with") {
            out.push_back(parse_with());
        } else if (tag == "print") {
            SourcePos p = next().pos;
            bool first = true;
            while (cur().type != TokenType::BlockEnd) {
                if (!first) expect_op(",");
                first = false;
                out.push_back(std::make_unique<OutputStmt>(p, parse_expression(true)));
            }
        } else if (tag == "break" || tag == "continue") {
            SourcePos p = next().pos;
            if (loop_depth_ == 0) fail_at(p, str_cat("'", tag, "' outside of a loop"));
            out.push_back(std::make_unique<LoopControlStmt>(p, tag == "break"));
        } else if (tag == "generation") {
            // transformers' AssistantTracker: renders its body (as a call block, so in its own scope)
            auto s = std::make_unique<ScopeStmt>(next().pos);
            int saved = loop_depth_;
            loop_depth_ = 0;
            s->body = parse_statements({"endgeneration"}, true);
            loop_depth_ = saved;
            out.push_back(std::move(s));
        } else if (tag == "block" || tag == "extends" || tag == "include" || tag == "import" || tag == "from" ||
                   tag == "autoescape") {
            fail(str_cat("the '", tag, "' statement is not supported by this chat-template interpreter"));
        } else {
            tag_stack_.pop_back();
            std::string msg = str_cat("encountered unknown tag '", tag, "'");
            for (auto it = end_stack_.rbegin(); it != end_stack_.rend(); ++it) {
                for (const std::string& e : *it) {
                    if (e == tag) {
                        msg += "; you probably made a nesting mistake: jinja is looking for " +
                               tags_text(end_stack_.back());
                        if (!tag_stack_.empty()) msg += " to close '" + tag_stack_.back() + "'";
                        fail(msg);
                    }
                }
            }
            if (!end_stack_.empty()) msg += "; jinja was looking for " + tags_text(end_stack_.back());
            fail(msg);
        }
        tag_stack_.pop_back();
    }

    StmtPtr parse_for() {
        auto s = std::make_unique<ForStmt>(next().pos);
        s->target = parse_assign_target(true, false, {"in"}, false);
        expect_name("in");
        s->iter = parse_tuple(false, false, {"recursive"}, false, false);
        if (skip_name("if")) s->filter = parse_expression(true);
        if (is_name("recursive")) fail("recursive for loops are not supported by this chat-template interpreter");
        ++loop_depth_;
        s->body = parse_statements({"endfor", "else"}, false);
        --loop_depth_;
        if (next().value == "else") s->else_body = parse_statements({"endfor"}, true);
        return s;
    }

    StmtPtr parse_if() {
        auto s = std::make_unique<IfStmt>(next().pos);
        while (true) {
            ExprPtr test = parse_tuple(false, false, {}, false, false);
            Body body = parse_statements({"elif", "else", "endif"}, false);
            s->branches.emplace_back(std::move(test), std::move(body));
            const Token& t = next();
            if (t.value == "elif") continue;
            if (t.value == "else") s->else_body = parse_statements({"endif"}, true);
            break;
        }
        return s;
    }

    StmtPtr parse_set() {
        SourcePos p = next().pos;
        ExprPtr target = parse_assign_target(true, false, {}, true);
        if (skip_op("=")) {
            auto s = std::make_unique<SetStmt>(p);
            s->target = std::move(target);
            s->value = parse_tuple(false, true, {}, false, false);
            return s;
        }
        auto s = std::make_unique<SetBlockStmt>(p);
        s->target = std::move(target);
        s->filter = parse_filter(nullptr, false);
        s->body = parse_statements({"endset"}, true);
        return s;
    }

    void parse_signature(MacroDef& def) {
        expect_op("(");
        while (!is_op(")")) {
            if (!def.params.empty()) expect_op(",");
            def.params.push_back(expect_name().value);
            if (skip_op("=")) {
                def.defaults.push_back(parse_expression(true));
            } else if (!def.defaults.empty()) {
                fail("non-default argument follows default argument");
            }
        }
        expect_op(")");
    }

    void parse_macro_body(MacroDef& def, const char* end_tag) {
        int saved = loop_depth_;
        loop_depth_ = 0;
        def.body = parse_statements({end_tag}, true);
        loop_depth_ = saved;
        def.uses_varargs = macro_uses(def, "varargs");
        def.uses_kwargs = macro_uses(def, "kwargs");
        def.uses_caller = macro_uses(def, "caller");
    }

    static bool macro_uses(const MacroDef& def, std::string_view name) {
        for (const ExprPtr& d : def.defaults) {
            if (expr_references_name(d.get(), name)) return true;
        }
        return references_name(def.body, name);
    }

    StmtPtr parse_macro() {
        auto s = std::make_unique<MacroStmt>(next().pos);
        s->def.pos = s->pos;
        s->def.name = expect_name().value;
        parse_signature(s->def);
        parse_macro_body(s->def, "endmacro");
        return s;
    }

    StmtPtr parse_call_block() {
        auto s = std::make_unique<CallBlockStmt>(next().pos);
        s->caller.name = "caller";
        s->caller.pos = s->pos;
        if (is_op("(")) parse_signature(s->caller);
        s->call = parse_expression(true);
        if (s->call->kind != ExprKind::Call) fail_at(s->pos, "expected a call after 'call'");
        parse_macro_body(s->caller, "endcall");
        return s;
    }

    StmtPtr parse_filter_block() {
        auto s = std::make_unique<FilterBlockStmt>(next().pos);
        s->filter = parse_filter(nullptr, true);
        s->body = parse_statements({"endfilter"}, true);
        return s;
    }

    StmtPtr parse_with() {
        auto s = std::make_unique<WithStmt>(next().pos);
        while (cur().type != TokenType::BlockEnd) {
            if (!s->targets.empty()) expect_op(",");
            s->targets.push_back(parse_assign_target(true, false, {}, false));
            expect_op("=");
            s->values.push_back(parse_expression(true));
        }
        s->body = parse_statements({"endwith"}, true);
        return s;
    }

    // ---- expressions

    ExprPtr parse_assign_target(bool with_tuple, bool name_only, std::initializer_list<const char*> extra_end,
                                bool with_namespace) {
        ExprPtr target;
        if (name_only) {
            const Token& t = expect_name();
            target = std::make_unique<NameExpr>(t.pos, t.value);
        } else if (with_tuple) {
            target = parse_tuple(true, true, extra_end, false, with_namespace);
        } else {
            target = parse_primary(with_namespace);
        }
        check_assignable(target.get());
        return target;
    }

    void check_assignable(const Expr* e) const {
        if (e->kind == ExprKind::Name) {
            const std::string& n = static_cast<const NameExpr*>(e)->name;
            if (n == "true" || n == "false" || n == "none" || n == "True" || n == "False" || n == "None") {
                fail_at(e->pos, "can't assign to a constant");
            }
            return;
        }
        if (e->kind == ExprKind::NsRef) return;
        if (e->kind == ExprKind::List && static_cast<const ListExpr*>(e)->tuple) {
            for (const ExprPtr& x : static_cast<const ListExpr*>(e)->items) check_assignable(x.get());
            return;
        }
        fail_at(e->pos, "can't assign to this expression");
    }

    bool is_tuple_end(std::initializer_list<const char*> extra_end) const {
        if (cur().type == TokenType::VariableEnd || cur().type == TokenType::BlockEnd || is_op(")")) return true;
        for (const char* n : extra_end) {
            if (is_name(n)) return true;
        }
        return false;
    }

    ExprPtr parse_tuple(bool simplified, bool with_condexpr, std::initializer_list<const char*> extra_end,
                        bool explicit_parentheses, bool with_namespace) {
        SourcePos p = cur().pos;
        std::vector<ExprPtr> args;
        bool is_tuple = false;
        while (true) {
            if (!args.empty()) expect_op(",");
            if (is_tuple_end(extra_end)) break;
            args.push_back(simplified ? parse_primary(with_namespace) : parse_expression(with_condexpr));
            if (is_op(",")) {
                is_tuple = true;
            } else {
                break;
            }
        }
        if (!is_tuple) {
            if (!args.empty()) return std::move(args[0]);
            if (!explicit_parentheses) fail(str_cat("expected an expression, got ", describe_token(cur())));
        }
        auto t = std::make_unique<ListExpr>(p, true);
        t->items = std::move(args);
        return t;
    }

    // Bounds the recursion of the expression parser (and so of the evaluator) to protect the native stack.
    struct NestingGuard {
        Parser& p;
        explicit NestingGuard(Parser& parser) : p(parser) {
            if (++p.nesting_ > 600) p.fail("expression nested too deeply");
        }
        ~NestingGuard() { --p.nesting_; }
    };

    ExprPtr parse_expression(bool with_condexpr) {
        NestingGuard guard(*this);
        return with_condexpr ? parse_condexpr() : parse_or();
    }

    ExprPtr parse_condexpr() {
        SourcePos p = cur().pos;
        ExprPtr expr1 = parse_or();
        while (skip_name("if")) {
            ExprPtr expr2 = parse_or();
            ExprPtr expr3;
            if (skip_name("else")) expr3 = parse_condexpr();
            expr1 = std::make_unique<CondExpr>(p, std::move(expr2), std::move(expr1), std::move(expr3));
            p = cur().pos;
        }
        return expr1;
    }

    ExprPtr parse_or() {
        SourcePos p = cur().pos;
        ExprPtr left = parse_and();
        while (skip_name("or")) left = std::make_unique<BinaryExpr>(p, BinaryOp::Or, std::move(left), parse_and());
        return left;
    }

    ExprPtr parse_and() {
        SourcePos p = cur().pos;
        ExprPtr left = parse_not();
        while (skip_name("and")) left = std::make_unique<BinaryExpr>(p, BinaryOp::And, std::move(left), parse_not());
        return left;
    }

    ExprPtr parse_not() {
        NestingGuard guard(*this);
        if (is_name("not")) {
            SourcePos p = next().pos;
            return std::make_unique<UnaryExpr>(p, UnaryOp::Not, parse_not());
        }
        return parse_compare();
    }

    ExprPtr parse_compare() {
        SourcePos p = cur().pos;
        ExprPtr expr = parse_math1();
        std::unique_ptr<CompareExpr> cmp;
        auto add = [&](CompareOp op) {
            if (!cmp) cmp = std::make_unique<CompareExpr>(p, std::move(expr));
            cmp->rest.emplace_back(op, parse_math1());
        };
        while (true) {
            if (is_op("==")) {
                next();
                add(CompareOp::Eq);
            } else if (is_op("!=")) {
                next();
                add(CompareOp::Ne);
            } else if (is_op("<")) {
                next();
                add(CompareOp::Lt);
            } else if (is_op("<=")) {
                next();
                add(CompareOp::Le);
            } else if (is_op(">")) {
                next();
                add(CompareOp::Gt);
            } else if (is_op(">=")) {
                next();
                add(CompareOp::Ge);
            } else if (skip_name("in")) {
                add(CompareOp::In);
            } else if (is_name("not") && look().type == TokenType::Name && look().value == "in") {
                next();
                next();
                add(CompareOp::NotIn);
            } else {
                break;
            }
        }
        if (!cmp) return expr;
        return cmp;
    }

    ExprPtr parse_math1() {
        SourcePos p = cur().pos;
        ExprPtr left = parse_concat();
        while (is_op("+") || is_op("-")) {
            BinaryOp op = next().value == "+" ? BinaryOp::Add : BinaryOp::Sub;
            left = std::make_unique<BinaryExpr>(p, op, std::move(left), parse_concat());
        }
        return left;
    }

    ExprPtr parse_concat() {
        SourcePos p = cur().pos;
        ExprPtr first = parse_math2();
        if (!is_op("~")) return first;
        auto c = std::make_unique<ConcatExpr>(p);
        c->parts.push_back(std::move(first));
        while (skip_op("~")) c->parts.push_back(parse_math2());
        return c;
    }

    ExprPtr parse_math2() {
        SourcePos p = cur().pos;
        ExprPtr left = parse_pow();
        while (is_op("*") || is_op("/") || is_op("//") || is_op("%")) {
            const std::string op = next().value;
            BinaryOp b = op == "*"    ? BinaryOp::Mul
                         : op == "/"  ? BinaryOp::Div
                         : op == "//" ? BinaryOp::FloorDiv
                                      : BinaryOp::Mod;
            left = std::make_unique<BinaryExpr>(p, b, std::move(left), parse_pow());
        }
        return left;
    }

    ExprPtr parse_pow() {
        SourcePos p = cur().pos;
        ExprPtr left = parse_unary(true);
        while (skip_op("**")) left = std::make_unique<BinaryExpr>(p, BinaryOp::Pow, std::move(left), parse_unary(true));
        return left;
    }

    ExprPtr parse_unary(bool with_filter) {
        SourcePos p = cur().pos;
        NestingGuard guard(*this);
        ExprPtr node;
        if (skip_op("-")) {
            node = std::make_unique<UnaryExpr>(p, UnaryOp::Neg, parse_unary(false));
        } else if (skip_op("+")) {
            node = std::make_unique<UnaryExpr>(p, UnaryOp::Pos, parse_unary(false));
        } else {
            node = parse_primary(false);
        }
        node = parse_postfix(std::move(node));
        if (with_filter) node = parse_filter_expr(std::move(node));
        return node;
    }

    ExprPtr parse_primary(bool with_namespace) {
        const Token& t = cur();
        SourcePos p = t.pos;
        switch (t.type) {
            case TokenType::Name: {
                std::string n = next().value;
                if (n == "true" || n == "True") return std::make_unique<ConstExpr>(p, Value::boolean(true));
                if (n == "false" || n == "False") return std::make_unique<ConstExpr>(p, Value::boolean(false));
                if (n == "none" || n == "None") return std::make_unique<ConstExpr>(p, Value::none());
                if (with_namespace && is_op(".")) {
                    next();
                    return std::make_unique<NsRefExpr>(p, n, expect_name().value);
                }
                return std::make_unique<NameExpr>(p, n);
            }
            case TokenType::String: {
                std::string s;
                while (cur().type == TokenType::String) s += next().value;
                return std::make_unique<ConstExpr>(p, Value::string(s));
            }
            case TokenType::Integer:
                return std::make_unique<ConstExpr>(p, Value::integer(next().int_value));
            case TokenType::Float:
                return std::make_unique<ConstExpr>(p, Value::floating(next().float_value));
            case TokenType::Operator:
                if (skip_op("(")) {
                    ExprPtr e = parse_tuple(false, true, {}, true, false);
                    expect_op(")");
                    return e;
                }
                if (is_op("[")) return parse_list();
                if (is_op("{")) return parse_dict();
                break;
            case TokenType::Data:
            case TokenType::VariableBegin:
            case TokenType::VariableEnd:
            case TokenType::BlockBegin:
            case TokenType::BlockEnd:
            case TokenType::Eof:
                break;
        }
        fail(str_cat("unexpected ", describe_token(t)));
    }

    ExprPtr parse_list() {
        auto l = std::make_unique<ListExpr>(expect_op("[").pos, false);
        while (!is_op("]")) {
            if (!l->items.empty()) expect_op(",");
            if (is_op("]")) break;
            l->items.push_back(parse_expression(true));
        }
        expect_op("]");
        return l;
    }

    ExprPtr parse_dict() {
        auto d = std::make_unique<DictExpr>(expect_op("{").pos);
        while (!is_op("}")) {
            if (!d->items.empty()) expect_op(",");
            if (is_op("}")) break;
            ExprPtr key = parse_expression(true);
            expect_op(":");
            d->items.emplace_back(std::move(key), parse_expression(true));
        }
        expect_op("}");
        return d;
    }

    ExprPtr parse_postfix(ExprPtr node) {
        while (true) {
            if (is_op(".") || is_op("[")) {
                node = parse_subscript(std::move(node));
            } else if (is_op("(")) {
                node = parse_call(std::move(node));
            } else {
                return node;
            }
        }
    }

    ExprPtr parse_filter_expr(ExprPtr node) {
        while (true) {
            if (is_op("|")) {
                node = parse_filter(std::move(node), false);
            } else if (is_name("is")) {
                node = parse_test(std::move(node));
            } else if (is_op("(")) {
                node = parse_call(std::move(node));
            } else {
                return node;
            }
        }
    }

    ExprPtr parse_subscript(ExprPtr node) {
        const Token& t = next();
        SourcePos p = t.pos;
        if (t.value == ".") {
            const Token& attr = next();
            if (attr.type == TokenType::Name) return std::make_unique<GetAttrExpr>(p, std::move(node), attr.value);
            if (attr.type != TokenType::Integer) fail_at(attr.pos, "expected name or number after '.'");
            return std::make_unique<GetItemExpr>(p, std::move(node),
                                                 std::make_unique<ConstExpr>(attr.pos, Value::integer(attr.int_value)));
        }
        std::vector<ExprPtr> args;
        while (!is_op("]")) {
            if (!args.empty()) expect_op(",");
            args.push_back(parse_subscribed());
        }
        expect_op("]");
        if (args.size() == 1) return std::make_unique<GetItemExpr>(p, std::move(node), std::move(args[0]));
        auto t2 = std::make_unique<ListExpr>(p, true);
        t2->items = std::move(args);
        return std::make_unique<GetItemExpr>(p, std::move(node), std::move(t2));
    }

    ExprPtr parse_subscribed() {
        SourcePos p = cur().pos;
        auto s = std::make_unique<SliceExpr>(p);
        if (skip_op(":")) {
            // [:...]
        } else {
            ExprPtr e = parse_expression(true);
            if (!is_op(":")) return e;
            next();
            s->start = std::move(e);
        }
        if (!is_op(":") && !is_op("]") && !is_op(",")) s->stop = parse_expression(true);
        if (skip_op(":")) {
            if (!is_op("]") && !is_op(",")) s->step = parse_expression(true);
        }
        return s;
    }

    ArgList parse_call_args() {
        ArgList a;
        expect_op("(");
        bool require_comma = false;
        while (!is_op(")")) {
            if (require_comma) {
                expect_op(",");
                if (is_op(")")) break;
            }
            if (skip_op("*")) {
                if (a.star_args || a.star_kwargs) fail("invalid syntax for function call expression");
                a.star_args = parse_expression(true);
            } else if (skip_op("**")) {
                if (a.star_kwargs) fail("invalid syntax for function call expression");
                a.star_kwargs = parse_expression(true);
            } else if (cur().type == TokenType::Name && look().type == TokenType::Operator && look().value == "=") {
                if (a.star_kwargs) fail("invalid syntax for function call expression");
                std::string key = next().value;
                next();
                a.keyword.emplace_back(key, parse_expression(true));
            } else {
                if (a.star_args || a.star_kwargs || !a.keyword.empty())
                    fail("invalid syntax for function call expression");
                a.positional.push_back(parse_expression(true));
            }
            require_comma = true;
        }
        expect_op(")");
        return a;
    }

    ExprPtr parse_call(ExprPtr node) {
        SourcePos p = cur().pos;
        auto c = std::make_unique<CallExpr>(p, std::move(node));
        c->args = parse_call_args();
        return c;
    }

    std::string parse_dotted_name() {
        std::string n = expect_name().value;
        while (skip_op(".")) n += "." + expect_name().value;
        return n;
    }

    // `| f(args) | g` after `node` (node null: the chain starts a filter block / block set).
    ExprPtr parse_filter(ExprPtr node, bool start_inline) {
        while (is_op("|") || start_inline) {
            if (!start_inline) next();
            start_inline = false;
            SourcePos p = cur().pos;
            std::string n = parse_dotted_name();
            if (!jinja2_has_filter(n)) fail_at(p, str_cat("no filter named '", n, "'"));
            auto f = std::make_unique<FilterExpr>(p, std::move(node), n);
            if (is_op("(")) f->args = parse_call_args();
            node = std::move(f);
        }
        return node;
    }

    ExprPtr parse_test(ExprPtr node) {
        SourcePos p = next().pos;  // 'is'
        bool negated = skip_name("not");
        SourcePos name_pos = cur().pos;
        std::string n = parse_dotted_name();
        if (!jinja2_has_test(n)) fail_at(name_pos, str_cat("no test named '", n, "'"));
        auto t = std::make_unique<TestExpr>(p, std::move(node), n);
        const Token& c = cur();
        bool bare_arg = c.type == TokenType::Name || c.type == TokenType::String || c.type == TokenType::Integer ||
                        c.type == TokenType::Float || is_op("[") || is_op("{");
        if (is_op("(")) {
            t->args = parse_call_args();
        } else if (bare_arg && !is_name("else") && !is_name("or") && !is_name("and")) {
            if (is_name("is")) fail("you cannot chain multiple tests with 'is'");
            t->args.positional.push_back(parse_postfix(parse_primary(false)));
        }
        if (negated) return std::make_unique<UnaryExpr>(p, UnaryOp::Not, std::move(t));
        return t;
    }

    const std::vector<Token>& toks_;
    const std::string& name_;
    size_t i_ = 0;
    int loop_depth_ = 0;
    int nesting_ = 0;  // parse_unary recursion depth (bounds the native stack)
    std::vector<std::string> tag_stack_;
    std::vector<std::vector<std::string>> end_stack_;
};

}  // namespace

Body parse_template(const std::vector<Token>& tokens, const std::string& template_name) {
    return Parser(tokens, template_name).parse();
}

}  // namespace qinfer::jinja
