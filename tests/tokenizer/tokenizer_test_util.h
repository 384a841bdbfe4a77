#pragma once
// defines: helpers shared by the tokenizer tests: golden/fixture paths, JSON loading, the real Qwen3 tokenizer

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "test_util.h"
#include "tokenizer/tokenizer.h"

namespace qinfer::tok::test {

inline std::filesystem::path data_dir() {
    return qinfer::test::source_dir() / "tests" / "tokenizer" / "data";
}

// The real Qwen3 tokenizer lives outside the repository (shared/data is not ours to commit).
inline std::filesystem::path qwen3_dir() {
    return qinfer::test::source_dir() / ".." / "shared" / "data" / "qwen3-tokenizer";
}
inline bool have_qwen3() {
    return std::filesystem::is_regular_file(qwen3_dir() / "tokenizer.json");
}

// Loaded once per test binary (parsing 11 MB of JSON takes a moment).
inline const Tokenizer& qwen3() {
    static const Tokenizer t = Tokenizer::from_dir(qwen3_dir());
    return t;
}

#define QINFER_REQUIRE_QWEN3()                                                                                \
    do {                                                                                                      \
        if (!::qinfer::tok::test::have_qwen3()) {                                                             \
            GTEST_SKIP() << "real Qwen3 tokenizer not found at " << ::qinfer::tok::test::qwen3_dir().string() \
                         << " (shared/data/qwen3-tokenizer is provided outside the repository)";              \
        }                                                                                                     \
    } while (0)

inline nlohmann::json load_json(const std::filesystem::path& p) {
    std::ifstream f(p);
    if (!f.good()) throw std::runtime_error("missing test data " + p.string());
    return nlohmann::json::parse(f);
}

inline std::vector<int32_t> ids_of(const nlohmann::json& j) {
    return j.get<std::vector<int32_t>>();
}

// Printable form of a string for failure messages (escapes control and non-ASCII bytes).
inline std::string show(const std::string& s, size_t max = 120) {
    std::string out;
    for (size_t i = 0; i < s.size() && out.size() < max; ++i) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (c >= 0x20 && c < 0x7F) {
            out.push_back(static_cast<char>(c));
        } else {
            char buf[8];
            std::snprintf(buf, sizeof(buf), "\\x%02X", c);
            out += buf;
        }
    }
    if (out.size() >= max) out += "...";
    return out;
}

}  // namespace qinfer::tok::test
