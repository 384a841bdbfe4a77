// defines: qinfer::jinja::tokenize, describe_token (jinja2's lexer with transformers' settings; see lexer.h)

#include "chat/jinja/lexer.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>

#include "chat/jinja/unicode.h"

namespace qinfer::jinja {

namespace {

// Decodes the code point at s[i] (assumes valid UTF-8, checked up front); sets len.
char32_t code_point_at(const std::string& s, size_t i, size_t& len) {
    unsigned char b = static_cast<unsigned char>(s[i]);
    if (b < 0x80) {
        len = 1;
        return b;
    }
    len = (b & 0xE0) == 0xC0 ? 2 : (b & 0xF0) == 0xE0 ? 3 : 4;
    return utf8_decode(std::string_view(s).substr(i, len))[0];
}

bool is_space_at(const std::string& s, size_t i, size_t& len) {
    if (i >= s.size()) return false;
    return py_isspace(code_point_at(s, i, len));
}

// End of the whitespace run starting at i (Python's \s*).
size_t skip_space(const std::string& s, size_t i) {
    size_t len = 0;
    while (is_space_at(s, i, len)) i += len;
    return i;
}

// Python's str.rstrip() (Unicode whitespace).
std::string rstrip_space(const std::string& s) {
    std::u32string cps = utf8_decode(s);
    size_t e = cps.size();
    while (e > 0 && py_isspace(cps[e - 1])) --e;
    return utf8_encode(std::u32string_view(cps).substr(0, e));
}

// True when s[from:] is non-empty and all Unicode whitespace (Python's whitespace_re.fullmatch(text, pos)).
bool all_space_from(const std::string& s, size_t from) {
    if (from >= s.size()) return false;
    return skip_space(s, from) == s.size();
}

bool is_digit(char c) {
    return c >= '0' && c <= '9';
}
bool is_ident_start(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
bool is_ident_char(char c) {
    return is_ident_start(c) || is_digit(c);
}

class Lexer {
public:
    Lexer(std::string source, const std::string& name) : src_(std::move(source)), name_(name) {
        line_starts_.push_back(0);
        for (size_t i = 0; i < src_.size(); ++i) {
            if (src_[i] == '\n') line_starts_.push_back(i + 1);
        }
    }

    std::vector<Token> run() {
        size_t pos = 0;
        bool line_starting = true;
        while (pos < src_.size()) {
            size_t tag = find_tag_start(pos);
            if (tag == std::string::npos) {
                emit_data(src_.substr(pos), pos);
                break;
            }
            std::string text = src_.substr(pos, tag - pos);
            char kind = src_[tag + 1];
            size_t p = tag + 2;
            char sign = 0;
            if (p < src_.size() && (src_[p] == '-' || src_[p] == '+')) sign = src_[p++];
            size_t raw_end = kind == '%' ? match_raw_begin(p) : std::string::npos;
            // Whitespace control of the text before the tag.
            if (sign == '-') {
                text = rstrip_space(text);
            } else if (sign != '+' && kind != '{') {
                size_t l_pos = text.rfind('\n');
                l_pos = l_pos == std::string::npos ? 0 : l_pos + 1;
                if ((l_pos > 0 || line_starting) && all_space_from(text, l_pos)) text.resize(l_pos);
            }
            emit_data(text, pos);
            if (raw_end != std::string::npos) {
                pos = lex_raw(raw_end, tag, line_starting);
            } else if (kind == '#') {
                pos = lex_comment(p, tag, line_starting);
            } else {
                pos = lex_tag(kind, tag, p, line_starting);
            }
        }
        Token eof;
        eof.type = TokenType::Eof;
        eof.pos = pos_of(src_.size());
        tokens_.push_back(eof);
        return std::move(tokens_);
    }

private:
    SourcePos pos_of(size_t offset) const {
        auto it = std::upper_bound(line_starts_.begin(), line_starts_.end(), offset);
        size_t line = static_cast<size_t>(it - line_starts_.begin());
        size_t start = line_starts_[line - 1];
        return {static_cast<int>(line),
                static_cast<int>(utf8_length(std::string_view(src_).substr(start, offset - start))) + 1};
    }

    [[noreturn]] void fail(size_t offset, const std::string& msg) const {
        throw TemplateError(name_, pos_of(offset), msg);
    }

    size_t find_tag_start(size_t from) const {
        for (size_t i = src_.find('{', from); i != std::string::npos; i = src_.find('{', i + 1)) {
            if (i + 1 < src_.size() && (src_[i + 1] == '{' || src_[i + 1] == '%' || src_[i + 1] == '#')) return i;
        }
        return std::string::npos;
    }

    void emit_data(const std::string& text, size_t offset) {
        if (text.empty()) return;
        Token t;
        t.type = TokenType::Data;
        t.value = text;
        t.pos = pos_of(offset);
        tokens_.push_back(std::move(t));
    }

    void emit(TokenType type, size_t offset, std::string value = {}) {
        Token t;
        t.type = type;
        t.value = std::move(value);
        t.pos = pos_of(offset);
        tokens_.push_back(std::move(t));
    }

    // `\s*raw\s*(-%}\s*|%})` at p: returns the end of the match, or npos.
    size_t match_raw_begin(size_t p) const {
        size_t q = skip_space(src_, p);
        if (src_.compare(q, 3, "raw") != 0) return std::string::npos;
        q = skip_space(src_, q + 3);
        if (src_.compare(q, 3, "-%}") == 0) return skip_space(src_, q + 3);
        if (src_.compare(q, 2, "%}") == 0) return q + 2;
        return std::string::npos;
    }

    // Body of {% raw %}: up to `{%[-+]?\s*endraw\s*(+%}|-%}\s*|%}\n?)`.
    size_t lex_raw(size_t body_start, size_t tag_offset, bool& line_starting) {
        line_starting = src_[body_start - 1] == '\n';
        for (size_t i = src_.find("{%", body_start); i != std::string::npos; i = src_.find("{%", i + 1)) {
            size_t q = i + 2;
            char sign = 0;
            if (q < src_.size() && (src_[q] == '-' || src_[q] == '+')) sign = src_[q++];
            q = skip_space(src_, q);
            if (src_.compare(q, 6, "endraw") != 0) continue;
            q = skip_space(src_, q + 6);
            size_t end;
            if (src_.compare(q, 3, "+%}") == 0) {
                end = q + 3;
            } else if (src_.compare(q, 3, "-%}") == 0) {
                end = skip_space(src_, q + 3);
            } else if (src_.compare(q, 2, "%}") == 0) {
                end = q + 2;
                if (end < src_.size() && src_[end] == '\n') ++end;
            } else {
                continue;
            }
            std::string body = src_.substr(body_start, i - body_start);
            if (sign == '-') {
                body = rstrip_space(body);
            } else if (sign != '+') {
                size_t l_pos = body.rfind('\n');
                l_pos = l_pos == std::string::npos ? 0 : l_pos + 1;
                if ((l_pos > 0 || line_starting) && all_space_from(body, l_pos)) body.resize(l_pos);
            }
            emit_data(body, body_start);
            line_starting = src_[end - 1] == '\n';
            return end;
        }
        fail(tag_offset, "missing end of raw directive ({% endraw %})");
    }

    // Comment body: up to the first #}, which may be written +#} or -#}.
    size_t lex_comment(size_t p, size_t tag_offset, bool& line_starting) {
        size_t close = src_.find("#}", p);
        if (close == std::string::npos) fail(tag_offset, "missing end of comment tag (#})");
        size_t end;
        char sign = close > p ? src_[close - 1] : 0;
        if (sign == '-') {
            end = skip_space(src_, close + 2);
        } else {
            end = close + 2;
            if (sign != '+' && end < src_.size() && src_[end] == '\n') ++end;
        }
        line_starting = src_[end - 1] == '\n';
        return end;
    }

    // The inside of {{ ... }} or {% ... %}, starting after the sign at p.
    size_t lex_tag(char kind, size_t tag_offset, size_t p, bool& line_starting) {
        const bool block = kind == '%';
        emit(block ? TokenType::BlockBegin : TokenType::VariableBegin, tag_offset);
        std::vector<char> balance;
        size_t i = p;
        while (true) {
            if (i >= src_.size()) {
                fail(tag_offset, block ? "unexpected end of template: missing %} for this tag"
                                       : "unexpected end of template: missing }} for this expression");
            }
            if (balance.empty()) {
                size_t end = match_tag_end(block, i);
                if (end != std::string::npos) {
                    emit(block ? TokenType::BlockEnd : TokenType::VariableEnd, i);
                    line_starting = src_[end - 1] == '\n';
                    return end;
                }
            }
            size_t len = 0;
            if (is_space_at(src_, i, len)) {
                i = skip_space(src_, i);
                continue;
            }
            i = lex_token(i, balance);
        }
    }

    // Tag end at i (`+%}`, `-%}\s*`, `%}\n?`, or `-}}\s*`, `}}`): the end of the match, or npos.
    size_t match_tag_end(bool block, size_t i) const {
        if (block) {
            if (src_.compare(i, 3, "+%}") == 0) return i + 3;
            if (src_.compare(i, 3, "-%}") == 0) return skip_space(src_, i + 3);
            if (src_.compare(i, 2, "%}") == 0) return (i + 2 < src_.size() && src_[i + 2] == '\n') ? i + 3 : i + 2;
            return std::string::npos;
        }
        if (src_.compare(i, 3, "-}}") == 0) return skip_space(src_, i + 3);
        if (src_.compare(i, 2, "}}") == 0) return i + 2;
        return std::string::npos;
    }

    size_t lex_token(size_t i, std::vector<char>& balance) {
        char c = src_[i];
        if (is_digit(c)) {
            size_t end = match_float(i);
            if (end != std::string::npos) {
                std::string text;
                for (size_t k = i; k < end; ++k) {
                    if (src_[k] != '_') text.push_back(src_[k]);
                }
                Token t;
                t.type = TokenType::Float;
                t.float_value = std::strtod(text.c_str(), nullptr);
                t.pos = pos_of(i);
                tokens_.push_back(t);
                return end;
            }
            return lex_integer(i);
        }
        if (is_ident_start(c) || is_unicode_ident_char(i, true)) {
            size_t end = i;
            while (end < src_.size() && (is_ident_char(src_[end]) || is_unicode_ident_char(end, false))) {
                size_t len = 1;
                if (static_cast<unsigned char>(src_[end]) >= 0x80) code_point_at(src_, end, len);
                end += len;
            }
            emit(TokenType::Name, i, src_.substr(i, end - i));
            return end;
        }
        if (c == '\'' || c == '"') return lex_string(i);
        static const char* const kOps[] = {"//", "**", "==", "!=", ">=", "<=", "+", "-", "/", "*", "%", "~", "[",
                                           "]",  "(",  ")",  "{",  "}",  ">",  "<", "=", ".", ":", "|", ",", ";"};
        for (const char* op : kOps) {
            size_t n = std::char_traits<char>::length(op);
            if (src_.compare(i, n, op) != 0) continue;
            if (n == 1 && (c == '(' || c == '[' || c == '{')) balance.push_back(c == '(' ? ')' : c == '[' ? ']' : '}');
            if (n == 1 && (c == ')' || c == ']' || c == '}')) {
                if (balance.empty()) fail(i, str_cat("unexpected '", c, "'"));
                if (balance.back() != c) fail(i, str_cat("unexpected '", c, "', expected '", balance.back(), "'"));
                balance.pop_back();
            }
            emit(TokenType::Operator, i, op);
            return i + n;
        }
        size_t len = 0;
        char32_t cp = code_point_at(src_, i, len);
        std::string shown;
        utf8_append(shown, cp);
        fail(i, str_cat("unexpected character '", shown, "' in tag"));
    }

    // A non-ASCII letter (or, after the first character, digit) of a Python identifier.
    bool is_unicode_ident_char(size_t i, bool first) const {
        if (static_cast<unsigned char>(src_[i]) < 0x80) return false;
        size_t len = 0;
        char32_t cp = code_point_at(src_, i, len);
        return py_isalpha(cp) || (!first && (py_isdecimal(cp) || py_isdigit(cp)));
    }

    // digits with single underscores between them: (\d+_)*\d+
    size_t match_digits(size_t i) const {
        if (i >= src_.size() || !is_digit(src_[i])) return std::string::npos;
        while (true) {
            while (i < src_.size() && is_digit(src_[i])) ++i;
            if (i + 1 < src_.size() && src_[i] == '_' && is_digit(src_[i + 1])) {
                ++i;
                continue;
            }
            return i;
        }
    }

    // (?<!\.)(\d+_)*\d+((\.(\d+_)*\d+)?e[+\-]?(\d+_)*\d+|\.(\d+_)*\d+)
    size_t match_float(size_t i) const {
        if (i > 0 && src_[i - 1] == '.') return std::string::npos;
        size_t p = match_digits(i);
        size_t frac_end = std::string::npos;
        if (p < src_.size() && src_[p] == '.') frac_end = match_digits(p + 1);
        size_t q = frac_end != std::string::npos ? frac_end : p;
        if (q < src_.size() && (src_[q] == 'e' || src_[q] == 'E')) {
            size_t r = q + 1;
            if (r < src_.size() && (src_[r] == '+' || src_[r] == '-')) ++r;
            size_t exp_end = match_digits(r);
            if (exp_end != std::string::npos) return exp_end;
        }
        return frac_end;
    }

    size_t lex_integer(size_t i) {
        std::string digits;
        int base = 10;
        size_t p = i;
        auto take = [&](auto pred) {
            // (_?D)+ : digits with optional single underscores before each
            size_t q = p;
            while (true) {
                size_t r = q;
                if (r < src_.size() && src_[r] == '_') ++r;
                if (r < src_.size() && pred(src_[r])) {
                    digits.push_back(src_[r]);
                    q = r + 1;
                } else {
                    break;
                }
            }
            return q;
        };
        char next = i + 1 < src_.size() ? static_cast<char>(src_[i + 1] | 0x20) : 0;
        auto is_bin = [](char d) { return d == '0' || d == '1'; };
        auto is_oct = [](char d) { return d >= '0' && d <= '7'; };
        auto is_hex = [](char d) { return is_digit(d) || ((d | 0x20) >= 'a' && (d | 0x20) <= 'f'); };
        size_t end = std::string::npos;
        if (src_[i] == '0' && (next == 'b' || next == 'o' || next == 'x')) {
            p = i + 2;
            base = next == 'b' ? 2 : next == 'o' ? 8 : 16;
            end = next == 'b' ? take(is_bin) : next == 'o' ? take(is_oct) : take(is_hex);
            if (digits.empty()) end = std::string::npos;
        }
        if (end == std::string::npos) {
            digits.clear();
            base = 10;
            if (src_[i] == '0') {
                digits.assign(1, '0');
                p = i + 1;
                end = take([](char d) { return d == '0'; });
            } else {
                digits.push_back(src_[i]);
                p = i + 1;
                end = take(is_digit);
            }
        }
        errno = 0;
        char* stop = nullptr;
        long long v = std::strtoll(digits.c_str(), &stop, base);
        if (errno == ERANGE) fail(i, "integer literal is too large (this interpreter uses 64-bit integers)");
        Token t;
        t.type = TokenType::Integer;
        t.int_value = v;
        t.pos = pos_of(i);
        tokens_.push_back(t);
        return end;
    }

    size_t lex_string(size_t i) {
        char quote = src_[i];
        size_t p = i + 1;
        std::string raw;
        while (true) {
            if (p >= src_.size()) fail(i, "unterminated string literal");
            char c = src_[p];
            if (c == quote) break;
            if (c == '\\') {
                if (p + 1 >= src_.size()) fail(i, "unterminated string literal");
                raw.push_back(c);
                raw.push_back(src_[p + 1]);
                p += 2;
                continue;
            }
            raw.push_back(c);
            ++p;
        }
        Token t;
        t.type = TokenType::String;
        t.value = unescape(raw, i);
        t.pos = pos_of(i);
        tokens_.push_back(std::move(t));
        return p + 1;
    }

    // Python's value.encode("ascii", "backslashreplace").decode("unicode-escape").
    std::string unescape(const std::string& raw, size_t offset) const {
        std::string out;
        size_t i = 0;
        auto hex_value = [&](size_t from, size_t count) -> char32_t {
            if (from + count > raw.size()) fail(offset, "truncated \\x/\\u/\\U escape in string literal");
            char32_t v = 0;
            for (size_t k = from; k < from + count; ++k) {
                char d = raw[k];
                int x = is_digit(d) ? d - '0' : ((d | 0x20) >= 'a' && (d | 0x20) <= 'f') ? (d | 0x20) - 'a' + 10 : -1;
                if (x < 0) fail(offset, "truncated \\x/\\u/\\U escape in string literal");
                v = v * 16 + static_cast<char32_t>(x);
            }
            return v;
        };
        while (i < raw.size()) {
            char c = raw[i];
            if (c != '\\') {
                out.push_back(c);
                ++i;
                continue;
            }
            char e = raw[i + 1];
            i += 2;
            switch (e) {
                case '\n':
                    break;
                case '\\':
                    out.push_back('\\');
                    break;
                case '\'':
                    out.push_back('\'');
                    break;
                case '"':
                    out.push_back('"');
                    break;
                case 'a':
                    out.push_back('\a');
                    break;
                case 'b':
                    out.push_back('\b');
                    break;
                case 'f':
                    out.push_back('\f');
                    break;
                case 'n':
                    out.push_back('\n');
                    break;
                case 'r':
                    out.push_back('\r');
                    break;
                case 't':
                    out.push_back('\t');
                    break;
                case 'v':
                    out.push_back('\v');
                    break;
                case 'x':
                    utf8_append(out, hex_value(i, 2));
                    i += 2;
                    break;
                case 'u':
                    utf8_append(out, hex_value(i, 4));
                    i += 4;
                    break;
                case 'U': {
                    char32_t cp = hex_value(i, 8);
                    if (cp > 0x10FFFF) fail(offset, "illegal Unicode character in \\U escape");
                    utf8_append(out, cp);
                    i += 8;
                    break;
                }
                case 'N':
                    fail(offset, "\\N{...} escapes in string literals are not supported");
                default:
                    if (e >= '0' && e <= '7') {
                        char32_t v = static_cast<char32_t>(e - '0');
                        for (int k = 0; k < 2 && i < raw.size() && raw[i] >= '0' && raw[i] <= '7'; ++k, ++i) {
                            v = v * 8 + static_cast<char32_t>(raw[i] - '0');
                        }
                        utf8_append(out, v);
                    } else if (static_cast<unsigned char>(e) >= 0x80) {
                        // A backslash before a non-ASCII character: backslashreplace turns the character into
                        // \xNN / \uNNNN / \UNNNNNNNN, whose backslash the first one escapes.
                        size_t len = 0;
                        char32_t cp = code_point_at(raw, i - 1, len);
                        char buf[16];
                        std::snprintf(buf, sizeof(buf),
                                      cp <= 0xFF     ? "\\x%02x"
                                      : cp <= 0xFFFF ? "\\u%04x"
                                                     : "\\U%08x",
                                      static_cast<unsigned>(cp));
                        out += buf;
                        i = i - 1 + len;
                    } else {
                        out.push_back('\\');
                        out.push_back(e);
                    }
            }
        }
        return out;
    }

    std::string src_;
    const std::string& name_;
    std::vector<size_t> line_starts_;
    std::vector<Token> tokens_;
};

// jinja2's lexer.tokeniter preprocessing: newlines normalised, one trailing newline dropped.
std::string normalize_source(const std::string& source) {
    std::string out;
    out.reserve(source.size());
    for (size_t i = 0; i < source.size(); ++i) {
        if (source[i] == '\r') {
            out.push_back('\n');
            if (i + 1 < source.size() && source[i + 1] == '\n') ++i;
        } else {
            out.push_back(source[i]);
        }
    }
    if (!out.empty() && out.back() == '\n') out.pop_back();
    return out;
}

}  // namespace

std::vector<Token> tokenize(const std::string& source, const std::string& template_name) {
    std::string src = normalize_source(source);
    try {
        utf8_decode(src);
    } catch (const ValueError& e) {
        throw TemplateError(template_name, SourcePos{1, 1}, std::string("template is not valid UTF-8: ") + e.what());
    }
    return Lexer(std::move(src), template_name).run();
}

std::string describe_token(const Token& t) {
    switch (t.type) {
        case TokenType::Data:
            return "template data";
        case TokenType::VariableBegin:
            return "begin of print statement";
        case TokenType::VariableEnd:
            return "end of print statement";
        case TokenType::BlockBegin:
            return "begin of statement block";
        case TokenType::BlockEnd:
            return "end of statement block";
        case TokenType::Name:
            return "'" + t.value + "'";
        case TokenType::String:
            return "string literal";
        case TokenType::Integer:
            return "integer literal";
        case TokenType::Float:
            return "float literal";
        case TokenType::Operator:
            return "'" + t.value + "'";
        case TokenType::Eof:
            return "end of template";
    }
    return "token";
}

}  // namespace qinfer::jinja
