// Unit tests of the Jinja2 interpreter (src/chat/jinja): error locations and kinds, Python formatting of values,
// tojson, scoping and the limits that protect the stack. The bulk of the behaviour is checked against jinja2 itself
// in test_jinja_cases.cpp.

#include <gtest/gtest.h>

#include <cmath>

#include "chat/jinja/json.h"
#include "chat/jinja/template.h"
#include "chat/jinja/unicode.h"
#include "chat/jinja/value_ops.h"
#include "test_util.h"

namespace qinfer {
namespace {

using jinja::Template;
using jinja::TemplateError;
using jinja::TemplateRaisedError;
using nlohmann::ordered_json;

std::string render(const std::string& tmpl, const ordered_json& ctx = ordered_json::object()) {
    return Template(tmpl, "t").render(ctx);
}

jinja::SourcePos error_pos(const std::string& tmpl, const ordered_json& ctx = ordered_json::object()) {
    try {
        render(tmpl, ctx);
    } catch (const TemplateError& e) {
        return e.pos();
    }
    ADD_FAILURE() << "no TemplateError from: " << tmpl;
    return {};
}

TEST(JinjaInterpreter, SyntaxErrorsNameLineAndColumn) {
    EXPECT_ERROR_CONTAINS(render("a\nb\n  {{ 1 + }}"), "t line 3, column 10", "unexpected end of print statement");
    EXPECT_ERROR_CONTAINS(render("{% if x %}\n{% endfor %}"), "line 2", "unknown tag 'endfor'", "'endif'");
    EXPECT_ERROR_CONTAINS(render("{% for x in y %}"), "unexpected end of template", "'endfor' or 'else'",
                          "innermost block", "'for'");
    EXPECT_ERROR_CONTAINS(render("x {# never closed"), "line 1, column 3", "missing end of comment");
    EXPECT_ERROR_CONTAINS(render("{{ 'abc }}"), "unterminated string");
    EXPECT_ERROR_CONTAINS(render("{{ (1, 2 }}"), "unexpected '}', expected ')'");
    EXPECT_ERROR_CONTAINS(render("{{ x|nosuch }}"), "line 1, column 6", "no filter named 'nosuch'");
    EXPECT_ERROR_CONTAINS(render("{{ x is nosuch }}"), "no test named 'nosuch'");
    EXPECT_ERROR_CONTAINS(render("{% break %}"), "'break' outside of a loop");
    EXPECT_ERROR_CONTAINS(render("{{ a is defined is defined }}"), "cannot chain multiple tests");
    EXPECT_ERROR_CONTAINS(render("{% set true = 1 %}"), "can't assign");
}

TEST(JinjaInterpreter, UnsupportedConstructsAreClearErrors) {
    // Valid jinja2, deliberately not supported: an error naming the construct and where it is.
    EXPECT_ERROR_CONTAINS(render("ok\n  {% include 'x.jinja' %}"), "line 2, column 6", "'include'", "not supported");
    EXPECT_ERROR_CONTAINS(render("{% extends 'base' %}"), "'extends'", "not supported");
    EXPECT_ERROR_CONTAINS(render("{% block b %}{% endblock %}"), "'block'", "not supported");
    EXPECT_ERROR_CONTAINS(render("{% for x in y recursive %}{% endfor %}"), "recursive", "not supported");
    EXPECT_ERROR_CONTAINS(render("{{ [1, 2]|batch(1)|list }}"), "line 1, column 11", "filter 'batch'", "not supported");
    EXPECT_ERROR_CONTAINS(render("{{ 'x'.encode() }}"), "'encode'", "not supported");
    EXPECT_ERROR_CONTAINS(render("{{ n.real }}", {{"n", 1}}), "'real'", "not supported");
    EXPECT_ERROR_CONTAINS(render("{{ cycler() }}"), "not supported");
    // Python would print an object address: refused rather than printing something else.
    EXPECT_ERROR_CONTAINS(render("{{ d.items }}", {{"d", {{"a", 1}}}}), "memory address");
    EXPECT_ERROR_CONTAINS(render("{{ [1]|map('string') }}"), "generator", "|list");
}

TEST(JinjaInterpreter, RuntimeErrorsNameTheExpression) {
    jinja::SourcePos p =
        error_pos("line1\n{% for m in msgs %}\n  {{ m.content + 1 }}\n{% endfor %}", {{"msgs", {{{"content", "x"}}}}});
    EXPECT_EQ(p.line, 3);
    EXPECT_EQ(p.column, 6);
    EXPECT_ERROR_CONTAINS(render("{{ missing.attr }}"), "line 1, column 11", "'missing' is undefined");
    EXPECT_ERROR_CONTAINS(render("{{ d.nope.x }}", {{"d", ordered_json::object()}}), "has no attribute 'nope'");
    EXPECT_ERROR_CONTAINS(render("{{ 'a' + 1 }}"), "can only concatenate str");
    EXPECT_ERROR_CONTAINS(render("{{ 1 // 0 }}"), "division or modulo by zero");
    EXPECT_ERROR_CONTAINS(render("{% for x in 3 %}{% endfor %}"), "line 1, column 13", "'int' object is not iterable");
    EXPECT_ERROR_CONTAINS(render("{{ [1].append(2) }}"), "'append'", "unsafe");
    EXPECT_ERROR_CONTAINS(render("{% set d = {} %}{% set d.x = 1 %}"), "non-namespace object");
    EXPECT_ERROR_CONTAINS(render("{% macro m(a) %}{% endmacro %}{{ m(1, 2) }}"), "takes not more than 1 argument");
    EXPECT_ERROR_CONTAINS(render("{{ x|tojson }}"), "Undefined is not JSON serializable");
    EXPECT_ERROR_CONTAINS(render("{{ 9223372036854775807 + 1 }}"), "integer overflow");
}

TEST(JinjaInterpreter, RaiseExceptionCarriesTheMessage) {
    try {
        render(
            "{%- if messages[0].role != 'user' -%}\n  {{- raise_exception('First message must be from the user.') "
            "}}\n{%- endif %}",
            {{"messages", {{{"role", "system"}}}}});
        ADD_FAILURE() << "expected TemplateRaisedError";
    } catch (const TemplateRaisedError& e) {
        EXPECT_EQ(e.message(), "First message must be from the user.");
        EXPECT_EQ(e.pos().line, 2);
        EXPECT_NE(std::string(e.what()).find("First message must be from the user."), std::string::npos);
    }
    // A qinfer::Error like every other template failure.
    EXPECT_ERROR_CONTAINS(render("{{ raise_exception(42) }}"), "raise_exception: 42");
}

TEST(JinjaInterpreter, PrintsValuesLikePython) {
    using jinja::float_repr;
    EXPECT_EQ(float_repr(1.0), "1.0");
    EXPECT_EQ(float_repr(0.1), "0.1");
    EXPECT_EQ(float_repr(1e16), "1e+16");
    EXPECT_EQ(float_repr(1e15), "1000000000000000.0");
    EXPECT_EQ(float_repr(1.5e-7), "1.5e-07");
    EXPECT_EQ(float_repr(0.0001), "0.0001");
    EXPECT_EQ(float_repr(-0.0), "-0.0");
    EXPECT_EQ(float_repr(123456789012345678.0), "1.2345678901234568e+17");
    EXPECT_EQ(float_repr(5e-324), "5e-324");
    EXPECT_EQ(float_repr(1.7976931348623157e308), "1.7976931348623157e+308");
    EXPECT_EQ(float_repr(std::nan("")), "nan");
    EXPECT_EQ(jinja::string_repr("it's"), "\"it's\"");
    EXPECT_EQ(jinja::string_repr("a'b\"c\n"), "'a\\'b\"c\\n'");
    EXPECT_EQ(render("{{ [none, true, 1, 2.0, 'x', {'k': (1,)}] }}"), "[None, True, 1, 2.0, 'x', {'k': (1,)}]");
    EXPECT_EQ(render("{{ none }}|{{ missing }}|{{ true }}"), "None||True");
}

TEST(JinjaInterpreter, TojsonMatchesPythonJsonDumps) {
    ordered_json ctx = ordered_json::parse(R"({"tool": {"name": "f", "parameters": {"type": "object",
        "properties": {"zeta": {"type": "string"}, "alpha": {"type": "number", "default": 1.0}}}, "unicode": "é🎉"}})");
    EXPECT_EQ(render("{{ tool|tojson }}", ctx),
              R"({"name": "f", "parameters": {"type": "object", "properties": {"zeta": {"type": "string"}, )"
              R"("alpha": {"type": "number", "default": 1.0}}}, "unicode": "é🎉"})");
    EXPECT_EQ(render("{{ tool.parameters.properties|tojson(indent=2) }}", ctx),
              "{\n  \"zeta\": {\n    \"type\": \"string\"\n  },\n  \"alpha\": {\n    \"type\": \"number\",\n"
              "    \"default\": 1.0\n  }\n}");
    EXPECT_EQ(render("{{ tool.unicode|tojson(ensure_ascii=true) }}", ctx), R"("\u00e9\ud83c\udf89")");
    jinja::JsonDumpOptions o;
    o.sort_keys = true;
    EXPECT_EQ(
        jinja::json_dumps(jinja::value_from_json(ordered_json::parse(R"({"b": [1, 2.5, null], "a": "\u0001"})")), o),
        R"({"a": "\u0001", "b": [1, 2.5, null]})");
}

