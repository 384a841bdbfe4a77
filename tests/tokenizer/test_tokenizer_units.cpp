// Unit tests of the tokenizer's building blocks: UTF-8 (lossy decoding by Rust's rules, incomplete tails), the
// byte-level table, the Oniguruma -> PCRE2 regex translation, the two BPE merge loops, and the normalizer.

#include <random>

#include <gtest/gtest.h>

#include "tokenizer/bpe.h"
#include "tokenizer/byte_level.h"
#include "tokenizer/char_class.h"
#include "tokenizer/normalizer.h"
#include "tokenizer/regex.h"
#include "tokenizer/utf8.h"
#include "tokenizer_test_util.h"

namespace qinfer::tok {
namespace {

const std::string kFFFD = "\xEF\xBF\xBD";

std::string lossy(std::string_view s) {
    std::string out;
    utf8_append_lossy(out, s);
    return out;
}

TEST(TokenizerUtf8, LossyFollowsRustFromUtf8Lossy) {
    // Cases from Rust's String::from_utf8_lossy documentation and tests (one U+FFFD per maximal subpart).
    EXPECT_EQ(lossy("Hello \xF0\x90\x80World"), "Hello " + kFFFD + "World");
    EXPECT_EQ(lossy("\xF5\x8F\x80\x80"), kFFFD + kFFFD + kFFFD + kFFFD);  // F5 is never a lead byte
    EXPECT_EQ(lossy("\xE0\x80\x80"), kFFFD + kFFFD + kFFFD);              // overlong: E0 needs A0..BF
    EXPECT_EQ(lossy("\xED\xA0\x80"), kFFFD + kFFFD + kFFFD);              // surrogate: ED needs 80..9F
    EXPECT_EQ(lossy("\xF4\x90\x80\x80"), kFFFD + kFFFD + kFFFD + kFFFD);  // above U+10FFFF
    EXPECT_EQ(lossy("\xC0\xAF"), kFFFD + kFFFD);                          // C0/C1 never valid
    EXPECT_EQ(lossy("\xE4\xB8"), kFFFD);                                  // truncated at the end: one
    EXPECT_EQ(lossy("\xE4\xB8"
                    "A\xAD"),
              kFFFD + "A" + kFFFD);
    EXPECT_EQ(lossy("\xF0\x9F\x98"), kFFFD);
    EXPECT_EQ(lossy("\xF0\x9F\x98\x80"), "\xF0\x9F\x98\x80");
    EXPECT_EQ(lossy("\x80\xBF"), kFFFD + kFFFD);
    EXPECT_EQ(lossy(""), "");
    EXPECT_EQ(lossy(std::string("a\0b", 3)), std::string("a\0b", 3));
}

TEST(TokenizerUtf8, IncompleteTail) {
    EXPECT_EQ(utf8_incomplete_tail(""), 0u);
    EXPECT_EQ(utf8_incomplete_tail("abc"), 0u);
    EXPECT_EQ(utf8_incomplete_tail("a\xE4"), 1u);
    EXPECT_EQ(utf8_incomplete_tail("a\xE4\xB8"), 2u);
    EXPECT_EQ(utf8_incomplete_tail("a\xE4\xB8\xAD"), 0u);  // complete
    EXPECT_EQ(utf8_incomplete_tail("\xF0\x9F\x98"), 3u);
    EXPECT_EQ(utf8_incomplete_tail("\xE0\x80"), 0u);  // already invalid
    EXPECT_EQ(utf8_incomplete_tail("\xF4\x90"), 0u);  // already invalid
    EXPECT_EQ(utf8_incomplete_tail("\xC0"), 0u);      // never valid
    EXPECT_EQ(utf8_incomplete_tail("\xE4"
                                   "A"),
              0u);
    EXPECT_EQ(utf8_incomplete_tail("\x80\x80\x80"), 0u);
}

TEST(TokenizerUtf8, LossyOfPrefixPlusRestEqualsWhole) {
    // The property the stream decoder relies on: cutting before an incomplete tail never changes the result.
    std::mt19937 rng(7);
    const uint8_t interesting[] = {0x41, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xC2, 0xDF, 0xE0,
                                   0xE4, 0xED, 0xEF, 0xF0, 0xF4, 0xF5, 0xFF, 0xB8, 0xAD, 0x20};
    for (int iter = 0; iter < 20000; ++iter) {
        std::string s(static_cast<size_t>(rng() % 10), '\0');
        for (auto& c : s) c = static_cast<char>(interesting[rng() % sizeof(interesting)]);
        const size_t keep = utf8_incomplete_tail(s);
        const std::string head = s.substr(0, s.size() - keep);
        std::string more(static_cast<size_t>(rng() % 4), '\0');
        for (auto& c : more) c = static_cast<char>(interesting[rng() % sizeof(interesting)]);
        ASSERT_EQ(lossy(head) + lossy(s.substr(head.size()) + more), lossy(s + more)) << test::show(s + more);
        ASSERT_EQ(utf8_first_invalid(lossy(s)), std::string::npos);
    }
}

TEST(TokenizerByteLevel, TableIsGpt2s) {
    EXPECT_EQ(byte_level_char(' '), U'Ġ');
    EXPECT_EQ(byte_level_char('\n'), U'Ċ');
    EXPECT_EQ(byte_level_char('a'), U'a');
    EXPECT_EQ(byte_level_char(0xAD), U'Ń');
    EXPECT_EQ(byte_level_char(0xFF), U'ÿ');
    std::vector<bool> seen(0x144, false);
    for (int b = 0; b < 256; ++b) {
        const char32_t c = byte_level_char(static_cast<uint8_t>(b));
        ASSERT_LT(c, 0x144u);
        EXPECT_FALSE(seen[c]);
        seen[c] = true;
        EXPECT_EQ(byte_level_byte(c), b);
    }
    EXPECT_EQ(byte_level_byte(U' '), -1);
    EXPECT_EQ(to_byte_level(" hi\n"), "ĠhiĊ");
    EXPECT_EQ(byte_level_decode_token("Ġworld"), " world");
    EXPECT_EQ(byte_level_decode_token("hello world"), "hello world");  // a plain space: not byte-level, kept
    EXPECT_EQ(byte_level_decode_token("<|im_end|>"), "<|im_end|>");
}

TEST(TokenizerRegex, WhitespaceIsOnigurumasWhiteSpace) {
    EXPECT_EQ(translate_onig_pattern(R"(\s+(?!\S)|[^\s\p{L}])", "f"),
              R"(\p{White_Space}+(?!\P{White_Space})|[^\p{White_Space}\p{L}])");
    EXPECT_EQ(translate_onig_pattern(R"(\\s\Q\s\E)", "f"), R"(\\s\Q\s\E)");  // escaped / quoted: untouched
    EXPECT_ERROR_CONTAINS(translate_onig_pattern(R"(\w+)", "pre_tokenizer.pattern.Regex"),
                          "pre_tokenizer.pattern.Regex", "\\w");
    const Regex re(R"(\s+)", "f");
    std::vector<std::pair<size_t, size_t>> m;
    // U+180E is not White_Space (PCRE2's own UCP \s would match it); U+00A0, U+3000, U+2028, U+0085 are.
    re.find_all("a\u180Eb", m);
    EXPECT_TRUE(m.empty());
    re.find_all("a\u00A0\u3000\u2028\u0085b", m);
    ASSERT_EQ(m.size(), 1u);
    EXPECT_EQ(m[0], (std::pair<size_t, size_t>{1, 11}));
    EXPECT_TRUE(is_white_space(0x3000));
    EXPECT_FALSE(is_white_space(0x180E));
    EXPECT_FALSE(is_white_space(0x200B));
    EXPECT_TRUE(is_word_char(U'é'));
    EXPECT_TRUE(is_word_char(0x0301));  // a mark
    EXPECT_FALSE(is_word_char(U'-'));
}

TEST(TokenizerRegex, EmptyMatchesAdvanceLikeOniguruma) {
    const Regex re("x*", "f");
    std::vector<std::pair<size_t, size_t>> m;
    re.find_all("axxb", m);
    // onig/Rust semantics: "" at 0, "xx" at 1..3, then the empty match at 3 is skipped, "" at 4.
    EXPECT_EQ(m, (std::vector<std::pair<size_t, size_t>>{{0, 0}, {1, 3}, {4, 4}}));
}

TEST(TokenizerNormalizer, NfcAndFriends) {
    auto make = [](const char* type) {
        const nlohmann::json j = {{"type", type}};
        return Normalizer::from_json(JsonRef(j, "t.json", "normalizer"));
    };
    std::string buf;
    EXPECT_EQ(make("NFC").apply("cafe\u0301", buf), "café");
    EXPECT_EQ(make("NFC").apply("\u1100\u1161\u11A8", buf), "각");
    EXPECT_EQ(make("NFC").apply("q\u0307\u0323", buf), "q\u0323\u0307");  // canonical reordering
    EXPECT_EQ(make("NFC").apply("\u212B", buf), "\u00C5");
    EXPECT_EQ(make("NFD").apply("é", buf), "e\u0301");
    EXPECT_EQ(make("NFKC").apply("ﬁ①", buf), "fi1");
    EXPECT_EQ(make("NFKD").apply("ｅ\u0301", buf), "e\u0301");
    // HF's normalization data is Unicode 9.0: later characters are left alone (see normalizer.h).
    EXPECT_EQ(make("NFC").apply("\u2F7F\u0327\u1715", buf), "\u2F7F\u0327\u1715");      // U+1715: ccc 9 since 14.0
    EXPECT_EQ(make("NFC").apply("\U00011935\U00011930", buf), "\U00011935\U00011930");  // composes since 13.0
    EXPECT_EQ(make("NFC").apply("x\u0301\u0323", buf), "x\u0323\u0301");                // 9.0 marks still reorder
    const std::string ascii = "plain ascii";
    EXPECT_EQ(make("NFC").apply(ascii, buf).data(), ascii.data());  // untouched, no copy
    const std::string already = "déjà vu 中文";
    EXPECT_EQ(make("NFC").apply(already, buf).data(), already.data());
}

TEST(TokenizerBpe, ScanAndHeapMergeLoopsAgree) {
    // The real Qwen merges when available, else the synthetic ones; random byte strings biased to common text.
    const bool real = test::have_qwen3();
    const std::string path = real ? (test::qwen3_dir() / "tokenizer.json").string()
                                  : (test::data_dir() / "synthetic_qwen35" / "tokenizer.json").string();
    const nlohmann::json doc = test::load_json(path);
    const auto model = BpeModel::from_json(JsonRef(doc["model"], path, "model"));
    std::mt19937 rng(3);
    const std::string alphabet = "  eeettaoinshrdlu\n\t.,'0123456789\xE4\xB8\xAD\xC3\xA9";
    for (int iter = 0; iter < 3000; ++iter) {
        std::string s(static_cast<size_t>(1 + rng() % 120), ' ');
        for (auto& c : s) c = alphabet[rng() % alphabet.size()];
        std::vector<int32_t> a;
        for (char c : s) a.push_back(model->byte_id(static_cast<uint8_t>(c)));
        std::vector<int32_t> b = a;
        bpe_merge_scan(model->merges(), a);
        bpe_merge_heap(model->merges(), b);
        ASSERT_EQ(a, b) << test::show(s);
    }
}

TEST(TokenizerBpe, MergeTableOverwritesRepeatedPairs) {
    MergeTable t;
    t.set(1, 2, 0, 10);
    t.set(1, 2, 5, 11);  // HF builds a HashMap from the list: the later rank wins
    for (int i = 0; i < 1000; ++i) t.set(100 + i, 7, i + 10, 2000 + i);
    const MergeTable::Entry* e = t.find(1, 2);
    ASSERT_TRUE(e != nullptr);
    const MergeTable::Entry got = *e;
    EXPECT_EQ(got.rank, 5);
    EXPECT_EQ(got.merged, 11);
    EXPECT_TRUE(t.find(2, 1) == nullptr);
    const MergeTable::Entry* f = t.find(599, 7);
    ASSERT_TRUE(f != nullptr);
    const int32_t merged = f->merged;
    EXPECT_EQ(merged, 2499);
    EXPECT_EQ(t.size(), 1001u);
}

}  // namespace
}  // namespace qinfer::tok
