#pragma once
// defines: qinfer::kbench::time_ms (median device-event time of a launch sequence), Table (prints aligned rows)

#include <cuda_runtime.h>

#include <functional>
#include <string>
#include <vector>

namespace qinfer::kbench {

// Median milliseconds of `fn` (enqueued on `stream`) over `reps` timed runs after `warmup` untimed ones; each run is
// bracketed by CUDA events. fn(i) gets the run index so callers can rotate among input sets.
double time_ms(const std::function<void(int)>& fn, cudaStream_t stream, int warmup = 5, int reps = 50);

struct Table {
    std::vector<std::string> header;
    std::vector<std::vector<std::string>> rows;
    void print() const;
};

std::string fmt(double v, int precision = 3);

}  // namespace qinfer::kbench
