// Tests for io/safetensors: round trips for every dtype, fp conversions on load, checkpoint folders (single file and
// sharded with an index), and one test per malformed input, each checking that the error names the file and, where
// there is one, the tensor.

#include <chrono>
#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "core/check.h"
#include "io/safetensors.h"
#include "test_util.h"

namespace qinfer {
namespace {

namespace fs = std::filesystem;
using test::make_temp_dir;
using test::write_text;

// ---- helpers that build files byte by byte, so that malformed files can be made

std::string le64(uint64_t v) {
    std::string s(8, '\0');
    for (int i = 0; i < 8; ++i) s[static_cast<size_t>(i)] = static_cast<char>((v >> (8 * i)) & 0xffu);
    return s;
}

// A safetensors file from a header text and a data buffer; `header_len` overrides the length field.
fs::path write_raw(const fs::path& p, const std::string& header, const std::string& data = "",
                   std::optional<uint64_t> header_len = std::nullopt) {
    write_text(p, le64(header_len.value_or(header.size())) + header + data);
    return p;
}

std::string zeros(size_t n) { return std::string(n, '\0'); }

std::string read_bytes(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::string s;
    char c;
    while (in.get(c)) s.push_back(c);
    return s;
}

std::vector<std::byte> to_bytes(const std::vector<uint8_t>& v) {
    std::vector<std::byte> out(v.size());
    for (size_t i = 0; i < v.size(); ++i) out[i] = static_cast<std::byte>(v[i]);
    return out;
}

template <class T>
std::vector<std::byte> raw_of(const std::vector<T>& v) {
    std::vector<std::byte> out(v.size() * sizeof(T));
    if (!v.empty()) std::memcpy(out.data(), v.data(), out.size());
    return out;
}

// A small valid file with tensors "a" (F32 [2, 3]) and "b" (BF16 [4]).
fs::path write_small(const fs::path& p) {
    std::vector<TensorToWrite> ts;
    ts.push_back(tensor_to_write("a", Tensor({2, 3}, {1, 2, 3, 4, 5, 6})));
    ts.push_back(tensor_to_write("b", Tensor({4}, {1, -1, 0.5f, 2}), DType::BF16));
    write_safetensors(p, ts);
    return p;
}

// ---- round trips

TEST(Safetensors, RoundTripEveryDType) {
    const fs::path dir = make_temp_dir("st_roundtrip");
    const std::vector<DType> all = {DType::BF16, DType::F16, DType::F32,  DType::F64, DType::F8E4M3, DType::F8E5M2,
                                    DType::U8,   DType::I8,  DType::I16,  DType::I32, DType::I64,    DType::Bool};
    std::vector<TensorToWrite> ts;
    for (size_t k = 0; k < all.size(); ++k) {
        const DType dt = all[k];
        const Shape shape = {2, 3};
        std::vector<uint8_t> raw(6 * dtype_size(dt));
        for (size_t i = 0; i < raw.size(); ++i) raw[i] = static_cast<uint8_t>(i * 7 + k);
        if (dt == DType::Bool) raw = {1, 0, 0, 1, 1, 0};
        ts.push_back({"t." + std::string(dtype_name(dt)), dt, shape, to_bytes(raw)});
    }
    ts.push_back({"scalar", DType::F32, {}, raw_of(std::vector<float>{3.5f})});
    ts.push_back({"empty", DType::BF16, {0, 4}, {}});
    const std::map<std::string, std::string> meta = {{"format", "pt"}, {"note", "qinfer test"}};
    const fs::path p = dir / "all.safetensors";
    write_safetensors(p, ts, meta);

    const auto f = SafetensorsFile::open(p);
    EXPECT_EQ(f->path(), p);
    EXPECT_EQ(f->metadata(), meta);
    ASSERT_EQ(f->tensors().size(), ts.size());
    for (size_t i = 0; i < ts.size(); ++i) {
        const TensorInfo& t = f->tensors()[i];
        SCOPED_TRACE(ts[i].name);
        EXPECT_EQ(t.name, ts[i].name);  // header order is kept
        EXPECT_EQ(t.dtype, ts[i].dtype);
        EXPECT_EQ(t.shape, ts[i].shape);
        EXPECT_EQ(t.file, p.string());
        ASSERT_EQ(t.bytes.size(), ts[i].raw.size());
        EXPECT_TRUE(std::equal(t.bytes.begin(), t.bytes.end(), ts[i].raw.begin()));
        EXPECT_EQ(f->find(t.name), &t);
    }
    EXPECT_EQ(f->find("missing"), nullptr);
    EXPECT_EQ(f->find("scalar")->numel(), 1);
    EXPECT_EQ(f->find("empty")->numel(), 0);
}

TEST(Safetensors, WriterPadsHeaderWithSpacesToEightBytes) {
    const fs::path dir = make_temp_dir("st_pad");
    for (const std::string name : {"a", "ab", "abc", "abcd", "abcde", "abcdef", "abcdefg", "abcdefgh"}) {
        const fs::path p = dir / (name + ".safetensors");
        write_safetensors(p, {tensor_to_write(name, Tensor({3}, {1, 2, 3}))});
        const std::string bytes = read_bytes(p);
        ASSERT_GE(bytes.size(), 8u);
        uint64_t n = 0;
        for (int i = 7; i >= 0; --i) n = (n << 8) | static_cast<unsigned char>(bytes[static_cast<size_t>(i)]);
        EXPECT_EQ(n % 8, 0u) << name;
        EXPECT_EQ(bytes.size(), 8 + n + 12) << name;
        const std::string header = bytes.substr(8, n);
        const size_t close = header.rfind('}');
        ASSERT_NE(close, std::string::npos);
        EXPECT_EQ(header.find_first_not_of(' ', close + 1), std::string::npos) << "padding must be spaces: " << header;
        EXPECT_LT(header.size() - close - 1, 8u);
    }
}

TEST(Safetensors, WriterWithoutMetadataOmitsIt) {
    const fs::path p = write_small(make_temp_dir("st_nometa") / "m.safetensors");
    EXPECT_EQ(read_bytes(p).find("__metadata__"), std::string::npos);
    EXPECT_TRUE(SafetensorsFile::open(p)->metadata().empty());
}

TEST(Safetensors, WriterRejectsWrongRawSize) {
    const fs::path p = make_temp_dir("st_wbad") / "w.safetensors";
    EXPECT_ERROR_CONTAINS(write_safetensors(p, {{"w", DType::F32, {2, 2}, to_bytes({1, 2, 3})}}), p.c_str(), "\"w\"",
                          "3 bytes", "16");
    EXPECT_ERROR_CONTAINS(write_safetensors(p, {tensor_to_write("x", Tensor({1}, {1})),
                                                tensor_to_write("x", Tensor({1}, {2}))}),
                          "duplicate tensor \"x\"");
}

TEST(Safetensors, ToF32KnownValues) {
    const fs::path p = make_temp_dir("st_tof32") / "v.safetensors";
    const std::vector<uint16_t> bf16 = {0x3f80, 0xc000, 0x3fc0, 0x7f80, 0x0000};
    const std::vector<uint16_t> f16 = {0x3c00, 0xc000, 0x0001, 0x7bff, 0x7c00, 0x3555};
    const std::vector<uint8_t> e4m3 = {0x38, 0x7e, 0x01, 0xb8, 0x40, 0x7f};
    const std::vector<uint8_t> e5m2 = {0x3c, 0x7b, 0x01, 0x7c, 0xc0};
    const std::vector<double> f64 = {0.1, -1e300, 3.0};
    write_safetensors(p, {
                             {"bf16", DType::BF16, {5}, raw_of(bf16)},
                             {"f16", DType::F16, {2, 3}, raw_of(f16)},
                             {"e4m3", DType::F8E4M3, {6}, to_bytes(e4m3)},
                             {"e5m2", DType::F8E5M2, {5}, to_bytes(e5m2)},
                             {"f64", DType::F64, {3}, raw_of(f64)},
                             {"i32", DType::I32, {1}, raw_of(std::vector<int32_t>{7})},
                         });
    const auto f = SafetensorsFile::open(p);
    const float inf = std::numeric_limits<float>::infinity();

    EXPECT_EQ(f->find("bf16")->to_f32().vec(), (std::vector<float>{1.0f, -2.0f, 1.5f, inf, 0.0f}));

    const Tensor h = f->find("f16")->to_f32();
    EXPECT_EQ(h.shape(), (Shape{2, 3}));
    EXPECT_EQ(h.vec(), (std::vector<float>{1.0f, -2.0f, std::ldexp(1.0f, -24), 65504.0f, inf, 0.333251953125f}));

    const Tensor a = f->find("e4m3")->to_f32();
    EXPECT_EQ(a.vec()[0], 1.0f);
    EXPECT_EQ(a.vec()[1], 448.0f);
    EXPECT_EQ(a.vec()[2], std::ldexp(1.0f, -9));  // smallest subnormal
    EXPECT_EQ(a.vec()[3], -1.0f);
    EXPECT_EQ(a.vec()[4], 2.0f);
    EXPECT_TRUE(std::isnan(a.vec()[5]));

    EXPECT_EQ(f->find("e5m2")->to_f32().vec(), (std::vector<float>{1.0f, 57344.0f, std::ldexp(1.0f, -16), inf, -2.0f}));
    EXPECT_EQ(f->find("f64")->to_f32().vec(), (std::vector<float>{0.1f, -inf, 3.0f}));

    EXPECT_ERROR_CONTAINS(f->find("i32")->to_f32(), "\"i32\"", "I32", p.c_str());
}

TEST(Safetensors, TensorToWriteConversions) {
    const fs::path p = make_temp_dir("st_ttw") / "c.safetensors";
    const Tensor t({2, 2}, {1.0f, -0.1f, 65504.0f, 1e-7f});
    write_safetensors(p, {tensor_to_write("f32", t), tensor_to_write("bf16", t, DType::BF16),
                          tensor_to_write("f16", t, DType::F16)});
    const auto f = SafetensorsFile::open(p);
    EXPECT_EQ(f->find("f32")->to_f32().vec(), t.vec());
    EXPECT_EQ(f->find("bf16")->dtype, DType::BF16);
    const Tensor b = f->find("bf16")->to_f32();
    for (int i = 0; i < 4; ++i) EXPECT_EQ(b.vec()[static_cast<size_t>(i)], round_bf16(t.vec()[static_cast<size_t>(i)]));
    const Tensor h = f->find("f16")->to_f32();
    EXPECT_EQ(h.vec()[0], 1.0f);
    EXPECT_EQ(h.vec()[1], -0.0999755859375f);  // nearest half to -0.1 (0xae66)
    EXPECT_EQ(h.vec()[2], 65504.0f);
    EXPECT_EQ(h.vec()[3], std::ldexp(2.0f, -24));  // 1e-7 = 1.68 subnormal units -> 2
    EXPECT_ERROR_CONTAINS(tensor_to_write("q", t, DType::I8), "\"q\"", "I8");
}

// fp32 -> f16 must round to nearest even everywhere: every finite half survives f16 -> f32 -> f16 exactly, and
// halfway values go to the even neighbour.
TEST(Safetensors, TensorToWriteF16RoundsToNearestEven) {
    std::vector<float> values;
    std::vector<uint16_t> expected;
    for (uint32_t v = 0; v < 0x10000; ++v) {
        if ((v & 0x7c00u) == 0x7c00u && (v & 0x3ffu)) continue;  // NaN
        values.push_back(f16_to_f32(static_cast<uint16_t>(v)));
        expected.push_back(static_cast<uint16_t>(v));
    }
    const std::vector<std::pair<float, uint16_t>> ties = {
        {1.0f + std::ldexp(1.0f, -11), 0x3c00},      // halfway 1 .. 1+2^-10 -> even 1
        {1.0f + 3 * std::ldexp(1.0f, -11), 0x3c02},  // halfway -> even 1+2^-9
        {std::ldexp(1.0f, -25), 0x0000},             // halfway 0 .. smallest subnormal -> 0
        {3 * std::ldexp(1.0f, -25), 0x0002},         // halfway 1 .. 2 units -> 2
        {std::nextafter(std::ldexp(1.0f, -25), 1.0f), 0x0001},
        {65519.0f, 0x7bff},
        {65520.0f, 0x7c00},  // halfway 65504 .. 65536 -> inf
        {-1e10f, 0xfc00},
        {1e-30f, 0x0000},
    };
    for (const auto& [f, h] : ties) {
        values.push_back(f);
        expected.push_back(h);
    }
    const TensorToWrite w = tensor_to_write("h", Tensor({static_cast<int64_t>(values.size())}, values), DType::F16);
    ASSERT_EQ(w.raw.size(), 2 * values.size());
    for (size_t i = 0; i < values.size(); ++i) {
        uint16_t got;
        std::memcpy(&got, w.raw.data() + 2 * i, 2);
        ASSERT_EQ(got, expected[i]) << "value " << values[i];
    }
    const TensorToWrite n =
        tensor_to_write("n", Tensor({1}, {std::numeric_limits<float>::quiet_NaN()}), DType::F16);
    uint16_t nan_bits;
    std::memcpy(&nan_bits, n.raw.data(), 2);
    EXPECT_TRUE(std::isnan(f16_to_f32(nan_bits)));
}

TEST(Safetensors, ZeroSizeTensorsAndGapsAreAccepted) {
    const fs::path p = make_temp_dir("st_zero") / "z.safetensors";
    // "e" is empty and sits inside "a"'s range; "b" follows a 4-byte gap. Neither is an overlap.
    write_raw(p,
              R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"e":{"dtype":"F32","shape":[0,5],)"
              R"("data_offsets":[4,4]},"b":{"dtype":"U8","shape":[4],"data_offsets":[12,16]}})",
              zeros(16));
    const auto f = SafetensorsFile::open(p);
    ASSERT_EQ(f->tensors().size(), 3u);
    EXPECT_EQ(f->find("e")->bytes.size(), 0u);
    EXPECT_EQ(f->find("e")->to_f32().numel(), 0);
    EXPECT_EQ(f->find("b")->bytes.size(), 4u);
}

// Real MoE shards hold tens of thousands of tensors; header parsing must stay linear in their number (a quadratic
// step took minutes at 60k tensors).
TEST(Safetensors, ManyTensorsOpenQuickly) {
    const fs::path p = make_temp_dir("st_many") / "many.safetensors";
    std::vector<TensorToWrite> ts;
    constexpr int kCount = 20000;
    for (int i = 0; i < kCount; ++i) {
        ts.push_back({str_cat("model.layers.", i / 512, ".mlp.experts.", i % 512, ".down_proj.weight"), DType::BF16,
                      {2}, std::vector<std::byte>(4)});
    }
    write_safetensors(p, ts);
    const auto start = std::chrono::steady_clock::now();
    const auto f = SafetensorsFile::open(p);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    ASSERT_EQ(f->tensors().size(), static_cast<size_t>(kCount));
    EXPECT_EQ(f->tensors()[1].name, "model.layers.0.mlp.experts.1.down_proj.weight");  // file order, not sorted
    EXPECT_LT(seconds, 10.0) << "opening " << kCount << " tensors took " << seconds << " s";
}

// ---- malformed files

TEST(SafetensorsBad, FileShorterThanEightBytes) {
    const fs::path p = make_temp_dir("st_bad") / "short.safetensors";
    write_text(p, "abc");
    EXPECT_ERROR_CONTAINS(SafetensorsFile::open(p), p.c_str(), "3 bytes", "too short");
    const fs::path e = p.parent_path() / "empty.safetensors";
    write_text(e, "");
    EXPECT_ERROR_CONTAINS(SafetensorsFile::open(e), e.c_str(), "too short");
}

TEST(SafetensorsBad, MissingFile) {
    const fs::path p = make_temp_dir("st_bad") / "nope.safetensors";
    EXPECT_ERROR_CONTAINS(SafetensorsFile::open(p), p.c_str(), "cannot open");
}

TEST(SafetensorsBad, HeaderLengthZero) {
    const fs::path p = write_raw(make_temp_dir("st_bad") / "zero.safetensors", "", "");
    EXPECT_ERROR_CONTAINS(SafetensorsFile::open(p), p.c_str(), "header length is 0");
}

TEST(SafetensorsBad, HeaderLengthLargerThanFile) {
    const fs::path p = write_raw(make_temp_dir("st_bad") / "hlen.safetensors", "{}", "", 1000);
    EXPECT_ERROR_CONTAINS(SafetensorsFile::open(p), p.c_str(), "truncated", "1000");
}

TEST(SafetensorsBad, HeaderLengthOverCap) {
    const fs::path p = write_raw(make_temp_dir("st_bad") / "cap.safetensors", "{}", "", kMaxHeaderBytes + 1);
    EXPECT_ERROR_CONTAINS(SafetensorsFile::open(p), p.c_str(), "100000001", "cap of 100000000");
    const fs::path q = write_raw(p.parent_path() / "huge.safetensors", "{}", "", ~uint64_t{0});
    EXPECT_ERROR_CONTAINS(SafetensorsFile::open(q), q.c_str(), "cap");
}

TEST(SafetensorsBad, InvalidJson) {
    const fs::path p = write_raw(make_temp_dir("st_bad") / "json.safetensors", R"({"a": {"dtype": "F32",)");
    EXPECT_ERROR_CONTAINS(SafetensorsFile::open(p), p.c_str(), "not valid JSON");
}

TEST(SafetensorsBad, HeaderNotAnObject) {
    const fs::path p = write_raw(make_temp_dir("st_bad") / "arr.safetensors", "[1, 2]");
    EXPECT_ERROR_CONTAINS(SafetensorsFile::open(p), p.c_str(), "not a JSON object", "array");
}

TEST(SafetensorsBad, TruncatedData) {
    const fs::path dir = make_temp_dir("st_bad");
    const std::string full = read_bytes(write_small(dir / "full.safetensors"));
    const fs::path p = dir / "cut.safetensors";
    write_text(p, full.substr(0, full.size() - 3));  // "b" (the last tensor) loses 3 of its 8 bytes
    EXPECT_ERROR_CONTAINS(SafetensorsFile::open(p), p.c_str(), "tensor \"b\"", "extend past end of file",
                          "truncated");
}

TEST(SafetensorsBad, UnknownDType) {
    const fs::path p = write_raw(make_temp_dir("st_bad") / "dtype.safetensors",
                                 R"({"w":{"dtype":"F4","shape":[2],"data_offsets":[0,1]}})", zeros(1));
    EXPECT_ERROR_CONTAINS(SafetensorsFile::open(p), p.c_str(), "\"w\"", "unknown dtype \"F4\"", "BF16", "F8_E4M3");
}

TEST(SafetensorsBad, MissingOrIllTypedFields) {
    const fs::path dir = make_temp_dir("st_bad");
    const std::vector<std::pair<std::string, std::string>> cases = {
        {R"({"w":{"shape":[1],"data_offsets":[0,4]}})", "missing \"dtype\""},
        {R"({"w":{"dtype":"F32","data_offsets":[0,4]}})", "missing \"shape\""},
        {R"({"w":{"dtype":"F32","shape":[1]}})", "missing \"data_offsets\""},
        {R"({"w":{"dtype":3,"shape":[1],"data_offsets":[0,4]}})", "\"dtype\" must be a string"},
        {R"({"w":[1,2,3]})", "must be an object"},
        {R"({"w":{"dtype":"F32","shape":1,"data_offsets":[0,4]}})", "\"shape\" must be an array"},
        {R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[4,0]}})", "\"data_offsets\" must be [begin, end]"},
        {R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4,8]}})", "\"data_offsets\" must be [begin, end]"},
        {R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[-4,0]}})", "\"data_offsets\" must be [begin, end]"},
        {R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4.0]}})", "\"data_offsets\" must be [begin, end]"},
    };
    int i = 0;
    for (const auto& [header, message] : cases) {
        const fs::path p = write_raw(dir / str_cat("f", i++, ".safetensors"), header, zeros(8));
        EXPECT_ERROR_CONTAINS(SafetensorsFile::open(p), p.c_str(), "tensor \"w\"", message.c_str());
    }
}

