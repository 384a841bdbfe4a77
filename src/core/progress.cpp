#include "core/progress.h"

#include <unistd.h>

#include <cstdio>

namespace qinfer {

bool ProgressBar::stderr_is_tty() { return ::isatty(STDERR_FILENO) == 1; }

ProgressBar::ProgressBar(std::string label, uint64_t total)
    : label_(std::move(label)), total_(total), enabled_(stderr_is_tty() && total > 0),
      start_(std::chrono::steady_clock::now()), last_draw_(start_) {}

ProgressBar::~ProgressBar() {
    if (!enabled_) return;
    std::lock_guard<std::mutex> lock(mu_);
    if (drawn_) {
        draw(true);
        std::fputc('\n', stderr);
    }
}

void ProgressBar::advance(uint64_t n) {
    if (!enabled_) return;
    std::lock_guard<std::mutex> lock(mu_);
    done_ += n;
    const auto now = std::chrono::steady_clock::now();
    if (done_ < total_ && now - last_draw_ < std::chrono::milliseconds(100)) return;
    last_draw_ = now;
    draw(done_ >= total_);
}

void ProgressBar::draw(bool /*final*/) {
    constexpr int kWidth = 30;
    const double frac = total_ ? static_cast<double>(done_) / static_cast<double>(total_) : 1.0;
    const int filled = static_cast<int>(frac * kWidth + 0.5);
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    std::fprintf(stderr, "\r%s [%.*s%*s] %3d%% %llu/%llu %.1fs", label_.c_str(), filled,
                 "##############################", kWidth - filled, "", static_cast<int>(frac * 100 + 0.5),
                 static_cast<unsigned long long>(done_), static_cast<unsigned long long>(total_), secs);
    std::fflush(stderr);
    drawn_ = true;
}

}  // namespace qinfer
