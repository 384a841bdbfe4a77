#!/usr/bin/env python3
"""Writes the tokenizer goldens of tests/tokenizer/data/ from HF `tokenizers` (and checks them with transformers).

Run with the HF virtualenv (tokenizers 0.23, transformers 5.17):

    /opt/hfvenv/bin/python tools/tokenizer/make_tokenizer_goldens.py [--qwen-dir ../shared/data/qwen3-tokenizer]

Outputs (all small, committed):
  qwen3_encode.json     corpus + fuzz strings -> ids of the real Qwen3 tokenizer, with NFC(text) for round trips
  qwen3_decode.json     id sequences (incl. split UTF-8 bytes, special and unknown ids) -> text, skip true/false
  synthetic_*/          tiny byte-level BPE tokenizers trained here, exercising every supported component and
                        added-token flag (lstrip, rstrip, single_word, normalized, special)
  synthetic_goldens.json  encode / decode goldens of the synthetic tokenizers

Every id list comes from tokenizers.Tokenizer.encode(text, add_special_tokens=...).ids and is checked to equal
transformers' AutoTokenizer / PreTrainedTokenizerFast encode(); the script stops if they disagree.
"""

import argparse
import json
import random
import shutil
import unicodedata
from pathlib import Path

from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "tokenizer" / "data"

QWEN35_REGEX = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?[\p{L}\p{M}]+|\p{N}| ?[^\s\p{L}\p{M}\p{N}]+[\r\n]*|"
    r"\s*[\r\n]+|\s+(?!\S)|\s+"
)

ENGLISH = (
    "The quick brown fox jumps over the lazy dog. It wasn't the first time; the dog didn't mind.\n"
    "In 1969, Neil Armstrong said: \"That's one small step for man, one giant leap for mankind.\" "
    "Tokenizers split text into pieces, then merge bytes by rank until no merge applies.\n"
    "She'll be there at 10:30 a.m. -- won't she? They're sure we've met; I'm not. He'd've known.\n"
)

CODE = (
    "#include <vector>\n\nint main(int argc, char** argv) {\n\tstd::vector<int> v{1, 2, 3};\n"
    "\tfor (auto& x : v) x *= 2;  // double\n\treturn v.size() > 2 ? 0 : 1;\n}\n"
    "def f(x):\n    if x <= 0:\n        return {'a': [1, 2.5e-3], \"b\": None}\n    return f(x - 1)\r\n"
    "{\"key\": [true, false, null], \"n\": -12345.678}\n    \t  mixed\t\tindent\n"
)

