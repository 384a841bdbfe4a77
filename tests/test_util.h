#pragma once
// defines: helpers shared by the tests: temp dirs, repository paths, error-message assertions.

#include <filesystem>
#include <string>

#include <gtest/gtest.h>

namespace qinfer::test {

// Repository root (compiled in).
std::filesystem::path source_dir();
// A fresh, empty directory under the system temp dir, unique per call.
std::filesystem::path make_temp_dir(const std::string& tag);
// Writes text to a file (creating parent directories).
void write_text(const std::filesystem::path& p, const std::string& text);

}  // namespace qinfer::test

// Expects `stmt` to throw qinfer::Error whose message contains every given substring.
#define EXPECT_ERROR_CONTAINS(stmt, ...)                                                                  \
    do {                                                                                                  \
        try {                                                                                             \
            stmt;                                                                                         \
            ADD_FAILURE() << "expected qinfer::Error from: " #stmt;                                       \
        } catch (const ::qinfer::Error& e_) {                                                             \
            for (const char* s_ : {__VA_ARGS__}) {                                                        \
                EXPECT_NE(std::string(e_.what()).find(s_), std::string::npos)                             \
                    << "error message: \"" << e_.what() << "\"\n lacks: \"" << s_ << "\"";                \
            }                                                                                             \
        }                                                                                                 \
    } while (0)
