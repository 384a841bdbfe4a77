#include "quant/exclude_summary.h"

#include <fnmatch.h>

#include <algorithm>
#include <set>

#include "core/check.h"

namespace qinfer::quant {

namespace {

// Whether some name in the sorted list starts with `prefix`.
bool any_starts_with(const std::vector<std::string>& sorted, const std::string& prefix) {
    auto it = std::lower_bound(sorted.begin(), sorted.end(), prefix);
    return it != sorted.end() && it->starts_with(prefix);
}

// Whether a candidate pattern (`p*`, `p.*` or an exact name: the only shapes the summary emits) matches a quantized
// module. Equivalent to fnmatch for these shapes since names hold no glob characters; check_exclude_summary
// re-checks the result with fnmatch.
bool hits_quantized(const std::vector<std::string>& sorted_quantized, const std::string& pattern) {
    if (pattern.ends_with('*')) return any_starts_with(sorted_quantized, pattern.substr(0, pattern.size() - 1));
    return std::binary_search(sorted_quantized.begin(), sorted_quantized.end(), pattern);
}

void check_name(const std::string& name) {
    QINFER_CHECK(name.find_first_of("*?[") == std::string::npos, "exclude summary: module name \"", name,
                 "\" contains a glob character");
}

bool fnmatches(const std::string& pattern, const std::string& name) {
    return ::fnmatch(pattern.c_str(), name.c_str(), FNM_NOESCAPE) == 0;  // Python fnmatch: no escapes, `*` crosses dots
}

}  // namespace

std::vector<std::string> summarise_exclude(const std::vector<std::string>& unquantized,
                                           const std::vector<std::string>& quantized) {
    std::vector<std::string> q(quantized);
    for (const auto& n : q) check_name(n);
    std::sort(q.begin(), q.end());
    std::set<std::string> out;
    for (const std::string& name : unquantized) {
        check_name(name);
        std::vector<std::vector<std::string>> candidates;
        for (size_t i = 0; i < name.size(); ++i) {
            if (name[i] != '.') continue;
            const std::string prefix = name.substr(0, i);
            candidates.push_back({prefix + "*"});
            candidates.push_back({prefix, prefix + ".*"});
        }
        candidates.push_back({name});
        for (const auto& c : candidates) {
            if (std::any_of(c.begin(), c.end(), [&](const std::string& p) { return hits_quantized(q, p); })) continue;
            out.insert(c.begin(), c.end());  // a no-op when another name already brought the same patterns
            break;
        }
    }
    return {out.begin(), out.end()};
}

void check_exclude_summary(const std::vector<std::string>& patterns, const std::vector<std::string>& unquantized,
                           const std::vector<std::string>& quantized) {
    for (const std::string& p : patterns) {
        for (const std::string& m : quantized) {
            QINFER_CHECK(!fnmatches(p, m), "exclude_modules pattern \"", p, "\" matches the quantized module ", m);
        }
    }
    for (const std::string& m : unquantized) {
        const bool covered = std::any_of(patterns.begin(), patterns.end(), [&](const std::string& p) { return fnmatches(p, m); });
        QINFER_CHECK(covered, "exclude_modules: no pattern matches the unquantized module ", m);
    }
}

}  // namespace qinfer::quant