TEST(SafetensorsBad, NegativeOrNonIntegerShape) {
    const fs::path dir = make_temp_dir("st_bad");
    int i = 0;
    for (const std::string shape : {"[2,-3]", "[2,1.5]", "[\"2\"]", "[2,null]", "[2.0]"}) {
        const fs::path p = write_raw(dir / str_cat("s", i++, ".safetensors"),
                                     R"({"w":{"dtype":"F32","shape":)" + shape + R"(,"data_offsets":[0,24]}})",
                                     zeros(24));
        EXPECT_ERROR_CONTAINS(SafetensorsFile::open(p), p.c_str(), "tensor \"w\"", "non-negative integers");
    }
}

TEST(SafetensorsBad, ShapeOverflow) {
    const fs::path p = write_raw(make_temp_dir("st_bad") / "ovf.safetensors",
                                 R"({"w":{"dtype":"F32","shape":[4294967296,4294967296,4],"data_offsets":[0,0]}})");
    EXPECT_ERROR_CONTAINS(SafetensorsFile::open(p), p.c_str(), "tensor \"w\"", "too large");
    // 2^62 elements of 4 bytes: the element count fits in int64 but the byte size does not.
    const fs::path q = write_raw(p.parent_path() / "ovf2.safetensors",
                                 R"({"w":{"dtype":"F32","shape":[4611686018427387904],"data_offsets":[0,0]}})");
    EXPECT_ERROR_CONTAINS(SafetensorsFile::open(q), q.c_str(), "tensor \"w\"", "too large");
    // Even with a zero dimension: qinfer::numel would overflow on the way to the 0.
    const fs::path z = write_raw(p.parent_path() / "zero.safetensors",
                                 R"({"w":{"dtype":"F32","shape":[4294967296,4294967296,0],"data_offsets":[0,0]}})");
    EXPECT_ERROR_CONTAINS(SafetensorsFile::open(z), z.c_str(), "tensor \"w\"", "too large");
    // Large dimensions are fine when the tensor is empty and the product of the others fits.
    const fs::path e = write_raw(p.parent_path() / "empty.safetensors",
                                 R"({"w":{"dtype":"F32","shape":[4294967296,0,1024],"data_offsets":[0,0]}})");
    EXPECT_EQ(SafetensorsFile::open(e)->find("w")->numel(), 0);
}

