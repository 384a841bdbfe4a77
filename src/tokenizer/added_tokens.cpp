#include "tokenizer/added_tokens.h"

#include <algorithm>

#include "core/check.h"
#include "tokenizer/bpe.h"
#include "tokenizer/char_class.h"
#include "tokenizer/normalizer.h"
#include "tokenizer/utf8.h"

namespace qinfer::tok {

int32_t AddedVocabulary::add(AddedToken token, const BpeModel& model) {
    QINFER_CHECK(!token.content.empty(), "added token with empty content");
    QINFER_CHECK(!by_content_.count(token.content), "added token \"", token.content, "\" is defined twice");
    // HF: an existing vocab token keeps its id; a new one takes max(added ids) + 1, but never less than the number
    // of vocab entries.
    int32_t id;
    if (auto v = model.token_to_id(token.content)) {
        id = *v;
    } else {
        const auto vocab_size = static_cast<int64_t>(model.vocab_count());
        id = static_cast<int32_t>(max_id_ < 0                                  ? vocab_size
                                  : (max_id_ >= vocab_size || vocab_size == 0) ? max_id_ + 1
                                                                               : vocab_size);
    }
    token.id = id;
    max_id_ = std::max<int64_t>(max_id_, id);
    by_content_.emplace(token.content, tokens_.size());
    by_id_[id] = tokens_.size();
    tokens_.push_back(std::move(token));
    return id;
}

const AddedToken* AddedVocabulary::find_id(int32_t id) const {
    auto it = by_id_.find(id);
    return it == by_id_.end() ? nullptr : &tokens_[it->second];
}

std::optional<int32_t> AddedVocabulary::find_content(std::string_view content) const {
    auto it = by_content_.find(std::string(content));
    if (it == by_content_.end()) return std::nullopt;
    return tokens_[it->second].id;
}

void AddedVocabulary::Trie::insert(std::string_view pattern, int32_t token) {
    if (nodes.empty()) nodes.emplace_back();
    int32_t node = 0;
    for (char ch : pattern) {
        const auto b = static_cast<uint8_t>(ch);
        auto& next = nodes[static_cast<size_t>(node)].next;
        auto it = std::find_if(next.begin(), next.end(), [&](const auto& e) { return e.first == b; });
        if (it != next.end()) {
            node = it->second;
        } else {
            const auto child = static_cast<int32_t>(nodes.size());
            next.emplace_back(b, child);
            nodes.emplace_back();  // invalidates `next`; not used again
            node = child;
        }
    }
    first[static_cast<uint8_t>(pattern[0])] = true;
    // Identical patterns: the first inserted wins, as with aho-corasick's lowest pattern index.
    if (nodes[static_cast<size_t>(node)].token < 0) nodes[static_cast<size_t>(node)].token = token;
}

void AddedVocabulary::build(const Normalizer& normalizer) {
    trie_[0] = Trie{};
    trie_[1] = Trie{};
    for (AddedToken& t : tokens_) {
        std::string buf;
        t.output_content = t.normalized ? std::string(normalizer.apply(t.content, buf)) : t.content;
    }
    // HF's pattern order: special tokens, then the others, each in the order they were added.
    for (int pass = 0; pass < 2; ++pass) {
        for (size_t i = 0; i < tokens_.size(); ++i) {
            const AddedToken& t = tokens_[i];
            if (t.special != (pass == 0)) continue;
            if (t.normalized) {
                trie_[1].insert(t.output_content, static_cast<int32_t>(i));
            } else {
                trie_[0].insert(t.content, static_cast<int32_t>(i));
            }
        }
    }
}

namespace {

bool ends_with_word(std::string_view s) {
    if (s.empty()) return false;
    size_t i = s.size();
    return is_word_char(utf8_prev(s, i));
}

bool starts_with_word(std::string_view s) {
    if (s.empty()) return false;
    size_t i = 0;
    return is_word_char(utf8_next(s, i));
}

// Start of the run of White_Space that ends `s` (HF: `\s*$`).
size_t space_leftmost_at_end(std::string_view s) {
    size_t i = s.size();
    while (i > 0) {
        size_t j = i;
        if (!is_white_space(utf8_prev(s, j))) break;
        i = j;
    }
    return i;
}

// Length of the run of White_Space that starts `s` (HF: `^\s*`).
size_t space_rightmost_at_start(std::string_view s) {
    size_t i = 0;
    while (i < s.size()) {
        size_t j = i;
        if (!is_white_space(utf8_next(s, j))) break;
        i = j;
    }
    return i;
}

}  // namespace

void AddedVocabulary::split(std::string_view text, bool normalized_set, std::vector<Segment>& out) const {
    const Trie& trie = trie_[normalized_set ? 1 : 0];
    const size_t n = text.size();
    if (trie.nodes.empty()) {
        if (n > 0) out.push_back({0, n, -1});
        return;
    }
    size_t start_offset = 0;
    size_t i = 0;
    while (i < n) {
        if (!trie.first[static_cast<uint8_t>(text[i])]) {
            ++i;
            continue;
        }
        // Longest pattern starting at i.
        int32_t node = 0, best = -1;
        size_t best_end = 0;
        for (size_t j = i; j < n; ++j) {
            const auto& next = trie.nodes[static_cast<size_t>(node)].next;
            const auto b = static_cast<uint8_t>(text[j]);
            auto it = std::find_if(next.begin(), next.end(), [&](const auto& e) { return e.first == b; });
            if (it == next.end()) break;
            node = it->second;
            if (trie.nodes[static_cast<size_t>(node)].token >= 0) {
                best = trie.nodes[static_cast<size_t>(node)].token;
                best_end = j + 1;
            }
        }
        if (best < 0) {
            ++i;
            continue;
        }
        const size_t match_end = best_end;
        // HF find_matches, per match of the automaton.
        const AddedToken& tok = tokens_[static_cast<size_t>(best)];
        size_t start = i, stop = match_end;
        i = match_end;  // the automaton resumes after the raw match whatever the flags do
        if (tok.single_word) {
            const bool start_space = start == 0 || !ends_with_word(text.substr(0, start));
            const bool stop_space = stop == n || !starts_with_word(text.substr(stop));
            if (!start_space || !stop_space) continue;
        }
        if (tok.lstrip) start = std::max(space_leftmost_at_end(text.substr(0, start)), start_offset);
        if (tok.rstrip) stop += space_rightmost_at_start(text.substr(stop));
        if (start_offset < start) out.push_back({start_offset, start, -1});
        out.push_back({start, stop, tok.id});
        start_offset = stop;
    }
    if (start_offset != n) out.push_back({start_offset, n, -1});
}

}  // namespace qinfer::tok
