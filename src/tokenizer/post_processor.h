#pragma once
// defines: qinfer::tok::PostProcessor — what encode(..., add_special_tokens=true) adds around a single sequence
//
// Reads the `post_processor` section of tokenizer.json: null, ByteLevel (offsets only: adds nothing),
// TemplateProcessing (the `single` template: special-token ids before and after `$A`), RobertaProcessing and
// BertProcessing (cls ... sep), and Sequence of these. Qwen's is ByteLevel, so Qwen adds nothing. (transformers 5
// ignores tokenizer_config.json's add_bos_token / add_eos_token when tokenizer.json exists, and so do we.)

#include <cstdint>
#include <optional>
#include <vector>

#include "tokenizer/json_fields.h"

namespace qinfer::tok {

class PostProcessor {
public:
    static PostProcessor from_json(const std::optional<JsonRef>& j);

    void apply(std::vector<int32_t>& ids) const;  // prefix + ids + suffix

    const std::vector<int32_t>& prefix() const { return prefix_; }
    const std::vector<int32_t>& suffix() const { return suffix_; }

private:
    void parse_into(const JsonRef& j);
    std::vector<int32_t> prefix_, suffix_;
};

}  // namespace qinfer::tok