TEST(SafetensorsBad, SizeMismatch) {
    const fs::path p = write_raw(make_temp_dir("st_bad") / "size.safetensors",
                                 R"({"w":{"dtype":"F32","shape":[2,3],"data_offsets":[0,20]}})", zeros(24));
    EXPECT_ERROR_CONTAINS(SafetensorsFile::open(p), p.c_str(), "tensor \"w\"", "size mismatch", "[2, 3]", "F32",
                          "needs 24 bytes", "give 20 bytes");
}

TEST(SafetensorsBad, OffsetsPastEndOfFile) {
    const fs::path p = write_raw(make_temp_dir("st_bad") / "past.safetensors",
                                 R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}})", zeros(12));
    EXPECT_ERROR_CONTAINS(SafetensorsFile::open(p), p.c_str(), "tensor \"w\"", "[8, 16]", "extend past end of file",
                          "12 bytes");
    // An offset near 2^64 must not wrap around.
    const fs::path q = write_raw(p.parent_path() / "wrap.safetensors",
                                 R"({"w":{"dtype":"U8","shape":[4],)"
                                 R"("data_offsets":[18446744073709551612,18446744073709551615]}})",
                                 zeros(12));
    EXPECT_ERROR_CONTAINS(SafetensorsFile::open(q), q.c_str(), "tensor \"w\"");
}

