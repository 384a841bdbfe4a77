#include "io/safetensors.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <limits>
#include <optional>
#include <system_error>
#include <unordered_set>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "core/check.h"

namespace qinfer {

// Tensor bytes are handed to convert_to_f32 and to kernels as-is; safetensors data is little-endian.
static_assert(std::endian::native == std::endian::little, "qinfer reads safetensors data in place: little-endian only");

namespace {

using nlohmann::json;

// Closes a file descriptor on every exit path of open().
struct FdGuard {
    int fd = -1;
    ~FdGuard() {
        if (fd >= 0) ::close(fd);
    }
};

uint64_t read_u64_le(const std::byte* p) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<uint64_t>(p[i]);
    return v;
}

// A JSON value for an error message, shortened so that a hostile header cannot produce a megabyte-long message.
std::string json_excerpt(const json& j) {
    std::string s = j.dump(-1, ' ', false, json::error_handler_t::replace);
    constexpr size_t kMax = 120;
    if (s.size() > kMax) s = s.substr(0, kMax) + "...";
    return s;
}

// A non-negative JSON integer (nlohmann stores those as number_unsigned; a negative one is number_integer and a
// fractional or exponent-form one is number_float, both rejected).
std::optional<uint64_t> as_index(const json& j) {
    if (!j.is_number_unsigned()) return std::nullopt;
    return j.get<uint64_t>();
}

// SAX pass over the header that records the order of its top-level keys (nlohmann::json sorts keys;
// nlohmann::ordered_json keeps the order but inserts in linear time, quadratic over a shard with tens of thousands of
// tensors) and finds duplicate keys (which nlohmann::json silently resolves to the last one; a header with two
// entries for one tensor is corrupt). A parse callback could do both in the DOM pass, but nlohmann's callback parser
// rescans the parent object after every nested object, which is quadratic too.
class KeyScanner final : public json::json_sax_t {
public:
    std::vector<std::string> order;
    std::optional<std::string> duplicate;

