#pragma once
// defines: qinfer::tok::PieceCache — piece -> ids memo of the BPE model
//
// Real text repeats its words constantly, so most pieces are looked up rather than merged. A flat open-addressing
// table with the keys and ids in two arenas does that with one hash and usually one probe, and no per-entry
// allocation. The table starts small (a few hot words stay in L1/L2) and doubles up to 2^max_log2_slots; when that
// is half full it is emptied (HF's cache stops inserting instead; emptying keeps adapting to new text).
// Not thread-safe: BpeModel guards it with a mutex.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace qinfer::tok {

class PieceCache {
public:
    explicit PieceCache(int max_log2_slots = 17);

    // Appends the cached ids of `piece` to `out` and returns true, or returns false if it is not cached.
    bool lookup(std::string_view piece, std::vector<int32_t>& out) const;
    void insert(std::string_view piece, std::span<const int32_t> ids);
    size_t size() const { return count_; }

    static uint64_t hash(std::string_view s);

private:
    struct Slot {
        uint64_t hash;  // 0: empty (real hashes are forced non-zero)
        uint32_t key_off, key_len;
        uint32_t ids_off, ids_len;
    };
    void clear();
    void resize(size_t n_slots);
    size_t find_slot(uint64_t h, std::string_view piece) const;  // the slot holding piece, or the empty one

    static constexpr int kMinLog2Slots = 10;
    std::vector<Slot> slots_;
    size_t mask_;
    size_t max_slots_;
    size_t count_ = 0;
    std::string keys_;
    std::vector<int32_t> ids_;
};

}  // namespace qinfer::tok