TEST(SafetensorsBad, OverlappingTensors) {
    const fs::path p = write_raw(make_temp_dir("st_bad") / "overlap.safetensors",
                                 R"({"first":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},)"
                                 R"("second":{"dtype":"F32","shape":[4],"data_offsets":[8,24]}})",
                                 zeros(24));
    EXPECT_ERROR_CONTAINS(SafetensorsFile::open(p), p.c_str(), "\"first\"", "\"second\"", "overlap");
    // An overlap with an earlier, longer tensor that is not the immediate predecessor in offset order.
    const fs::path q = write_raw(p.parent_path() / "overlap2.safetensors",
                                 R"({"big":{"dtype":"U8","shape":[32],"data_offsets":[0,32]},)"
                                 R"("x":{"dtype":"U8","shape":[4],"data_offsets":[4,8]},)"
                                 R"("y":{"dtype":"U8","shape":[4],"data_offsets":[16,20]}})",
                                 zeros(32));
    EXPECT_ERROR_CONTAINS(SafetensorsFile::open(q), q.c_str(), "\"big\"", "\"x\"", "overlap");
}

TEST(SafetensorsBad, DuplicateKeys) {
    const fs::path p = write_raw(make_temp_dir("st_bad") / "dup.safetensors",
                                 R"({"w":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},)"
                                 R"("w":{"dtype":"U8","shape":[4],"data_offsets":[4,8]}})",
                                 zeros(8));
    EXPECT_ERROR_CONTAINS(SafetensorsFile::open(p), p.c_str(), "duplicate key \"w\"");
    const fs::path q = write_raw(p.parent_path() / "dup2.safetensors",
                                 R"({"w":{"dtype":"U8","dtype":"F32","shape":[4],"data_offsets":[0,4]}})", zeros(8));
    EXPECT_ERROR_CONTAINS(SafetensorsFile::open(q), q.c_str(), "duplicate key \"dtype\"", "\"w\"");
}

