#pragma once
// defines: the GPT-2 byte <-> unicode table of the ByteLevel pre-tokenizer / decoder
//
// Byte-level BPE spells every byte as one printable code point so that vocab and merges are plain strings:
// printable Latin-1 bytes ('!'..'~', '¡'..'¬', '®'..'ÿ') stand for themselves, the other 68 bytes map, in order, to
// U+0100..U+0143 (so ' ' is 'Ġ', '\n' is 'Ċ'). The encoder never builds these strings: BPE runs on raw bytes with
// the vocab translated once at load (bpe.h). The table is needed at load and for decoding.

#include <cstdint>
#include <string>
#include <string_view>

namespace qinfer::tok {

// The code point that spells byte b.
char32_t byte_level_char(uint8_t b);

// The byte spelled by code point cp, or -1 if cp is not one of the 256 byte-level characters.
int byte_level_byte(char32_t cp);

// Maps raw bytes to their byte-level spelling (UTF-8), e.g. " hi" -> "Ġhi".
std::string to_byte_level(std::string_view raw);

// Reverses to_byte_level: appends the bytes spelled by `token` to `out` and returns true, or returns false (leaving
// `out` unchanged) if some character of `token` is not a byte-level character. `token` must be valid UTF-8.
bool from_byte_level(std::string_view token, std::string& out);

// What HF's ByteLevel decoder makes of one token: its bytes if it is entirely spelled in byte-level characters,
// otherwise the token's own UTF-8 unchanged (an added token such as "hello world" with a plain space).
std::string byte_level_decode_token(std::string_view token);

}  // namespace qinfer::tok
