#pragma once
// defines: qinfer::tok::StreamDecoder — incremental detokenization for generation
//
// push(id) returns the text that became final with this token; it never returns part of a UTF-8 character: bytes
// that may still grow into a character (at most 3) are held back until the next token completes or breaks them.
// Invalid bytes become U+FFFD exactly as in Tokenizer::decode, so the concatenation of every push() and the final
// flush() equals decode() of all the ids (HF's decode is one from_utf8_lossy pass over the concatenated token
// bytes, and that pass never looks past an incomplete tail; see utf8.h).

#include <cstdint>
#include <string>

#include "tokenizer/tokenizer.h"

namespace qinfer::tok {

class StreamDecoder {
public:
    explicit StreamDecoder(const Tokenizer& tokenizer, bool skip_special_tokens = false)
        : tokenizer_(tokenizer), skip_special_(skip_special_tokens) {}

    // Adds one token; returns the newly complete text (valid UTF-8, possibly empty).
    std::string push(int32_t id);
    // Returns what is held back (an unfinished character becomes U+FFFD) and starts over.
    std::string flush();

private:
    Tokenizer tokenizer_;  // shares the loaded data
    bool skip_special_;
    std::string pending_;  // bytes received but not yet returned: an unfinished UTF-8 sequence (<= 3 bytes)
};

}  // namespace qinfer::tok