TEST(SafetensorsBad, MetadataNotStrings) {
    const fs::path p = write_raw(make_temp_dir("st_bad") / "meta.safetensors",
                                 R"({"__metadata__":{"format":"pt","n":3}})");
    EXPECT_ERROR_CONTAINS(SafetensorsFile::open(p), p.c_str(), "__metadata__", "\"n\"");
    const fs::path q = write_raw(p.parent_path() / "meta2.safetensors", R"({"__metadata__":[1]})");
    EXPECT_ERROR_CONTAINS(SafetensorsFile::open(q), q.c_str(), "__metadata__");
}

// ---- TensorTable and checkpoint folders

// Writes one shard holding the given F32 [2] tensors.
fs::path write_shard(const fs::path& p, const std::vector<std::string>& names) {
    std::vector<TensorToWrite> ts;
    for (const auto& n : names) ts.push_back(tensor_to_write(n, Tensor({2}, {1.0f, 2.0f})));
    write_safetensors(p, ts);
    return p;
}

// An index whose weight_map is given as JSON object text.
void write_index(const fs::path& dir, const std::string& weight_map) {
    write_text(dir / "model.safetensors.index.json",
               R"({"metadata": {"total_size": 16}, "weight_map": )" + weight_map + "}");
}

TEST(Checkpoint, SingleFileAndFolder) {
    const fs::path dir = make_temp_dir("ckpt_single");
    const fs::path p = write_small(dir / "model.safetensors");
    for (const fs::path& where : {p, dir}) {
        const TensorTable t = open_checkpoint(where);
        EXPECT_EQ(t.size(), 2u);
        EXPECT_TRUE(t.contains("a"));
        EXPECT_EQ(t.at("a").shape, (Shape{2, 3}));
        EXPECT_EQ(t.find("zz"), nullptr);
        ASSERT_EQ(t.files().size(), 1u);
        EXPECT_EQ(t.files()[0], p);
        EXPECT_ERROR_CONTAINS(t.at("zz"), "tensor \"zz\" not found in checkpoint", p.c_str());
    }
    // Any file name works when the path names the file itself.
    const fs::path other = write_small(dir / "weights.bin");
    EXPECT_EQ(open_checkpoint(other).size(), 2u);
}

