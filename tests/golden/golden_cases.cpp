#include "golden/golden_cases.h"

#include <algorithm>

#include "test_util.h"

namespace qinfer::test {

std::filesystem::path golden_dir() { return source_dir() / "tests" / "golden" / "data"; }

std::vector<std::string> golden_cases(const std::filesystem::path& root) {
    std::vector<std::string> out;
    if (!std::filesystem::exists(root)) return out;
    for (const auto& e : std::filesystem::directory_iterator(root)) {
        if (e.is_directory() && std::filesystem::exists(e.path() / "golden.safetensors")) {
            out.push_back(e.path().filename().string());
        }
    }
    std::sort(out.begin(), out.end());
    return out;
}

}  // namespace qinfer::test
