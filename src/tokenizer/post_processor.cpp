#include "tokenizer/post_processor.h"

#include "core/check.h"

namespace qinfer::tok {

namespace {

// ["<s>", 1] as written by RobertaProcessing / BertProcessing.
int32_t token_pair_id(const JsonRef& pair) {
    if (pair.array_size() != 2) pair.fail("expected [token, id]");
    return static_cast<int32_t>(pair.at(1).as_int());
}

}  // namespace

void PostProcessor::parse_into(const JsonRef& j) {
    const JsonRef type_ref = j.at("type");
    const std::string type = type_ref.as_string();
    if (type == "ByteLevel") return;
    if (type == "Sequence") {
        const JsonRef list = j.at("processors");
        for (size_t i = 0; i < list.array_size(); ++i) parse_into(list.at(i));
        return;
    }
    // The processors below each wrap the whole sequence; a Sequence applies them in order (outermost last).
    std::vector<int32_t> pre, post;
    if (type == "TemplateProcessing") {
        const JsonRef single = j.at("single");
        const JsonRef specials = j.at("special_tokens");
        bool seen_a = false;
        for (size_t i = 0; i < single.array_size(); ++i) {
            const JsonRef item = single.at(i);
            if (auto seq = item.find("Sequence")) {
                const std::string id = seq->at("id").as_string();
                if (id != "A" || seen_a) seq->fail("the single-sequence template must contain $A exactly once");
                seen_a = true;
            } else if (auto sp = item.find("SpecialToken")) {
                const std::string name = sp->at("id").as_string();
                const auto entry = specials.find(name);
                if (!entry) sp->fail(str_cat("special token \"", name, "\" is not in ", specials.path()));
                const JsonRef ids = entry->at("ids");
                for (size_t k = 0; k < ids.array_size(); ++k) {
                    (seen_a ? post : pre).push_back(static_cast<int32_t>(ids.at(k).as_int()));
                }
            } else {
                item.fail("expected {\"Sequence\": ...} or {\"SpecialToken\": ...}");
            }
        }
        if (!seen_a) single.fail("the single-sequence template has no $A");
    } else if (type == "RobertaProcessing" || type == "BertProcessing") {
        pre.push_back(token_pair_id(j.at("cls")));
        post.push_back(token_pair_id(j.at("sep")));
    } else {
        type_ref.fail(str_cat("unsupported post_processor type \"", type,
                              "\" (supported: ByteLevel, TemplateProcessing, RobertaProcessing, BertProcessing, "
                              "Sequence, or null)"));
    }
    pre.insert(pre.end(), prefix_.begin(), prefix_.end());
    prefix_ = std::move(pre);
    suffix_.insert(suffix_.end(), post.begin(), post.end());
}

PostProcessor PostProcessor::from_json(const std::optional<JsonRef>& j) {
    PostProcessor p;
    if (j) p.parse_into(*j);
    return p;
}

void PostProcessor::apply(std::vector<int32_t>& ids) const {
    if (!prefix_.empty()) ids.insert(ids.begin(), prefix_.begin(), prefix_.end());
    ids.insert(ids.end(), suffix_.begin(), suffix_.end());
}

}  // namespace qinfer::tok