CORPUS = [
    ("empty", ""),
    ("english", ENGLISH),
    ("code", CODE),
    ("chinese", "你好，世界！今天的天气很好。我们一起去公园散步吧。机器学习是人工智能的一个分支。"),
    ("japanese", "こんにちは、世界。カタカナとひらがなと漢字を混ぜて書きます。東京は日本の首都です。"),
    ("korean", "안녕하세요, 세계! 한국어 문장을 토큰화합니다."),
    ("arabic", "مرحبا بالعالم! هذه جملة باللغة العربية، والأرقام ١٢٣ و ٤٥٦."),
    ("hebrew", "שלום עולם! זה משפט בעברית."),
    ("hindi", "नमस्ते दुनिया! हिन्दी में वाक्य लिखना।"),
    ("thai", "สวัสดีชาวโลก ภาษาไทยไม่มีช่องว่างระหว่างคำ"),
    ("russian", "Привет, мир! Съешь же ещё этих мягких французских булок."),
    ("greek", "Γειά σου Κόσμε! Ωραία μέρα."),
    ("emoji", "I ❤️ tokens 😀😃😄 👍🏽 👨‍👩‍👧‍👦 👩🏾‍💻 🏳️‍🌈 1️⃣ #️⃣"),
    ("flags", "🇺🇸🇯🇵🇩🇪🇫🇷 🇬🇧 flags🇨🇳!"),
    ("combining_e", "cafe\u0301 e\u0301le\u0301gant re\u0301sume\u0301"),
    ("hangul_jamo", "\u1100\u1161\u11a8 \u1112\u1161\u11ab\u1100\u1173\u11af"),
    ("nfc_singletons", "\u212b \u2126 \u212a A\u030a"),
    ("combining_order", "q\u0307\u0323 a\u0323\u0301\u0300 x\u0301\u0316"),
    ("combining_alone", "\u0301\u0302 after space \u0301"),
    # Characters HF's NFC data (Unicode 9.0) does not know: U+1715 (ccc 9 since 14.0) is not reordered before
    # U+0327; U+11935 U+11930 (13.0) do not compose to U+11938; U+1ABF (13.0, ccc 220) is not reordered.
    ("unicode_after_9", "\u2f7f\u0327\u1715 x\u0301\u1715 \U00011935\U00011930 e\u0301\u1abf a\u1abf\u0323"),
    ("whitespace_runs", "a  b   c    d\t\te \n\n\nf   \n   g      "),
    ("crlf", "line one\r\nline two\r\n\r\nline four\rline five\n\r"),
    ("only_spaces", "     "),
    ("only_newlines", "\n\n\n"),
    ("leading_trailing", "   leading and trailing   "),
    ("numbers", "0 1 12 123 1234567890 3.14159 1,000,000 -42 +7 1e10 0x1F"),
    ("long_digits", "31415926535897932384626433832795028841971693993751058209749445923078164062862089986280348"),
    ("unicode_digits", "٣٤٥ ½ ² ⅷ ①②③ ４２"),
    ("special_lookalikes", "<|im_start <|endoftext|>x < |im_end|> <|im_end| |im_end|> <<|im_end|>> <|IM_END|>"),
    ("special_real", "Hello<|im_end|>world<|endoftext|><|endoftext|> <|im_start|> x"),
    ("chat", "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nHi!<|im_end|>\n"
             "<|im_start|>assistant\n<think>\n\n</think>\n\nHello!<|im_end|>"),
    ("added_nonspecial", "<tool_call>{\"name\": \"f\"}</tool_call> <think>hmm</think><|fim_prefix|>a<|fim_suffix|>"),
    ("special_then_combining", "<|im_end|>\u0301x <|im_start|>e\u0301"),
    ("contractions", "don't DON'T 'll I'M we'Re it's 'S 'ſ He'd've y'all o'clock ''s"),
    ("unicode_spaces", "a\u00a0b a\u3000b x\u2009y \u00a0\u00a0 a\u180eb \u2028 \u0085 \ufeffbom z\u200bw"),
    ("math_letters", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 𝐀𝐁𝐂 ∑∫√∞ ≤≥≠"),
    ("private_use", "\ue000\uf8ff \U000f0000"),
    ("mixed_scripts", "English中文日本語한국어العربيةעבריתहिन्दीРусский"),
    ("punctuation", "!!! ??? ... --- ((())) [[]] {{}} \"'\" `code` ~tilde~ @user #tag $5 %20 ^ & * _ = + \\ / |"),
    ("url_email", "https://example.com/path?q=1&r=two#frag user.name+tag@example.co.uk"),
    ("repeat_a", "a" * 5000),
    ("repeat_spaces", " " * 3000 + "x"),
    ("repeat_ab", "ab" * 2000),
    ("repeat_newlines", "\n" * 500),
    ("repeat_bang", "!" * 1000),
    ("repeat_digits", "1" * 300),
    ("repeat_e_acute", "é" * 1000),
    ("repeat_cjk", "中" * 500),
    ("repeat_emoji", "😀" * 300),
]

FUZZ_ATOMS = [
    " ", " ", " ", "\t", "\n", "\r", "\r\n", "a", "Z", "é", "e", "\u0301", "\u0323", "1", "٣", "'", "s", "S", "ſ",
    "l", "L", "d", "t", "re", "VE", "<", "|", ">", "i", "m", "_", "中", "😀", "\u200d", "\u00a0", "\u3000", "\u180e",
    "!", ".", "-", "\u0915", "\u093f", "ǅ", "ー", "\u2028", "\u0085", "<|im_end|>", "<think>", "<|endoftext|>", "K",
    "\u1100", "\u1161", "🇺", "🇸", "x", "y", "ß", "İ",
]

SYN_FUZZ_ATOMS = FUZZ_ATOMS + [
    "<L>", "<R>", "<LR>", "word", "words", "café", "cafe\u0301", "Cafe\u0301!", "Café!", "e\u0301x", "éx",
    "hello world", "<tok>", "<tok>ext", "ÿ", "[MASK]", "<s>", "</s>", "\x01", "\x02", "-", "7", "42",
]


def fuzz_strings(atoms, n, seed):
    rng = random.Random(seed)
    return ["".join(rng.choice(atoms) for _ in range(rng.randint(1, 24))) for _ in range(n)]


def bytes_to_unicode():
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, map(chr, cs)))


