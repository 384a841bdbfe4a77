#include "io/npy.h"

#include <bit>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

#include "core/check.h"

namespace qinfer {

// Data is copied to and from the file as host floats; '<f4' is little-endian.
static_assert(std::endian::native == std::endian::little, "npy I/O assumes a little-endian host");

namespace {

constexpr std::string_view kMagic = "\x93NUMPY";
constexpr size_t kAlign = 64;  // numpy's ARRAY_ALIGN

std::string shape_tuple(const Shape& shape) {
    std::string s = "(";
    for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
    if (shape.size() == 1) s += ',';
    return s + ")";
}

std::string read_whole_file(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary | std::ios::ate);
    QINFER_CHECK(in.good(), "cannot open npy file ", path.string(), ": ", std::strerror(errno));
    const std::streamoff size = in.tellg();
    QINFER_CHECK(size >= 0, "cannot read npy file ", path.string());
    std::string bytes(static_cast<size_t>(size), '\0');
    in.seekg(0);
    in.read(bytes.data(), size);
    QINFER_CHECK(in.good(), "cannot read npy file ", path.string(), ": ", std::strerror(errno));
    return bytes;
}

// The header is a Python dict literal: {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }. This parses the
// subset numpy writes (quoted strings, True/False, tuples of integers) and nothing more.
class HeaderParser {
public:
    HeaderParser(std::string_view text, std::string file) : text_(text), file_(std::move(file)) {}

    struct Header {
        std::string descr;
        bool fortran_order = false;
        Shape shape;
    };

    Header parse() {
        Header h;
        bool has_descr = false, has_order = false, has_shape = false;
        expect('{');
        while (true) {
            skip_ws();
            if (peek() == '}') break;
            const std::string key = parse_string();
            expect(':');
            if (key == "descr") {
                skip_ws();
                QINFER_CHECK(peek() == '\'' || peek() == '"', file_,
                             ": npy header: only simple dtypes are supported ('descr' is not a string)");
                h.descr = parse_string();
                has_descr = true;
            } else if (key == "fortran_order") {
                h.fortran_order = parse_bool();
                has_order = true;
            } else if (key == "shape") {
                h.shape = parse_shape();
                has_shape = true;
            } else {
                fail(str_cat("unexpected key '", key, "'"));
            }
            skip_ws();
            if (peek() == ',') {
                ++pos_;
                continue;
            }
            skip_ws();
            QINFER_CHECK(peek() == '}', file_, ": npy header: expected ',' or '}' at offset ", pos_);
        }
        ++pos_;
        skip_ws();
        QINFER_CHECK(pos_ == text_.size(), file_, ": npy header: unexpected text after the dict at offset ", pos_);
        QINFER_CHECK(has_descr && has_order && has_shape, file_,
                     ": npy header must have the keys 'descr', 'fortran_order' and 'shape'");
        return h;
    }

private:
    [[noreturn]] void fail(const std::string& what) const {
        QINFER_FAIL(file_, ": npy header: ", what, " (header: ", text_.substr(0, 200), ")");
    }
    char peek() const { return pos_ < text_.size() ? text_[pos_] : '\0'; }
    void skip_ws() {
        while (pos_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[pos_]))) ++pos_;
    }
    void expect(char c) {
        skip_ws();
        if (peek() != c) fail(str_cat("expected '", c, "' at offset ", pos_));
        ++pos_;
    }
    std::string parse_string() {
        skip_ws();
        const char quote = peek();
        if (quote != '\'' && quote != '"') fail(str_cat("expected a quoted string at offset ", pos_));
        const size_t end = text_.find(quote, pos_ + 1);
        if (end == std::string_view::npos) fail("unterminated string");
        std::string s(text_.substr(pos_ + 1, end - pos_ - 1));
        pos_ = end + 1;
        return s;
    }
    bool parse_bool() {
        skip_ws();
        if (text_.substr(pos_, 4) == "True") {
            pos_ += 4;
            return true;
        }
        if (text_.substr(pos_, 5) == "False") {
            pos_ += 5;
            return false;
        }
        fail(str_cat("expected True or False at offset ", pos_));
    }
    Shape parse_shape() {
        expect('(');
        Shape shape;
        while (true) {
            skip_ws();
            if (peek() == ')') break;
            if (!std::isdigit(static_cast<unsigned char>(peek()))) {
                fail(str_cat("shape must be a tuple of non-negative integers (offset ", pos_, ")"));
            }
            int64_t d = 0;
            while (std::isdigit(static_cast<unsigned char>(peek()))) {
                const int digit = peek() - '0';
                if (d > (std::numeric_limits<int64_t>::max() - digit) / 10) fail("shape dimension too large");
                d = d * 10 + digit;
                ++pos_;
            }
            if (peek() == 'L') ++pos_;  // Python 2 long literal, as old numpy wrote
            shape.push_back(d);
            skip_ws();
            if (peek() == ',') {
                ++pos_;
                continue;
            }
            skip_ws();
            if (peek() != ')') fail(str_cat("expected ',' or ')' in shape at offset ", pos_));
        }
        ++pos_;
        return shape;
    }

    std::string_view text_;
    std::string file_;
    size_t pos_ = 0;
};

