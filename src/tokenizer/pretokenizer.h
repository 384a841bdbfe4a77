#pragma once
// defines: qinfer::tok::PreTokenizer — the `pre_tokenizer` section of tokenizer.json, for byte-level BPE
//
// Supported: `ByteLevel` (add_prefix_space, use_regex with GPT-2's regex), `Split` (Regex or String pattern, every
// SplitDelimiterBehavior, invert), and `Sequence` of these whose last element is ByteLevel — e.g. Qwen's
// Sequence[Split(regex, Isolated), ByteLevel(use_regex=false)]. ByteLevel must come last because it turns the text
// into byte-level characters; the model (bpe.h) then works on raw bytes directly, so this class only cuts the text
// into pieces (raw UTF-8) and never builds byte-level strings. Pieces are cut exactly as HF does: each stage runs
// on every piece of the previous stage separately (so a regex lookahead sees the end of its piece), empty pieces
// are dropped, and ByteLevel's add_prefix_space prepends ' ' to every piece that does not start with one.

#include <cstddef>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tokenizer/json_fields.h"
#include "tokenizer/regex.h"

namespace qinfer::tok {

class PreTokenizer {
public:
    // Reusable buffers for split(); one per encode call (not shared between threads).
    struct Scratch {
        struct Span {
            size_t begin, end;
            bool flag;  // is_match, then "remove" (HF's SplitDelimiterBehavior fold)
        };
        std::vector<std::string_view> a, b;
        std::vector<std::pair<size_t, size_t>> matches;
        std::vector<Span> spans, merged;
        std::deque<std::string> owned;  // pieces with a prepended space (stable addresses)
    };

    // `j` is the `pre_tokenizer` value (nullopt when null/absent, which is an error: byte-level BPE needs one).
    static PreTokenizer from_json(const std::optional<JsonRef>& j, const std::string& file);

    // Appends the pieces of `text` (valid UTF-8) to `out`. Views point into `text` or into `scratch.owned`.
    void split(std::string_view text, Scratch& scratch, std::vector<std::string_view>& out) const;

private:
    enum class Behavior { Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous };
    struct SplitStage {
        std::shared_ptr<const Regex> regex;  // Regex pattern, or
        std::string literal;                 // String pattern (when regex is null)
        Behavior behavior = Behavior::Isolated;
        bool invert = false;
    };
    struct Stage {
        bool byte_level = false;        // ByteLevel stage (else Split)
        bool add_prefix_space = false;  // ByteLevel
        SplitStage split;               // Split, or ByteLevel's GPT-2 regex when use_regex
        bool use_split = true;          // false for ByteLevel with use_regex=false
    };
    static void parse_into(const JsonRef& j, std::vector<Stage>& stages);
    void run_split(const SplitStage& s, std::string_view piece, Scratch& scratch,
                   std::vector<std::string_view>& out) const;

    std::vector<Stage> stages_;
};

}  // namespace qinfer::tok