def compact(obj, depth=0):
    """JSON with one golden case per line: small files and readable diffs."""
    if isinstance(obj, dict) and depth < 2:
        pad = " " * (depth + 1)
        items = [f"{pad}{json.dumps(k, ensure_ascii=False)}: {compact(v, depth + 1)}" for k, v in obj.items()]
        return "{\n" + ",\n".join(items) + "\n" + " " * depth + "}"
    if isinstance(obj, list) and obj and all(isinstance(x, dict) for x in obj):
        pad = " " * (depth + 1)
        return "[\n" + ",\n".join(pad + json.dumps(x, ensure_ascii=False) for x in obj) + "\n" + " " * depth + "]"
    return json.dumps(obj, ensure_ascii=False)


def write_json(path, obj, indent=True):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write(compact(obj) if indent else json.dumps(obj, ensure_ascii=False, indent=1))
        f.write("\n")


# ---------------------------------------------------------------- real Qwen3


def qwen_goldens(qwen_dir):
    from transformers import AutoTokenizer

    tok = Tokenizer.from_file(str(qwen_dir / "tokenizer.json"))
    hf = AutoTokenizer.from_pretrained(str(qwen_dir))
    texts = list(CORPUS) + [(f"fuzz{i}", s) for i, s in enumerate(fuzz_strings(FUZZ_ATOMS, 300, 1234))]
    cases = []
    for name, text in texts:
        ids = tok.encode(text, add_special_tokens=False).ids
        assert hf.encode(text, add_special_tokens=False) == ids, f"transformers disagrees on {name!r}"
        # Qwen's post-processor adds nothing.
        assert tok.encode(text, add_special_tokens=True).ids == ids, name
        assert hf.encode(text, add_special_tokens=True) == ids, name
        roundtrip = tok.decode(ids, skip_special_tokens=False)
        assert roundtrip == hf.decode(ids, skip_special_tokens=False), name
        # Added tokens are cut out before NFC, so NFC applies piecewise; only special_then_combining cares.
        # HF's NFC uses Unicode 9.0 data; Python's unicodedata agrees except on characters assigned later.
        if name != "special_then_combining":
            assert roundtrip == tok.normalizer.normalize_str(text), f"round trip of {name!r}"
            assert name == "unicode_after_9" or roundtrip == unicodedata.normalize("NFC", text), name
        cases.append({"name": name, "text": text, "ids": ids, "decoded": roundtrip})
    write_json(DATA / "qwen3_encode.json", {"tokenizer": "qwen3", "cases": cases})

    # Decode goldens: byte tokens split across UTF-8 sequences, specials, unknown ids.
    b2u = bytes_to_unicode()
    bid = lambda b: tok.token_to_id(b2u[b])  # noqa: E731
    sp = {t: tok.token_to_id(t) for t in ["<|im_start|>", "<|im_end|>", "<|endoftext|>", "<think>", "</think>"]}
    zhong = list("中".encode())  # E4 B8 AD
    grin = list("😀".encode())  # F0 9F 98 80
    seqs = {
        "split_char_complete": [bid(b) for b in zhong],
        "split_char_truncated_end": [bid(zhong[0]), bid(zhong[1])],
        "split_char_interrupted": [bid(zhong[0]), bid(zhong[1]), bid(ord("A")), bid(zhong[2])],
        "lone_continuation": [bid(0x80), bid(0xBF), bid(ord("x"))],
        "four_byte_truncated": [bid(b) for b in grin[:3]],
        "four_byte_complete": [bid(b) for b in grin],
        "special_inside_char": [bid(zhong[0]), bid(zhong[1]), sp["<|im_end|>"], bid(zhong[2])],
        "nonspecial_inside_char": [bid(zhong[0]), sp["<think>"], bid(zhong[1]), bid(zhong[2])],
        "invalid_leads": [bid(0xC0), bid(0xC1), bid(0xF5), bid(0xFF), bid(ord("a"))],
        "overlong_and_surrogate": [bid(0xE0), bid(0x80), bid(0x80), bid(0xED), bid(0xA0), bid(0x80)],
        "above_max": [bid(0xF4), bid(0x90), bid(0x80), bid(0x80)],
        "unknown_ids": [bid(ord("h")), 151669, 999999, bid(ord("i")), -1],
        "chat": tok.encode(CORPUS[29][1]).ids,
        "specials_only": [sp["<|im_start|>"], sp["<|im_end|>"], sp["<|endoftext|>"]],
        "text_and_specials": tok.encode("<|im_start|>user\nhé 中😀<|im_end|><think>x</think>").ids,
        "empty": [],
    }
    rng = random.Random(99)
    for i in range(40):
        # Random byte-level tokens over multibyte text, shuffled locally to break characters.
        ids = tok.encode("".join(rng.choice(["中", "😀", "é", "ab", " ", "\n", "<|im_end|>", "ß"]) for _ in range(8))).ids
        raw = [bid(b) for b in bytes(rng.choice(list("中😀éß")).encode())]
        pos = rng.randint(0, len(ids))
        ids = ids[:pos] + raw[: rng.randint(1, len(raw))] + ids[pos:]
        seqs[f"random{i}"] = ids
    cases = []
    for name, ids in seqs.items():
        for skip in (False, True):
            text = tok.decode([i for i in ids if i >= 0], skip_special_tokens=skip)
            # transformers maps unknown ids through the same Rust decode (negative ids cannot reach it).
            assert hf.decode([i for i in ids if i >= 0], skip_special_tokens=skip) == text, name
            cases.append({"name": name, "ids": ids, "skip_special_tokens": skip, "text": text})
    write_json(DATA / "qwen3_decode.json", {"tokenizer": "qwen3", "cases": cases})
    print(f"qwen3: {len(texts)} encode cases, {len(cases)} decode cases")


