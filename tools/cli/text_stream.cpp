#include "text_stream.h"

#include <algorithm>

namespace qinfer::cli {

void TextStream::emit(const std::string& s) {
    if (s.empty()) return;
    std::fwrite(s.data(), 1, s.size(), out_);
    std::fflush(out_);
    text_ += s;
}

bool TextStream::push(int32_t id) {
    if (stopped_) return false;
    pending_ += decoder_.push(id);
    size_t cut = std::string::npos;
    for (const std::string& s : stop_) cut = std::min(cut, pending_.find(s));
    if (cut != std::string::npos) {
        emit(pending_.substr(0, cut));
        pending_.clear();
        stopped_ = true;
        return false;
    }
    // Hold back the longest suffix that is a proper prefix of some stop string.
    size_t hold = 0;
    for (const std::string& s : stop_) {
        for (size_t n = std::min(s.size() - 1, pending_.size()); n > hold; --n) {
            if (pending_.compare(pending_.size() - n, n, s, 0, n) == 0) {
                hold = n;
                break;
            }
        }
    }
    emit(pending_.substr(0, pending_.size() - hold));
    pending_.erase(0, pending_.size() - hold);
    return true;
}

void TextStream::finish() {
    if (!stopped_) emit(pending_ + decoder_.flush());
    pending_.clear();
}

}  // namespace qinfer::cli
