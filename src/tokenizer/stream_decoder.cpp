#include "tokenizer/stream_decoder.h"

#include "tokenizer/utf8.h"

namespace qinfer::tok {

std::string StreamDecoder::push(int32_t id) {
    if (!tokenizer_.is_known(id) || (skip_special_ && tokenizer_.is_special(id))) return {};
    pending_ += tokenizer_.token_bytes(id);
    const size_t keep = utf8_incomplete_tail(pending_);
    std::string out;
    utf8_append_lossy(out, std::string_view(pending_).substr(0, pending_.size() - keep));
    pending_.erase(0, pending_.size() - keep);
    return out;
}

std::string StreamDecoder::flush() {
    std::string out;
    utf8_append_lossy(out, pending_);
    pending_.clear();
    return out;
}

}  // namespace qinfer::tok
