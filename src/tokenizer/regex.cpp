#include "tokenizer/regex.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "core/check.h"
#include "tokenizer/utf8.h"

namespace qinfer::tok {

std::string translate_onig_pattern(std::string_view pattern, std::string_view where) {
    std::string out;
    out.reserve(pattern.size() + 32);
    size_t i = 0;
    while (i < pattern.size()) {
        const char c = pattern[i];
        if (c != '\\' || i + 1 == pattern.size()) {
            out.push_back(c);
            ++i;
            continue;
        }
        const char e = pattern[i + 1];
        if (e == 'Q') {  // \Q...\E quotes literally: copy verbatim
            const size_t end = pattern.find("\\E", i + 2);
            const size_t stop = end == std::string_view::npos ? pattern.size() : end + 2;
            out.append(pattern.substr(i, stop - i));
            i = stop;
            continue;
        }
        switch (e) {
            case 's':
                out += "\\p{White_Space}";
                break;
            case 'S':
                out += "\\P{White_Space}";
                break;
            case 'w':
            case 'W':
            case 'b':
            case 'B':
            case 'h':
            case 'H':
                QINFER_FAIL(where, ": regex escape \\", e,
                            " is not supported (its meaning differs between Oniguruma, which HF tokenizers uses, "
                            "and PCRE2)");
            default:
                out.push_back('\\');
                out.push_back(e);
        }
        i += 2;
    }
    return out;
}

struct Regex::Impl {
    pcre2_code* code = nullptr;
    bool jit = false;
    ~Impl() { pcre2_code_free(code); }
};

Regex::Regex(std::string_view pattern, std::string_view where) : impl_(std::make_unique<Impl>()) {
    const std::string translated = translate_onig_pattern(pattern, where);
    int err = 0;
    PCRE2_SIZE err_offset = 0;
    // MULTILINE: in Oniguruma's (Ruby) syntax `^`/`$` match at line boundaries.
    impl_->code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(translated.data()), translated.size(),
                                PCRE2_UTF | PCRE2_UCP | PCRE2_MULTILINE, &err, &err_offset, nullptr);
    if (impl_->code == nullptr) {
        PCRE2_UCHAR msg[256];
        pcre2_get_error_message(err, msg, sizeof(msg));
        QINFER_FAIL(where, ": cannot compile regex \"", pattern, "\" (as PCRE2 \"", translated,
                    "\"): ", reinterpret_cast<const char*>(msg), " at offset ", err_offset);
    }
    // JIT makes matching several times faster; without it (unsupported CPU) the interpreter gives the same result.
    impl_->jit = pcre2_jit_compile(impl_->code, PCRE2_JIT_COMPLETE) == 0;
}

Regex::~Regex() = default;
Regex::Regex(Regex&&) noexcept = default;
Regex& Regex::operator=(Regex&&) noexcept = default;

void Regex::find_all(std::string_view text, std::vector<std::pair<size_t, size_t>>& out) const {
    for_each_match(text, [&](size_t b, size_t e) { out.emplace_back(b, e); });
}

void Regex::for_each_match(std::string_view text, FunctionRef<void(size_t, size_t)> on_match) const {
    struct MatchData {
        pcre2_match_data* md;
        ~MatchData() { pcre2_match_data_free(md); }
    } data{pcre2_match_data_create_from_pattern(impl_->code, nullptr)};
    QINFER_CHECK(data.md != nullptr, "regex: out of memory");
    const auto* subject = reinterpret_cast<PCRE2_SPTR>(text.data());
    size_t pos = 0;
    size_t last_match_end = std::string_view::npos;
    while (pos <= text.size()) {
        // Callers validated the UTF-8 once for the whole input.
        int rc = impl_->jit
                     ? pcre2_jit_match(impl_->code, subject, text.size(), pos, PCRE2_NO_UTF_CHECK, data.md, nullptr)
                     : PCRE2_ERROR_JIT_BADOPTION;
        if (rc == PCRE2_ERROR_JIT_STACKLIMIT || rc == PCRE2_ERROR_JIT_BADOPTION) {
            // The interpreter keeps its backtracking frames on the heap, so it copes where the JIT stack ran out.
            rc = pcre2_match(impl_->code, subject, text.size(), pos, PCRE2_NO_UTF_CHECK, data.md, nullptr);
        }
        if (rc == PCRE2_ERROR_NOMATCH) break;
        if (rc < 0) {
            PCRE2_UCHAR msg[256];
            pcre2_get_error_message(rc, msg, sizeof(msg));
            QINFER_FAIL("regex match failed: ", reinterpret_cast<const char*>(msg));
        }
        const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(data.md);
        const size_t b = ov[0], e = ov[1];
        if (b == e && last_match_end == e) {
            // An empty match where the previous one ended: skip one character and search again (onig.rs).
            if (pos >= text.size()) break;
            const int n = utf8_sequence_length(static_cast<uint8_t>(text[pos]));
            pos += n > 0 ? static_cast<size_t>(n) : 1;
            continue;
        }
        on_match(b, e);
        last_match_end = e;
        pos = e;
    }
}

}  // namespace qinfer::tok