    bool null() override { return true; }
    bool boolean(bool /*val*/) override { return true; }
    bool number_integer(number_integer_t /*val*/) override { return true; }
    bool number_unsigned(number_unsigned_t /*val*/) override { return true; }
    bool number_float(number_float_t /*val*/, const string_t& /*s*/) override { return true; }
    bool string(string_t& /*val*/) override { return true; }
    bool binary(binary_t& /*val*/) override { return true; }
    bool start_object(std::size_t /*elements*/) override {
        open_objects_.emplace_back();
        return true;
    }
    bool key(string_t& name) override {
        if (open_objects_.size() == 1) {
            order.push_back(name);
            top_key_ = name;
        }
        if (!open_objects_.back().insert(name).second && !duplicate) {
            duplicate = open_objects_.size() == 1
                            ? str_cat("duplicate key \"", name, "\" in header")
                            : str_cat("duplicate key \"", name, "\" in the entry of \"", top_key_, "\"");
        }
        return true;
    }
    bool end_object() override {
        open_objects_.pop_back();
        return true;
    }
    bool start_array(std::size_t /*elements*/) override { return true; }
    bool end_array() override { return true; }
    bool parse_error(std::size_t /*position*/, const std::string& /*last_token*/,
                     const json::exception& /*ex*/) override {
        return false;  // not reached: the DOM pass has already accepted the text
    }

private:
    std::vector<std::unordered_set<std::string>> open_objects_;
    std::string top_key_;
};

struct ParsedHeader {
    json root;
    std::vector<std::string> order;  // top-level keys in file order
};

ParsedHeader parse_header(const char* begin, const char* end, const std::string& file) {
    ParsedHeader out;
    try {
        out.root = json::parse(begin, end);
    } catch (const json::exception& e) {
        QINFER_FAIL(file, ": header is not valid JSON: ", e.what());
    }
    QINFER_CHECK(out.root.is_object(), file, ": header is not a JSON object (it is ", out.root.type_name(), ")");
    KeyScanner scan;
    QINFER_CHECK(json::sax_parse(begin, end, &scan), file, ": header could not be scanned");
    QINFER_CHECK(!scan.duplicate, file, ": ", *scan.duplicate);
    out.order = std::move(scan.order);
    return out;
}

void parse_metadata(const json& j, const std::string& file, std::map<std::string, std::string>& metadata) {
    QINFER_CHECK(j.is_object(), file, ": \"__metadata__\" must be an object of strings, got ", j.type_name());
    for (const auto& [key, value] : j.items()) {
        QINFER_CHECK(value.is_string(), file, ": \"__metadata__\" entry \"", key, "\" must be a string, got ",
                     json_excerpt(value));
        metadata.emplace(key, value.get<std::string>());
    }
}

// Validates one header entry and returns it with `bytes` pointing at [data + begin, data + end).
TensorInfo parse_entry(const std::string& name, const json& j, const std::string& file, const std::byte* data,
                       uint64_t data_size) {
    const std::string where = str_cat(file, ": tensor \"", name, "\"");
    QINFER_CHECK(j.is_object(), where, ": header entry must be an object, got ", json_excerpt(j));

    const auto dtype_it = j.find("dtype");
    QINFER_CHECK(dtype_it != j.end(), where, ": missing \"dtype\"");
    QINFER_CHECK(dtype_it->is_string(), where, ": \"dtype\" must be a string, got ", json_excerpt(*dtype_it));
    const auto& dtype_str = dtype_it->get_ref<const std::string&>();
    const std::optional<DType> dtype = dtype_from_name(dtype_str);
    QINFER_CHECK(dtype, where, ": unknown dtype \"", dtype_str, "\" (supported: ", dtype_supported_names(), ")");

    const auto shape_it = j.find("shape");
    QINFER_CHECK(shape_it != j.end(), where, ": missing \"shape\"");
    QINFER_CHECK(shape_it->is_array(), where, ": \"shape\" must be an array of non-negative integers, got ",
                 json_excerpt(*shape_it));
    Shape shape;
    shape.reserve(shape_it->size());
    // The product of the non-zero dimensions must fit in int64 even when a zero dimension makes the tensor empty:
    // qinfer::numel multiplies in order, and [2^32, 2^32, 0] would overflow it before reaching the 0.
    constexpr auto kDimMax = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
    uint64_t elements = 1;
    bool overflow = false;
    for (const auto& d : *shape_it) {
        const std::optional<uint64_t> dim = as_index(d);
        QINFER_CHECK(dim, where, ": \"shape\" must be an array of non-negative integers, got ",
                     json_excerpt(*shape_it));
        QINFER_CHECK(*dim <= kDimMax, where, ": dimension ", *dim, " in \"shape\" is too large");
        shape.push_back(static_cast<int64_t>(*dim));
        if (*dim == 0) continue;
        if (elements > kDimMax / *dim) overflow = true;
        elements *= *dim;
    }
    const uint64_t elem_size = dtype_size(*dtype);
    QINFER_CHECK(!overflow && elements <= kDimMax / elem_size, where, ": shape ", shape_str(shape), " of ",
                 dtype_str, " is too large (its size overflows)");
    const bool empty = std::find(shape.begin(), shape.end(), 0) != shape.end();
    const uint64_t nbytes = empty ? 0 : elements * elem_size;

    const auto off_it = j.find("data_offsets");
    QINFER_CHECK(off_it != j.end(), where, ": missing \"data_offsets\"");
    const bool offsets_ok = off_it->is_array() && off_it->size() == 2 && as_index((*off_it)[0]) &&
                            as_index((*off_it)[1]) && *as_index((*off_it)[0]) <= *as_index((*off_it)[1]);
    QINFER_CHECK(offsets_ok, where, ": \"data_offsets\" must be [begin, end] with integers 0 <= begin <= end, got ",
                 json_excerpt(*off_it));
    const uint64_t begin = *as_index((*off_it)[0]);
    const uint64_t end = *as_index((*off_it)[1]);
    QINFER_CHECK(end - begin == nbytes, where, ": size mismatch: shape ", shape_str(shape), " of ", dtype_str,
                 " needs ", nbytes, " bytes but data_offsets [", begin, ", ", end, "] give ", end - begin, " bytes");
    QINFER_CHECK(end <= data_size, where, ": data_offsets [", begin, ", ", end,
                 "] extend past end of file: the data buffer has ", data_size, " bytes (file truncated?)");

    TensorInfo t;
    t.name = name;
    t.dtype = *dtype;
    t.shape = std::move(shape);
    t.bytes = std::span<const std::byte>(data + begin, static_cast<size_t>(nbytes));
    t.file = file;
    return t;
}

// Rejects two tensors whose byte ranges share a byte. Empty tensors own no bytes and cannot overlap anything.
void check_no_overlap(const std::vector<TensorInfo>& tensors, const std::byte* data, const std::string& file) {
    struct Range {
        uint64_t begin, end;
        size_t index;
    };
    std::vector<Range> ranges;
    ranges.reserve(tensors.size());
    for (size_t i = 0; i < tensors.size(); ++i) {
        const auto& t = tensors[i];
        if (t.bytes.empty()) continue;
        const auto begin = static_cast<uint64_t>(t.bytes.data() - data);
        ranges.push_back({begin, begin + t.bytes.size(), i});
    }
    std::sort(ranges.begin(), ranges.end(),
              [](const Range& a, const Range& b) { return a.begin != b.begin ? a.begin < b.begin : a.end < b.end; });
    // Sorted by begin, a range overlaps an earlier one iff it starts before the furthest end seen so far.
    const Range* furthest = nullptr;
    for (const auto& r : ranges) {
        if (furthest && r.begin < furthest->end) {
            const auto& a = tensors[furthest->index];
            const auto& b = tensors[r.index];
            QINFER_FAIL(file, ": tensors \"", a.name, "\" (data_offsets [", furthest->begin, ", ", furthest->end,
                        "]) and \"", b.name, "\" (data_offsets [", r.begin, ", ", r.end, "]) overlap");
        }
        if (!furthest || r.end > furthest->end) furthest = &r;
    }
}

std::string join_paths(const std::vector<std::filesystem::path>& paths) {
    if (paths.empty()) return "(no files)";
    std::string s;
    for (size_t i = 0; i < paths.size(); ++i) s += (i ? ", " : "") + paths[i].string();
    return s;
}

// fp32 -> IEEE half, round-to-nearest-even; NaN stays a quiet NaN, overflow goes to infinity.
uint16_t f32_to_f16(float f) {
    uint32_t x;
    std::memcpy(&x, &f, sizeof x);
    const auto sign = static_cast<uint16_t>((x >> 16) & 0x8000u);
    const uint32_t a = x & 0x7fffffffu;
    if (a > 0x7f800000u) return static_cast<uint16_t>(sign | 0x7e00u | ((a >> 13) & 0x3ffu));
    // 65520 (0x477ff000) is halfway between the largest half (65504, odd mantissa) and 2^16: ties go up to inf.
    if (a >= 0x477ff000u) return static_cast<uint16_t>(sign | 0x7c00u);
    if (a < 0x38800000u) {
        // Below the smallest normal half (2^-14): the result is round(|f| * 2^24) subnormal units.
        const uint32_t e = a >> 23;
        if (e < 102) return sign;  // |f| <= 2^-25 rounds to zero (2^-25 itself is a tie and goes to even 0)
        const uint32_t m = (a & 0x7fffffu) | 0x800000u;
        const uint32_t shift = 126 - e;  // |f| * 2^24 = m * 2^(e - 126), shift in [14, 24]
        uint32_t q = m >> shift;
        const uint32_t rem = m & ((1u << shift) - 1u);
        const uint32_t half = 1u << (shift - 1);
        if (rem > half || (rem == half && (q & 1u))) ++q;
        return static_cast<uint16_t>(sign | q);
    }
    // Normal: rebias the exponent (127 -> 15) and round the 13 dropped mantissa bits; a carry into the exponent is
    // the correct result.
    const uint32_t h = a - 0x38000000u;
    uint32_t q = h >> 13;
    const uint32_t rem = h & 0x1fffu;
    if (rem > 0x1000u || (rem == 0x1000u && (q & 1u))) ++q;
    return static_cast<uint16_t>(sign | q);
}

}  // namespace

