#pragma once
// defines: UTF-8 helpers of the tokenizer: code point iteration, validation, HF-compatible lossy decoding
//
// Lossy decoding follows Rust's String::from_utf8_lossy (what HF tokenizers' decoders use): every maximal prefix of
// a well-formed sequence that cannot be completed (Unicode "maximal subpart", W3C/WHATWG practice) becomes one
// U+FFFD, and decoding resumes at the next byte. The streaming detokenizer relies on utf8_incomplete_tail(): a tail
// that could still become a valid character is held back, everything before it decodes the same whatever follows.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace qinfer::tok {

inline constexpr char32_t kReplacementChar = 0xFFFD;

// Byte length of the well-formed sequence that `lead` starts (1..4), or 0 if `lead` cannot start one.
inline int utf8_sequence_length(uint8_t lead) {
    if (lead < 0x80) return 1;
    if (lead < 0xC2) return 0;  // continuation byte, or overlong C0/C1
    if (lead < 0xE0) return 2;
    if (lead < 0xF0) return 3;
    if (lead < 0xF5) return 4;
    return 0;
}

// Decodes the code point at s[i] and advances i past it. `s` must be valid UTF-8 (checked by callers).
inline char32_t utf8_next(std::string_view s, size_t& i) {
    const auto b0 = static_cast<uint8_t>(s[i]);
    if (b0 < 0x80) {
        ++i;
        return b0;
    }
    const int n = utf8_sequence_length(b0);
    char32_t cp = b0 & (0x7F >> n);
    for (int k = 1; k < n; ++k) cp = (cp << 6) | (static_cast<uint8_t>(s[i + k]) & 0x3F);
    i += n;
    return cp;
}

// Decodes the code point that ends at s[i-1] and moves i back to its start. `s` must be valid UTF-8, i > 0.
inline char32_t utf8_prev(std::string_view s, size_t& i) {
    size_t j = i - 1;
    while (j > 0 && (static_cast<uint8_t>(s[j]) & 0xC0) == 0x80) --j;
    size_t k = j;
    const char32_t cp = utf8_next(s, k);
    i = j;
    return cp;
}

void utf8_append(std::string& out, char32_t cp);

bool is_ascii(std::string_view s);

// Byte offset of the first byte that is not part of a well-formed UTF-8 sequence, or npos if `s` is valid.
size_t utf8_first_invalid(std::string_view s);

// Appends `bytes` to `out` decoded as from_utf8_lossy does.
void utf8_append_lossy(std::string& out, std::string_view bytes);

// Length (0..3) of the trailing bytes of `s` that form a proper prefix of a well-formed sequence, i.e. bytes that
// may still become a character once more bytes arrive. 0 when `s` ends on a complete character or on bytes that
// are already invalid whatever follows.
size_t utf8_incomplete_tail(std::string_view s);

}  // namespace qinfer::tok
