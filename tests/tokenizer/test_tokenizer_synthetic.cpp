// Small byte-level BPE tokenizers trained by tools/tokenizer/make_tokenizer_goldens.py (tests/tokenizer/data/
// synthetic_*), each exercising other tokenizer.json components, against HF tokenizers goldens:
//   synthetic_qwen35  Qwen3.5's regex (with \p{M}), NFC, and an added token for every flag: lstrip, rstrip, both,
//                     single_word, normalized with NFC / non-NFC content, raw-only, a plain space in the content,
//                     leftmost-longest overlap, a byte-level character, special + normalized + lstrip;
//   synthetic_gpt2    ByteLevel(add_prefix_space, use_regex), legacy "a b" merges, ignore_merges, unk_token with
//                     fuse_unk (3 bytes missing from the vocab), TemplateProcessing, and a tokenizer_config.json that
//                     names a new and an existing non-special token as special (transformers makes both special);
//   synthetic_splits  every Split behavior (String / Regex, invert), NFD+NFKC, Sequence decoder, Roberta.

#include <algorithm>
#include <random>

#include <gtest/gtest.h>

#include "tokenizer/stream_decoder.h"
#include "tokenizer/utf8.h"
#include "tokenizer_test_util.h"

namespace qinfer::tok {
namespace {

using test::show;

const nlohmann::json& goldens() {
    static const nlohmann::json g = test::load_json(test::data_dir() / "synthetic_goldens.json");
    return g;
}

Tokenizer load(const std::string& name) {
    return Tokenizer::from_dir(test::data_dir() / name);
}

class TokenizerSynthetic : public ::testing::TestWithParam<std::string> {};

TEST_P(TokenizerSynthetic, EncodeMatchesHf) {
    const Tokenizer tok = load(GetParam());
    const auto& g = goldens()[GetParam()];
    ASSERT_GT(g["encode"].size(), 100u);
    for (const auto& c : g["encode"]) {
        const std::string text = c["text"];
        EXPECT_EQ(tok.encode(text), test::ids_of(c["ids"])) << show(text);
        EXPECT_EQ(tok.encode(text, /*add_special_tokens=*/true), test::ids_of(c["ids_with_special"])) << show(text);
    }
}

TEST_P(TokenizerSynthetic, DecodeMatchesHf) {
    const Tokenizer tok = load(GetParam());
    for (const auto& c : goldens()[GetParam()]["decode"]) {
        const auto ids = test::ids_of(c["ids"]);
        const bool skip = c["skip_special_tokens"];
        EXPECT_EQ(tok.decode(ids, skip), c["text"].get<std::string>()) << c["ids"].dump() << " skip=" << skip;
    }
}

TEST_P(TokenizerSynthetic, SpecialTokensAndVocabSize) {
    const Tokenizer tok = load(GetParam());
    const auto& g = goldens()[GetParam()];
    EXPECT_EQ(tok.vocab_size(), g["vocab_size"].get<size_t>());
    std::vector<int32_t> specials;
    for (int32_t id = 0; id < static_cast<int32_t>(tok.vocab_size()) + 2; ++id) {
        if (tok.is_special(id)) specials.push_back(id);
    }
    EXPECT_EQ(specials, test::ids_of(g["special_ids"]));
    if (g["config"].get<bool>()) {
        EXPECT_EQ(tok.bos_token_id(), g["bos_token_id"].get<int32_t>());
        EXPECT_EQ(tok.eos_token_id(), g["eos_token_id"].get<int32_t>());
    }
}

TEST_P(TokenizerSynthetic, StreamDecoderMatchesDecode) {
    const Tokenizer tok = load(GetParam());
    std::mt19937 rng(42);
    std::vector<std::vector<int32_t>> lists;
    for (const auto& c : goldens()[GetParam()]["decode"]) lists.push_back(test::ids_of(c["ids"]));
    // Random ids over the whole vocabulary (and a few unknown ones) break characters everywhere.
    for (int i = 0; i < 300; ++i) {
        std::vector<int32_t> ids(static_cast<size_t>(rng() % 20));
        for (auto& id : ids) id = static_cast<int32_t>(rng() % (tok.vocab_size() + 4));
        lists.push_back(ids);
    }
    for (const auto& ids : lists) {
        for (bool skip : {false, true}) {
            StreamDecoder sd(tok, skip);
            std::string all;
            for (int32_t id : ids) {
                const std::string chunk = sd.push(id);
                ASSERT_EQ(utf8_first_invalid(chunk), std::string::npos) << show(chunk);
                all += chunk;
            }
            all += sd.flush();
            EXPECT_EQ(all, tok.decode(ids, skip));
        }
    }
}

INSTANTIATE_TEST_SUITE_P(Data, TokenizerSynthetic,
                         ::testing::Values("synthetic_qwen35", "synthetic_gpt2", "synthetic_splits"));

// Spot checks that document the added-token flags (the goldens above are the proof; these say what they mean).
TEST(TokenizerAddedTokens, FlagsBehaveAsInHf) {
    const Tokenizer tok = load("synthetic_qwen35");
    const int32_t L = *tok.token_to_id("<L>"), R = *tok.token_to_id("<R>"), LR = *tok.token_to_id("<LR>");
    const int32_t word = *tok.token_to_id("word"), cafe = *tok.token_to_id("café");
    // lstrip: the spaces before <L> vanish into it; the space after stays.
    EXPECT_EQ(tok.encode("a   <L> b"), [&] {
        auto v = tok.encode("a");
        v.push_back(L);
        auto rest = tok.encode(" b");
        v.insert(v.end(), rest.begin(), rest.end());
        return v;
    }());
    // rstrip: the spaces (and newlines) after <R> vanish.
    auto after_r = tok.encode("x<R>  \n y");
    EXPECT_EQ(after_r, (std::vector<int32_t>{tok.encode("x")[0], R, tok.encode("y")[0]}));
    // Both: "p  <LR>  q" -> p <LR> q.
    EXPECT_EQ(tok.encode("p  <LR>  q"), (std::vector<int32_t>{tok.encode("p")[0], LR, tok.encode("q")[0]}));
    // single_word: matched only when no word character touches it.
    const auto a_word_b = tok.encode("a word b");
    EXPECT_EQ(std::count(a_word_b.begin(), a_word_b.end(), word), 1);
    const auto sword = tok.encode("swords");
    EXPECT_EQ(std::count(sword.begin(), sword.end(), word), 0);
    // normalized=true: matched after NFC, so a decomposed é finds the precomposed token.
    EXPECT_EQ(tok.encode("cafe\u0301"), (std::vector<int32_t>{cafe}));
    EXPECT_EQ(tok.encode("café"), (std::vector<int32_t>{cafe}));
    // normalized=false: "e\u0301x" is matched in the raw text as written, never as its NFC form "éx".
    const int32_t ex = *tok.token_to_id("e\u0301x");
    EXPECT_EQ(tok.encode("e\u0301x"), (std::vector<int32_t>{ex}));
    const auto nfc_ex = tok.encode("éx");
    EXPECT_EQ(std::count(nfc_ex.begin(), nfc_ex.end(), ex), 0);
    // Leftmost-longest: "<tok>ext" wins over "<tok>".
    EXPECT_EQ(tok.encode("<tok>ext"), (std::vector<int32_t>{*tok.token_to_id("<tok>ext")}));
    // An added token whose content has a plain space decodes to itself.
    EXPECT_EQ(tok.decode(tok.encode("hello world")), "hello world");
}

}  // namespace
}  // namespace qinfer::tok
