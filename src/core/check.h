#pragma once
// defines: qinfer::Error, QINFER_CHECK, QINFER_FAIL, qinfer::str_cat
//
// Every check inside the library throws qinfer::Error with a message that names the thing that was wrong (file,
// tensor, field). The CLI catches at main() and prints one line. The source location is kept on the error (for
// debugging, `qinfer --verbose`) but is not part of the user-facing message.

#include <source_location>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>

namespace qinfer {

class Error : public std::runtime_error {
public:
    explicit Error(const std::string& msg, std::source_location loc = std::source_location::current())
        : std::runtime_error(msg), loc_(loc) {}
    const std::source_location& where() const noexcept { return loc_; }

private:
    std::source_location loc_;
};

// Concatenates anything streamable into one string: str_cat("tensor ", name, " has ", n, " dims").
template <class... Args>
std::string str_cat(Args&&... args) {
    std::ostringstream os;
    (os << ... << std::forward<Args>(args));
    return os.str();
}

}  // namespace qinfer

// Throws qinfer::Error(str_cat(...)) with the caller's location when cond is false.
#define QINFER_CHECK(cond, ...)                                                                     \
    do {                                                                                            \
        if (!(cond)) [[unlikely]] {                                                                 \
            throw ::qinfer::Error(::qinfer::str_cat(__VA_ARGS__), std::source_location::current()); \
        }                                                                                           \
    } while (0)

#define QINFER_FAIL(...) throw ::qinfer::Error(::qinfer::str_cat(__VA_ARGS__), std::source_location::current())
