// The PDL contract of the CUDA backend (src/kernels/cuda/launch.h), checked on the sources so that CI, which has no
// GPU, catches a kernel that would race its predecessor: every kernel launch goes through launch() /
// launch_clustered() (which set the programmatic-serialization attribute), and every __global__ kernel waits in
// grid_dependency_sync() before touching memory, with L2 prefetches of weights as the only thing allowed before it.

#include <gtest/gtest.h>

#include <cctype>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;

std::string read_all(const fs::path& p) {
    std::ifstream f(p);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

std::vector<fs::path> cuda_sources() {
    std::vector<fs::path> out;
    for (const char* dir : {"src/kernels/cuda", "src/runtime/cuda"})
        for (const auto& e : fs::directory_iterator(fs::path(QINFER_SOURCE_DIR) / dir)) {
            const auto ext = e.path().extension();
            if (ext == ".cu" || ext == ".cuh" || ext == ".cpp" || ext == ".h") out.push_back(e.path());
        }
    return out;
}

// The body of the kernel whose `__global__` is at `at`: from the first '{' outside parentheses to its match.
std::string kernel_body(const std::string& src, size_t at, std::string* name) {
    int paren = 0;
    size_t i = at;
    for (; i < src.size(); ++i) {
        if (src[i] == '(') ++paren;
        if (src[i] == ')') --paren;
        if (src[i] == ';' && paren == 0) return {};  // a declaration
        if (src[i] == '{' && paren == 0) break;
    }
    // name: the identifier right before the parameter list's '(' (the last parenthesised group before the body)
    int depth = 0;
    size_t p = i;
    while (p > at) {
        --p;
        if (src[p] == ')') ++depth;
        if (src[p] == '(' && --depth == 0) break;
    }
    size_t e = p;
    while (e > at && src[e - 1] == ' ') --e;
    size_t b = e;
    while (b > at && (std::isalnum(static_cast<unsigned char>(src[b - 1])) || src[b - 1] == '_')) --b;
    *name = src.substr(b, e - b);
    int braces = 0;
    for (size_t j = i; j < src.size(); ++j) {
        if (src[j] == '{') ++braces;
        if (src[j] == '}' && --braces == 0) return src.substr(i + 1, j - i - 1);
    }
    return {};
}

TEST(CudaLaunchContract, EveryLaunchCarriesThePdlAttribute) {
    int files = 0;
    for (const auto& p : cuda_sources()) {
        const std::string src = read_all(p);
        ++files;
        EXPECT_EQ(src.find("<<<"), std::string::npos)
            << p << ": a triple-chevron launch; use launch() from kernels/cuda/launch.h";
        if (p.filename() != "launch.h") {
            EXPECT_EQ(src.find("cudaLaunchKernelEx"), std::string::npos)
                << p << ": cudaLaunchKernelEx outside launch.h; use launch() / launch_clustered()";
        }
    }
    EXPECT_GT(files, 10);
}

TEST(CudaLaunchContract, EveryKernelWaitsForItsPredecessorFirst) {
    int kernels = 0;
    for (const auto& p : cuda_sources()) {
        const std::string src = read_all(p);
        for (size_t at = src.find("__global__"); at != std::string::npos; at = src.find("__global__", at + 1)) {
            std::string name;
            const std::string body = kernel_body(src, at, &name);
            if (body.empty()) continue;
            ++kernels;
            const size_t sync = body.find("grid_dependency_sync();");
            ASSERT_NE(sync, std::string::npos) << p << ": kernel " << name << " never calls grid_dependency_sync()";
            // Before the wait: nothing but whitespace, or weight prefetches (declarations and prefetch_l2 calls).
            const std::string before = body.substr(0, sync);
            if (before.find_first_not_of(" \n") == std::string::npos) continue;
            EXPECT_NE(before.find("prefetch_l2("), std::string::npos)
                << p << ": kernel " << name << " runs code before grid_dependency_sync() that is not a weight prefetch";
            for (const char* bad : {"return", "atomic", "__syncthreads", "= *", "] ="})
                EXPECT_EQ(before.find(bad), std::string::npos)
                    << p << ": kernel " << name << " has '" << bad << "' before grid_dependency_sync()";
        }
    }
    EXPECT_GE(kernels, 30);
}

}  // namespace
