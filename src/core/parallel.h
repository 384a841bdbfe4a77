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

// Calls fn(i) for i in [begin, end), split across threads (static schedule).
template <class Fn>
void parallel_for(int64_t begin, int64_t end, Fn&& fn) {
    std::exception_ptr first;
    std::mutex mu;
#pragma omp parallel for schedule(static)
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
