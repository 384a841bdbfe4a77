#include "tokenizer/utf8.h"

#include <cstring>

namespace qinfer::tok {

namespace {

// Length of the well-formed sequence at s[i] (1..4), or, if it is ill-formed, minus the length of its maximal
// subpart (-1..-3): the bytes that one U+FFFD replaces. The second-byte ranges are those of Unicode Table 3-7
// (no overlongs, no surrogates, nothing above U+10FFFF), exactly the checks of Rust's Utf8Chunks.
int sequence_at(std::string_view s, size_t i) {
    const auto b0 = static_cast<uint8_t>(s[i]);
    const int n = utf8_sequence_length(b0);
    if (n == 1) return 1;
    if (n == 0) return -1;
    const size_t avail = s.size() - i;
    auto byte = [&](size_t k) -> uint8_t { return k < avail ? static_cast<uint8_t>(s[i + k]) : 0; };
    const uint8_t b1 = byte(1);
    uint8_t lo = 0x80, hi = 0xBF;
    if (b0 == 0xE0) lo = 0xA0;
    if (b0 == 0xED) hi = 0x9F;
    if (b0 == 0xF0) lo = 0x90;
    if (b0 == 0xF4) hi = 0x8F;
    if (b1 < lo || b1 > hi) return -1;
    for (int k = 2; k < n; ++k) {
        const uint8_t b = byte(static_cast<size_t>(k));
        if ((b & 0xC0) != 0x80) return -k;
    }
    return n;
}

}  // namespace

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

bool is_ascii(std::string_view s) {
    // Eight bytes at a time: English text is the common case and this runs on every encode.
    size_t i = 0;
    for (; i + 8 <= s.size(); i += 8) {
        uint64_t w;
        std::memcpy(&w, s.data() + i, 8);
        if (w & 0x8080808080808080ULL) return false;
    }
    for (; i < s.size(); ++i) {
        if (static_cast<uint8_t>(s[i]) & 0x80) return false;
    }
    return true;
}

size_t utf8_first_invalid(std::string_view s) {
    size_t i = 0;
    while (i < s.size()) {
        if (i + 8 <= s.size()) {
            uint64_t w;
            std::memcpy(&w, s.data() + i, 8);
            if (!(w & 0x8080808080808080ULL)) {
                i += 8;
                continue;
            }
        }
        const int n = sequence_at(s, i);
        if (n < 0) return i;
        i += static_cast<size_t>(n);
    }
    return std::string_view::npos;
}

void utf8_append_lossy(std::string& out, std::string_view bytes) {
    out.reserve(out.size() + bytes.size());
    size_t i = 0;
    size_t valid_from = 0;  // start of the run of valid bytes not yet copied
    while (i < bytes.size()) {
        const int n = sequence_at(bytes, i);
        if (n > 0) {
            i += static_cast<size_t>(n);
            continue;
        }
        out.append(bytes.substr(valid_from, i - valid_from));
        utf8_append(out, kReplacementChar);
        i += static_cast<size_t>(-n);
        valid_from = i;
    }
    out.append(bytes.substr(valid_from));
}

size_t utf8_incomplete_tail(std::string_view s) {
    // The candidate start is the last byte, among the last three, that is not a continuation byte.
    const size_t n = s.size();
    for (size_t back = 1; back <= 3 && back <= n; ++back) {
        const auto b = static_cast<uint8_t>(s[n - back]);
        if ((b & 0xC0) == 0x80) continue;  // continuation: keep looking for the lead
        const int need = utf8_sequence_length(b);
        if (need <= static_cast<int>(back)) return 0;  // ASCII, invalid lead, or a sequence that is already complete
        // A proper prefix: incomplete iff sequence_at reports it invalid only for lack of bytes, i.e. its maximal
        // subpart covers every byte that is there.
        const int r = sequence_at(s, n - back);
        return r == -static_cast<int>(back) ? back : 0;
    }
    return 0;
}

}  // namespace qinfer::tok
