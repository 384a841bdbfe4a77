#pragma once
// defines: qinfer::tok::Normalizer — the `normalizer` section of tokenizer.json
//
// Supported: null (none), NFC, NFD, NFKC, NFKD, and Sequence of these (applied in order). Unicode normalization is
// ICU's (unorm2); HF uses the unicode-normalization crate, and both implement UAX #15 (the stability policy makes
// the results agree for every character assigned in both Unicode versions). Any other type is an error that names
// the field and lists what is supported.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/json_fields.h"

namespace qinfer::tok {

class Normalizer {
public:
    Normalizer() = default;  // identity
    // `j` is the `normalizer` value (nullopt when null/absent).
    static Normalizer from_json(const std::optional<JsonRef>& j);

    bool is_identity() const { return steps_.empty(); }
    // Returns the normalized text: `text` itself when normalization leaves it unchanged (always for ASCII),
    // otherwise a view of `buf`, which receives the result. `text` must be valid UTF-8 and must not alias `buf`.
    std::string_view apply(std::string_view text, std::string& buf) const;

private:
    enum class Form { NFC, NFD, NFKC, NFKD };
    static void parse_into(const JsonRef& j, std::vector<Form>& steps);
    std::vector<Form> steps_;
};

}  // namespace qinfer::tok
