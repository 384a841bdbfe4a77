#include "tokenizer/json_fields.h"

#include "core/check.h"

namespace qinfer::tok {

namespace {
std::string child_path(const std::string& parent, std::string_view key) {
    return parent.empty() ? std::string(key) : str_cat(parent, ".", key);
}
const char* type_name(const nlohmann::json& j) {
    return j.type_name();
}
}  // namespace

std::string JsonRef::where() const {
    return path_.empty() ? file_ : str_cat(file_, ": field ", path_);
}

void JsonRef::fail(const std::string& what) const {
    QINFER_FAIL(where(), ": ", what);
}

JsonRef JsonRef::at(std::string_view key) const {
    if (!value_->is_object()) fail(str_cat("expected an object, got ", type_name(*value_)));
    auto it = value_->find(key);
    if (it == value_->end() || it->is_null()) {
        QINFER_FAIL(where(), ": missing required field ", child_path(path_, key));
    }
    return JsonRef(*it, file_, child_path(path_, key));
}

std::optional<JsonRef> JsonRef::find(std::string_view key) const {
    if (!value_->is_object()) fail(str_cat("expected an object, got ", type_name(*value_)));
    auto it = value_->find(key);
    if (it == value_->end() || it->is_null()) return std::nullopt;
    return JsonRef(*it, file_, child_path(path_, key));
}

JsonRef JsonRef::at(size_t i) const {
    if (!value_->is_array()) fail(str_cat("expected an array, got ", type_name(*value_)));
    if (i >= value_->size()) fail(str_cat("index ", i, " out of range (size ", value_->size(), ")"));
    return JsonRef((*value_)[i], file_, str_cat(path_, "[", i, "]"));
}

size_t JsonRef::array_size() const {
    if (!value_->is_array()) fail(str_cat("expected an array, got ", type_name(*value_)));
    return value_->size();
}

std::string JsonRef::as_string() const {
    if (!value_->is_string()) fail(str_cat("expected a string, got ", type_name(*value_)));
    return value_->get<std::string>();
}

bool JsonRef::as_bool() const {
    if (!value_->is_boolean()) fail(str_cat("expected a boolean, got ", type_name(*value_)));
    return value_->get<bool>();
}

int64_t JsonRef::as_int() const {
    if (!value_->is_number_integer()) fail(str_cat("expected an integer, got ", type_name(*value_)));
    return value_->get<int64_t>();
}

double JsonRef::as_number() const {
    if (!value_->is_number()) fail(str_cat("expected a number, got ", type_name(*value_)));
    return value_->get<double>();
}

std::string JsonRef::string_or(std::string_view key, std::string_view def) const {
    auto v = find(key);
    return v ? v->as_string() : std::string(def);
}

bool JsonRef::bool_or(std::string_view key, bool def) const {
    auto v = find(key);
    return v ? v->as_bool() : def;
}

}  // namespace qinfer::tok
