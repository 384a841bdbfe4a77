#pragma once
// defines: qinfer::parallel_for, qinfer::num_threads
//
// The CPU reference backend is multithreaded with OpenMP. Each iteration must write disjoint outputs, so results do
// not depend on the thread count (every reduction inside one iteration runs in a fixed order).

#include <cstdint>

namespace qinfer {

int num_threads();

// Calls fn(i) for i in [begin, end), split across threads (static schedule).
template <class Fn>
void parallel_for(int64_t begin, int64_t end, Fn&& fn) {
#pragma omp parallel for schedule(static)
    for (int64_t i = begin; i < end; ++i) fn(i);
}

}  // namespace qinfer
