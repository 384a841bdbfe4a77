// defines: qinfer::jinja::bind_args

#include "chat/jinja/call_args.h"

#include "chat/jinja/error.h"

namespace qinfer::jinja {

BoundArgs bind_args(const std::string& fn_name, const CallArgs& args, std::initializer_list<const char*> params,
                    size_t required) {
    std::vector<const char*> names(params);
    std::vector<std::optional<Value>> values(names.size());
    if (args.positional.size() > names.size()) {
        fail_value(fn_name, "() takes at most ", names.size(), " argument(s) (", args.positional.size(), " given)");
    }
    for (size_t i = 0; i < args.positional.size(); ++i) values[i] = args.positional[i];
    for (const auto& [key, value] : args.keyword) {
        size_t i = 0;
        while (i < names.size() && key != names[i]) ++i;
        if (i == names.size()) fail_value(fn_name, "() got an unexpected keyword argument '", key, "'");
        if (values[i]) fail_value(fn_name, "() got multiple values for argument '", key, "'");
        values[i] = value;
    }
    for (size_t i = 0; i < required; ++i) {
        if (!values[i]) fail_value(fn_name, "() missing required argument '", names[i], "'");
    }
    return BoundArgs(std::move(values));
}

}  // namespace qinfer::jinja
