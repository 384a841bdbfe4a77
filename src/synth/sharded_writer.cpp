#include "synth/sharded_writer.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>

#include <nlohmann/json.hpp>

#include "core/check.h"

namespace qinfer::synth {

namespace fs = std::filesystem;

uint64_t parse_byte_size(const std::string& text, const std::string& what) {
    size_t i = 0;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') ++i;
    const std::string digits = text.substr(0, i), unit = text.substr(i);
    uint64_t mult = 0;
    for (const auto& [name, m] : std::initializer_list<std::pair<const char*, uint64_t>>{{"", 1},
                                                                                         {"B", 1},
                                                                                         {"KB", 1000},
                                                                                         {"MB", 1000'000},
                                                                                         {"GB", 1000'000'000},
                                                                                         {"KiB", 1ull << 10},
                                                                                         {"MiB", 1ull << 20},
                                                                                         {"GiB", 1ull << 30}}) {
        if (unit == name) mult = m;
    }
    QINFER_CHECK(!digits.empty() && digits.size() <= 12 && mult != 0, what, " \"", text,
                 "\": expected a size such as 5GB, 500MB, 2GiB or a byte count");
    const uint64_t v = std::stoull(digits) * mult;
    QINFER_CHECK(v > 0, what, " must be positive");
    return v;
}

ShardedWriter::ShardedWriter(const fs::path& dir, std::vector<TensorHeaderEntry> tensors, uint64_t max_shard_bytes,
                             const std::map<std::string, std::string>& metadata)
    : dir_(dir), tensors_(std::move(tensors)) {
    QINFER_CHECK(max_shard_bytes > 0, "max shard size must be positive");
    const size_t n = tensors_.size();
    shard_of_.assign(n, 0);
    file_offset_.assign(n, 0);
    size_.assign(n, 0);
    written_ = std::make_unique<std::atomic<uint64_t>[]>(n);
    for (size_t i = 0; i < n; ++i) written_[i] = 0;

    // Assign shards.
    // shard_of_ first, then the member lists (an empty checkpoint is still one, empty, file).
    size_t count = 1;
    uint64_t current = 0;
    for (size_t i = 0; i < n; ++i) {
        size_[i] = static_cast<uint64_t>(numel(tensors_[i].shape)) * dtype_size(tensors_[i].dtype);
        total_bytes_ += size_[i];
        if (current > 0 && current + size_[i] > max_shard_bytes) {
            ++count;
            current = 0;
        }
        shard_of_[i] = count - 1;
        current += size_[i];
    }
    // Fail before minutes of work rather than at the first write that does not fit.
    std::error_code ec;
    const fs::space_info space = fs::space(dir_, ec);
    QINFER_CHECK(ec || space.available >= total_bytes_, "not enough disk space in ", dir_.string(),
                 ": the checkpoint needs ", static_cast<double>(total_bytes_) * 1e-9, " GB, ",
                 static_cast<double>(space.available) * 1e-9, " GB are available");
    std::vector<std::vector<size_t>> shards(count);
    for (size_t i = 0; i < n; ++i) shards[shard_of_[i]].push_back(i);

    for (size_t s = 0; s < count; ++s) {
        char name[64];
        std::snprintf(name, sizeof name, "model-%05zu-of-%05zu.safetensors", s + 1, count);
        file_names_.push_back(count == 1 ? "model.safetensors" : name);
    }
    fds_.assign(count, -1);
    for (size_t s = 0; s < count; ++s) {
        const fs::path path = dir_ / file_names_[s];
        std::vector<TensorHeaderEntry> entries;
        entries.reserve(shards[s].size());
        for (size_t i : shards[s]) entries.push_back(tensors_[i]);
        const SafetensorsHeader h = safetensors_header(path.string(), entries, metadata);
        for (size_t j = 0; j < shards[s].size(); ++j) file_offset_[shards[s][j]] = h.bytes.size() + h.data_offsets[j];

        fds_[s] = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        QINFER_CHECK(fds_[s] >= 0, "cannot create ", path.string(), ": ", std::strerror(errno));
        const auto total = static_cast<off_t>(h.bytes.size() + h.data_bytes);
        // The final size up front: the data is then filled in place (unwritten ranges read as zeros until then).
        QINFER_CHECK(::ftruncate(fds_[s], total) == 0, "cannot size ", path.string(), " to ", total,
                     " bytes: ", std::strerror(errno));
        QINFER_CHECK(::pwrite(fds_[s], h.bytes.data(), h.bytes.size(), 0) == static_cast<ssize_t>(h.bytes.size()),
                     "cannot write the header of ", path.string(), ": ", std::strerror(errno));
    }
}

ShardedWriter::~ShardedWriter() {
    for (int fd : fds_) {
        if (fd >= 0) ::close(fd);
    }
}

void ShardedWriter::write(size_t tensor, uint64_t offset, const void* data, size_t n) {
    QINFER_CHECK(tensor < tensors_.size() && offset + n <= size_[tensor], "internal: write of ", n, " bytes at ",
                 offset, " overruns tensor ", tensor < tensors_.size() ? tensors_[tensor].name : "?");
    const int fd = fds_[shard_of_[tensor]];
    const auto* p = static_cast<const char*>(data);
    uint64_t pos = file_offset_[tensor] + offset;
    size_t left = n;
    while (left > 0) {
        const ssize_t w = ::pwrite(fd, p, left, static_cast<off_t>(pos));
        if (w < 0 && errno == EINTR) continue;
        QINFER_CHECK(w > 0, "cannot write ", (dir_ / file_names_[shard_of_[tensor]]).string(), ": ",
                     w < 0 ? std::strerror(errno) : "no progress");
        p += w;
        pos += static_cast<uint64_t>(w);
        left -= static_cast<size_t>(w);
    }
    written_[tensor] += n;
}

void ShardedWriter::finish() {
    QINFER_CHECK(!finished_, "internal: ShardedWriter::finish called twice");
    finished_ = true;
    for (size_t i = 0; i < tensors_.size(); ++i) {
        QINFER_CHECK(written_[i].load() == size_[i], "internal: tensor ", tensors_[i].name, " received ",
                     written_[i].load(), " of its ", size_[i], " bytes");
    }
    for (size_t s = 0; s < fds_.size(); ++s) {
        const int fd = fds_[s];
        fds_[s] = -1;
        QINFER_CHECK(::close(fd) == 0, "error closing ", (dir_ / file_names_[s]).string(), ": ", std::strerror(errno));
    }
    if (file_names_.size() == 1) return;
    nlohmann::json index;  // std::map-backed: keys come out sorted, as transformers' sort_keys=True
    index["metadata"]["total_size"] = total_bytes_;
    nlohmann::json& map = index["weight_map"];
    map = nlohmann::json::object();
    for (size_t i = 0; i < tensors_.size(); ++i) map[tensors_[i].name] = file_names_[shard_of_[i]];
    const fs::path path = dir_ / "model.safetensors.index.json";
    std::ofstream f(path, std::ios::trunc);
    f << index.dump(2) << "\n";
    f.close();
    QINFER_CHECK(!f.fail(), "cannot write ", path.string());
}

}  // namespace qinfer::synth
