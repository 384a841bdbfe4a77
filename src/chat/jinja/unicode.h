#pragma once
// defines: qinfer::jinja::utf8_decode, utf8_encode, utf8_length, py_isspace, py_lower, py_upper, ... (Python str
//          semantics over UTF-8 std::string)
//
// Template strings are UTF-8 std::string; Python counts, indexes and slices them by code point, and its case and
// whitespace rules are Unicode's. These helpers give the interpreter those semantics. Invalid UTF-8 is an error
// (Python strings cannot hold it either).

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace qinfer::jinja {

// Code points of `s`; throws ValueError on invalid UTF-8.
std::u32string utf8_decode(std::string_view s);
// Appends the UTF-8 encoding of `cp`.
void utf8_append(std::string& out, char32_t cp);
std::string utf8_encode(std::u32string_view s);
// Number of code points (Python len()).
size_t utf8_length(std::string_view s);
// Byte offset of code point `index` (index <= length).
size_t utf8_offset(std::string_view s, size_t index);

// Character classes as Python's str methods see them.
bool py_isspace(char32_t c);
bool py_isalpha(char32_t c);
bool py_isdecimal(char32_t c);
bool py_isdigit(char32_t c);
bool py_isnumeric(char32_t c);
bool py_is_lower_char(char32_t c);
bool py_is_upper_char(char32_t c);
bool py_is_title_char(char32_t c);
bool py_is_cased(char32_t c);
bool py_isprintable(char32_t c);

// str.lower / str.upper / str.capitalize / str.title / str.swapcase (full mappings, final sigma included).
std::string py_lower(std::string_view s);
std::string py_upper(std::string_view s);
std::string py_capitalize(std::string_view s);
std::string py_title(std::string_view s);
std::string py_swapcase(std::string_view s);

// str.strip / lstrip / rstrip: with chars == nullptr, Unicode whitespace; else any code point of *chars.
std::string py_strip(std::string_view s, const std::string* chars, bool left, bool right);

// str.split(sep, maxsplit) and str.rsplit: sep == nullptr splits on whitespace runs (dropping empty parts).
std::vector<std::string> py_split(std::string_view s, const std::string* sep, long long maxsplit);
std::vector<std::string> py_rsplit(std::string_view s, const std::string* sep, long long maxsplit);
// str.splitlines(keepends)
std::vector<std::string> py_splitlines(std::string_view s, bool keepends);

}  // namespace qinfer::jinja
