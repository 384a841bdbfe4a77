#pragma once
// defines: qinfer::tok::AddedToken, qinfer::tok::AddedVocabulary — added and special tokens, matched before
// pre-tokenization
//
// Mirrors HF tokenizers' AddedVocabulary (tokenizers/src/tokenizer/added_vocabulary.rs):
//   - ids: a token whose content is already a vocab (or earlier added) token takes that id; otherwise it gets the
//     next free id (HF ignores the id written in tokenizer.json; the loader checks that they agree);
//   - tokens with normalized=false are matched in the raw input; the others are matched in the normalized text of
//     what is left, against their own normalized content;
//   - matching is leftmost-longest and non-overlapping (HF: aho-corasick MatchKind::LeftmostLongest, identical
//     patterns resolved in favour of special tokens, then file order);
//   - per match: single_word drops it when a word character (Rust regex \w) touches it; lstrip / rstrip extend it
//     over adjacent White_Space so those spaces vanish into the token.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace qinfer::tok {

class BpeModel;
class Normalizer;

struct AddedToken {
    std::string content;
    int32_t id = -1;
    bool single_word = false;
    bool lstrip = false;
    bool rstrip = false;
    bool normalized = true;  // HF's default for non-special tokens
    bool special = false;
    // Filled by AddedVocabulary::build(): the content as HF's id_to_token / decode return it, which for a
    // normalized=true token is its normalized content (HF tokenizers 0.23: "Cafe\u0301!" decodes as "Café!").
    std::string output_content;
};

// A piece of the input: [begin, end) of the string that was split; id >= 0 for an added token, -1 for plain text.
struct Segment {
    size_t begin;
    size_t end;
    int32_t id;
};

class AddedVocabulary {
public:
    // Adds a token (HF add_tokens) and returns the id it gets. A repeated content is an error.
    int32_t add(AddedToken token, const BpeModel& model);
    // Builds the two matchers (HF refresh_added_tokens). Call once after the last add().
    void build(const Normalizer& normalizer);

    // HF find_matches: appends the segments of `text` to `out` (text segments may be empty and then are omitted).
    // `normalized_set` selects the tokens with normalized=true (matched in normalized text) or the others.
    void split(std::string_view text, bool normalized_set, std::vector<Segment>& out) const;
    bool has_matcher(bool normalized_set) const { return !trie_[normalized_set ? 1 : 0].nodes.empty(); }

    const std::vector<AddedToken>& tokens() const { return tokens_; }
    const AddedToken* find_id(int32_t id) const;
    std::optional<int32_t> find_content(std::string_view content) const;

private:
    struct Trie {
        struct Node {
            std::vector<std::pair<uint8_t, int32_t>> next;  // byte -> node
            int32_t token = -1;                             // index into tokens_ of the pattern ending here
        };
        std::vector<Node> nodes;  // nodes[0] is the root (when non-empty)
        bool first[256] = {};     // bytes that can start a pattern
        void insert(std::string_view pattern, int32_t token);
    };

    std::vector<AddedToken> tokens_;
    std::unordered_map<std::string, size_t> by_content_;
    std::unordered_map<int32_t, size_t> by_id_;
    int64_t max_id_ = -1;  // largest id of an added token so far
    Trie trie_[2];  // [0]: normalized=false, matched in the raw text; [1]: normalized=true
};

}  // namespace qinfer::tok
