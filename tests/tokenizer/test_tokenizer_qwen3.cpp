// The real Qwen3 tokenizer against goldens from HF tokenizers 0.23 (checked equal to transformers 5.17 by
// tools/tokenizer/make_tokenizer_goldens.py): encode, decode, round trips, streaming, vocabulary queries.
// Skipped when ../shared/data/qwen3-tokenizer is absent.

#include <thread>

#include <gtest/gtest.h>

#include "tokenizer/stream_decoder.h"
#include "tokenizer/utf8.h"
#include "tokenizer_test_util.h"

namespace qinfer::tok {
namespace {

using test::load_json;
using test::show;

TEST(TokenizerQwen3, EncodeMatchesHfGoldens) {
    QINFER_REQUIRE_QWEN3();
    const auto golden = load_json(test::data_dir() / "qwen3_encode.json");
    ASSERT_GT(golden["cases"].size(), 300u);
    for (const auto& c : golden["cases"]) {
        const std::string text = c["text"];
        const auto expected = test::ids_of(c["ids"]);
        EXPECT_EQ(test::qwen3().encode(text), expected) << c["name"] << ": " << show(text);
        // Qwen's post-processor (ByteLevel) adds nothing.
        EXPECT_EQ(test::qwen3().encode(text, /*add_special_tokens=*/true), expected) << c["name"];
    }
}

TEST(TokenizerQwen3, RoundTripIsNfc) {
    QINFER_REQUIRE_QWEN3();
    // `decoded` is NFC(text) (the script checks it with Python's unicodedata), except that added tokens are cut
    // out before normalization, as in HF.
    const auto golden = load_json(test::data_dir() / "qwen3_encode.json");
    for (const auto& c : golden["cases"]) {
        const std::string text = c["text"];
        EXPECT_EQ(test::qwen3().decode(test::qwen3().encode(text)), c["decoded"].get<std::string>()) << c["name"];
    }
}

TEST(TokenizerQwen3, DecodeMatchesHfGoldens) {
    QINFER_REQUIRE_QWEN3();
    const auto golden = load_json(test::data_dir() / "qwen3_decode.json");
    for (const auto& c : golden["cases"]) {
        const auto ids = test::ids_of(c["ids"]);
        const bool skip = c["skip_special_tokens"];
        EXPECT_EQ(test::qwen3().decode(ids, skip), c["text"].get<std::string>()) << c["name"] << " skip=" << skip;
    }
}

// Stream decoding: every chunk is valid UTF-8 and the chunks add up to decode().
void expect_stream_equals_decode(const Tokenizer& tok, const std::vector<int32_t>& ids, bool skip,
                                 const std::string& name) {
    StreamDecoder sd(tok, skip);
    std::string all;
    for (size_t i = 0; i < ids.size(); ++i) {
        const std::string chunk = sd.push(ids[i]);
        ASSERT_EQ(utf8_first_invalid(chunk), std::string::npos) << name << " chunk " << i << ": " << show(chunk);
        all += chunk;
    }
    const std::string tail = sd.flush();
    ASSERT_EQ(utf8_first_invalid(tail), std::string::npos) << name;
    all += tail;
    EXPECT_EQ(all, tok.decode(ids, skip)) << name << " skip=" << skip;
}

TEST(TokenizerQwen3, StreamDecoderMatchesDecode) {
    QINFER_REQUIRE_QWEN3();
    const auto decode_golden = load_json(test::data_dir() / "qwen3_decode.json");  // alive across the loop
    for (const auto& c : decode_golden["cases"]) {
        expect_stream_equals_decode(test::qwen3(), test::ids_of(c["ids"]), c["skip_special_tokens"], c["name"]);
    }
    const auto encode_golden = load_json(test::data_dir() / "qwen3_encode.json");  // alive across the loop
    for (const auto& c : encode_golden["cases"]) {
        expect_stream_equals_decode(test::qwen3(), test::ids_of(c["ids"]), false, c["name"]);
    }
}

TEST(TokenizerQwen3, StreamDecoderHoldsBackPartialCharacters) {
    QINFER_REQUIRE_QWEN3();
    const Tokenizer& tok = test::qwen3();
    // "中" = E4 B8 AD, fed one byte token at a time: nothing until the last byte.
    const int32_t e4 = *tok.token_to_id("ä"), b8 = *tok.token_to_id("¸"), ad = *tok.token_to_id("Ń");
    StreamDecoder sd(tok);
    EXPECT_EQ(sd.push(e4), "");
    EXPECT_EQ(sd.push(b8), "");
    EXPECT_EQ(sd.push(ad), "中");
    // A broken character is released as U+FFFD as soon as it cannot complete.
    EXPECT_EQ(sd.push(e4), "");
    EXPECT_EQ(sd.push(*tok.token_to_id("A")),
              "\xEF\xBF\xBD"
              "A");
    EXPECT_EQ(sd.push(e4), "");
    EXPECT_EQ(sd.flush(), "\xEF\xBF\xBD");
    // Special tokens stream as text unless skipped.
    EXPECT_EQ(sd.push(*tok.token_to_id("<|im_end|>")), "<|im_end|>");
    StreamDecoder skipping(tok, /*skip_special_tokens=*/true);
    EXPECT_EQ(skipping.push(*tok.token_to_id("<|im_end|>")), "");
    EXPECT_EQ(skipping.push(*tok.token_to_id("<think>")), "<think>");  // added but not special
}

TEST(TokenizerQwen3, VocabularyQueries) {
    QINFER_REQUIRE_QWEN3();
    const Tokenizer& tok = test::qwen3();
    EXPECT_EQ(tok.vocab_size(), 151669u);
    EXPECT_EQ(tok.token_to_id("<|endoftext|>"), 151643);
    EXPECT_EQ(tok.token_to_id("<|im_start|>"), 151644);
    EXPECT_EQ(tok.token_to_id("<|im_end|>"), 151645);
    EXPECT_EQ(tok.token_to_id("</think>"), 151668);
    EXPECT_EQ(tok.token_to_id("Ġworld"), 1879);
    EXPECT_EQ(tok.token_to_id(" world"), std::nullopt);
    EXPECT_EQ(tok.id_to_token(1879), "Ġworld");
    EXPECT_EQ(tok.id_to_token(151645), "<|im_end|>");
    EXPECT_EQ(tok.token_bytes(1879), " world");
    EXPECT_EQ(tok.token_bytes(151669), "");
    EXPECT_TRUE(tok.is_special(151643));
    EXPECT_TRUE(tok.is_special(151645));
    EXPECT_FALSE(tok.is_special(151657));  // <tool_call>: added, not special
    EXPECT_FALSE(tok.is_special(1879));
    EXPECT_FALSE(tok.is_known(151669));
    // From tokenizer_config.json.
    EXPECT_EQ(tok.eos_token_id(), 151645);
    EXPECT_EQ(tok.pad_token_id(), 151643);
    EXPECT_EQ(tok.bos_token_id(), std::nullopt);
    EXPECT_ERROR_CONTAINS(tok.id_to_token(151669), "151669", "not in the vocabulary");
}

TEST(TokenizerQwen3, DigitsAreSplitIndividually) {
    QINFER_REQUIRE_QWEN3();
    const auto ids = test::qwen3().encode("12345");
    ASSERT_EQ(ids.size(), 5u);
    for (size_t i = 0; i < 5; ++i) EXPECT_EQ(test::qwen3().decode({&ids[i], 1}), std::string(1, char('1' + i)));
}

TEST(TokenizerQwen3, TokenizerJsonAloneGivesSameIds) {
    QINFER_REQUIRE_QWEN3();
    // Without tokenizer_config.json nothing about encoding changes for Qwen (its config only names tokens that
    // tokenizer.json already has as special).
    const Tokenizer bare = Tokenizer::from_file(test::qwen3_dir() / "tokenizer.json");
    const std::string text = "<|im_start|>user\nhé 中😀 don't<|im_end|><think>x</think>";
    EXPECT_EQ(bare.encode(text), test::qwen3().encode(text));
    EXPECT_EQ(bare.eos_token_id(), std::nullopt);
}

TEST(TokenizerQwen3, ConcurrentEncodeIsConsistent) {
    QINFER_REQUIRE_QWEN3();
    const auto golden = load_json(test::data_dir() / "qwen3_encode.json");
    std::vector<std::pair<std::string, std::vector<int32_t>>> cases;
    for (const auto& c : golden["cases"]) cases.emplace_back(c["text"], test::ids_of(c["ids"]));
    std::vector<int> failures(4, 0);
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&, t] {
            for (int rep = 0; rep < 3; ++rep) {
                for (size_t i = static_cast<size_t>(t); i < cases.size(); i += 2) {
                    if (test::qwen3().encode(cases[i].first) != cases[i].second) ++failures[static_cast<size_t>(t)];
                }
            }
        });
    }
    for (auto& th : threads) th.join();
    for (int f : failures) EXPECT_EQ(f, 0);
}

}  // namespace
}  // namespace qinfer::tok
