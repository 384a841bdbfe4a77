#include "models/weight_spec.h"

#include "core/check.h"

namespace qinfer::models {

std::string_view param_role_name(ParamRole r) {
    switch (r) {
        case ParamRole::Linear: return "linear";
        case ParamRole::Embedding: return "embedding";
        case ParamRole::Norm: return "norm";
        case ParamRole::Conv: return "conv";
        case ParamRole::Vector: return "vector";
    }
    return "?";
}

ParamSpec single_param(const std::string& name, Shape shape, ParamRole role) {
    ParamSpec p;
    p.name = name;
    p.shape = shape;
    p.role = role;
    p.layouts.push_back({"single tensor", {ShardSource{name, std::move(shape), 0, false, {}}}});
    return p;
}

ParamSpec packed_rows(const std::string& runtime_name, const std::vector<std::pair<std::string, Shape>>& shards,
                      ParamRole role) {
    QINFER_CHECK(!shards.empty(), "packed parameter ", runtime_name, " has no shards");
    ParamSpec p;
    p.name = runtime_name;
    p.role = role;
    Shape shape = shards.front().second;
    shape[0] = 0;
    LayoutAlternative alt{"packed shards", {}};
    int64_t offset = 0;
    for (const auto& [name, s] : shards) {
        QINFER_CHECK(s.size() == shape.size(), "shard ", name, " rank differs from its packed group");
        for (size_t d = 1; d < s.size(); ++d) QINFER_CHECK(s[d] == shape[d], "shard ", name, " width differs");
        alt.shards.push_back(ShardSource{name, s, offset, false, {}});
        offset += numel(s);
        shape[0] += s[0];
    }
    p.shape = std::move(shape);
    p.layouts.push_back(std::move(alt));
    return p;
}

}  // namespace qinfer::models