TEST(Checkpoint, ShardedWithIndex) {
    const fs::path dir = make_temp_dir("ckpt_sharded");
    write_shard(dir / "model-00001-of-00002.safetensors", {"layers.0.w", "layers.0.b"});
    write_shard(dir / "model-00002-of-00002.safetensors", {"layers.1.w", "lm_head.weight"});
    write_index(dir, R"({"layers.0.w": "model-00001-of-00002.safetensors",
                         "layers.0.b": "model-00001-of-00002.safetensors",
                         "layers.1.w": "model-00002-of-00002.safetensors",
                         "lm_head.weight": "model-00002-of-00002.safetensors"})");
    // A stray model.safetensors is ignored when an index exists.
    write_shard(dir / "model.safetensors", {"stray"});
    const TensorTable t = open_checkpoint(dir);
    EXPECT_EQ(t.size(), 4u);
    EXPECT_EQ(t.files().size(), 2u);
    EXPECT_FALSE(t.contains("stray"));
    EXPECT_EQ(t.at("lm_head.weight").file, (dir / "model-00002-of-00002.safetensors").string());
    EXPECT_EQ(t.at("layers.0.b").to_f32().vec(), (std::vector<float>{1.0f, 2.0f}));
    std::vector<std::string> names;
    for (const auto& [name, info] : t.all()) names.push_back(name);
    EXPECT_EQ(names, (std::vector<std::string>{"layers.0.b", "layers.0.w", "layers.1.w", "lm_head.weight"}));
}

