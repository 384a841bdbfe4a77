#include "tokenizer/tokenizer.h"

#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "core/check.h"
#include "tokenizer/added_tokens.h"
#include "tokenizer/bpe.h"
#include "tokenizer/byte_level.h"
#include "tokenizer/json_fields.h"
#include "tokenizer/normalizer.h"
#include "tokenizer/post_processor.h"
#include "tokenizer/pretokenizer.h"
#include "tokenizer/utf8.h"

namespace qinfer::tok {

struct Tokenizer::Impl {
    Normalizer normalizer;
    std::optional<PreTokenizer> pretokenizer;
    std::unique_ptr<BpeModel> model;
    AddedVocabulary added;
    PostProcessor post;
    std::vector<std::string> id_bytes;  // decoded bytes of every id
    std::vector<uint8_t> id_flags;      // kKnown | kSpecial
    std::optional<int32_t> bos, eos, pad, unk;

    static constexpr uint8_t kKnown = 1, kSpecial = 2;
};

namespace {

using nlohmann::json;

json parse_json(std::string_view text, const std::string& name) {
    try {
        return json::parse(text.begin(), text.end());
    } catch (const json::parse_error& e) {
        QINFER_FAIL(name, ": invalid JSON: ", e.what());
    }
}

std::string read_file(const std::filesystem::path& p) {
    std::ifstream f(p, std::ios::binary);
    QINFER_CHECK(f.good(), "cannot open tokenizer file ", p.string());
    std::ostringstream ss;
    ss << f.rdbuf();
    QINFER_CHECK(!f.bad(), "cannot read tokenizer file ", p.string());
    return std::move(ss).str();
}

// The decoder only has to turn tokens back into bytes: ByteLevel is the only decoder of byte-level BPE.
void check_decoder(const std::optional<JsonRef>& j, const std::string& file) {
    if (!j) QINFER_FAIL(file, ": field decoder is null; byte-level BPE needs a ByteLevel decoder");
    const JsonRef type_ref = j->at("type");
    const std::string type = type_ref.as_string();
    if (type == "ByteLevel") return;
    if (type == "Sequence") {
        const JsonRef list = j->at("decoders");
        if (list.array_size() == 0) list.fail("empty decoder Sequence; byte-level BPE needs a ByteLevel decoder");
        for (size_t i = 0; i < list.array_size(); ++i) check_decoder(list.at(i), file);
        return;
    }
    type_ref.fail(str_cat("unsupported decoder type \"", type, "\" (supported: ByteLevel, Sequence of ByteLevel)"));
}

AddedToken parse_added_token(const JsonRef& t) {
    AddedToken a;
    a.content = t.at("content").as_string();
    if (a.content.empty()) t.at("content").fail("empty added token");
    if (utf8_first_invalid(a.content) != std::string::npos) t.at("content").fail("not valid UTF-8");
    a.special = t.bool_or("special", false);
    a.single_word = t.bool_or("single_word", false);
    a.lstrip = t.bool_or("lstrip", false);
    a.rstrip = t.bool_or("rstrip", false);
    a.normalized = t.bool_or("normalized", !a.special);
    return a;
}

// A special token named in tokenizer_config.json: "<s>", {"content": "<s>", ...}, or null.
std::optional<std::string> config_token(const JsonRef& cfg, std::string_view key) {
    auto v = cfg.find(key);
    if (!v) return std::nullopt;
    if (v->value().is_string()) return v->as_string();
    if (v->value().is_object()) return v->at("content").as_string();
    v->fail("expected a token string, {\"content\": ...}, or null");
}

void apply_config(Tokenizer::Impl& impl, const JsonRef& cfg) {
    // transformers (TokenizersBackend._post_init) adds every named special token to the backend as a special,
    // non-normalized token; one that is already an added token stays as it is (even if not special).
    auto ensure_special = [&](const std::string& content, const JsonRef& where) -> int32_t {
        if (auto id = impl.added.find_content(content)) return *id;
        if (utf8_first_invalid(content) != std::string::npos) where.fail("not valid UTF-8");
        AddedToken a;
        a.content = content;
        a.special = true;
        a.normalized = false;
        return impl.added.add(std::move(a), *impl.model);
    };
    std::optional<int32_t>* slots[] = {&impl.bos, &impl.eos, &impl.unk, &impl.pad};
    const char* names[] = {"bos_token", "eos_token", "unk_token", "pad_token"};
    for (size_t k = 0; k < 4; ++k) {
        if (auto c = config_token(cfg, names[k])) *slots[k] = ensure_special(*c, cfg.at(names[k]));
    }
    for (const char* key : {"sep_token", "cls_token", "mask_token"}) {
        if (auto c = config_token(cfg, key)) ensure_special(*c, cfg.at(key));
    }
    for (const char* key : {"additional_special_tokens", "extra_special_tokens"}) {
        auto list = cfg.find(key);
        if (!list) continue;
        if (list->value().is_object()) {  // transformers 5 may write {"name": "<tok>", ...}
            for (auto it = list->value().begin(); it != list->value().end(); ++it) {
                if (auto c = config_token(*list, it.key())) ensure_special(*c, list->at(it.key()));
            }
            continue;
        }
        for (size_t i = 0; i < list->array_size(); ++i) {
            const JsonRef item = list->at(i);
            if (item.value().is_string()) {
                ensure_special(item.as_string(), item);
            } else {
                ensure_special(item.at("content").as_string(), item);
            }
        }
    }
    // add_bos_token / add_eos_token are ignored: transformers 5 drops them when a tokenizer.json exists and keeps
    // its post_processor. clean_up_tokenization_spaces is ignored too: transformers 5 skips it for BPE models.
}

}  // namespace

Tokenizer Tokenizer::from_json_text(std::string_view tokenizer_json, std::string_view config_json,
                                    const std::string& tokenizer_name, const std::string& config_name) {
    auto impl = std::make_shared<Impl>();
    const json doc = parse_json(tokenizer_json, tokenizer_name);
    const JsonRef root(doc, tokenizer_name, "");
    if (!doc.is_object()) root.fail("expected a JSON object");

    impl->model = BpeModel::from_json(root.at("model"));
    impl->normalizer = Normalizer::from_json(root.find("normalizer"));
    impl->pretokenizer = PreTokenizer::from_json(root.find("pre_tokenizer"), tokenizer_name);
    check_decoder(root.find("decoder"), tokenizer_name);
    impl->post = PostProcessor::from_json(root.find("post_processor"));
    // `truncation` / `padding` are ignored, as transformers does for encode() without truncation/padding arguments.

    if (auto added = root.find("added_tokens")) {
        for (size_t i = 0; i < added->array_size(); ++i) {
            const JsonRef t = added->at(i);
            const int64_t file_id = t.at("id").as_int();
            AddedToken a = parse_added_token(t);
            if (impl->added.find_content(a.content)) t.at("content").fail(str_cat("\"", a.content, "\" repeated"));
            const int32_t id = impl->added.add(std::move(a), *impl->model);
            if (id != file_id) {
                t.at("id").fail(str_cat("is ", file_id, " but HF tokenizers gives this token id ", id,
                                        " (a vocab token keeps its vocab id; new tokens are numbered after the vocab "
                                        "in file order); the file is inconsistent"));
            }
        }
    }
    if (!config_json.empty()) {
        const json cfg_doc = parse_json(config_json, config_name);
        const JsonRef cfg(cfg_doc, config_name, "");
        if (!cfg_doc.is_object()) cfg.fail("expected a JSON object");
        apply_config(*impl, cfg);
    }
    impl->added.build(impl->normalizer);

    // Per-id decode table.
    int64_t max_id = impl->model->max_id();
    for (const auto& t : impl->added.tokens()) max_id = std::max<int64_t>(max_id, t.id);
    impl->id_bytes.resize(static_cast<size_t>(max_id + 1));
    impl->id_flags.assign(static_cast<size_t>(max_id + 1), 0);
    for (int32_t id = 0; id <= impl->model->max_id(); ++id) {
        if (const std::string* s = impl->model->id_to_token(id)) {
            impl->id_bytes[static_cast<size_t>(id)] = byte_level_decode_token(*s);
            impl->id_flags[static_cast<size_t>(id)] = Impl::kKnown;
        }
    }
    for (const auto& t : impl->added.tokens()) {
        impl->id_bytes[static_cast<size_t>(t.id)] = byte_level_decode_token(t.output_content);
        impl->id_flags[static_cast<size_t>(t.id)] = Impl::kKnown | (t.special ? Impl::kSpecial : 0);
    }
    return Tokenizer(std::move(impl));
}

Tokenizer Tokenizer::from_file(const std::filesystem::path& tokenizer_json,
                               const std::optional<std::filesystem::path>& tokenizer_config_json) {
    const std::string text = read_file(tokenizer_json);
    std::string cfg;
    if (tokenizer_config_json) {
        cfg = read_file(*tokenizer_config_json);
        QINFER_CHECK(!cfg.empty(), tokenizer_config_json->string(), ": empty file");
    }
    return from_json_text(text, cfg, tokenizer_json.string(),
                          tokenizer_config_json ? tokenizer_config_json->string() : std::string());
}

Tokenizer Tokenizer::from_dir(const std::filesystem::path& dir) {
    const auto tj = dir / "tokenizer.json";
    QINFER_CHECK(std::filesystem::is_regular_file(tj), "no tokenizer.json in ", dir.string());
    const auto cj = dir / "tokenizer_config.json";
    return from_file(tj, std::filesystem::is_regular_file(cj) ? std::optional(cj) : std::nullopt);
}

std::vector<int32_t> Tokenizer::encode(std::string_view text, bool add_special_tokens) const {
    const Impl& im = *impl_;
    if (const size_t bad = utf8_first_invalid(text); bad != std::string_view::npos) {
        QINFER_FAIL("tokenizer encode: input is not valid UTF-8 (byte offset ", bad, ")");
    }
    std::vector<int32_t> ids;
    ids.reserve(text.size() / 3 + 8);
    std::vector<Segment> raw_segments, norm_segments;
    std::string norm_buf;
    const BpeModel& model = *im.model;
    auto encode_piece = [&](std::string_view piece) { model.encode(piece, ids); };

    im.added.split(text, /*normalized_set=*/false, raw_segments);
    for (const Segment& rs : raw_segments) {
        if (rs.id >= 0) {
            ids.push_back(rs.id);
            continue;
        }
        const std::string_view normalized = im.normalizer.apply(text.substr(rs.begin, rs.end - rs.begin), norm_buf);
        norm_segments.clear();
        im.added.split(normalized, /*normalized_set=*/true, norm_segments);
        for (const Segment& ns : norm_segments) {
            if (ns.id >= 0) {
                ids.push_back(ns.id);
                continue;
            }
            im.pretokenizer->split(normalized.substr(ns.begin, ns.end - ns.begin), encode_piece);
        }
    }
    if (add_special_tokens) im.post.apply(ids);
    return ids;
}

std::string Tokenizer::decode(std::span<const int32_t> ids, bool skip_special_tokens) const {
    const Impl& im = *impl_;
    std::string bytes;
    for (int32_t id : ids) {
        if (!is_known(id)) continue;  // HF skips ids it cannot map
        if (skip_special_tokens && (im.id_flags[static_cast<size_t>(id)] & Impl::kSpecial)) continue;
        bytes += im.id_bytes[static_cast<size_t>(id)];
    }
    if (utf8_first_invalid(bytes) == std::string::npos) return bytes;
    std::string out;
    utf8_append_lossy(out, bytes);
    return out;
}

std::optional<int32_t> Tokenizer::token_to_id(std::string_view token) const {
    if (auto id = impl_->added.find_content(token)) return id;
    return impl_->model->token_to_id(token);
}

std::string Tokenizer::id_to_token(int32_t id) const {
    if (const AddedToken* t = impl_->added.find_id(id)) return t->output_content;
    if (const std::string* s = impl_->model->id_to_token(id)) return *s;
    QINFER_FAIL("tokenizer: id ", id, " is not in the vocabulary (vocab_size ", vocab_size(), ")");
}

std::string_view Tokenizer::token_bytes(int32_t id) const {
    return is_known(id) ? std::string_view(impl_->id_bytes[static_cast<size_t>(id)]) : std::string_view();
}

size_t Tokenizer::vocab_size() const {
    return impl_->id_flags.size();
}

bool Tokenizer::is_known(int32_t id) const {
    return id >= 0 && static_cast<size_t>(id) < impl_->id_flags.size() &&
           (impl_->id_flags[static_cast<size_t>(id)] & Impl::kKnown);
}

bool Tokenizer::is_special(int32_t id) const {
    return is_known(id) && (impl_->id_flags[static_cast<size_t>(id)] & Impl::kSpecial);
}

std::optional<int32_t> Tokenizer::bos_token_id() const {
    return impl_->bos;
}
std::optional<int32_t> Tokenizer::eos_token_id() const {
    return impl_->eos;
}
std::optional<int32_t> Tokenizer::pad_token_id() const {
    return impl_->pad;
}
std::optional<int32_t> Tokenizer::unk_token_id() const {
    return impl_->unk;
}

}  // namespace qinfer::tok
