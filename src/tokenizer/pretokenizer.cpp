#include "tokenizer/pretokenizer.h"

#include <algorithm>

#include "core/check.h"

namespace qinfer::tok {

namespace {

// ByteLevel's own regex when use_regex is true (tokenizers/src/pre_tokenizers/byte_level.rs, GPT-2's encoder.py).
constexpr std::string_view kGpt2Pattern =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

}  // namespace

void PreTokenizer::parse_into(const JsonRef& j, std::vector<Stage>& stages) {
    const JsonRef type_ref = j.at("type");
    const std::string type = type_ref.as_string();
    if (type == "Sequence") {
        const JsonRef list = j.at("pretokenizers");
        for (size_t i = 0; i < list.array_size(); ++i) parse_into(list.at(i), stages);
        return;
    }
    if (!stages.empty() && stages.back().byte_level) {
        type_ref.fail(str_cat("pre-tokenizer \"", type,
                              "\" after ByteLevel is not supported (ByteLevel must be the last pre-tokenizer)"));
    }
    Stage st;
    if (type == "ByteLevel") {
        st.byte_level = true;
        st.add_prefix_space = j.bool_or("add_prefix_space", true);
        st.use_split = j.bool_or("use_regex", true);
        if (st.use_split) st.split.regex = std::make_shared<Regex>(kGpt2Pattern, j.where() + " (ByteLevel regex)");
        // trim_offsets only changes offsets, never ids.
    } else if (type == "Split") {
        const JsonRef pat = j.at("pattern");
        if (auto re = pat.find("Regex")) {
            st.split.regex = std::make_shared<Regex>(re->as_string(), re->where());
        } else if (auto lit = pat.find("String")) {
            st.split.literal = lit->as_string();
            if (st.split.literal.empty()) lit->fail("an empty String pattern is not supported");
        } else {
            pat.fail("expected {\"Regex\": ...} or {\"String\": ...}");
        }
        const JsonRef beh = j.at("behavior");
        const std::string b = beh.as_string();
        if (b == "Removed") {
            st.split.behavior = Behavior::Removed;
        } else if (b == "Isolated") {
            st.split.behavior = Behavior::Isolated;
        } else if (b == "MergedWithPrevious") {
            st.split.behavior = Behavior::MergedWithPrevious;
        } else if (b == "MergedWithNext") {
            st.split.behavior = Behavior::MergedWithNext;
        } else if (b == "Contiguous") {
            st.split.behavior = Behavior::Contiguous;
        } else {
            beh.fail(str_cat("unknown split behavior \"", b,
                             "\" (expected Removed, Isolated, MergedWithPrevious, MergedWithNext or Contiguous)"));
        }
        st.split.invert = j.bool_or("invert", false);
    } else {
        type_ref.fail(str_cat("unsupported pre_tokenizer type \"", type,
                              "\" (supported: Split, ByteLevel, and Sequence of them ending in ByteLevel)"));
    }
    stages.push_back(std::move(st));
}

PreTokenizer PreTokenizer::from_json(const std::optional<JsonRef>& j, const std::string& file) {
    if (!j) {
        QINFER_FAIL(file,
                    ": field pre_tokenizer is null; only byte-level BPE is supported, which needs a ByteLevel "
                    "pre-tokenizer");
    }
    PreTokenizer p;
    parse_into(*j, p.stages_);
    if (p.stages_.empty() || !p.stages_.back().byte_level) {
        j->fail("no ByteLevel pre-tokenizer; only byte-level BPE tokenizers are supported");
    }
    return p;
}

void PreTokenizer::run_split(const SplitStage& s, std::string_view piece, FunctionRef<void(std::string_view)> emit) {
    // The common case (Qwen, GPT-2): Isolated without invert keeps every match and every gap between matches.
    if (s.behavior == Behavior::Isolated) {
        size_t prev = 0;
        auto on_match = [&](size_t b, size_t e) {
            if (b > prev) emit(piece.substr(prev, b - prev));
            if (e > b) emit(piece.substr(b, e - b));
            prev = e;
        };
        if (s.regex) {
            s.regex->for_each_match(piece, on_match);
        } else {
            for (size_t pos = piece.find(s.literal); pos != std::string_view::npos;
                 pos = piece.find(s.literal, pos + s.literal.size())) {
                on_match(pos, pos + s.literal.size());
            }
        }
        if (prev < piece.size()) emit(piece.substr(prev));
        return;
    }
    // General case: HF's Pattern::find_matches (matches and gaps, flagged), then the behavior's fold
    // (NormalizedString::split in tokenizers/src/tokenizer/normalizer.rs).
    struct Span {
        size_t begin, end;
        bool flag;  // is_match, then "remove"
    };
    std::vector<Span> spans;
    size_t prev = 0;
    auto on_match = [&](size_t b, size_t e) {
        if (b != prev) spans.push_back({prev, b, s.invert});
        spans.push_back({b, e, !s.invert});
        prev = e;
    };
    if (s.regex) {
        s.regex->for_each_match(piece, on_match);
    } else {
        for (size_t pos = piece.find(s.literal); pos != std::string_view::npos;
             pos = piece.find(s.literal, pos + s.literal.size())) {
            on_match(pos, pos + s.literal.size());
        }
    }
    if (prev != piece.size()) spans.push_back({prev, piece.size(), s.invert});
    std::vector<Span> acc;
    bool previous_match = false;
    switch (s.behavior) {
        case Behavior::Removed:
            acc = spans;  // flag = is_match = remove
            break;
        case Behavior::Isolated:
            break;  // handled above
        case Behavior::Contiguous:
            for (const auto& sp : spans) {
                if (sp.flag == previous_match && !acc.empty()) {
                    acc.back().end = sp.end;
                } else {
                    acc.push_back({sp.begin, sp.end, false});
                }
                previous_match = sp.flag;
            }
            break;
        case Behavior::MergedWithPrevious:
            for (const auto& sp : spans) {
                if (sp.flag && !previous_match && !acc.empty()) {
                    acc.back().end = sp.end;
                } else {
                    acc.push_back({sp.begin, sp.end, false});
                }
                previous_match = sp.flag;
            }
            break;
        case Behavior::MergedWithNext:
            for (auto it = spans.rbegin(); it != spans.rend(); ++it) {
                if (it->flag && !previous_match && !acc.empty()) {
                    acc.back().begin = it->begin;
                } else {
                    acc.push_back({it->begin, it->end, false});
                }
                previous_match = it->flag;
            }
            std::reverse(acc.begin(), acc.end());
            break;
    }
    for (const auto& sp : acc) {
        if (!sp.flag && sp.end > sp.begin) emit(piece.substr(sp.begin, sp.end - sp.begin));
    }
}

void PreTokenizer::run(size_t stage, std::string_view piece, FunctionRef<void(std::string_view)> sink) const {
    if (piece.empty()) return;  // HF drops empty pieces after every stage
    if (stage == stages_.size()) {
        sink(piece);
        return;
    }
    const Stage& st = stages_[stage];
    std::string prefixed;
    if (st.add_prefix_space && piece.front() != ' ') {
        prefixed.reserve(piece.size() + 1);
        prefixed.push_back(' ');
        prefixed.append(piece);
        piece = prefixed;
    }
    if (!st.use_split) {
        run(stage + 1, piece, sink);
        return;
    }
    run_split(st.split, piece, [&](std::string_view sub) { run(stage + 1, sub, sink); });
}

void PreTokenizer::split(std::string_view text, FunctionRef<void(std::string_view)> sink) const {
    run(0, text, sink);
}

}  // namespace qinfer::tok
