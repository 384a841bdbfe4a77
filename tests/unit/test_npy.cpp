// Tests for io/npy: write/read round trips, the exact header layout numpy expects, reading hand-made files (fp64,
// format 2.0), and errors that name the file.

#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "core/check.h"
#include "io/npy.h"
#include "test_util.h"

namespace qinfer {
namespace {

namespace fs = std::filesystem;
using test::make_temp_dir;
using test::write_text;

std::string read_bytes(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::string s;
    char c;
    while (in.get(c)) s.push_back(c);
    return s;
}

template <class T>
std::string raw_of(const std::vector<T>& v) {
    std::string s(v.size() * sizeof(T), '\0');
    if (!v.empty()) std::memcpy(s.data(), v.data(), s.size());
    return s;
}

// An npy file from a header dict text: magic, version, length, the dict padded to 64 bytes, then `data`.
std::string npy_bytes(const std::string& dict, const std::string& data, int major = 1) {
    const size_t prefix = major == 1 ? 10 : 12;
    std::string header = dict;
    header.append((64 - (prefix + header.size() + 1) % 64) % 64, ' ');
    header += '\n';
    std::string s = "\x93NUMPY";
    s += static_cast<char>(major);
    s += '\0';
    const size_t n = header.size();
    s += static_cast<char>(n & 0xff);
    s += static_cast<char>((n >> 8) & 0xff);
    if (major != 1) s += std::string(2, '\0');
    return s + header + data;
}

TEST(Npy, RoundTrip) {
    const fs::path dir = make_temp_dir("npy_rt");
    const std::vector<Shape> shapes = {{2, 3}, {5}, {}, {0, 4}, {2, 1, 3, 1}};
    int i = 0;
    for (const Shape& shape : shapes) {
        std::vector<float> v(static_cast<size_t>(numel(shape)));
        for (size_t k = 0; k < v.size(); ++k) v[k] = 0.25f * static_cast<float>(k) - 1.0f;
        const Tensor t(shape, v);
        const fs::path p = dir / str_cat("t", i++, ".npy");
        write_npy_f32(p, t);
        const Tensor r = read_npy_f32(p);
        EXPECT_EQ(r.shape(), shape) << shape_str(shape);
        EXPECT_EQ(r.vec(), v) << shape_str(shape);
    }
}

TEST(Npy, WrittenHeaderMatchesNumpy) {
    const fs::path p = make_temp_dir("npy_hdr") / "h.npy";
    const std::vector<float> v = {1, 2, 3, 4, 5, 6};
    write_npy_f32(p, v.data(), {2, 3});
    const std::string b = read_bytes(p);
    ASSERT_GE(b.size(), 10u);
    EXPECT_EQ(b.substr(0, 8), std::string("\x93NUMPY\x01\x00", 8));
    const size_t hlen = static_cast<unsigned char>(b[8]) | (static_cast<size_t>(static_cast<unsigned char>(b[9])) << 8);
    EXPECT_EQ((10 + hlen) % 64, 0u);
    ASSERT_EQ(b.size(), 10 + hlen + 24);
    const std::string header = b.substr(10, hlen);
    const std::string dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
    EXPECT_EQ(header.substr(0, dict.size()), dict);
    EXPECT_EQ(header.back(), '\n');
    EXPECT_EQ(header.find_first_not_of(' ', dict.size()), hlen - 1);
    EXPECT_EQ(b.substr(10 + hlen), raw_of(v));

    write_npy_f32(p, v.data(), {6});
    EXPECT_NE(read_bytes(p).find("'shape': (6,), }"), std::string::npos);
    write_npy_f32(p, v.data(), {});
    EXPECT_NE(read_bytes(p).find("'shape': (), }"), std::string::npos);
}

TEST(Npy, ReadsHandMadeFiles) {
    const fs::path dir = make_temp_dir("npy_hand");
    // fp64, double quotes, no trailing comma, keys in another order, extra spaces.
    write_text(dir / "f8.npy", npy_bytes(R"({"shape": (3,),  "fortran_order": False, "descr": "<f8"})",
                                         raw_of(std::vector<double>{0.5, -2.0, 0.1})));
    const Tensor a = read_npy_f32(dir / "f8.npy");
    EXPECT_EQ(a.shape(), (Shape{3}));
    EXPECT_EQ(a.vec(), (std::vector<float>{0.5f, -2.0f, 0.1f}));

    // Format 2.0 (4-byte header length).
    write_text(dir / "v2.npy", npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 2), }",
                                         raw_of(std::vector<float>{7.0f, 8.0f}), 2));
    const Tensor b = read_npy_f32(dir / "v2.npy");
    EXPECT_EQ(b.shape(), (Shape{1, 2}));
    EXPECT_EQ(b.vec(), (std::vector<float>{7.0f, 8.0f}));

    // A 0-d array holds one value.
    write_text(dir / "s.npy", npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (), }",
                                        raw_of(std::vector<float>{42.0f})));
    const Tensor c = read_npy_f32(dir / "s.npy");
    EXPECT_EQ(c.shape(), Shape{});
    EXPECT_EQ(c.vec(), std::vector<float>{42.0f});
}

TEST(Npy, Errors) {
    const fs::path dir = make_temp_dir("npy_bad");
    const std::string f4 = raw_of(std::vector<float>{1, 2, 3, 4});
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"not an npy file", "not an npy file"},
        {npy_bytes("{'descr': '>f4', 'fortran_order': False, 'shape': (4,), }", f4), "'>f4' is not supported"},
        {npy_bytes("{'descr': '<i4', 'fortran_order': False, 'shape': (4,), }", f4), "'<i4' is not supported"},
        {npy_bytes("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }", f4), "Fortran-order"},
        {npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (5,), }", f4), "truncated"},
        {npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", f4), "unexpected bytes"},
        {npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (-4,), }", f4), "non-negative integers"},
        {npy_bytes("{'descr': '<f4', 'fortran_order': False}", f4), "must have the keys"},
        {npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (4,), 'x': 1}", f4), "unexpected key 'x'"},
        {npy_bytes("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (4,), }", f4), "simple dtypes"},
        {npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (4,)", f4), "npy header"},
        {npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (4,), }", f4).substr(0, 40), "truncated"},
    };
    int i = 0;
    for (const auto& [bytes, message] : cases) {
        const fs::path p = dir / str_cat("bad", i++, ".npy");
        write_text(p, bytes);
        EXPECT_ERROR_CONTAINS(read_npy_f32(p), p.c_str(), message.c_str());
    }
    const fs::path missing = dir / "missing.npy";
    EXPECT_ERROR_CONTAINS(read_npy_f32(missing), missing.c_str(), "cannot open");
    const float one = 1.0f;
    EXPECT_ERROR_CONTAINS(write_npy_f32(dir / "no_dir" / "x.npy", &one, {1}), "cannot create", "x.npy");
    EXPECT_ERROR_CONTAINS(write_npy_f32(dir / "n.npy", nullptr, {2}), "null data", "n.npy");
}

}  // namespace
}  // namespace qinfer