TEST(CheckpointBad, IndexNamesMissingShard) {
    const fs::path dir = make_temp_dir("ckpt_bad");
    write_shard(dir / "s1.safetensors", {"a"});
    write_index(dir, R"({"a": "s1.safetensors", "b": "s2.safetensors"})");
    EXPECT_ERROR_CONTAINS(open_checkpoint(dir), "model.safetensors.index.json", "s2.safetensors", "does not exist",
                          "\"b\"");
}

TEST(CheckpointBad, IndexTensorMissingFromShard) {
    const fs::path dir = make_temp_dir("ckpt_bad");
    write_shard(dir / "s1.safetensors", {"a"});
    write_shard(dir / "s2.safetensors", {"b"});
    write_index(dir, R"({"a": "s1.safetensors", "b": "s2.safetensors", "c": "s2.safetensors"})");
    EXPECT_ERROR_CONTAINS(open_checkpoint(dir), "tensor \"c\"", "s2.safetensors", "no such tensor");
}

TEST(CheckpointBad, ShardTensorNotInIndex) {
    const fs::path dir = make_temp_dir("ckpt_bad");
    write_shard(dir / "s1.safetensors", {"a", "extra"});
    write_index(dir, R"({"a": "s1.safetensors"})");
    EXPECT_ERROR_CONTAINS(open_checkpoint(dir), "tensor \"extra\"", "s1.safetensors", "not listed",
                          "model.safetensors.index.json");
}

