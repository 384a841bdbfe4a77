#pragma once
// defines: qinfer::cli::Args — a small, strict command-line parser for the qinfer subcommands.
//
// Flags are declared up front (with help text); unknown flags, missing values and bad numbers are errors that name
// the flag. `--flag value` and `--flag=value` are both accepted. A flag is given at most once, except one whose
// value_name ends in "..." (`--exclude GLOB...`), which may repeat: get_all() returns every value in order.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace qinfer::cli {

struct FlagSpec {
    std::string name;        // without dashes
    std::string value_name;  // empty for boolean switches; ending in "..." = repeatable
    std::string help;
    bool repeatable = false;  // may be given several times (get_all); so is a flag whose value_name ends in "..."
};

class Args {
public:
    // argv excludes the program and subcommand names. `positional` names the expected positional arguments.
    Args(std::string command, std::string summary, std::vector<std::string> positional, std::vector<FlagSpec> flags,
         const std::vector<std::string>& argv);

    bool help_requested() const { return help_; }
    std::string usage() const;

    const std::string& positional(size_t i) const { return positional_values_.at(i); }
    bool has(const std::string& flag) const { return values_.contains(flag); }
    std::string get(const std::string& flag) const;  // throws if absent (required flag)
    std::string get_or(const std::string& flag, const std::string& fallback) const;
    int64_t get_int(const std::string& flag, int64_t fallback) const;
    double get_double(const std::string& flag, double fallback) const;
    std::vector<std::string> get_all(const std::string& flag) const;  // every value of a repeatable flag, in order

private:
    const FlagSpec* find(const std::string& name) const;
    std::string command_, summary_;
    std::vector<std::string> positional_names_, positional_values_;
    std::vector<FlagSpec> flags_;
    std::map<std::string, std::string> values_;               // last value of each flag given
    std::map<std::string, std::vector<std::string>> all_values_;  // every value, for repeatable flags
    bool help_ = false;
};

// "1,2,3" -> {1, 2, 3}; errors name the flag and the bad element.
std::vector<int64_t> parse_id_list(const std::string& flag, const std::string& text);
// Comma-separated integers, each >= min_value; `what` names them in errors ("batch sizes").
std::vector<int64_t> parse_int_list(const std::string& flag, const std::string& text, int64_t min_value,
                                    const std::string& what);

}  // namespace qinfer::cli