TEST(JinjaInterpreter, ScopingFollowsJinja2) {
    // A set inside a loop body is local to the iteration; inside if it is not.
    EXPECT_EQ(render("{% set x = 1 %}{% for i in [1, 2] %}{{ x }}{% set x = 5 %}{{ x }}{% endfor %}{{ x }}"), "15151");
    EXPECT_EQ(render("{% if true %}{% set y = 3 %}{% endif %}{{ y }}"), "3");
    // namespace() carries state out of loops and macros.
    EXPECT_EQ(
        render("{% set ns = namespace(n=0) %}{% for i in range(4) %}{% set ns.n = ns.n + i %}{% endfor %}{{ ns.n }}"),
        "6");
    // A macro sees later changes of its defining scope.
    EXPECT_EQ(render("{% set x = 1 %}{% macro m() %}{{ x }}{% endmacro %}{% set x = 2 %}{{ m() }}"), "2");
    // for-else runs when no iteration completed.
    EXPECT_EQ(render("{% for x in [1] %}{% break %}{% else %}E{% endfor %}"), "E");
    EXPECT_EQ(render("{% for x in [1] %}x{% else %}E{% endfor %}"), "x");
}

TEST(JinjaInterpreter, WhitespaceControlMatchesTransformersSettings) {
    // trim_blocks + lstrip_blocks
    EXPECT_EQ(render("<\n  {% if true %}\n  x\n  {% endif %}\n>"), "<\n  x\n>");
    // keep_trailing_newline=False and newline normalisation
    EXPECT_EQ(render("a\r\nb\r\n"), "a\nb");
    EXPECT_EQ(render("a\n\n"), "a\n");
    // explicit control
    EXPECT_EQ(render("a  {{- 'b' -}}  \n c"), "abc");
    EXPECT_EQ(render("  {%+ if true %}x{% endif %}"), "  x");
    EXPECT_EQ(render("{% if true +%}\nx{% endif %}"), "\nx");
}

