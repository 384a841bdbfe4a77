#pragma once
// defines: qinfer::tok::Regex — the pre-tokenizer regex of tokenizer.json, run by PCRE2
//
// HF tokenizers runs `Split` patterns with Oniguruma. PCRE2 (UTF + UCP, JIT-compiled) reads the same syntax for
// everything these tokenizers use (`\p{L}`, `\p{N}`, `\p{M}`, `(?i:...)`, `(?!...)`, classes, `\r\n`) with the same
// meaning, except for one escape that must be translated: PCRE2's UCP `\s` also matches U+180E (MONGOLIAN VOWEL
// SEPARATOR, no longer White_Space since Unicode 6.3), while Oniguruma's `\s` is exactly White_Space. So `\s` /
// `\S` are rewritten to `\p{White_Space}` / `\P{White_Space}` (valid inside and outside classes). Escapes whose
// meaning differs between the two engines and that no known tokenizer uses (`\w`, `\W`, `\b`, `\B`, `\h`, `\H`)
// are rejected with an error rather than silently run with PCRE2's meaning.
//
// Iteration follows HF's Pattern impl for onig (tokenizers/src/utils/onig.rs): successive non-overlapping
// leftmost matches; an empty match right where the previous match ended is skipped by advancing one character.

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tokenizer/function_ref.h"

namespace qinfer::tok {

// Rewrites an Oniguruma pattern into the PCRE2 pattern with the same meaning (see above). Throws qinfer::Error
// mentioning `where` for an unsupported escape.
std::string translate_onig_pattern(std::string_view pattern, std::string_view where);

class Regex {
public:
    // Compiles `pattern` (Oniguruma syntax, translated). `where` names the JSON field for errors.
    Regex(std::string_view pattern, std::string_view where);
    ~Regex();
    Regex(Regex&&) noexcept;
    Regex& operator=(Regex&&) noexcept;
    Regex(const Regex&) = delete;
    Regex& operator=(const Regex&) = delete;

    // Calls on_match(begin, end) for every match in `text` (valid UTF-8), in order. Thread-safe; on_match may run
    // other regexes.
    void for_each_match(std::string_view text, FunctionRef<void(size_t, size_t)> on_match) const;
    // Appends the [begin, end) byte ranges of all matches to `out`.
    void find_all(std::string_view text, std::vector<std::pair<size_t, size_t>>& out) const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace qinfer::tok