# ---------------------------------------------------------------- synthetic tokenizers


def train_corpus():
    lines = []
    for _, text in CORPUS:
        if len(text) < 400:
            lines += text.split("\n")
    lines += ENGLISH.split("\n") * 5 + CODE.split("\n") * 3
    lines += ["hello world, words and more words; café au lait", "the word is the thing"] * 5
    return [line for line in lines if line]


def train(pre_tokenizer, normalizer, special_tokens, vocab_size):
    tok = Tokenizer(models.BPE())
    tok.normalizer = normalizer
    tok.pre_tokenizer = pre_tokenizer
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        min_frequency=2,
        special_tokens=special_tokens,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(train_corpus(), trainer=trainer)
    return tok


def make_synthetic_qwen35():
    """Qwen3.5-style pipeline (its regex has \\p{M}) with one added token per flag combination."""
    tok = train(
        pre_tokenizers.Sequence(
            [
                pre_tokenizers.Split(Regex(QWEN35_REGEX), behavior="isolated", invert=False),
                pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
            ]
        ),
        normalizers.NFC(),
        [],
        520,
    )
    tok.post_processor = processors.ByteLevel(trim_offsets=False)
    tok.add_special_tokens(
        [
            AddedToken("<|endoftext|>", special=True, normalized=False),
            AddedToken("<|im_start|>", special=True, normalized=False),
            AddedToken("<|im_end|>", special=True, normalized=False),
        ]
    )
    tok.add_tokens(
        [
            AddedToken("<L>", lstrip=True, normalized=False),
            AddedToken("<R>", rstrip=True, normalized=False),
        ]
    )
    tok.add_special_tokens([AddedToken("<LR>", lstrip=True, rstrip=True, special=True, normalized=False)])
    tok.add_tokens(
        [
            AddedToken("word", single_word=True, normalized=False),
            AddedToken("café", normalized=True),  # precomposed; matches "cafe\u0301" after NFC
            AddedToken("Cafe\u0301!", normalized=True),  # content itself not NFC: matched as "Café!"
            AddedToken("e\u0301x", normalized=False),  # raw-only: "éx" does not match
            AddedToken("hello world", normalized=False),  # a plain space: decoded as is
            AddedToken("<tok>", normalized=False),
            AddedToken("<tok>ext", normalized=False),  # leftmost-longest
            AddedToken("ÿ", normalized=False),  # a byte-level character: keeps its vocab id, decodes to byte 0xFF
        ]
    )
    tok.add_special_tokens([AddedToken("[MASK]", special=True, normalized=True, lstrip=True)])
    return json.loads(tok.to_str())