TEST(JinjaInterpreter, TemplateIsReusableAndContextKeepsKeyOrder) {
    Template t("{% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %}{{ d|tojson }}");
    ordered_json ctx = ordered_json::parse(R"({"d": {"z": 1, "a": 2, "m": 3}})");
    std::string first = t.render(ctx);
    EXPECT_EQ(first, R"(z=1;a=2;m=3;{"z": 1, "a": 2, "m": 3})");
    EXPECT_EQ(t.render(ctx), first);
    EXPECT_ERROR_CONTAINS(t.render(ordered_json::array()), "must be a JSON object");
}

TEST(JinjaInterpreter, LimitsProtectTheStack) {
    EXPECT_ERROR_CONTAINS(render("{% macro m() %}{{ m() }}{% endmacro %}{{ m() }}"), "nests deeper than");
    EXPECT_ERROR_CONTAINS(render("{{ " + std::string(2000, '(') + "1" + std::string(2000, ')') + " }}"),
                          "nested too deeply");
    EXPECT_ERROR_CONTAINS(render("{{ " + std::string(5000, '-') + "1 }}"), "nested too deeply");
    std::string deep;
    for (int i = 0; i < 300; ++i) deep += "{% if true %}";
    EXPECT_ERROR_CONTAINS(render(deep), "nested too deeply");
    EXPECT_ERROR_CONTAINS(render("{{ range(200000)|length }}"), "Range too big");
    EXPECT_ERROR_CONTAINS(render("{{ ('x' * 100000000)|length }}"), "string repetition", "too large");
    EXPECT_ERROR_CONTAINS(render("{{ ([1] * 100000000)|length }}"), "list repetition", "too large");
}

TEST(JinjaInterpreter, UnicodeHelpersFollowPython) {
    EXPECT_EQ(jinja::py_upper("straße"), "STRASSE");
    EXPECT_EQ(jinja::py_lower("ΟΔΟΣ ΟΔΟΣ"), "οδος οδος");
    EXPECT_EQ(jinja::py_lower("İ"), "i\u0307");
    EXPECT_EQ(jinja::py_capitalize("ǆx"), "ǅx");
    EXPECT_EQ(jinja::py_title("hello wORLD 3rd"), "Hello World 3Rd");
    EXPECT_EQ(jinja::utf8_length("日本語🎉"), 4u);
    EXPECT_EQ(jinja::py_strip("\u3000 x \u00a0", nullptr, true, true), "x");
    EXPECT_EQ(render("{{ '\\xff'|length }}"), "1");
    EXPECT_ERROR_CONTAINS(Template(std::string("{{ x }}\xff")), "not valid UTF-8");
}

}  // namespace
}  // namespace qinfer
