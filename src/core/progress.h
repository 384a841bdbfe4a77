#pragma once
// defines: qinfer::ProgressBar
//
// A one-line progress bar on stderr, drawn only when stderr is a terminal (pipes and CI logs stay clean). Thread-safe:
// update() may be called from worker threads; redraws are rate-limited.

#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>

namespace qinfer {

class ProgressBar {
public:
    ProgressBar(std::string label, uint64_t total);
    ~ProgressBar();  // finishes the line if anything was drawn
    ProgressBar(const ProgressBar&) = delete;
    ProgressBar& operator=(const ProgressBar&) = delete;

    void advance(uint64_t n = 1);
    static bool stderr_is_tty();

private:
    void draw(bool final);
    std::string label_;
    uint64_t total_, done_ = 0;
    bool enabled_;
    bool drawn_ = false;
    std::chrono::steady_clock::time_point start_, last_draw_;
    std::mutex mu_;
};

}  // namespace qinfer
