#include "tokenizer/bpe.h"

#include <algorithm>
#include <array>
#include <climits>
#include <queue>

#include "core/check.h"
#include "tokenizer/byte_level.h"
#include "tokenizer/utf8.h"

namespace qinfer::tok {

// ---- MergeTable

void MergeTable::reserve(size_t n) {
    size_t cap = 16;
    int bits = 4;
    while (cap < n * 2) {  // load factor <= 1/2 keeps probe chains short
        cap *= 2;
        ++bits;
    }
    std::vector<Entry> old;
    old.swap(slots_);
    slots_.assign(cap, Entry{kEmpty, 0, 0});
    mask_ = cap - 1;
    shift_ = 64 - bits;
    count_ = 0;
    for (const Entry& e : old) {
        if (e.key != kEmpty)
            set(static_cast<int32_t>(e.key >> 32), static_cast<int32_t>(e.key & 0xFFFFFFFF), e.rank, e.merged);
    }
}

void MergeTable::set(int32_t left, int32_t right, int32_t rank, int32_t merged) {
    if ((count_ + 1) * 2 > slots_.size()) reserve(std::max<size_t>(16, count_ * 2 + 2));
    const uint64_t key = make_key(left, right);
    for (size_t i = hash(key);; i = (i + 1) & mask_) {
        Entry& e = slots_[i];
        if (e.key == key) {
            e.rank = rank;
            e.merged = merged;
            return;
        }
        if (e.key == kEmpty) {
            e = Entry{key, rank, merged};
            ++count_;
            return;
        }
    }
}

// ---- merge loops

void bpe_merge_scan(const MergeTable& merges, std::vector<int32_t>& ids) {
    // ranks[i] / merged[i] describe the pair (ids[i], ids[i+1]); each step merges the lowest rank, leftmost first.
    const size_t n0 = ids.size();
    if (n0 < 2) return;
    std::vector<int32_t> rank(n0 - 1), merged(n0 - 1);
    auto look = [&](size_t i) {
        const MergeTable::Entry* e = merges.find(ids[i], ids[i + 1]);
        rank[i] = e ? e->rank : INT32_MAX;
        merged[i] = e ? e->merged : -1;
    };
    for (size_t i = 0; i + 1 < n0; ++i) look(i);
    size_t n = n0;
    while (n > 1) {
        size_t best = 0;
        for (size_t i = 1; i + 1 < n; ++i) {
            if (rank[i] < rank[best]) best = i;
        }
        if (rank[best] == INT32_MAX) break;
        ids[best] = merged[best];
        // Remove symbol best+1 and pair best+1 (the pair (best, best+1) becomes (best, best+2)).
        ids.erase(ids.begin() + static_cast<ptrdiff_t>(best) + 1);
        rank.erase(rank.begin() + static_cast<ptrdiff_t>(best));
        merged.erase(merged.begin() + static_cast<ptrdiff_t>(best));
        --n;
        if (best + 1 < n) look(best);  // new pair with the right neighbour
        if (best > 0) look(best - 1);  // new pair with the left neighbour
    }
}

void bpe_merge_heap(const MergeTable& merges, std::vector<int32_t>& ids) {
    // HF's Word::merge_all: symbols in a linked list, candidate pairs in a min-heap on (rank, position); a popped
    // candidate whose pair no longer exists is skipped (symbols only grow, so a changed pair never recurs).
    const size_t n = ids.size();
    if (n < 2) return;
    struct Sym {
        int32_t id;
        int32_t prev, next;  // -1 at the ends
        bool alive;
    };
    struct Cand {
        int32_t rank;
        int32_t pos;
        int32_t merged;
        bool operator>(const Cand& o) const { return rank != o.rank ? rank > o.rank : pos > o.pos; }
    };
    std::vector<Sym> sym(n);
    for (size_t i = 0; i < n; ++i) {
        sym[i] = Sym{ids[i], static_cast<int32_t>(i) - 1, i + 1 < n ? static_cast<int32_t>(i + 1) : -1, true};
    }
    std::priority_queue<Cand, std::vector<Cand>, std::greater<Cand>> heap;
    auto push_pair = [&](int32_t pos) {
        const int32_t nx = sym[static_cast<size_t>(pos)].next;
        if (nx < 0) return;
        if (const MergeTable::Entry* e =
                merges.find(sym[static_cast<size_t>(pos)].id, sym[static_cast<size_t>(nx)].id)) {
            heap.push(Cand{e->rank, pos, e->merged});
        }
    };
    for (size_t i = 0; i + 1 < n; ++i) push_pair(static_cast<int32_t>(i));
    while (!heap.empty()) {
        const Cand top = heap.top();
        heap.pop();
        Sym& left = sym[static_cast<size_t>(top.pos)];
        if (!left.alive || left.next < 0) continue;
        Sym& right = sym[static_cast<size_t>(left.next)];
        const MergeTable::Entry* e = merges.find(left.id, right.id);
        if (e == nullptr || e->merged != top.merged) continue;  // stale
        left.id = top.merged;
        right.alive = false;
        left.next = right.next;
        if (right.next >= 0) sym[static_cast<size_t>(right.next)].prev = top.pos;
        if (left.prev >= 0) push_pair(left.prev);
        push_pair(top.pos);
    }
    ids.clear();
    for (int32_t i = 0; i >= 0; i = sym[static_cast<size_t>(i)].next) ids.push_back(sym[static_cast<size_t>(i)].id);
}

// ---- BpeModel

namespace {

void check_empty_or_null(const JsonRef& model, std::string_view key) {
    if (auto v = model.find(key)) {
        if (!v->as_string().empty()) {
            v->fail(str_cat("\"", v->as_string(), "\" is not supported (byte-level BPE uses no ", key, ")"));
        }
    }
}

}  // namespace

std::unique_ptr<BpeModel> BpeModel::from_json(const JsonRef& model) {
    auto m = std::make_unique<BpeModel>();
    const std::string type = model.string_or("type", model.find("merges") ? "BPE" : "");
    if (type != "BPE") {
        const auto t = model.find("type");
        (t ? *t : model).fail(str_cat("unsupported model type \"", type, "\" (supported: BPE)"));
    }
    if (auto d = model.find("dropout")) {
        if (d->as_number() != 0.0) d->fail("BPE dropout is random at encode time; not supported");
    }
    check_empty_or_null(model, "continuing_subword_prefix");
    check_empty_or_null(model, "end_of_word_suffix");
    if (model.bool_or("byte_fallback", false)) {
        model.at("byte_fallback").fail("byte_fallback is not supported (byte-level BPE never needs it)");
    }
    m->fuse_unk_ = model.bool_or("fuse_unk", false);
    m->ignore_merges_ = model.bool_or("ignore_merges", false);

    // vocab
    const JsonRef vocab = model.at("vocab");
    if (!vocab.value().is_object()) vocab.fail("expected an object mapping token -> id");
    int64_t max_id = -1;
    for (auto it = vocab.value().begin(); it != vocab.value().end(); ++it) {
        if (!it.value().is_number_integer() || it.value().get<int64_t>() < 0 ||
            it.value().get<int64_t>() >= (int64_t{1} << 30)) {
            vocab.fail(str_cat("token \"", it.key(), "\" has an invalid id ", it.value().dump()));
        }
        max_id = std::max(max_id, it.value().get<int64_t>());
    }
    m->id_to_token_.resize(static_cast<size_t>(max_id + 1));
    m->id_used_.assign(static_cast<size_t>(max_id + 1), false);
    m->vocab_.reserve(vocab.value().size());
    for (auto it = vocab.value().begin(); it != vocab.value().end(); ++it) {
        const auto id = static_cast<int32_t>(it.value().get<int64_t>());
        if (m->id_used_[static_cast<size_t>(id)]) {
            vocab.fail(str_cat("id ", id, " is used by both \"", m->id_to_token_[static_cast<size_t>(id)], "\" and \"",
                               it.key(), "\""));
        }
        m->id_used_[static_cast<size_t>(id)] = true;
        m->id_to_token_[static_cast<size_t>(id)] = it.key();
        m->vocab_.emplace(it.key(), id);
        if (m->ignore_merges_) {
            std::string raw;
            if (from_byte_level(it.key(), raw)) m->raw_vocab_.emplace(std::move(raw), id);
        }
    }
    for (int b = 0; b < 256; ++b) {
        std::string ch;
        utf8_append(ch, byte_level_char(static_cast<uint8_t>(b)));
        auto it = m->vocab_.find(ch);
        m->byte_ids_[b] = it == m->vocab_.end() ? -1 : it->second;
    }
    if (auto unk = model.find("unk_token")) {
        m->unk_token_ = unk->as_string();
        m->unk_where_ = unk->where();
        if (auto it = m->vocab_.find(m->unk_token_); it != m->vocab_.end()) m->unk_id_ = it->second;
    }

    // merges
    const JsonRef merges = model.at("merges");
    const size_t n_merges = merges.array_size();
    m->merges_.reserve(n_merges);
    auto id_of = [&](const std::string& tok, size_t i) -> int32_t {
        auto it = m->vocab_.find(tok);
        if (it == m->vocab_.end()) merges.at(i).fail(str_cat("token \"", tok, "\" is not in model.vocab"));
        return it->second;
    };
    for (size_t i = 0; i < n_merges; ++i) {
        const nlohmann::json& e = merges.value()[i];
        std::string a, b;
        if (e.is_string()) {
            // Legacy "a b": HF splits on ' ' and requires exactly two parts.
            const std::string& s = e.get_ref<const std::string&>();
            const size_t sp = s.find(' ');
            if (sp == std::string::npos || s.find(' ', sp + 1) != std::string::npos) {
                merges.at(i).fail(str_cat("expected \"left right\" with exactly one space, got \"", s, "\""));
            }
            a = s.substr(0, sp);
            b = s.substr(sp + 1);
        } else if (e.is_array() && e.size() == 2 && e[0].is_string() && e[1].is_string()) {
            a = e[0].get<std::string>();
            b = e[1].get<std::string>();
        } else {
            merges.at(i).fail("expected \"left right\" or [\"left\", \"right\"]");
        }
        m->merges_.set(id_of(a, i), id_of(b, i), static_cast<int32_t>(i), id_of(a + b, i));
    }
    return m;
}

std::optional<int32_t> BpeModel::token_to_id(std::string_view token) const {
    auto it = vocab_.find(token);
    if (it == vocab_.end()) return std::nullopt;
    return it->second;
}

const std::string* BpeModel::id_to_token(int32_t id) const {
    if (id < 0 || static_cast<size_t>(id) >= id_to_token_.size() || !id_used_[static_cast<size_t>(id)]) return nullptr;
    return &id_to_token_[static_cast<size_t>(id)];
}

void BpeModel::encode_uncached(std::string_view piece, std::vector<int32_t>& out) const {
    std::vector<int32_t> ids;
    ids.reserve(piece.size());
    // HF's merge_word: one symbol per character (here: per byte); a character missing from the vocab becomes
    // unk_token (consecutive ones fused into one when fuse_unk), or is dropped when the model has no unk_token.
    bool pending_unk = false;
    auto unk_id = [&]() {
        // HF only fails when the unk token is actually needed, so loading succeeds and this check waits until then.
        QINFER_CHECK(unk_id_.has_value(), unk_where_, ": \"", unk_token_, "\" is not in model.vocab");
        return *unk_id_;
    };
    for (char c : piece) {
        const int32_t id = byte_ids_[static_cast<uint8_t>(c)];
        if (id >= 0) {
            if (pending_unk) ids.push_back(unk_id());
            pending_unk = false;
            ids.push_back(id);
        } else if (!unk_token_.empty()) {
            if (pending_unk && !fuse_unk_) ids.push_back(unk_id());
            pending_unk = true;
        }
    }
    if (pending_unk) ids.push_back(unk_id());
    // The scan is O(n^2) but has no heap overhead; long pieces ("aaaa...", whitespace runs) need the heap.
    if (ids.size() <= 48) {
        bpe_merge_scan(merges_, ids);
    } else {
        bpe_merge_heap(merges_, ids);
    }
    out.insert(out.end(), ids.begin(), ids.end());
}

void BpeModel::encode(std::string_view piece, std::vector<int32_t>& out) const {
    if (piece.empty()) return;
    if (ignore_merges_) {
        // HF: with ignore_merges, a piece that is itself a vocab token is emitted as is.
        if (auto it = raw_vocab_.find(piece); it != raw_vocab_.end()) {
            out.push_back(it->second);
            return;
        }
    }
    if (piece.size() == 1) {
        const int32_t id = byte_ids_[static_cast<uint8_t>(piece[0])];
        if (id >= 0) {
            out.push_back(id);
            return;
        }
    }
    const bool cacheable = piece.size() < kCacheMaxPieceBytes;
    if (cacheable) {
        std::lock_guard<std::mutex> lock(cache_mu_);
        if (cache_.lookup(piece, out)) return;
    }
    const size_t start = out.size();
    encode_uncached(piece, out);
    if (cacheable) {
        std::lock_guard<std::mutex> lock(cache_mu_);
        cache_.insert(piece, std::span<const int32_t>(out).subspan(start));
    }
}

}  // namespace qinfer::tok