// ---- TensorInfo

Tensor TensorInfo::to_f32() const {
    QINFER_CHECK(dtype_is_float(dtype), "tensor \"", name, "\" in ", file, " has dtype ", dtype_name(dtype),
                 ", which does not convert to F32 (only floating-point dtypes do)");
    Tensor t(shape);
    const auto n = static_cast<size_t>(t.numel());
    QINFER_CHECK(bytes.size() == n * dtype_size(dtype), "tensor \"", name, "\" in ", file, ": ", bytes.size(),
                 " bytes for shape ", shape_str(shape), " of ", dtype_name(dtype));
    if (n > 0) convert_to_f32(dtype, bytes.data(), n, t.data());
    return t;
}

// ---- SafetensorsFile

std::shared_ptr<SafetensorsFile> SafetensorsFile::open(const std::filesystem::path& path) {
    const std::string file = path.string();
    // Owned by the shared_ptr from here on, so a validation error below unmaps through the destructor.
    std::shared_ptr<SafetensorsFile> sf(new SafetensorsFile());
    sf->path_ = path;

    FdGuard fd{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
    QINFER_CHECK(fd.fd >= 0, "cannot open safetensors file ", file, ": ", std::strerror(errno));
    struct stat st {};
    QINFER_CHECK(::fstat(fd.fd, &st) == 0, "cannot stat ", file, ": ", std::strerror(errno));
    QINFER_CHECK(S_ISREG(st.st_mode), file, ": not a regular file");
    const auto file_size = static_cast<uint64_t>(st.st_size);
    QINFER_CHECK(file_size >= 8, file, ": file is ", file_size,
                 " bytes, too short for a safetensors file (which starts with an 8-byte header length)");

    void* map = ::mmap(nullptr, static_cast<size_t>(file_size), PROT_READ, MAP_PRIVATE, fd.fd, 0);
    QINFER_CHECK(map != MAP_FAILED, "cannot mmap ", file, ": ", std::strerror(errno));
    sf->map_ = map;
    sf->map_size_ = static_cast<size_t>(file_size);
    const auto* base = static_cast<const std::byte*>(map);

    const uint64_t header_len = read_u64_le(base);
    QINFER_CHECK(header_len != 0, file, ": header length is 0");
    QINFER_CHECK(header_len <= kMaxHeaderBytes, file, ": header length ", header_len, " exceeds the cap of ",
                 kMaxHeaderBytes, " bytes");
    QINFER_CHECK(header_len <= file_size - 8, file, ": truncated: header length ", header_len, " needs ",
                 header_len + 8, " bytes but the file has ", file_size);

    const auto* header = reinterpret_cast<const char*>(base + 8);
    ParsedHeader parsed = parse_header(header, header + header_len, file);

    const std::byte* data = base + 8 + header_len;
    const uint64_t data_size = file_size - 8 - header_len;
    sf->tensors_.reserve(parsed.order.size());
    for (const auto& key : parsed.order) {
        const json& entry = parsed.root.at(key);
        if (key == "__metadata__") {
            parse_metadata(entry, file, sf->metadata_);
        } else {
            sf->tensors_.push_back(parse_entry(key, entry, file, data, data_size));
        }
    }
    check_no_overlap(sf->tensors_, data, file);
    for (size_t i = 0; i < sf->tensors_.size(); ++i) sf->index_.emplace(sf->tensors_[i].name, i);
    return sf;
}

SafetensorsFile::~SafetensorsFile() {
    if (map_) ::munmap(map_, map_size_);
}

const TensorInfo* SafetensorsFile::find(const std::string& name) const {
    const auto it = index_.find(name);
    return it == index_.end() ? nullptr : &tensors_[it->second];
}

// ---- TensorTable

const TensorInfo* TensorTable::find(const std::string& name) const {
    const auto it = by_name_.find(name);
    return it == by_name_.end() ? nullptr : it->second;
}

const TensorInfo& TensorTable::at(const std::string& name) const {
    const TensorInfo* t = find(name);
    QINFER_CHECK(t, "tensor \"", name, "\" not found in checkpoint ", join_paths(file_paths_));
    return *t;
}

void TensorTable::add_file(std::shared_ptr<SafetensorsFile> file) {
    QINFER_CHECK(file, "TensorTable::add_file: null file");
    // Check every name first so that a failed add leaves the table as it was.
    for (const auto& t : file->tensors()) {
        const TensorInfo* prev = find(t.name);
        QINFER_CHECK(!prev, "duplicate tensor \"", t.name, "\": in ", prev->file, " and in ", file->path().string());
    }
    for (const auto& t : file->tensors()) by_name_.emplace(t.name, &t);
    file_paths_.push_back(file->path());
    files_.push_back(std::move(file));
}

// ---- open_checkpoint

namespace {

constexpr const char* kIndexName = "model.safetensors.index.json";
constexpr const char* kSingleName = "model.safetensors";

TensorTable open_sharded(const std::filesystem::path& dir, const std::filesystem::path& index_path) {
    const std::string index = index_path.string();
    std::ifstream in(index_path, std::ios::binary | std::ios::ate);
    QINFER_CHECK(in.good(), "cannot open ", index, ": ", std::strerror(errno));
    const std::streamoff size = in.tellg();
    QINFER_CHECK(size >= 0, "cannot read ", index);
    std::string text(static_cast<size_t>(size), '\0');
    in.seekg(0);
    in.read(text.data(), size);
    QINFER_CHECK(in.good(), "cannot read ", index, ": ", std::strerror(errno));
    json root;
    try {
        root = json::parse(text);
    } catch (const json::exception& e) {
        QINFER_FAIL(index, ": not valid JSON: ", e.what());
    }
    QINFER_CHECK(root.is_object(), index, ": not a JSON object");
    const auto wm_it = root.find("weight_map");
    QINFER_CHECK(wm_it != root.end(), index, ": missing \"weight_map\"");
    QINFER_CHECK(wm_it->is_object(), index, ": \"weight_map\" must be an object, got ", wm_it->type_name());

    std::map<std::string, std::string> weight_map;  // tensor -> shard file name
    std::map<std::string, std::string> first_user;  // shard -> a tensor that names it (for messages)
    for (const auto& [tensor, shard_j] : wm_it->items()) {
        QINFER_CHECK(shard_j.is_string(), index, ": \"weight_map\" entry for tensor \"", tensor,
                     "\" must be a file name string, got ", json_excerpt(shard_j));
        const std::string shard = shard_j.get<std::string>();
        // Shards are files of this folder; an absolute path or ".." would read outside the checkpoint.
        const std::filesystem::path rel(shard);
        const bool inside = !shard.empty() && rel.is_relative() &&
                            std::none_of(rel.begin(), rel.end(), [](const auto& c) { return c == ".."; });
        QINFER_CHECK(inside, index, ": tensor \"", tensor, "\" maps to shard \"", shard,
                     "\", which is not a file name inside ", dir.string());
        weight_map.emplace(tensor, shard);
        first_user.emplace(shard, tensor);
    }

    for (const auto& [shard, tensor] : first_user) {
        const auto p = dir / shard;
        std::error_code ec;
        QINFER_CHECK(std::filesystem::is_regular_file(p, ec), index, ": shard ", p.string(),
                     " does not exist (named for tensor \"", tensor, "\")");
    }

    TensorTable table;
    std::map<std::string, std::shared_ptr<SafetensorsFile>> shards;
    for (const auto& [shard, tensor] : first_user) {
        auto f = SafetensorsFile::open(dir / shard);
        shards.emplace(shard, f);
        table.add_file(std::move(f));
    }

    for (const auto& [tensor, shard] : weight_map) {
        const auto& f = shards.at(shard);
        QINFER_CHECK(f->find(tensor), index, " maps tensor \"", tensor, "\" to shard ", f->path().string(),
                     ", which has no such tensor");
    }
    for (const auto& [shard, f] : shards) {
        for (const auto& t : f->tensors()) {
            const auto it = weight_map.find(t.name);
            QINFER_CHECK(it != weight_map.end(), "tensor \"", t.name, "\" in shard ", f->path().string(),
                         " is not listed in ", index);
            QINFER_CHECK(it->second == shard, "tensor \"", t.name, "\" is in shard ", f->path().string(), " but ",
                         index, " maps it to ", it->second);
        }
    }
    return table;
}

}  // namespace

TensorTable open_checkpoint(const std::filesystem::path& path) {
    std::error_code ec;
    const auto st = std::filesystem::status(path, ec);
    QINFER_CHECK(std::filesystem::exists(st), "checkpoint path ", path.string(), " does not exist");
    if (std::filesystem::is_regular_file(st)) {
        TensorTable table;
        table.add_file(SafetensorsFile::open(path));
        return table;
    }
    QINFER_CHECK(std::filesystem::is_directory(st), "checkpoint path ", path.string(),
                 " is neither a file nor a directory");
    const auto index = path / kIndexName;
    if (std::filesystem::exists(index, ec)) return open_sharded(path, index);
    const auto single = path / kSingleName;
    if (std::filesystem::exists(single, ec)) {
        TensorTable table;
        table.add_file(SafetensorsFile::open(single));
        return table;
    }
    QINFER_FAIL("no ", kSingleName, " or ", kIndexName, " in ", path.string());
}

// ---- writing

SafetensorsHeader safetensors_header(const std::string& file, const std::vector<TensorHeaderEntry>& tensors,
                                     const std::map<std::string, std::string>& metadata) {
    // The header is assembled by hand, in the given order, so that writing stays linear in the tensor count.
    std::string header = "{";
    SafetensorsHeader out;
    out.data_offsets.reserve(tensors.size());
    try {
        if (!metadata.empty()) header += "\"__metadata__\":" + json(metadata).dump();
        std::unordered_set<std::string> seen;
        uint64_t offset = 0;
        for (const auto& t : tensors) {
            QINFER_CHECK(t.name != "__metadata__", "cannot write ", file, ": \"__metadata__\" is not a tensor name");
            QINFER_CHECK(seen.insert(t.name).second, "cannot write ", file, ": duplicate tensor \"", t.name, "\"");
            for (int64_t d : t.shape) {
                QINFER_CHECK(d >= 0, "cannot write ", file, ": tensor \"", t.name, "\" has shape ",
                             shape_str(t.shape));
            }
            const uint64_t nbytes = static_cast<uint64_t>(numel(t.shape)) * dtype_size(t.dtype);
            if (header.size() > 1) header += ',';
            header += json(t.name).dump();
            header += str_cat(":{\"dtype\":\"", dtype_name(t.dtype), "\",\"shape\":", json(t.shape).dump(),
                              ",\"data_offsets\":[", offset, ",", offset + nbytes, "]}");
            out.data_offsets.push_back(offset);
            offset += nbytes;
        }
        out.data_bytes = offset;
    } catch (const json::exception& e) {
        QINFER_FAIL("cannot write ", file, ": ", e.what());
    }
    header += '}';
    // The reference implementation pads the header with spaces so that the data starts 8-byte aligned.
    header.append((8 - header.size() % 8) % 8, ' ');
    QINFER_CHECK(header.size() <= kMaxHeaderBytes, "cannot write ", file, ": its header would be ", header.size(),
                 " bytes, over the ", kMaxHeaderBytes, "-byte limit readers enforce; write fewer tensors per file");
    out.bytes.resize(8);
    uint64_t len = header.size();
    for (auto& b : out.bytes) {
        b = static_cast<char>(len & 0xffu);
        len >>= 8;
    }
    out.bytes += header;
    return out;
}

void write_safetensors(const std::filesystem::path& path, const std::vector<TensorToWrite>& tensors,
                       const std::map<std::string, std::string>& metadata) {
    const std::string file = path.string();
    std::vector<TensorHeaderEntry> entries;
    entries.reserve(tensors.size());
    for (const auto& t : tensors) {
        // A negative dimension is reported by safetensors_header; only a valid shape has a byte size to compare.
        const bool valid_shape = std::all_of(t.shape.begin(), t.shape.end(), [](int64_t d) { return d >= 0; });
        const uint64_t nbytes = valid_shape ? static_cast<uint64_t>(numel(t.shape)) * dtype_size(t.dtype) : 0;
        QINFER_CHECK(!valid_shape || t.raw.size() == nbytes, "cannot write ", file, ": tensor \"", t.name,
                     "\" has ", t.raw.size(), " bytes but shape ", shape_str(t.shape), " of ", dtype_name(t.dtype),
                     " needs ", nbytes);
        entries.push_back({t.name, t.dtype, t.shape});
    }
    const SafetensorsHeader header = safetensors_header(file, entries, metadata);

    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    QINFER_CHECK(out.good(), "cannot create ", file, ": ", std::strerror(errno));
    out.write(header.bytes.data(), static_cast<std::streamsize>(header.bytes.size()));
    for (const auto& t : tensors) {
        out.write(reinterpret_cast<const char*>(t.raw.data()), static_cast<std::streamsize>(t.raw.size()));
    }
    out.close();
    QINFER_CHECK(!out.fail(), "error writing ", file, ": ", std::strerror(errno));
}

TensorToWrite tensor_to_write(const std::string& name, const Tensor& t, DType dtype) {
    TensorToWrite w{name, dtype, t.shape(), {}};
    const auto n = static_cast<size_t>(t.numel());
    const float* src = t.data();
    switch (dtype) {
        case DType::F32:
            w.raw.resize(n * 4);
            if (n > 0) std::memcpy(w.raw.data(), src, n * 4);
            return w;
        case DType::BF16:
        case DType::F16:
            w.raw.resize(n * 2);
            for (size_t i = 0; i < n; ++i) {
                const uint16_t v = dtype == DType::BF16 ? f32_to_bf16(src[i]) : f32_to_f16(src[i]);
                std::memcpy(w.raw.data() + 2 * i, &v, 2);
            }
            return w;
        case DType::F64:
        case DType::F8E4M3:
        case DType::F8E5M2:
        case DType::U8:
        case DType::I8:
        case DType::I16:
        case DType::I32:
        case DType::I64:
        case DType::Bool:
            break;
    }
    QINFER_FAIL("cannot write tensor \"", name, "\" as ", dtype_name(dtype),
                ": tensor_to_write converts fp32 to F32, BF16 or F16 only");
}

}  // namespace qinfer
