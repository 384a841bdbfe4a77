#include "tokenizer/bpe_cache.h"

#include <algorithm>
#include <cstring>

namespace qinfer::tok {

PieceCache::PieceCache(int max_log2_slots)
    : slots_(size_t{1} << kMinLog2Slots),
      mask_((size_t{1} << kMinLog2Slots) - 1),
      max_slots_(size_t{1} << std::max(max_log2_slots, kMinLog2Slots)) {}

uint64_t PieceCache::hash(std::string_view s) {
    // Pieces are short (a word). Whole 8-byte loads, the tail read as an overlapping load (no byte-wise copy, which
    // would stall on store forwarding), multiply-xorshift mixing.
    constexpr uint64_t kMul = 0x9E3779B97F4A7C15ULL;
    auto load8 = [](const char* p) {
        uint64_t w;
        std::memcpy(&w, p, 8);
        return w;
    };
    auto load4 = [](const char* p) {
        uint32_t w;
        std::memcpy(&w, p, 4);
        return uint64_t{w};
    };
    const char* p = s.data();
    const size_t n = s.size();
    uint64_t h = (n + 1) * kMul;
    auto mix = [&](uint64_t w) {
        h = (h ^ w) * kMul;
        h ^= h >> 29;
    };
    if (n >= 8) {
        size_t i = 0;
        for (; i + 8 <= n; i += 8) mix(load8(p + i));
        if (i < n) mix(load8(p + n - 8));
    } else if (n >= 4) {
        mix(load4(p) | (load4(p + n - 4) << 32));
    } else if (n > 0) {
        mix(uint64_t{static_cast<uint8_t>(p[0])} | (uint64_t{static_cast<uint8_t>(p[n / 2])} << 8) |
            (uint64_t{static_cast<uint8_t>(p[n - 1])} << 16));
    }
    h *= 0xBF58476D1CE4E5B9ULL;
    h ^= h >> 32;
    return h | 1;  // never 0, the empty marker
}

size_t PieceCache::find_slot(uint64_t h, std::string_view piece) const {
    for (size_t i = h & mask_;; i = (i + 1) & mask_) {
        const Slot& s = slots_[i];
        if (s.hash == 0) return i;
        if (s.hash == h && s.key_len == piece.size() &&
            std::memcmp(keys_.data() + s.key_off, piece.data(), piece.size()) == 0) {
            return i;
        }
    }
}

bool PieceCache::lookup(std::string_view piece, std::vector<int32_t>& out) const {
    const Slot& s = slots_[find_slot(hash(piece), piece)];
    if (s.hash == 0) return false;
    out.insert(out.end(), ids_.begin() + s.ids_off, ids_.begin() + s.ids_off + s.ids_len);
    return true;
}

void PieceCache::clear() {
    slots_.assign(size_t{1} << kMinLog2Slots, Slot{0, 0, 0, 0, 0});
    mask_ = slots_.size() - 1;
    keys_.clear();
    ids_.clear();
    count_ = 0;
}

void PieceCache::resize(size_t n_slots) {
    std::vector<Slot> old(n_slots, Slot{0, 0, 0, 0, 0});
    old.swap(slots_);
    mask_ = n_slots - 1;
    for (const Slot& s : old) {
        if (s.hash == 0) continue;
        size_t i = s.hash & mask_;
        while (slots_[i].hash != 0) i = (i + 1) & mask_;
        slots_[i] = s;
    }
}

void PieceCache::insert(std::string_view piece, std::span<const int32_t> ids) {
    if ((count_ + 1) * 2 > slots_.size()) {
        if (slots_.size() < max_slots_) {
            resize(slots_.size() * 2);
        } else {
            clear();
        }
    }
    if (keys_.size() + piece.size() > UINT32_MAX || ids_.size() + ids.size() > UINT32_MAX) clear();
    const uint64_t h = hash(piece);
    Slot& s = slots_[find_slot(h, piece)];
    if (s.hash != 0) return;  // another thread got there first
    s = Slot{h, static_cast<uint32_t>(keys_.size()), static_cast<uint32_t>(piece.size()),
             static_cast<uint32_t>(ids_.size()), static_cast<uint32_t>(ids.size())};
    keys_.append(piece);
    ids_.insert(ids_.end(), ids.begin(), ids.end());
    ++count_;
}

}  // namespace qinfer::tok
