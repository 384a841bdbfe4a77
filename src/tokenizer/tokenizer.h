#pragma once
// defines: qinfer::tok::Tokenizer — byte-level BPE tokenizer read from a Hugging Face tokenizer.json
//
// Produces the ids of HF `tokenizers` (Tokenizer.encode(text, add_special_tokens).ids) and transformers'
// AutoTokenizer for the Qwen3 / Qwen3.5 family and any byte-level BPE tokenizer.json built from the supported
// components. The encode pipeline, in HF's order:
//   1. added tokens with normalized=false are cut out of the raw text (added_tokens.h);
//   2. each remaining part is normalized (normalizer.h: NFC for Qwen), then added tokens with normalized=true are
//      cut out of it;
//   3. each remaining part is pre-tokenized (pretokenizer.h: Qwen's Split regex, then ByteLevel);
//   4. each piece is BPE-encoded (bpe.h);
//   5. with add_special_tokens, the post-processor adds its tokens (post_processor.h; nothing for Qwen).
// Decoding maps every token through the ByteLevel decoder (special and added tokens included, as HF does; a
// normalized=true added token contributes its normalized content, as HF's id_to_token returns it) and
// turns the bytes into text with U+FFFD for invalid UTF-8 (Rust from_utf8_lossy, utf8.h); ids that are not in the
// vocab are skipped, as HF skips them.
//
// Supported tokenizer.json components (anything else is an error naming the field):
//   normalizer:      null, NFC, NFD, NFKC, NFKD, Sequence
//   pre_tokenizer:   ByteLevel, Split (Regex / String, any behavior, invert), Sequence ending in ByteLevel
//   model:           BPE (see bpe.h for its options)
//   decoder:         ByteLevel, or Sequence containing only ByteLevel
//   post_processor:  null, ByteLevel, TemplateProcessing, RobertaProcessing, BertProcessing, Sequence
//   added_tokens:    content, single_word, lstrip, rstrip, normalized, special
// From tokenizer_config.json (optional): bos/eos/pad/unk token names (strings or {"content": ...}); named and
// additional special tokens that tokenizer.json lacks are added as special tokens, as transformers 5 does.
// add_bos_token / add_eos_token / clean_up_tokenization_spaces / added_tokens_decoder are ignored, as transformers
// 5 ignores them when tokenizer.json exists (clean-up: skipped for BPE). `truncation` / `padding` are ignored too.
//
// A Tokenizer is immutable and thread-safe; copies share the loaded data.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace qinfer::tok {

class Tokenizer {
public:
    // Loads tokenizer.json and, if given, tokenizer_config.json.
    static Tokenizer from_file(const std::filesystem::path& tokenizer_json,
                               const std::optional<std::filesystem::path>& tokenizer_config_json = std::nullopt);
    // Loads dir/tokenizer.json and dir/tokenizer_config.json when present.
    static Tokenizer from_dir(const std::filesystem::path& dir);
    // Parses in-memory JSON text; the names are used in error messages. Empty config_json: no config.
    static Tokenizer from_json_text(std::string_view tokenizer_json, std::string_view config_json = {},
                                    const std::string& tokenizer_name = "tokenizer.json",
                                    const std::string& config_name = "tokenizer_config.json");

    // Token ids of `text`, which must be valid UTF-8 (an Error says where it is not). add_special_tokens applies
    // the post-processor (Qwen adds nothing).
    std::vector<int32_t> encode(std::string_view text, bool add_special_tokens = false) const;
    // Text of `ids`; skip_special_tokens drops special tokens. Invalid UTF-8 becomes U+FFFD as in HF.
    std::string decode(std::span<const int32_t> ids, bool skip_special_tokens = false) const;

    std::optional<int32_t> token_to_id(std::string_view token) const;  // added token, or vocab token as spelled
                                                                       // in tokenizer.json ("Ġworld")
    std::string id_to_token(int32_t id) const;                         // as HF; throws Error for an unknown id
    // The bytes that decoding `id` contributes (ByteLevel decoder); empty for ids not in the vocab.
    std::string_view token_bytes(int32_t id) const;
    // 1 + the largest id (vocab or added); ids below it may still be unused.
    size_t vocab_size() const;
    bool is_special(int32_t id) const;
    bool is_known(int32_t id) const;  // id is a vocab or added token

    // Special tokens named in tokenizer_config.json (nullopt when absent or null).
    std::optional<int32_t> bos_token_id() const;
    std::optional<int32_t> eos_token_id() const;
    std::optional<int32_t> pad_token_id() const;
    std::optional<int32_t> unk_token_id() const;

    struct Impl;  // opaque; defined in tokenizer.cpp

private:
    explicit Tokenizer(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}
    std::shared_ptr<const Impl> impl_;
};

}  // namespace qinfer::tok
