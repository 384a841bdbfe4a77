#pragma once
// defines: qinfer::tok::BpeModel — the `model` section of tokenizer.json (type BPE) for byte-level tokenizers
//
// The vocab and merges are spelled in byte-level characters ("Ġthe"); at load they are translated to raw bytes, so
// a pre-tokenized piece is encoded straight from its UTF-8 bytes: every byte starts as the token of its byte-level
// character, then adjacent pairs are merged, always the pair of lowest merge rank first and, among equal ranks,
// the leftmost — the order HF's Word::merge_all produces with its (rank, position) min-heap. Short pieces use a
// linear scan and long ones a heap; both give HF's result (tested against each other). A piece's ids are cached
// (pieces repeat constantly in real text); the cache is shared by all threads behind a mutex.
//
// Supported fields: vocab, merges (["a b", ...] or [["a","b"], ...]), unk_token and fuse_unk (a byte whose
// character is not in the vocab becomes unk, or is dropped when there is no unk_token, as in HF), ignore_merges,
// dropout null/0, continuing_subword_prefix and end_of_word_suffix null/"", byte_fallback false. Anything else is
// an error naming the field.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "tokenizer/bpe_cache.h"
#include "tokenizer/json_fields.h"

namespace qinfer::tok {

// Merge table: (left id, right id) -> (rank, merged id), open addressing (the hot lookup of encoding).
class MergeTable {
public:
    struct Entry {
        uint64_t key;  // left << 32 | right; kEmpty when unused
        int32_t rank;
        int32_t merged;
    };
    void reserve(size_t n);
    // Inserts or overwrites (HF builds a HashMap from the list, so a repeated pair keeps its last rank).
    void set(int32_t left, int32_t right, int32_t rank, int32_t merged);
    const Entry* find(int32_t left, int32_t right) const {
        if (slots_.empty()) return nullptr;
        const uint64_t key = make_key(left, right);
        for (size_t i = hash(key);; i = (i + 1) & mask_) {
            const Entry& e = slots_[i];
            if (e.key == key) return &e;
            if (e.key == kEmpty) return nullptr;
        }
    }
    size_t size() const { return count_; }

private:
    static constexpr uint64_t kEmpty = ~uint64_t{0};
    static uint64_t make_key(int32_t l, int32_t r) {
        return (static_cast<uint64_t>(static_cast<uint32_t>(l)) << 32) | static_cast<uint32_t>(r);
    }
    // Fibonacci hashing: the top bits of key * 2^64/phi index a power-of-two table.
    size_t hash(uint64_t k) const { return static_cast<size_t>((k * 0x9E3779B97F4A7C15ULL) >> shift_); }
    std::vector<Entry> slots_;
    size_t mask_ = 0;
    int shift_ = 64;
    size_t count_ = 0;
};

// The two merge loops, exposed so that tests can check they agree. `ids` holds the initial symbols and is replaced
// by the merged ones.
void bpe_merge_scan(const MergeTable& merges, std::vector<int32_t>& ids);
void bpe_merge_heap(const MergeTable& merges, std::vector<int32_t>& ids);

class BpeModel {
public:
    // `model` is the `model` value of tokenizer.json.
    static std::unique_ptr<BpeModel> from_json(const JsonRef& model);

    // Appends the ids of one pre-tokenized piece (raw UTF-8 bytes) to `out`.
    void encode(std::string_view piece, std::vector<int32_t>& out) const;

    std::optional<int32_t> token_to_id(std::string_view token) const;  // token in byte-level spelling
    const std::string* id_to_token(int32_t id) const;                  // nullptr if id is not in the vocab
    size_t vocab_count() const { return vocab_.size(); }               // number of vocab entries
    int32_t max_id() const { return static_cast<int32_t>(id_to_token_.size()) - 1; }
    const MergeTable& merges() const { return merges_; }
    // Id of the token spelling byte b, or -1 if that character is not in the vocab.
    int32_t byte_id(uint8_t b) const { return byte_ids_[b]; }

private:
    struct StrHash {
        using is_transparent = void;
        size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
    };
    using StrMap = std::unordered_map<std::string, int32_t, StrHash, std::equal_to<>>;

    void encode_uncached(std::string_view piece, std::vector<int32_t>& out) const;

    StrMap vocab_;                          // byte-level spelling -> id
    std::vector<std::string> id_to_token_;  // id -> spelling ("" for unused ids)
    std::vector<bool> id_used_;
    StrMap raw_vocab_;  // raw bytes -> id, for tokens spelled only in byte-level characters (ignore_merges)
    int32_t byte_ids_[256];
    MergeTable merges_;
    std::string unk_token_;          // "" when the model has none
    std::string unk_where_;          // "<file>: field model.unk_token", for the error if it is needed but missing
    std::optional<int32_t> unk_id_;  // unset if there is no unk_token or it is not in the vocab
    bool fuse_unk_ = false;
    bool ignore_merges_ = false;

    // Piece -> ids, for pieces shorter than HF's MAX_LENGTH for cached words.
    static constexpr size_t kCacheMaxPieceBytes = 256;
    mutable std::mutex cache_mu_;
    mutable PieceCache cache_;
};

}  // namespace qinfer::tok
