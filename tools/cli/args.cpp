#include "args.h"

#include <charconv>
#include <sstream>

#include "core/check.h"

namespace qinfer::cli {

namespace {
// Assigned instead of a literal: GCC 12 reports a false -Wrestrict on `std::string = "1"` at -O3 (GCC PR 105651).
const std::string kSwitchOn = "1";

int64_t to_int(const std::string& flag, const std::string& s) {
    int64_t v = 0;
    auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    QINFER_CHECK(ec == std::errc() && ptr == s.data() + s.size() && !s.empty(), "--", flag,
                 ": expected an integer, got '", s, "'");
    return v;
}
}  // namespace

Args::Args(std::string command, std::string summary, std::vector<std::string> positional, std::vector<FlagSpec> flags,
           const std::vector<std::string>& argv)
    : command_(std::move(command)), summary_(std::move(summary)), positional_names_(std::move(positional)),
      flags_(std::move(flags)) {
    for (size_t i = 0; i < argv.size(); ++i) {
        const std::string& a = argv[i];
        if (a == "--help" || a == "-h") {
            help_ = true;
            return;
        }
        if (a.starts_with("--")) {
            std::string name = a.substr(2), value;
            bool inline_value = false;
            if (auto eq = name.find('='); eq != std::string::npos) {
                value = name.substr(eq + 1);
                name = name.substr(0, eq);
                inline_value = true;
            }
            const FlagSpec* f = find(name);
            QINFER_CHECK(f != nullptr, command_, ": unknown option --", name, " (see qinfer ", command_, " --help)");
            if (f->value_name.empty()) {
                QINFER_CHECK(!inline_value, command_, ": option --", name, " takes no value");
                value = kSwitchOn;
            } else if (!inline_value) {
                QINFER_CHECK(i + 1 < argv.size(), command_, ": option --", name, " needs a value (", f->value_name, ")");
                value = argv[++i];
            }
            const bool repeatable = f->repeatable || f->value_name.ends_with("...");
            QINFER_CHECK(repeatable || !values_.contains(name), command_, ": option --", name, " given twice");
            values_[name] = value;
            all_values_[name].push_back(value);
        } else {
            QINFER_CHECK(positional_values_.size() < positional_names_.size(), command_, ": unexpected argument '", a,
                         "' (see qinfer ", command_, " --help)");
            positional_values_.push_back(a);
        }
    }
    QINFER_CHECK(positional_values_.size() == positional_names_.size(), command_, ": missing argument ",
                 positional_names_.empty() ? std::string() : positional_names_[positional_values_.size()],
                 " (see qinfer ", command_, " --help)");
}

const FlagSpec* Args::find(const std::string& name) const {
    for (const auto& f : flags_) {
        if (f.name == name) return &f;
    }
    return nullptr;
}

std::string Args::usage() const {
    std::ostringstream os;
    os << "usage: qinfer " << command_;
    for (const auto& p : positional_names_) os << ' ' << p;
    os << " [options]\n\n" << summary_ << "\n\noptions:\n";
    for (const auto& f : flags_) {
        std::string left = "--" + f.name + (f.value_name.empty() ? "" : " " + f.value_name);
        os << "  " << left << std::string(left.size() < 28 ? 28 - left.size() : 1, ' ') << f.help << '\n';
    }
    os << "  --help                      show this help\n";
    return os.str();
}

std::string Args::get(const std::string& flag) const {
    auto it = values_.find(flag);
    QINFER_CHECK(it != values_.end(), command_, ": missing required option --", flag, " (see qinfer ", command_,
                 " --help)");
    return it->second;
}

std::vector<std::string> Args::get_all(const std::string& flag) const {
    auto it = all_values_.find(flag);
    return it == all_values_.end() ? std::vector<std::string>{} : it->second;
}

std::string Args::get_or(const std::string& flag, const std::string& fallback) const {
    auto it = values_.find(flag);
    return it == values_.end() ? fallback : it->second;
}

int64_t Args::get_int(const std::string& flag, int64_t fallback) const {
    auto it = values_.find(flag);
    return it == values_.end() ? fallback : to_int(flag, it->second);
}

double Args::get_double(const std::string& flag, double fallback) const {
    auto it = values_.find(flag);
    if (it == values_.end()) return fallback;
    try {
        size_t used = 0;
        const double v = std::stod(it->second, &used);
        QINFER_CHECK(used == it->second.size(), "");
        return v;
    } catch (...) {
        QINFER_FAIL("--", flag, ": expected a number, got '", it->second, "'");
    }
}

std::vector<int64_t> parse_int_list(const std::string& flag, const std::string& text, int64_t min_value,
                                    const std::string& what) {
    std::vector<int64_t> values;
    std::stringstream ss(text);
    std::string item;
    while (std::getline(ss, item, ',')) {
        const auto b = item.find_first_not_of(" \t"), e = item.find_last_not_of(" \t");
        QINFER_CHECK(b != std::string::npos, "--", flag, ": empty element in '", text, "'");
        const int64_t v = to_int(flag, item.substr(b, e - b + 1));
        QINFER_CHECK(v >= min_value, "--", flag, ": ", what, " must be >= ", min_value, ", got ", v);
        values.push_back(v);
    }
    QINFER_CHECK(!values.empty(), "--", flag, ": no ", what, " given");
    return values;
}

std::vector<int64_t> parse_id_list(const std::string& flag, const std::string& text) {
    return parse_int_list(flag, text, 0, "token ids");
}

}  // namespace qinfer::cli
