#pragma once
// defines: qinfer::jinja::parse_template
//
// A recursive-descent parser with jinja2's grammar and operator precedence (jinja2/parser.py), including its
// quirks: unary minus binds tighter than `**` and filters (-2 ** 2 == 4, -x|abs == abs(-x)); `a if c` without else
// yields undefined; tests take one bare argument (`x is divisibleby 3`).
// Supported statements: if/elif/else, for (with `if` filter and else), set (plain, tuple, namespace attribute,
// block form with filters), macro, call, filter, with, print, break/continue (jinja2.ext.loopcontrols) and
// transformers' {% generation %}. Other jinja2 statements (block, extends, include, import, from, autoescape,
// recursive loops) raise a TemplateError naming the line and column, as do unknown tags, filters and tests.

#include <string>
#include <vector>

#include "chat/jinja/ast.h"
#include "chat/jinja/lexer.h"

namespace qinfer::jinja {

Body parse_template(const std::vector<Token>& tokens, const std::string& template_name);

}  // namespace qinfer::jinja
