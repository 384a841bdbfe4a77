#pragma once
// defines: qinfer::tok::JsonRef
//
// A JSON value together with where it sits (file name + field path such as `pre_tokenizer.pretokenizers[0].type`),
// so that every error raised while reading tokenizer.json / tokenizer_config.json names both the file and the field.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace qinfer::tok {

class JsonRef {
public:
    JsonRef(const nlohmann::json& value, std::string file, std::string path)
        : value_(&value), file_(std::move(file)), path_(std::move(path)) {}

    const nlohmann::json& value() const { return *value_; }
    const std::string& file() const { return file_; }
    const std::string& path() const { return path_; }  // "" for the document root
    // "tokenizer.json: field model.type" (or "tokenizer.json" at the root).
    std::string where() const;
    [[noreturn]] void fail(const std::string& what) const;  // throws qinfer::Error("<where>: <what>")

    bool is_null() const { return value_->is_null(); }
    // Member `key` of this object; error if this is not an object or the member is missing / null.
    JsonRef at(std::string_view key) const;
    // Member `key`, or nullopt when absent or null (HF treats both as "not set").
    std::optional<JsonRef> find(std::string_view key) const;
    // Element i of this array.
    JsonRef at(size_t i) const;
    size_t array_size() const;  // error if not an array

    std::string as_string() const;
    bool as_bool() const;
    int64_t as_int() const;
    double as_number() const;

    // Optional members with a default when absent or null.
    std::string string_or(std::string_view key, std::string_view def) const;
    bool bool_or(std::string_view key, bool def) const;

private:
    const nlohmann::json* value_;
    std::string file_;
    std::string path_;
};

}  // namespace qinfer::tok
