#include "kbench_util.h"

#include <algorithm>
#include <cstdio>
#include <sstream>
#include <iomanip>

#include "kernels/cuda/check.h"

namespace qinfer::kbench {

double time_ms(const std::function<void(int)>& fn, cudaStream_t stream, int warmup, int reps) {
    for (int i = 0; i < warmup; ++i) fn(i);
    QINFER_CUDA_CHECK(cudaStreamSynchronize(stream));
    cudaEvent_t a, b;
    QINFER_CUDA_CHECK(cudaEventCreate(&a));
    QINFER_CUDA_CHECK(cudaEventCreate(&b));
    std::vector<float> ms(static_cast<size_t>(reps));
    for (int i = 0; i < reps; ++i) {
        QINFER_CUDA_CHECK(cudaEventRecord(a, stream));
        fn(warmup + i);
        QINFER_CUDA_CHECK(cudaEventRecord(b, stream));
        QINFER_CUDA_CHECK(cudaEventSynchronize(b));
        QINFER_CUDA_CHECK(cudaEventElapsedTime(&ms[static_cast<size_t>(i)], a, b));
    }
    QINFER_CUDA_CHECK(cudaEventDestroy(a));
    QINFER_CUDA_CHECK(cudaEventDestroy(b));
    std::sort(ms.begin(), ms.end());
    return ms[ms.size() / 2];
}

void Table::print() const {
    std::vector<size_t> w(header.size(), 0);
    for (size_t c = 0; c < header.size(); ++c) w[c] = header[c].size();
    for (const auto& r : rows)
        for (size_t c = 0; c < r.size() && c < w.size(); ++c) w[c] = std::max(w[c], r[c].size());
    auto line = [&](const std::vector<std::string>& r) {
        for (size_t c = 0; c < r.size(); ++c) std::printf("%-*s%s", static_cast<int>(w[c]), r[c].c_str(), c + 1 < r.size() ? "  " : "\n");
    };
    line(header);
    for (const auto& r : rows) line(r);
}

std::string fmt(double v, int precision) {
    std::ostringstream os;
    os << std::fixed << std::setprecision(precision) << v;
    return os.str();
}

}  // namespace qinfer::kbench
