// A tiny byte-level BPE tokenizer.json built here (256 byte tokens + 3 merges), then broken one field at a time:
// every unsupported component and every malformed field must fail with an Error naming the file and the field.

#include <gtest/gtest.h>

#include "tokenizer/byte_level.h"
#include "tokenizer/utf8.h"
#include "tokenizer_test_util.h"

namespace qinfer::tok {
namespace {

using nlohmann::json;

std::string bl(std::string_view raw) {
    return to_byte_level(raw);
}

// Vocab: byte b -> id b (spelled in byte-level characters), then "he" 256, "ll" 257, "hell" 258, "Ġh" 259.
json tiny_tokenizer() {
    json vocab = json::object();
    for (int b = 0; b < 256; ++b) vocab[bl(std::string(1, static_cast<char>(b)))] = b;
    vocab["he"] = 256;
    vocab["ll"] = 257;
    vocab["hell"] = 258;
    vocab[bl(" h")] = 259;
    return json{
        {"version", "1.0"},
        {"truncation", nullptr},
        {"padding", nullptr},
        {"added_tokens", json::array({{{"id", 260},
                                       {"content", "<|end|>"},
                                       {"single_word", false},
                                       {"lstrip", false},
                                       {"rstrip", false},
                                       {"normalized", false},
                                       {"special", true}}})},
        {"normalizer", {{"type", "NFC"}}},
        {"pre_tokenizer",
         {{"type", "Sequence"},
          {"pretokenizers",
           json::array({{{"type", "Split"},
                         {"pattern", {{"Regex", R"( ?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)"}}},
                         {"behavior", "Isolated"},
                         {"invert", false}},
                        {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", false}}})}}},
        {"post_processor", nullptr},
        {"decoder", {{"type", "ByteLevel"}}},
        {"model",
         {{"type", "BPE"},
          {"dropout", nullptr},
          {"unk_token", nullptr},
          {"continuing_subword_prefix", ""},
          {"end_of_word_suffix", ""},
          {"fuse_unk", false},
          {"byte_fallback", false},
          {"ignore_merges", false},
          {"vocab", vocab},
          {"merges", json::array({json::array({"h", "e"}), json::array({"l", "l"}), json::array({"he", "ll"}),
                                  json::array({bl(" "), "h"})})}}},
    };
}

Tokenizer load(const json& j) {
    return Tokenizer::from_json_text(j.dump(), {}, "tiny.json");
}

TEST(TokenizerTiny, EncodesAndDecodes) {
    const Tokenizer tok = load(tiny_tokenizer());
    EXPECT_EQ(tok.encode("hello"), (std::vector<int32_t>{258, 'o'}));
    // " hello": (h,e) rank 0, (l,l) 1, (he,ll) 2 leave no room for (Ġ,h) rank 3.
    EXPECT_EQ(tok.encode("hello hello<|end|>"), (std::vector<int32_t>{258, 'o', ' ', 258, 'o', 260}));
    EXPECT_EQ(tok.encode(" he"), (std::vector<int32_t>{' ', 256}));  // rank 0 first
    EXPECT_EQ(tok.encode(" h"), (std::vector<int32_t>{259}));
    EXPECT_EQ(tok.decode(tok.encode("hello hello<|end|>")), "hello hello<|end|>");
    EXPECT_EQ(tok.decode(tok.encode("hello<|end|>"), /*skip_special_tokens=*/true), "hello");
    EXPECT_EQ(tok.encode(""), std::vector<int32_t>{});
    EXPECT_EQ(tok.vocab_size(), 261u);
    EXPECT_TRUE(tok.is_special(260));
}

TEST(TokenizerErrors, MissingFiles) {
    EXPECT_ERROR_CONTAINS(Tokenizer::from_file("/nonexistent/tokenizer.json"), "/nonexistent/tokenizer.json");
    EXPECT_ERROR_CONTAINS(Tokenizer::from_dir("/nonexistent"), "no tokenizer.json", "/nonexistent");
    const auto dir = qinfer::test::make_temp_dir("tok_missing_cfg");
    qinfer::test::write_text(dir / "tokenizer.json", tiny_tokenizer().dump());
    EXPECT_ERROR_CONTAINS(Tokenizer::from_file(dir / "tokenizer.json", dir / "tokenizer_config.json"),
                          "tokenizer_config.json");
    // A directory without tokenizer_config.json is fine.
    EXPECT_EQ(Tokenizer::from_dir(dir).encode("hello"), (std::vector<int32_t>{258, 'o'}));
}

TEST(TokenizerErrors, InvalidJson) {
    EXPECT_ERROR_CONTAINS(Tokenizer::from_json_text("{\"model\": ", {}, "broken.json"), "broken.json", "invalid JSON");
    EXPECT_ERROR_CONTAINS(Tokenizer::from_json_text(tiny_tokenizer().dump(), "[1", "tiny.json", "cfg.json"), "cfg.json",
                          "invalid JSON");
}

TEST(TokenizerErrors, UnsupportedModelType) {
    json j = tiny_tokenizer();
    j["model"]["type"] = "Unigram";
    EXPECT_ERROR_CONTAINS(load(j), "tiny.json", "model.type", "Unigram", "BPE");
    j["model"]["type"] = "WordPiece";
    EXPECT_ERROR_CONTAINS(load(j), "model.type", "WordPiece");
    j = tiny_tokenizer();
    j.erase("model");
    EXPECT_ERROR_CONTAINS(load(j), "tiny.json", "model");
}

TEST(TokenizerErrors, UnsupportedModelOptions) {
    json j = tiny_tokenizer();
    j["model"]["dropout"] = 0.1;
    EXPECT_ERROR_CONTAINS(load(j), "model.dropout");
    j = tiny_tokenizer();
    j["model"]["byte_fallback"] = true;
    EXPECT_ERROR_CONTAINS(load(j), "model.byte_fallback");
    j = tiny_tokenizer();
    j["model"]["continuing_subword_prefix"] = "##";
    EXPECT_ERROR_CONTAINS(load(j), "model.continuing_subword_prefix", "##");
    j = tiny_tokenizer();
    j["model"]["dropout"] = 0.0;  // zero dropout is no dropout
    EXPECT_NO_THROW(load(j));
}

TEST(TokenizerErrors, BadVocabAndMerges) {
    json j = tiny_tokenizer();
    j["model"]["merges"].push_back(json::array({"x", "nope"}));
    EXPECT_ERROR_CONTAINS(load(j), "model.merges[4]", "nope", "not in model.vocab");
    j = tiny_tokenizer();
    j["model"]["merges"].push_back("h e l");
    EXPECT_ERROR_CONTAINS(load(j), "model.merges[4]", "exactly one space");
    j = tiny_tokenizer();
    j["model"]["merges"].push_back(json::array({"l", "o"}));  // "lo" is not in the vocab
    EXPECT_ERROR_CONTAINS(load(j), "model.merges[4]", "\"lo\"");
    j = tiny_tokenizer();
    j["model"]["vocab"]["dup"] = 5;
    EXPECT_ERROR_CONTAINS(load(j), "model.vocab", "id 5");
    j = tiny_tokenizer();
    j["model"]["vocab"]["neg"] = -1;
    EXPECT_ERROR_CONTAINS(load(j), "model.vocab", "neg");
    // Legacy "a b" merges are accepted.
    j = tiny_tokenizer();
    j["model"]["merges"] = json::array({"h e", "l l", "he ll", bl(" ") + " h"});
    EXPECT_EQ(load(j).encode("hello hello"), (std::vector<int32_t>{258, 'o', ' ', 258, 'o'}));
}

TEST(TokenizerErrors, MissingByteAndUnkToken) {
    // A byte whose character is not in the vocab is dropped when there is no unk_token (HF merge_word), and an
    // unk_token that is not in the vocab fails only when it is needed, naming the field (HF: "Unk token `<nope>`
    // not found in the vocabulary").
    json j = tiny_tokenizer();
    j["model"]["vocab"].erase("x");
    j["added_tokens"] = json::array();  // HF would number <|end|> len(vocab) = 259 now
    EXPECT_EQ(load(j).encode("hxe"), (std::vector<int32_t>{256}));  // one piece: the neighbours even merge
    j["model"]["unk_token"] = "<nope>";
    const Tokenizer tok = load(j);
    EXPECT_EQ(tok.encode("he"), (std::vector<int32_t>{256}));
    EXPECT_ERROR_CONTAINS(tok.encode("hxe"), "tiny.json", "model.unk_token", "<nope>");
}

TEST(TokenizerErrors, UnsupportedNormalizer) {
    json j = tiny_tokenizer();
    j["normalizer"] = {{"type", "Lowercase"}};
    EXPECT_ERROR_CONTAINS(load(j), "tiny.json", "normalizer.type", "Lowercase", "NFC");
    j["normalizer"] = {{"type", "Sequence"}, {"normalizers", json::array({{{"type", "NFC"}}, {{"type", "Strip"}}})}};
    EXPECT_ERROR_CONTAINS(load(j), "normalizer.normalizers[1].type", "Strip");
}

TEST(TokenizerErrors, UnsupportedPreTokenizer) {
    json j = tiny_tokenizer();
    j["pre_tokenizer"]["pretokenizers"][0] = {{"type", "Metaspace"}};
    EXPECT_ERROR_CONTAINS(load(j), "pre_tokenizer.pretokenizers[0].type", "Metaspace");
    j = tiny_tokenizer();
    j["pre_tokenizer"] = nullptr;
    EXPECT_ERROR_CONTAINS(load(j), "tiny.json", "pre_tokenizer", "ByteLevel");
    j = tiny_tokenizer();
    j["pre_tokenizer"]["pretokenizers"].erase(1);  // no ByteLevel: not byte-level BPE
    EXPECT_ERROR_CONTAINS(load(j), "pre_tokenizer", "ByteLevel");
    j = tiny_tokenizer();
    j["pre_tokenizer"]["pretokenizers"].push_back(j["pre_tokenizer"]["pretokenizers"][0]);  // Split after ByteLevel
    EXPECT_ERROR_CONTAINS(load(j), "pre_tokenizer.pretokenizers[2].type", "after ByteLevel");
    j = tiny_tokenizer();
    j["pre_tokenizer"]["pretokenizers"][0]["pattern"]["Regex"] = R"(\w+)";
    EXPECT_ERROR_CONTAINS(load(j), "pre_tokenizer.pretokenizers[0].pattern.Regex", "\\w");
    j["pre_tokenizer"]["pretokenizers"][0]["pattern"]["Regex"] = "(unclosed";
    EXPECT_ERROR_CONTAINS(load(j), "pre_tokenizer.pretokenizers[0].pattern.Regex", "cannot compile", "(unclosed");
    j = tiny_tokenizer();
    j["pre_tokenizer"]["pretokenizers"][0]["behavior"] = "Sideways";
    EXPECT_ERROR_CONTAINS(load(j), "pre_tokenizer.pretokenizers[0].behavior", "Sideways");
}

TEST(TokenizerErrors, UnsupportedDecoderAndPostProcessor) {
    json j = tiny_tokenizer();
    j["decoder"] = {{"type", "WordPiece"}};
    EXPECT_ERROR_CONTAINS(load(j), "decoder.type", "WordPiece", "ByteLevel");
    j["decoder"] = nullptr;
    EXPECT_ERROR_CONTAINS(load(j), "tiny.json", "decoder");
    j = tiny_tokenizer();
    j["post_processor"] = {{"type", "ChatML"}};
    EXPECT_ERROR_CONTAINS(load(j), "post_processor.type", "ChatML");
    j["post_processor"] = {{"type", "TemplateProcessing"},
                           {"single", json::array({{{"SpecialToken", {{"id", "<x>"}, {"type_id", 0}}}},
                                                   {{"Sequence", {{"id", "A"}, {"type_id", 0}}}}})},
                           {"pair", json::array()},
                           {"special_tokens", json::object()}};
    EXPECT_ERROR_CONTAINS(load(j), "post_processor.single[0].SpecialToken", "<x>");
}

TEST(TokenizerErrors, AddedTokens) {
    json j = tiny_tokenizer();
    j["added_tokens"][0]["id"] = 300;  // HF would give it id 260 (the next one after the vocab)
    EXPECT_ERROR_CONTAINS(load(j), "added_tokens[0].id", "300", "260");
    j = tiny_tokenizer();
    j["added_tokens"].push_back(j["added_tokens"][0]);
    j["added_tokens"][1]["id"] = 261;
    EXPECT_ERROR_CONTAINS(load(j), "added_tokens[1].content", "repeated");
    j = tiny_tokenizer();
    j["added_tokens"][0].erase("content");
    EXPECT_ERROR_CONTAINS(load(j), "added_tokens[0]", "content");
    // An added token that is already a vocab token keeps the vocab id.
    j = tiny_tokenizer();
    j["added_tokens"].push_back({{"id", 258}, {"content", "hell"}, {"special", true}, {"normalized", false}});
    const Tokenizer tok = load(j);
    EXPECT_TRUE(tok.is_special(258));
    EXPECT_EQ(tok.decode(tok.encode("hello"), /*skip_special_tokens=*/true), "o");
}

TEST(TokenizerErrors, ConfigFields) {
    const std::string tj = tiny_tokenizer().dump();
    EXPECT_ERROR_CONTAINS(Tokenizer::from_json_text(tj, R"({"eos_token": 5})", "tiny.json", "cfg.json"), "cfg.json",
                          "eos_token");
    // Named tokens missing from tokenizer.json are added as special tokens (transformers does the same).
    const Tokenizer tok =
        Tokenizer::from_json_text(tj, R"({"eos_token": "<|end|>", "bos_token": "<s>"})", "tiny.json", "cfg.json");
    EXPECT_EQ(tok.eos_token_id(), 260);
    EXPECT_EQ(tok.bos_token_id(), 261);
    EXPECT_EQ(tok.encode("<s>hello"), (std::vector<int32_t>{261, 258, 'o'}));
}

TEST(TokenizerErrors, EncodeRejectsInvalidUtf8) {
    const Tokenizer tok = load(tiny_tokenizer());
    EXPECT_ERROR_CONTAINS(tok.encode("ok\xE4\xB8"), "not valid UTF-8", "byte offset 2");
    EXPECT_ERROR_CONTAINS(tok.encode("\xFF"), "not valid UTF-8", "byte offset 0");
    EXPECT_ERROR_CONTAINS(tok.id_to_token(9999), "9999");
}

}  // namespace
}  // namespace qinfer::tok