TEST(CheckpointBad, ShardTensorIndexedToAnotherShard) {
    const fs::path dir = make_temp_dir("ckpt_bad");
    write_shard(dir / "s1.safetensors", {"a", "d"});
    write_shard(dir / "s2.safetensors", {"c"});
    // "d" lives in s1 but the index sends it to s2.
    write_index(dir, R"({"a": "s1.safetensors", "c": "s2.safetensors", "d": "s2.safetensors"})");
    EXPECT_ERROR_CONTAINS(open_checkpoint(dir), "tensor \"d\"", "s2.safetensors");
}

TEST(CheckpointBad, DuplicateTensorAcrossShards) {
    const fs::path dir = make_temp_dir("ckpt_bad");
    const fs::path s1 = write_shard(dir / "s1.safetensors", {"a", "shared"});
    const fs::path s2 = write_shard(dir / "s2.safetensors", {"b", "shared"});
    write_index(dir, R"({"a": "s1.safetensors", "b": "s2.safetensors", "shared": "s1.safetensors"})");
    EXPECT_ERROR_CONTAINS(open_checkpoint(dir), "duplicate tensor \"shared\"", s1.c_str(), s2.c_str());

    TensorTable t;
    t.add_file(SafetensorsFile::open(s1));
    EXPECT_ERROR_CONTAINS(t.add_file(SafetensorsFile::open(s2)), "duplicate tensor \"shared\"", s1.c_str(),
                          s2.c_str());
    // The failed add left the table unchanged.
    EXPECT_EQ(t.size(), 2u);
    EXPECT_FALSE(t.contains("b"));
    EXPECT_EQ(t.files().size(), 1u);
}

TEST(CheckpointBad, BadIndexJson) {
    const fs::path dir = make_temp_dir("ckpt_bad");
    write_shard(dir / "s1.safetensors", {"a"});
    const std::string index = (dir / "model.safetensors.index.json").string();
    write_text(dir / "model.safetensors.index.json", "{\"weight_map\": {");
    EXPECT_ERROR_CONTAINS(open_checkpoint(dir), index.c_str(), "not valid JSON");
    write_text(dir / "model.safetensors.index.json", R"({"metadata": {}})");
    EXPECT_ERROR_CONTAINS(open_checkpoint(dir), index.c_str(), "missing \"weight_map\"");
    write_text(dir / "model.safetensors.index.json", R"({"weight_map": ["s1.safetensors"]})");
    EXPECT_ERROR_CONTAINS(open_checkpoint(dir), index.c_str(), "\"weight_map\" must be an object");
    write_text(dir / "model.safetensors.index.json", R"({"weight_map": {"a": 1}})");
    EXPECT_ERROR_CONTAINS(open_checkpoint(dir), index.c_str(), "tensor \"a\"");
    write_text(dir / "model.safetensors.index.json", R"({"weight_map": {"a": "../s1.safetensors"}})");
    EXPECT_ERROR_CONTAINS(open_checkpoint(dir), index.c_str(), "not a file name inside");
    write_text(dir / "model.safetensors.index.json", R"({"weight_map": {"a": "/etc/passwd"}})");
    EXPECT_ERROR_CONTAINS(open_checkpoint(dir), index.c_str(), "not a file name inside");
}

TEST(CheckpointBad, BadShardNamesTheShard) {
    const fs::path dir = make_temp_dir("ckpt_bad");
    write_raw(dir / "s1.safetensors", R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}})", zeros(8));
    write_index(dir, R"({"a": "s1.safetensors"})");
    const fs::path shard = dir / "s1.safetensors";
    EXPECT_ERROR_CONTAINS(open_checkpoint(dir), shard.c_str(), "tensor \"a\"", "size mismatch");
}

TEST(CheckpointBad, FolderWithoutCheckpoint) {
    const fs::path dir = make_temp_dir("ckpt_bad");
    write_text(dir / "config.json", "{}");
    EXPECT_ERROR_CONTAINS(open_checkpoint(dir), "no model.safetensors or model.safetensors.index.json in",
                          dir.c_str());
    const fs::path missing = dir / "missing";
    EXPECT_ERROR_CONTAINS(open_checkpoint(missing), "does not exist", missing.c_str());
}

}  // namespace
}  // namespace qinfer
