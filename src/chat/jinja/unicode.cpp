// defines: the Python-str helpers of unicode.h

#include "chat/jinja/unicode.h"

#include <algorithm>

#include "chat/jinja/error.h"
#include "chat/jinja/unicode_tables.h"

namespace qinfer::jinja {

namespace ut = unicode_tables;

namespace {

bool in_ranges(const ut::CodePointRange* r, size_t n, char32_t c) {
    const ut::CodePointRange* end = r + n;
    const ut::CodePointRange* it =
        std::upper_bound(r, end, c, [](char32_t v, const ut::CodePointRange& x) { return v < x.first; });
    if (it == r) return false;
    --it;
    return c <= it->last;
}

const ut::CaseMapping* find_mapping(const ut::CaseMapping* m, size_t n, char32_t c) {
    const ut::CaseMapping* end = m + n;
    const ut::CaseMapping* it =
        std::lower_bound(m, end, c, [](const ut::CaseMapping& x, char32_t v) { return x.cp < v; });
    if (it == end || it->cp != c) return nullptr;
    return it;
}

void append_mapped(std::u32string& out, const ut::CaseMapping* m, size_t n, char32_t c) {
    const ut::CaseMapping* hit = find_mapping(m, n, c);
    if (!hit) {
        out.push_back(c);
        return;
    }
    for (char32_t x : hit->out) {
        if (x) out.push_back(x);
    }
}

void append_lower(std::u32string& out, const std::u32string& s, size_t i) {
    // Final sigma (Python's handle_capital_sigma): U+03A3 lowers to U+03C2 when preceded by a cased letter and not
    // followed by one, skipping case-ignorable characters on both sides.
    if (s[i] == 0x03A3) {
        size_t j = i;
        bool before = false;
        while (j > 0) {
            --j;
            char32_t c = s[j];
            if (in_ranges(ut::kCaseIgnorable, ut::kCaseIgnorable_size, c)) continue;
            before = py_is_cased(c);
            break;
        }
        bool after = false;
        for (size_t k = i + 1; k < s.size(); ++k) {
            char32_t c = s[k];
            if (in_ranges(ut::kCaseIgnorable, ut::kCaseIgnorable_size, c)) continue;
            after = py_is_cased(c);
            break;
        }
        out.push_back(before && !after ? char32_t(0x03C2) : char32_t(0x03C3));
        return;
    }
    append_mapped(out, ut::kLower, ut::kLower_size, s[i]);
}

void append_title(std::u32string& out, char32_t c) {
    if (find_mapping(ut::kTitle, ut::kTitle_size, c)) {
        append_mapped(out, ut::kTitle, ut::kTitle_size, c);
    } else {
        append_mapped(out, ut::kUpper, ut::kUpper_size, c);
    }
}

bool in_set(const std::u32string& set, char32_t c) {
    return set.find(c) != std::u32string::npos;
}

}  // namespace

std::u32string utf8_decode(std::string_view s) {
    std::u32string out;
    out.reserve(s.size());
    size_t i = 0;
    while (i < s.size()) {
        unsigned char b = static_cast<unsigned char>(s[i]);
        char32_t cp = 0;
        int extra = 0;
        if (b < 0x80) {
            cp = b;
        } else if ((b & 0xE0) == 0xC0) {
            cp = b & 0x1F;
            extra = 1;
        } else if ((b & 0xF0) == 0xE0) {
            cp = b & 0x0F;
            extra = 2;
        } else if ((b & 0xF8) == 0xF0) {
            cp = b & 0x07;
            extra = 3;
        } else {
            fail_value("invalid UTF-8 in string (byte 0x", std::hex, int(b), " at offset ", std::dec, i, ")");
        }
        for (int k = 1; k <= extra; ++k) {
            if (i + k >= s.size()) fail_value("truncated UTF-8 sequence in string at offset ", i);
            unsigned char c = static_cast<unsigned char>(s[i + k]);
            if ((c & 0xC0) != 0x80) fail_value("invalid UTF-8 in string at offset ", i + k);
            cp = (cp << 6) | (c & 0x3F);
        }
        if ((extra == 1 && cp < 0x80) || (extra == 2 && cp < 0x800) || (extra == 3 && cp < 0x10000) || cp > 0x10FFFF ||
            (cp >= 0xD800 && cp <= 0xDFFF)) {
            fail_value("invalid UTF-8 in string at offset ", i);
        }
        out.push_back(cp);
        i += extra + 1;
    }
    return out;
}

void utf8_append(std::string& out, char32_t cp) {
    if (cp < 0x80) {
        out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
        out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
        out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
        out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
}

std::string utf8_encode(std::u32string_view s) {
    std::string out;
    out.reserve(s.size());
    for (char32_t c : s) utf8_append(out, c);
    return out;
}

size_t utf8_length(std::string_view s) {
    size_t n = 0;
    for (char c : s) {
        if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++n;
    }
    return n;
}

size_t utf8_offset(std::string_view s, size_t index) {
    size_t n = 0;
    for (size_t i = 0; i < s.size(); ++i) {
        if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) {
            if (n == index) return i;
            ++n;
        }
    }
    return s.size();
}

bool py_isspace(char32_t c) {
    return in_ranges(ut::kSpace, ut::kSpace_size, c);
}
bool py_isalpha(char32_t c) {
    return in_ranges(ut::kAlpha, ut::kAlpha_size, c);
}
bool py_isdecimal(char32_t c) {
    return in_ranges(ut::kDecimal, ut::kDecimal_size, c);
}
bool py_isdigit(char32_t c) {
    return in_ranges(ut::kDigit, ut::kDigit_size, c);
}
bool py_isnumeric(char32_t c) {
    return in_ranges(ut::kNumeric, ut::kNumeric_size, c);
}
bool py_is_lower_char(char32_t c) {
    return in_ranges(ut::kLowerCat, ut::kLowerCat_size, c);
}
bool py_is_upper_char(char32_t c) {
    return in_ranges(ut::kUpperCat, ut::kUpperCat_size, c);
}
bool py_is_title_char(char32_t c) {
    return in_ranges(ut::kTitleCat, ut::kTitleCat_size, c);
}
bool py_is_cased(char32_t c) {
    return in_ranges(ut::kCased, ut::kCased_size, c);
}
bool py_isprintable(char32_t c) {
    return !in_ranges(ut::kNonPrintable, ut::kNonPrintable_size, c);
}

std::string py_lower(std::string_view s) {
    std::u32string in = utf8_decode(s), out;
    for (size_t i = 0; i < in.size(); ++i) append_lower(out, in, i);
    return utf8_encode(out);
}

std::string py_upper(std::string_view s) {
    std::u32string out;
    for (char32_t c : utf8_decode(s)) append_mapped(out, ut::kUpper, ut::kUpper_size, c);
    return utf8_encode(out);
}

std::string py_capitalize(std::string_view s) {
    std::u32string in = utf8_decode(s), out;
    for (size_t i = 0; i < in.size(); ++i) {
        if (i == 0) {
            append_title(out, in[0]);
        } else {
            append_lower(out, in, i);
        }
    }
    return utf8_encode(out);
}

std::string py_title(std::string_view s) {
    // Python's str.title: a cased character following an uncased one starts a word.
    std::u32string in = utf8_decode(s), out;
    bool previous_cased = false;
    for (size_t i = 0; i < in.size(); ++i) {
        char32_t c = in[i];
        if (previous_cased) {
            append_lower(out, in, i);
        } else {
            append_title(out, c);
        }
        previous_cased = py_is_cased(c);
    }
    return utf8_encode(out);
}

std::string py_swapcase(std::string_view s) {
    std::u32string in = utf8_decode(s), out;
    for (size_t i = 0; i < in.size(); ++i) {
        char32_t c = in[i];
        if (py_is_upper_char(c)) {
            append_lower(out, in, i);
        } else if (py_is_lower_char(c)) {
            append_mapped(out, ut::kUpper, ut::kUpper_size, c);
        } else {
            out.push_back(c);
        }
    }
    return utf8_encode(out);
}

std::string py_strip(std::string_view s, const std::string* chars, bool left, bool right) {
    std::u32string in = utf8_decode(s);
    std::u32string set;
    if (chars) set = utf8_decode(*chars);
    auto strip_it = [&](char32_t c) { return chars ? in_set(set, c) : py_isspace(c); };
    size_t b = 0, e = in.size();
    if (left) {
        while (b < e && strip_it(in[b])) ++b;
    }
    if (right) {
        while (e > b && strip_it(in[e - 1])) --e;
    }
    return utf8_encode(std::u32string_view(in).substr(b, e - b));
}

std::vector<std::string> py_split(std::string_view s, const std::string* sep, long long maxsplit) {
    std::vector<std::string> out;
    if (sep) {
        if (sep->empty()) fail_value("empty separator");
        size_t pos = 0;
        long long splits = 0;
        while (maxsplit < 0 || splits < maxsplit) {
            size_t hit = s.find(*sep, pos);
            if (hit == std::string_view::npos) break;
            out.emplace_back(s.substr(pos, hit - pos));
            pos = hit + sep->size();
            ++splits;
        }
        out.emplace_back(s.substr(pos));
        return out;
    }
    std::u32string in = utf8_decode(s);
    size_t i = 0, n = in.size();
    long long splits = 0;
    while (true) {
        while (i < n && py_isspace(in[i])) ++i;
        if (i == n) break;
        if (maxsplit >= 0 && splits == maxsplit) {
            // The rest, trailing whitespace included, is the last part.
            out.push_back(utf8_encode(std::u32string_view(in).substr(i)));
            break;
        }
        size_t j = i;
        while (j < n && !py_isspace(in[j])) ++j;
        out.push_back(utf8_encode(std::u32string_view(in).substr(i, j - i)));
        ++splits;
        i = j;
    }
    return out;
}

std::vector<std::string> py_rsplit(std::string_view s, const std::string* sep, long long maxsplit) {
    std::vector<std::string> out;
    if (sep) {
        if (sep->empty()) fail_value("empty separator");
        size_t end = s.size();
        long long splits = 0;
        while (maxsplit < 0 || splits < maxsplit) {
            if (end < sep->size()) break;
            size_t hit = s.rfind(*sep, end - sep->size());
            if (hit == std::string_view::npos) break;
            out.emplace_back(s.substr(hit + sep->size(), end - hit - sep->size()));
            end = hit;
            ++splits;
        }
        out.emplace_back(s.substr(0, end));
        std::reverse(out.begin(), out.end());
        return out;
    }
    std::u32string in = utf8_decode(s);
    size_t e = in.size();
    long long splits = 0;
    while (true) {
        while (e > 0 && py_isspace(in[e - 1])) --e;
        if (e == 0) break;
        if (maxsplit >= 0 && splits == maxsplit) {
            // The rest, leading whitespace included, is the first part.
            out.push_back(utf8_encode(std::u32string_view(in).substr(0, e)));
            break;
        }
        size_t j = e;
        while (j > 0 && !py_isspace(in[j - 1])) --j;
        out.push_back(utf8_encode(std::u32string_view(in).substr(j, e - j)));
        ++splits;
        e = j;
    }
    std::reverse(out.begin(), out.end());
    return out;
}

std::vector<std::string> py_splitlines(std::string_view s, bool keepends) {
    // Line boundaries of str.splitlines: \n \r \r\n \v \f \x1c \x1d \x1e \x85 \u2028 \u2029.
    std::u32string in = utf8_decode(s);
    std::vector<std::string> out;
    size_t i = 0, start = 0, n = in.size();
    while (i < n) {
        char32_t c = in[i];
        bool brk = c == '\n' || c == '\r' || c == 0x0B || c == 0x0C || c == 0x1C || c == 0x1D || c == 0x1E ||
                   c == 0x85 || c == 0x2028 || c == 0x2029;
        if (!brk) {
            ++i;
            continue;
        }
        size_t eol = i;
        size_t next = i + 1;
        if (c == '\r' && next < n && in[next] == '\n') ++next;
        out.push_back(utf8_encode(std::u32string_view(in).substr(start, (keepends ? next : eol) - start)));
        start = i = next;
    }
    if (start < n) out.push_back(utf8_encode(std::u32string_view(in).substr(start)));
    return out;
}

}  // namespace qinfer::jinja
