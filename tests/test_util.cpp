#include "test_util.h"

#include <atomic>
#include <fstream>
#include <mutex>
#include <sstream>
#include <vector>

#include <sys/wait.h>

#include <unistd.h>

#include "core/check.h"

namespace qinfer::test {

std::filesystem::path source_dir() { return QINFER_SOURCE_DIR; }

namespace {

// Every directory make_temp_dir made, removed when the test process exits (tests that fail mid-way, or return the
// path to a caller, would otherwise leave them in /tmp: thousands accumulated across runs).
class TempDirs {
public:
    void add(const std::filesystem::path& p) {
        const std::lock_guard<std::mutex> lock(mu_);
        dirs_.push_back(p);
    }
    ~TempDirs() {
        for (const auto& d : dirs_) {
            std::error_code ec;
            std::filesystem::remove_all(d, ec);  // best effort at exit
        }
    }

private:
    std::mutex mu_;
    std::vector<std::filesystem::path> dirs_;
};

TempDirs& temp_dirs() {
    static TempDirs dirs;
    return dirs;
}

}  // namespace

std::filesystem::path make_temp_dir(const std::string& tag) {
    static std::atomic<int> counter{0};
    auto p = std::filesystem::temp_directory_path() /
             ("qinfer_test_" + tag + "_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    std::filesystem::remove_all(p);
    std::filesystem::create_directories(p);
    temp_dirs().add(p);
    return p;
}

void write_text(const std::filesystem::path& p, const std::string& text) {
    if (p.has_parent_path()) std::filesystem::create_directories(p.parent_path());
    std::ofstream f(p, std::ios::binary);
    QINFER_CHECK(f.good(), "cannot write ", p.string());
    f << text;
}

std::string read_text(const std::filesystem::path& p) {
    std::ifstream f(p, std::ios::binary);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

std::string shell_quote(const std::string& s) {
    std::string out = "'";
    for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return out + "'";
}

CliResult run_cli(const std::string& args, const std::filesystem::path& stdin_file) {
#ifdef QINFER_CLI_PATH
    const auto dir = make_temp_dir("cli");
    // The CLI tests compare with fp32 goldens at CPU-reference tolerances: pin the CPU backend even where a GPU is
    // present (the GPU suite, tests/cuda, checks the CUDA backend with its own tolerances).
    std::string cmd = "QINFER_DEVICE=cpu " + std::string(QINFER_CLI_PATH) + " " + args + " >" + (dir / "out").string() + " 2>" +
                      (dir / "err").string();
    if (!stdin_file.empty()) cmd += " <" + stdin_file.string();
    const int status = std::system(cmd.c_str());
    CliResult r{WIFEXITED(status) ? WEXITSTATUS(status) : -1, read_text(dir / "out"), read_text(dir / "err")};
    std::filesystem::remove_all(dir);
    return r;
#else
    (void)args;
    (void)stdin_file;
    QINFER_FAIL("the qinfer CLI is not built (QINFER_BUILD_TOOLS=OFF)");
#endif
}

void expect_contains_all(const std::string& message, std::initializer_list<std::string> needles, const char* stmt) {
    for (const std::string& n : needles) {
        EXPECT_NE(message.find(n), std::string::npos)
            << "error message of " << stmt << ": \"" << message << "\"\n lacks: \"" << n << "\"";
    }
}

}  // namespace qinfer::test