uint64_t read_le(const std::string& bytes, size_t at, size_t n) {
    uint64_t v = 0;
    for (size_t i = n; i-- > 0;) v = (v << 8) | static_cast<unsigned char>(bytes[at + i]);
    return v;
}

}  // namespace

void write_npy_f32(const std::filesystem::path& path, const float* data, const Shape& shape) {
    const std::string file = path.string();
    for (int64_t d : shape) QINFER_CHECK(d >= 0, "cannot write ", file, ": negative dimension in ", shape_str(shape));
    const auto n = static_cast<size_t>(numel(shape));
    QINFER_CHECK(n == 0 || data, "cannot write ", file, ": null data for shape ", shape_str(shape));

    std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': " + shape_tuple(shape) + ", }";
    // Magic (6) + version (2) + length (2) + header + '\n' is padded with spaces to a multiple of 64.
    const size_t unpadded = kMagic.size() + 4 + header.size() + 1;
    header.append((kAlign - unpadded % kAlign) % kAlign, ' ');
    header += '\n';
    QINFER_CHECK(header.size() <= 0xffff, "cannot write ", file, ": shape ", shape_str(shape),
                 " makes the npy header too long for format 1.0");

    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    QINFER_CHECK(out.good(), "cannot create ", file, ": ", std::strerror(errno));
    out.write(kMagic.data(), static_cast<std::streamsize>(kMagic.size()));
    const char prefix[4] = {1, 0, static_cast<char>(header.size() & 0xff), static_cast<char>(header.size() >> 8)};
    out.write(prefix, 4);
    out.write(header.data(), static_cast<std::streamsize>(header.size()));
    if (n > 0) out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(n * sizeof(float)));
    out.close();
    QINFER_CHECK(!out.fail(), "error writing ", file, ": ", std::strerror(errno));
}

Tensor read_npy_f32(const std::filesystem::path& path) {
    const std::string file = path.string();
    const std::string bytes = read_whole_file(path);
    QINFER_CHECK(bytes.size() >= 10 && std::string_view(bytes).substr(0, kMagic.size()) == kMagic, file,
                 ": not an npy file (missing the \\x93NUMPY magic)");
    const int major = static_cast<unsigned char>(bytes[6]);
    const int minor = static_cast<unsigned char>(bytes[7]);
    QINFER_CHECK(major >= 1 && major <= 3 && minor == 0, file, ": unsupported npy format version ", major, ".",
                 minor);
    // Version 1.0 has a 2-byte header length, 2.0 and 3.0 (UTF-8 header) a 4-byte one.
    const size_t len_bytes = major == 1 ? 2 : 4;
    QINFER_CHECK(bytes.size() >= 8 + len_bytes, file, ": truncated npy preamble");
    const uint64_t header_len = read_le(bytes, 8, len_bytes);
    const uint64_t data_start = 8 + len_bytes + header_len;
    QINFER_CHECK(data_start <= bytes.size(), file, ": truncated: npy header length ", header_len, " but the file has ",
                 bytes.size(), " bytes");

    const auto h = HeaderParser(std::string_view(bytes).substr(8 + len_bytes, header_len), file).parse();
    QINFER_CHECK(h.descr == "<f4" || h.descr == "<f8", file, ": npy dtype '", h.descr,
                 "' is not supported (qinfer reads '<f4' and '<f8')");
    QINFER_CHECK(!h.fortran_order, file, ": Fortran-order npy arrays are not supported");
    const size_t item = h.descr == "<f4" ? 4 : 8;

    uint64_t elements = 1;
    bool zero = false;
    bool overflow = false;
    for (int64_t d : h.shape) {
        if (d == 0) zero = true;
        if (d != 0 && elements > std::numeric_limits<uint64_t>::max() / 8 / static_cast<uint64_t>(d)) overflow = true;
        elements *= static_cast<uint64_t>(d);
    }
    if (zero) elements = 0;
    QINFER_CHECK(zero || !overflow, file, ": npy shape ", shape_str(h.shape), " is too large");
    const uint64_t need = elements * item;
    const uint64_t have = bytes.size() - data_start;
    QINFER_CHECK(have >= need, file, ": truncated: shape ", shape_str(h.shape), " of ", h.descr, " needs ", need,
                 " bytes of data but the file has ", have);
    QINFER_CHECK(have == need, file, ": ", have - need, " unexpected bytes after the data of shape ",
                 shape_str(h.shape));

    std::vector<float> values(static_cast<size_t>(elements));
    const char* src = bytes.data() + data_start;
    if (item == 4) {
        if (elements > 0) std::memcpy(values.data(), src, static_cast<size_t>(need));
    } else {
        for (size_t i = 0; i < values.size(); ++i) {
            double v;
            std::memcpy(&v, src + 8 * i, 8);
            values[i] = static_cast<float>(v);
        }
    }
    return Tensor(h.shape, std::move(values));
}

}  // namespace qinfer
