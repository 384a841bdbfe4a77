#include "io/generation_config.h"

#include <fstream>

#include <nlohmann/json.hpp>

#include "core/check.h"

namespace qinfer {

namespace {

using nlohmann::json;

template <class T>
std::optional<T> opt(const json& j, const char* key, const std::string& file, bool (json::*is)() const noexcept,
                     const char* what) {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) return std::nullopt;
    QINFER_CHECK(((*it).*is)(), file, ": field ", key, " must be ", what, ", got ", it->dump());
    return it->get<T>();
}

}  // namespace

GenerationConfig load_generation_config(const std::filesystem::path& dir) {
    GenerationConfig g;
    const std::filesystem::path path = dir / "generation_config.json";
    if (!std::filesystem::exists(path)) return g;
    std::ifstream in(path);
    QINFER_CHECK(in.good(), "cannot read ", path.string());
    json j;
    try {
        j = json::parse(in);
    } catch (const json::parse_error& e) {
        QINFER_FAIL(path.string(), ": invalid JSON: ", e.what());
    }
    const std::string file = path.string();
    QINFER_CHECK(j.is_object(), file, ": expected a JSON object");
    if (auto it = j.find("eos_token_id"); it != j.end() && !it->is_null()) {
        const json list = it->is_array() ? *it : json::array({*it});
        for (const json& e : list) {
            QINFER_CHECK(e.is_number_integer() && e.get<int64_t>() >= 0, file,
                         ": field eos_token_id must be a non-negative integer or a list of them, got ", it->dump());
            g.eos_token_ids.push_back(e.get<int64_t>());
        }
    }
    g.do_sample = opt<bool>(j, "do_sample", file, &json::is_boolean, "a boolean");
    g.temperature = opt<double>(j, "temperature", file, &json::is_number, "a number");
    g.top_k = opt<int64_t>(j, "top_k", file, &json::is_number_integer, "an integer");
    g.top_p = opt<double>(j, "top_p", file, &json::is_number, "a number");
    g.max_new_tokens = opt<int64_t>(j, "max_new_tokens", file, &json::is_number_integer, "an integer");
    return g;
}

}  // namespace qinfer