def make_synthetic_gpt2():
    """GPT-2 style: ByteLevel(add_prefix_space, use_regex), legacy "a b" merges, ignore_merges, unk with fuse_unk
    (bytes 0x01-0x03 removed from the vocab), TemplateProcessing."""
    tok = train(pre_tokenizers.ByteLevel(add_prefix_space=True, use_regex=True), None, ["<unk>", "<s>", "</s>", "<pad>"],
                480)
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>", pair="<s> $A </s> $B:1 </s>:1", special_tokens=[("<s>", 1), ("</s>", 2)]
    )
    j = json.loads(tok.to_str())
    b2u = bytes_to_unicode()
    for b in (1, 2, 3):
        del j["model"]["vocab"][b2u[b]]
    # Renumber densely (HF numbers new added tokens from len(vocab), which must not collide with a vocab id).
    order = sorted(j["model"]["vocab"].items(), key=lambda kv: kv[1])
    j["model"]["vocab"] = {t: i for i, (t, _) in enumerate(order)}
    assert all(j["model"]["vocab"][t["content"]] == t["id"] for t in j["added_tokens"])
    j["model"]["unk_token"] = "<unk>"
    j["model"]["fuse_unk"] = True
    j["model"]["ignore_merges"] = True
    j["model"]["merges"] = [" ".join(m) for m in j["model"]["merges"]]
    # A non-special added token that tokenizer_config.json names as special: transformers leaves it non-special.
    j["added_tokens"].append({"id": len(j["model"]["vocab"]), "content": "<plain>", "single_word": False,
                              "lstrip": False, "rstrip": False, "normalized": False, "special": False})
    config = {
        "tokenizer_class": "PreTrainedTokenizerFast",
        "bos_token": "<s>",
        "eos_token": "</s>",
        "unk_token": "<unk>",
        "pad_token": "<pad>",
        "add_bos_token": False,  # ignored by transformers 5 (there is a tokenizer.json)
        "add_eos_token": True,
        "additional_special_tokens": ["<extra>", "<plain>"],
        "clean_up_tokenization_spaces": False,
    }
    return j, config


