#pragma once
// defines: qinfer::cli::TextStream — streams generated tokens as text, honouring stop strings.
//
// Text is printed as soon as it is complete UTF-8 (tok::StreamDecoder) and cannot be the start of a stop string; when a
// stop string appears, the text before it is printed and generation is told to stop. The stop string itself is not
// printed (transformers' stop_strings keep it in the ids; the text a user sees ends before it, as in OpenAI's API).

#include <cstdio>
#include <string>
#include <vector>

#include "tokenizer/stream_decoder.h"
#include "tokenizer/tokenizer.h"

namespace qinfer::cli {

class TextStream {
public:
    TextStream(const tok::Tokenizer& tokenizer, std::vector<std::string> stop, std::FILE* out, bool skip_special)
        : decoder_(tokenizer, skip_special), stop_(std::move(stop)), out_(out) {}

    // Returns false once a stop string has been seen.
    bool push(int32_t id);
    // Prints whatever is held back (end of generation).
    void finish();
    const std::string& text() const { return text_; }  // everything printed so far

private:
    void emit(const std::string& s);
    tok::StreamDecoder decoder_;
    std::vector<std::string> stop_;
    std::FILE* out_;
    std::string pending_;  // decoded but not yet printed (could start a stop string)
    std::string text_;
    bool stopped_ = false;
};

}  // namespace qinfer::cli
