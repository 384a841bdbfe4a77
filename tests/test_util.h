#pragma once
// defines: helpers shared by the tests: temp dirs, repository paths, error-message assertions.

#include <filesystem>
#include <initializer_list>
#include <string>

#include <gtest/gtest.h>

#include "core/check.h"

namespace qinfer::test {

// Repository root (compiled in).
std::filesystem::path source_dir();
// A fresh, empty directory under the system temp dir, unique per call; removed (with its contents) when the process exits.
std::filesystem::path make_temp_dir(const std::string& tag);
// Writes text to a file (creating parent directories).
void write_text(const std::filesystem::path& p, const std::string& text);
std::string read_text(const std::filesystem::path& p);

// Runs the qinfer binary with `args` (a shell-quoted argument string), optionally feeding `stdin_file`.
struct CliResult {
    int code;
    std::string out, err;
};
CliResult run_cli(const std::string& args, const std::filesystem::path& stdin_file = {});
// Single-quotes a string for the shell.
std::string shell_quote(const std::string& s);

}  // namespace qinfer::test

namespace qinfer::test {
// Checks that `message` contains every needle; reports each missing one. (A function, so that the needles are
// evaluated -- and any temporaries they point into are alive -- for the duration of the check.)
void expect_contains_all(const std::string& message, std::initializer_list<std::string> needles, const char* stmt);
}  // namespace qinfer::test

// Expects `stmt` to throw qinfer::Error whose message contains every given substring.
#define EXPECT_ERROR_CONTAINS(stmt, ...)                                                \
    do {                                                                                \
        try {                                                                           \
            stmt;                                                                       \
            ADD_FAILURE() << "expected qinfer::Error from: " #stmt;                     \
        } catch (const ::qinfer::Error& e_) {                                           \
            ::qinfer::test::expect_contains_all(e_.what(), {__VA_ARGS__}, #stmt);       \
        }                                                                               \
    } while (0)