def make_synthetic_splits(gpt2_json):
    """The GPT-2 model behind a pre-tokenizer that uses every Split behavior, plus NFD+NFKC and Roberta."""
    j = json.loads(json.dumps(gpt2_json))
    j["normalizer"] = {"type": "Sequence", "normalizers": [{"type": "NFD"}, {"type": "NFKC"}]}
    j["pre_tokenizer"] = {
        "type": "Sequence",
        "pretokenizers": [
            {"type": "Split", "pattern": {"String": "-"}, "behavior": "MergedWithPrevious", "invert": False},
            {"type": "Split", "pattern": {"Regex": "\\d"}, "behavior": "Contiguous", "invert": False},
            {"type": "Split", "pattern": {"Regex": "\\s+"}, "behavior": "Removed", "invert": False},
            {"type": "Split", "pattern": {"Regex": "[aeiou]"}, "behavior": "MergedWithNext", "invert": True},
            {"type": "Split", "pattern": {"String": "|"}, "behavior": "Isolated", "invert": False},
            {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": False},
        ],
    }
    j["decoder"] = {"type": "Sequence", "decoders": [{"type": "ByteLevel", "add_prefix_space": True,
                                                      "trim_offsets": True, "use_regex": True}]}
    j["post_processor"] = {
        "type": "Sequence",
        "processors": [
            {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": False, "use_regex": True},
            {"type": "RobertaProcessing", "sep": ["</s>", 2], "cls": ["<s>", 1], "trim_offsets": True,
             "add_prefix_space": True},
        ],
    }
    j["model"]["ignore_merges"] = False
    return j


def synthetic_goldens():
    from transformers import AutoTokenizer, PreTrainedTokenizerFast

    out = {}
    qwen35 = make_synthetic_qwen35()
    gpt2, gpt2_config = make_synthetic_gpt2()
    splits = make_synthetic_splits(gpt2)
    variants = {"synthetic_qwen35": (qwen35, None), "synthetic_gpt2": (gpt2, gpt2_config),
                "synthetic_splits": (splits, None)}
    texts = [t for _, t in CORPUS if len(t) < 300] + [
        "a <L> b <L><L>   <L>c", "x <R>   y<R>\n\nz<R>", "p  <LR>  q <LR><LR> r", "word words sword word_ _word",
        "a word, (word) wordy", "word", " word ", "café cafe\u0301 Café! Cafe\u0301! cafe\u0301!",
        "e\u0301x éx xe\u0301x", "hello world helloworld hello  world", "<tok> <tok>ext <tok>ex <tok><tok>ext",
        "ÿ ÿÿ", "x [MASK] y   [MASK][MASK]", "<|im_start|>user\nhi<LR>there<|im_end|>",
        "\x01\x02\x03 a\x01b \x01", "a-b--c 123-456 x|y||z", "Ⅻ ﬁ ℌ ｆｕｌｌ", "<s>hi</s> <pad> <unk>", "a<extra>b <plain> <extra><plain>",
    ] + fuzz_strings(SYN_FUZZ_ATOMS, 150, 777)

    for name, (j, config) in variants.items():
        d = DATA / name
        if d.exists():
            shutil.rmtree(d)
        write_json(d / "tokenizer.json", j, indent=False)
        if config is not None:
            write_json(d / "tokenizer_config.json", config, indent=False)
        tok = Tokenizer.from_file(str(d / "tokenizer.json"))
        if config is not None:
            hf = AutoTokenizer.from_pretrained(str(d))
        else:
            hf = PreTrainedTokenizerFast(tokenizer_file=str(d / "tokenizer.json"))
        if config is not None:
            # tokenizer_config.json adds tokens (transformers' _post_init): take the backend transformers built.
            tok = hf._tokenizer
        enc = []
        for text in texts:
            ids = tok.encode(text, add_special_tokens=False).ids
            assert hf.encode(text, add_special_tokens=False) == ids, (name, text)
            with_special = tok.encode(text, add_special_tokens=True).ids
            # transformers 5 ignores add_bos_token/add_eos_token when there is a tokenizer.json.
            assert hf.encode(text, add_special_tokens=True) == with_special, (name, text)
            enc.append({"text": text, "ids": ids, "ids_with_special": with_special})
        dec = []
        rng = random.Random(5)
        vocab_n = hf._tokenizer.get_vocab_size()  # with the tokens tokenizer_config.json adds
        id_lists = [e["ids"] for e in enc[:60]] + [[rng.randrange(vocab_n + 3) for _ in range(rng.randint(1, 12))]
                                                    for _ in range(60)]
        for ids in id_lists:
            for skip in (False, True):
                text = tok.decode(ids, skip_special_tokens=skip)
                assert hf.decode(ids, skip_special_tokens=skip) == text, (name, ids)
                dec.append({"ids": ids, "skip_special_tokens": skip, "text": text})
        specials = sorted(i for i, t in hf._tokenizer.get_added_tokens_decoder().items() if t.special)
        out[name] = {"config": config is not None, "encode": enc, "decode": dec, "vocab_size": vocab_n,
                     "special_ids": specials,
                     "bos_token_id": hf.bos_token_id if config is not None else None,
                     "eos_token_id": hf.eos_token_id if config is not None else None}
        print(f"{name}: vocab {vocab_n}, {len(enc)} encode cases, {len(dec)} decode cases")
    write_json(DATA / "synthetic_goldens.json", out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--qwen-dir", type=Path, default=ROOT.parent / "shared" / "data" / "qwen3-tokenizer")
    args = ap.parse_args()
    qwen_goldens(args.qwen_dir)
    synthetic_goldens()


if __name__ == "__main__":
    main()
