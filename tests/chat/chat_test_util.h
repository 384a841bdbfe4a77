#pragma once
// defines: helpers of the chat-template tests: reading the JSON goldens of tests/chat/data (key order kept) and
//          describing a rendering failure

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "test_util.h"

namespace qinfer::test {

inline std::filesystem::path chat_data_dir() {
    return source_dir() / "tests" / "chat" / "data";
}

inline std::string read_text_file(const std::filesystem::path& p) {
    std::ifstream f(p, std::ios::binary);
    if (!f.good()) throw std::runtime_error("cannot read " + p.string());
    std::ostringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

inline nlohmann::ordered_json read_json_file(const std::filesystem::path& p) {
    return nlohmann::ordered_json::parse(read_text_file(p));
}

// The shared data folder (../shared next to the repository), or empty when absent.
inline std::filesystem::path shared_data_dir() {
    auto p = source_dir() / ".." / "shared" / "data";
    return std::filesystem::is_directory(p) ? p : std::filesystem::path();
}

}  // namespace qinfer::test
