#include "test_util.h"

#include <atomic>
#include <fstream>

#include <unistd.h>

#include "core/check.h"

namespace qinfer::test {

std::filesystem::path source_dir() { return QINFER_SOURCE_DIR; }

std::filesystem::path make_temp_dir(const std::string& tag) {
    static std::atomic<int> counter{0};
    auto p = std::filesystem::temp_directory_path() /
             ("qinfer_test_" + tag + "_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    std::filesystem::remove_all(p);
    std::filesystem::create_directories(p);
    return p;
}

void write_text(const std::filesystem::path& p, const std::string& text) {
    if (p.has_parent_path()) std::filesystem::create_directories(p.parent_path());
    std::ofstream f(p, std::ios::binary);
    QINFER_CHECK(f.good(), "cannot write ", p.string());
    f << text;
}

void expect_contains_all(const std::string& message, std::initializer_list<std::string> needles, const char* stmt) {
    for (const std::string& n : needles) {
        EXPECT_NE(message.find(n), std::string::npos)
            << "error message of " << stmt << ": \"" << message << "\"\n lacks: \"" << n << "\"";
    }
}

}  // namespace qinfer::test
