#pragma once
// defines: qinfer::parallel_for, qinfer::num_threads
//
// The CPU reference backend is multithreaded with OpenMP. Each iteration must write disjoint outputs, so results do
// not depend on the thread count (every reduction inside one iteration runs in a fixed order). An exception thrown by
// an iteration must not escape an OpenMP region (that terminates the program), so the first one is captured and
// rethrown on the calling thread after the loop.

#include <cstdint>
#include <exception>
#include <mutex>

namespace qinfer {

int num_threads();

// Below this many units of work (≈ multiply-adds), a loop runs on the calling thread: starting and joining an
// OpenMP team costs microseconds, and far more when the cores are shared (idle workers spin-wait), which made decode
// of a 5M-parameter model 40x slower on a loaded 2-core machine.
inline constexpr int64_t kMinParallelWork = int64_t{1} << 20;

// Calls fn(i) for i in [begin, end), split across threads (static schedule). `work_per_item` estimates the cost of one
// iteration; the loop runs serially when the total is below kMinParallelWork. The default assumes every item is
// large (callers with small items should say so).
template <class Fn>
void parallel_for(int64_t begin, int64_t end, Fn&& fn, int64_t work_per_item = kMinParallelWork) {
    std::exception_ptr first;
    std::mutex mu;
    const bool parallel = end - begin >= 2 && (end - begin) * work_per_item >= kMinParallelWork;
#pragma omp parallel for schedule(static) if (parallel)
    for (int64_t i = begin; i < end; ++i) {
        try {
            fn(i);
        } catch (...) {
            std::lock_guard<std::mutex> lock(mu);
            if (!first) first = std::current_exception();
        }
    }
    if (first) std::rethrow_exception(first);
}

}  // namespace qinfer
