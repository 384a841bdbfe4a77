#pragma once
// defines: the Unicode character classes HF uses around added tokens (via ICU)
//
// AddedVocabulary (HF tokenizers, added_vocabulary.rs) decides lstrip/rstrip/single_word with Rust `regex` classes:
// `\s` is the White_Space property and `\w` is UTS #18 "word": Alphabetic, Mark, Decimal_Number,
// Connector_Punctuation or Join_Control. These are the same definitions, read from ICU's character data.

namespace qinfer::tok {

bool is_white_space(char32_t cp);  // Unicode White_Space
bool is_word_char(char32_t cp);    // Rust regex \w

}  // namespace qinfer::tok
