// defines: qinfer::jinja::value_from_json

#include <limits>

#include "chat/jinja/error.h"
#include "chat/jinja/json.h"

namespace qinfer::jinja {

namespace {

template <class Json>
Value convert(const Json& j) {
    switch (j.type()) {
        case nlohmann::json::value_t::null:
            return Value::none();
        case nlohmann::json::value_t::boolean:
            return Value::boolean(j.template get<bool>());
        case nlohmann::json::value_t::number_integer:
            return Value::integer(j.template get<int64_t>());
        case nlohmann::json::value_t::number_unsigned: {
            uint64_t u = j.template get<uint64_t>();
            if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
                fail_value("JSON integer ", u, " does not fit in 64 bits");
            }
            return Value::integer(static_cast<int64_t>(u));
        }
        case nlohmann::json::value_t::number_float:
            return Value::floating(j.template get<double>());
        case nlohmann::json::value_t::string:
            return Value::string(j.template get<std::string>());
        case nlohmann::json::value_t::array: {
            std::vector<Value> items;
            items.reserve(j.size());
            for (const auto& x : j) items.push_back(convert(x));
            return Value::list(std::move(items));
        }
        case nlohmann::json::value_t::object: {
            DictData d;
            for (auto it = j.begin(); it != j.end(); ++it) d.set(Value::string(it.key()), convert(it.value()));
            return Value::dict(std::move(d));
        }
        case nlohmann::json::value_t::binary:
            fail_value("binary JSON values are not supported");
        case nlohmann::json::value_t::discarded:
            fail_value("discarded JSON value");
    }
    fail_value("unknown JSON value type");
}

}  // namespace

Value value_from_json(const nlohmann::ordered_json& j) {
    return convert(j);
}
Value value_from_json(const nlohmann::json& j) {
    return convert(j);
}

}  // namespace qinfer::jinja
