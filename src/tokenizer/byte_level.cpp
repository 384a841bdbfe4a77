#include "tokenizer/byte_level.h"

#include <array>

#include "tokenizer/utf8.h"

namespace qinfer::tok {

namespace {

struct Tables {
    std::array<char32_t, 256> to_char{};
    std::array<int16_t, 0x144> to_byte{};  // every byte-level character is below U+0144
};

// GPT-2's bytes_to_unicode(), built once.
const Tables& tables() {
    static const Tables t = [] {
        Tables r;
        r.to_byte.fill(-1);
        auto printable = [](int b) { return (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE); };
        char32_t next = 0x100;
        for (int b = 0; b < 256; ++b) {
            const char32_t c = printable(b) ? static_cast<char32_t>(b) : next++;
            r.to_char[static_cast<size_t>(b)] = c;
            r.to_byte[c] = static_cast<int16_t>(b);
        }
        return r;
    }();
    return t;
}

}  // namespace

char32_t byte_level_char(uint8_t b) {
    return tables().to_char[b];
}

int byte_level_byte(char32_t cp) {
    return cp < 0x144 ? tables().to_byte[cp] : -1;
}

std::string to_byte_level(std::string_view raw) {
    std::string out;
    out.reserve(raw.size() * 2);
    for (char c : raw) utf8_append(out, byte_level_char(static_cast<uint8_t>(c)));
    return out;
}

bool from_byte_level(std::string_view token, std::string& out) {
    const size_t mark = out.size();
    size_t i = 0;
    while (i < token.size()) {
        const int b = byte_level_byte(utf8_next(token, i));
        if (b < 0) {
            out.resize(mark);
            return false;
        }
        out.push_back(static_cast<char>(b));
    }
    return true;
}

std::string byte_level_decode_token(std::string_view token) {
    std::string out;
    if (!from_byte_level(token, out)) out.assign(token);
    return out;
}

}  // namespace qinfer::tok
