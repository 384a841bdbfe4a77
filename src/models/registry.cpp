#include "models/registry.h"

#include <algorithm>
#include <memory>

#include "core/check.h"

namespace qinfer::models {

namespace {
// Function-local static: registration runs during static initialisation of other files, in unspecified order.
std::vector<ModelFamily>& families() {
    static std::vector<ModelFamily> f;
    return f;
}
}  // namespace

bool register_model_family(ModelFamily family) {
    families().push_back(std::move(family));
    return true;
}

std::vector<std::string> registered_architectures() {
    std::vector<std::string> out;
    for (const auto& f : families()) out.insert(out.end(), f.architectures.begin(), f.architectures.end());
    std::sort(out.begin(), out.end());
    return out;
}

const ModelFamily& find_model_family(const std::string& architecture) {
    for (const auto& f : families()) {
        if (std::find(f.architectures.begin(), f.architectures.end(), architecture) != f.architectures.end()) return f;
    }
    std::string list;
    for (const auto& a : registered_architectures()) list += (list.empty() ? "" : ", ") + a;
    QINFER_FAIL("unsupported architecture '", architecture, "'; supported: ", list);
}

}  // namespace qinfer::models
