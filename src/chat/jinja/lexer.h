#pragma once
// defines: qinfer::jinja::Token, TokenType, tokenize
//
// Splits a template into data and tag tokens exactly as jinja2's lexer does with transformers' settings
// (trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=False, newline_sequence="\n"):
//   - \r\n and \r become \n, and one trailing newline of the template is dropped;
//   - {%- / {{- / {#- strip all whitespace before the tag, -%} / -}} / -#} all whitespace after it;
//   - trim_blocks: the first newline after a block or comment tag (%}, #}) is removed, unless written +%};
//   - lstrip_blocks: spaces and tabs from the start of a line up to a block or comment tag are removed, unless
//     written {%+;
//   - {% raw %}...{% endraw %} is data; comments produce no tokens;
//   - inside tags: names, string literals (with Python escapes), integers, floats and operators.

#include <cstdint>
#include <string>
#include <vector>

#include "chat/jinja/error.h"

namespace qinfer::jinja {

enum class TokenType : uint8_t {
    Data,           // template text (value)
    VariableBegin,  // {{
    VariableEnd,    // }}
    BlockBegin,     // {%
    BlockEnd,       // %}
    Name,           // identifier or keyword (value)
    String,         // string literal, unescaped (value)
    Integer,        // int_value
    Float,          // float_value
    Operator,       // value: + - * / // % ** ~ [ ] ( ) { } == != > >= < <= = . : | , ;
    Eof,
};

struct Token {
    TokenType type = TokenType::Eof;
    std::string value;
    int64_t int_value = 0;
    double float_value = 0.0;
    SourcePos pos;
};

// Throws TemplateError (with `template_name`, line and column) on malformed input.
std::vector<Token> tokenize(const std::string& source, const std::string& template_name);

// Human-readable token description for parse errors ("name 'foo'", "end of print statement", ...).
std::string describe_token(const Token& t);

}  // namespace qinfer::jinja
