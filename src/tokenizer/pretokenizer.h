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
// Pieces are handed on as soon as they are cut (depth-first), never collected into lists.

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/function_ref.h"
#include "tokenizer/json_fields.h"
#include "tokenizer/regex.h"

namespace qinfer::tok {

class PreTokenizer {
public:
    // `j` is the `pre_tokenizer` value (nullopt when null/absent, which is an error: byte-level BPE needs one).
    static PreTokenizer from_json(const std::optional<JsonRef>& j, const std::string& file);

    // Calls sink(piece) for every final piece of `text` (valid UTF-8), in order. A piece is only valid during the
    // call (it may point into a temporary with a prepended space).
    void split(std::string_view text, FunctionRef<void(std::string_view)> sink) const;

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
    void run(size_t stage, std::string_view piece, FunctionRef<void(std::string_view)> sink) const;
    static void run_split(const SplitStage& s, std::string_view piece, FunctionRef<void(std::string_view)> emit);

    std::vector<Stage> stages_;
};

}  // namespace qinfer::tok
