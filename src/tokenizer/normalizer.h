#pragma once
// defines: qinfer::tok::Normalizer — the `normalizer` section of tokenizer.json
//
// Supported: null (none), NFC, NFD, NFKC, NFKD, and Sequence of these (applied in order). Any other type is an
// error that names the field and lists what is supported.
//
// Unicode version: HF tokenizers normalizes with the unicode-normalization-alignments crate, whose data is Unicode
// 9.0: a character assigned later is left alone (no decomposition, combining class 0, so it also stops canonical
// reordering and composition around it). Measured with tokenizers 0.23: every canonically decomposable character
// and every combining mark of Unicode <= 9.0 is normalized, none of the 109 from 10.0..15.0 is (e.g. U+1715, ccc 9
// since 14.0, is not reordered before U+0327). ICU 72 has Unicode 15.0 data, so its normalizers are filtered to the
// characters of age <= 9.0 (unorm2_openFiltered, the mechanism ICU itself uses for IDNA's Unicode 3.2); by the
// normalization stability policy this gives exactly the Unicode 9.0 results.

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
