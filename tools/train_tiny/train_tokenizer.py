#!/usr/bin/env python3
"""Train the byte-level BPE tokenizer of the tiny Qwen3.5 models and export the training corpus.

Corpus: the *.py files of a CPython standard library (default: the running interpreter's, i.e.
sysconfig.get_paths()["stdlib"]; Python Software Foundation License). Files are listed recursively, sorted by their
POSIX relative path (byte order), `site-packages`, `dist-packages` and `__pycache__` directories are skipped, each file
is read as UTF-8 (`_sysconfigdata*.py`, generated per build machine, are skipped too) (files that do not decode, or that contain one of the special-token strings, are skipped and listed
in the manifest). Split by file: the file with sorted index i goes to the held-out set iff i % 20 == 19 (every 20th
file, 5 %), all others to the training set. The tokenizer is trained on the training files only.

Tokenizer = the Qwen3 tokenizer's pipeline with a smaller vocabulary:
  normalizer     NFC
  pre-tokenizer  Sequence[Split(Regex(QWEN_REGEX), behavior=isolated), ByteLevel(add_prefix_space=False,
                 trim_offsets=False, use_regex=False)]
  model          BPE (no unk, no dropout, byte-level alphabet of 256 symbols always present)
  post-processor ByteLevel(add_prefix_space=False, trim_offsets=False, use_regex=False)
  decoder        ByteLevel(add_prefix_space=False, trim_offsets=False, use_regex=False)
  added tokens   the 26 added tokens of Qwen3 (same contents and flags, same order) directly after the BPE vocabulary,
                 so ids [vocab_size-26, vocab_size) exactly like Qwen3's 151643..151668.
tokenizer_config.json mirrors Qwen3's (Qwen2Tokenizer, ChatML chat template = the real Qwen3 template, copied
verbatim into qwen3_chat_template.jinja) except eos_token = "<|endoftext|>" (these are base models trained on plain
text: every document ends with <|endoftext|>).

Outputs
  --out DIR        tokenizer.json, tokenizer_config.json
  --corpus-out DIR train.txt, heldout.txt (documents joined by "<|endoftext|>"; stay OUT of the repository),
                   heldout_sample.txt (held-out files in sorted order, whole files only, skipping encodings/* codec
                   tables and any file that would push the total over --sample-bytes (default 200 KB); joined by
                   "<|endoftext|>"; small enough to commit for perplexity tests), manifest.json (file lists, split
                   rule, sha256 sums)

Usage: python3 train_tokenizer.py --out DIR --corpus-out DIR [--stdlib DIR] [--vocab-size 6144] [--smoke]
"""
import argparse
import hashlib
import json
import os
import sys
import sysconfig
import time

from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, \
    trainers

HERE = os.path.dirname(os.path.abspath(__file__))

# Qwen2/Qwen3 pre-tokenizer regex (tokenizer.json -> pre_tokenizer.pretokenizers[0].pattern.Regex).
QWEN_REGEX = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+"
              r"|\s+(?!\S)|\s+")

# The 26 added tokens of the Qwen3 tokenizer, in id order, with their `special` flag (single_word, lstrip, rstrip and
# normalized are False for all of them).
QWEN_ADDED_TOKENS = [
    ("<|endoftext|>", True), ("<|im_start|>", True), ("<|im_end|>", True),
    ("<|object_ref_start|>", True), ("<|object_ref_end|>", True), ("<|box_start|>", True), ("<|box_end|>", True),
    ("<|quad_start|>", True), ("<|quad_end|>", True), ("<|vision_start|>", True), ("<|vision_end|>", True),
    ("<|vision_pad|>", True), ("<|image_pad|>", True), ("<|video_pad|>", True),
    ("<tool_call>", False), ("</tool_call>", False),
    ("<|fim_prefix|>", False), ("<|fim_middle|>", False), ("<|fim_suffix|>", False), ("<|fim_pad|>", False),
    ("<|repo_name|>", False), ("<|file_sep|>", False),
    ("<tool_response>", False), ("</tool_response>", False), ("<think>", False), ("</think>", False),
]
EOT = "<|endoftext|>"
HELDOUT_EVERY = 20  # sorted index i is held out iff i % HELDOUT_EVERY == HELDOUT_EVERY - 1
SKIP_DIRS = {"site-packages", "dist-packages", "__pycache__"}
SKIP_PREFIXES = ("_sysconfigdata",)  # build-machine specific generated files (paths, compiler flags)
SAMPLE_SKIP_DIRS = ("encodings/",)  # generated codec tables: kept in the corpus, not in heldout_sample.txt


def list_stdlib_files(root):
    """Sorted POSIX relative paths of the *.py files under root (symlinked dirs not followed)."""
    rels = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d not in SKIP_DIRS]
        for fn in filenames:
            if fn.endswith(".py") and not fn.startswith(SKIP_PREFIXES):
                full = os.path.join(dirpath, fn)
                if os.path.isfile(full):
                    rels.append(os.path.relpath(full, root).replace(os.sep, "/"))
    return sorted(rels, key=lambda s: s.encode())


def read_corpus(root, max_files=None):
    rels = list_stdlib_files(root)
    if max_files:
        rels = rels[:max_files]
    train, held, skipped = [], [], []
    for i, rel in enumerate(rels):
        with open(os.path.join(root, rel), "rb") as f:
            raw = f.read()
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            skipped.append({"path": rel, "why": "not utf-8"})
            continue
        if any(tok in text for tok, _ in QWEN_ADDED_TOKENS):
            skipped.append({"path": rel, "why": "contains a special-token string"})
            continue
        if not text.strip():
            skipped.append({"path": rel, "why": "empty"})
            continue
        doc = {"path": rel, "index": i, "bytes": len(raw), "sha256": hashlib.sha256(raw).hexdigest(), "text": text}
        (held if i % HELDOUT_EVERY == HELDOUT_EVERY - 1 else train).append(doc)
    return rels, train, held, skipped


def build_tokenizer(train_texts, vocab_size):
    n_added = len(QWEN_ADDED_TOKENS)
    tok = Tokenizer(models.BPE(unk_token=None, dropout=None, fuse_unk=False, byte_fallback=False))
    tok.normalizer = normalizers.NFC()
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(QWEN_REGEX), behavior="isolated", invert=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=False, use_regex=False),
    ])
    tok.post_processor = processors.ByteLevel(add_prefix_space=False, trim_offsets=False, use_regex=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size - n_added, min_frequency=2, show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), special_tokens=[])
    tok.train_from_iterator(train_texts, trainer=trainer, length=len(train_texts))
    n_bpe = tok.get_vocab_size(with_added_tokens=False)
    for content, special in QWEN_ADDED_TOKENS:
        at = AddedToken(content, single_word=False, lstrip=False, rstrip=False, normalized=False, special=special)
        if special:
            tok.add_special_tokens([at])
        else:
            tok.add_tokens([at])
    return tok, n_bpe


def check_added_tokens(tok_json, n_bpe):
    got = tok_json["added_tokens"]
    assert len(got) == len(QWEN_ADDED_TOKENS), got
    for k, (a, (content, special)) in enumerate(zip(got, QWEN_ADDED_TOKENS)):
        want = dict(id=n_bpe + k, content=content, single_word=False, lstrip=False, rstrip=False, normalized=False,
                    special=special)
        assert {key: a[key] for key in want} == want, (a, want)


def tokenizer_config(chat_template, model_max_length):
    return {
        "add_bos_token": False,
        "add_prefix_space": False,
        "added_tokens_decoder": None,  # filled by caller (needs ids)
        "additional_special_tokens": [t for t, s in QWEN_ADDED_TOKENS if s and t != EOT],
        "bos_token": None,
        "chat_template": chat_template,
        "clean_up_tokenization_spaces": False,
        "eos_token": EOT,
        "errors": "replace",
        "model_max_length": model_max_length,
        "pad_token": EOT,
        "split_special_tokens": False,
        "tokenizer_class": "Qwen2Tokenizer",
        "unk_token": None,
    }


def compare_with_reference(tok_json, ref_dir):
    """Checks our pipeline pieces against the real Qwen3 tokenizer.json when it is available."""
    path = os.path.join(ref_dir, "tokenizer.json")
    if not os.path.isfile(path):
        print(f"[tokenizer] reference {path} not found; skipping the comparison")
        return
    with open(path, encoding="utf-8") as f:
        ref = json.load(f)
    for key in ("normalizer", "pre_tokenizer", "post_processor", "decoder"):
        assert tok_json[key] == ref[key], (key, tok_json[key], ref[key])
    strip_m = lambda m: {k: v for k, v in m.items() if k not in ("vocab", "merges")}  # noqa: E731
    assert strip_m(tok_json["model"]) == strip_m(ref["model"]), (strip_m(tok_json["model"]), strip_m(ref["model"]))
    strip = lambda lst: [{k: v for k, v in a.items() if k != "id"} for a in lst]  # noqa: E731
    assert strip(tok_json["added_tokens"]) == strip(ref["added_tokens"])
    with open(os.path.join(ref_dir, "tokenizer_config.json"), encoding="utf-8") as f:
        ref_cfg = json.load(f)
    with open(os.path.join(HERE, "qwen3_chat_template.jinja"), encoding="utf-8") as f:
        assert f.read() == ref_cfg["chat_template"]
    print(f"[tokenizer] normalizer, pre_tokenizer, post_processor, decoder, added tokens and chat template match "
          f"{ref_dir}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--stdlib", default=sysconfig.get_paths()["stdlib"], help="CPython Lib directory (corpus)")
    ap.add_argument("--out", required=True, help="tokenizer output directory")
    ap.add_argument("--corpus-out", required=True, help="corpus output directory (train.txt, heldout.txt, ...)")
    ap.add_argument("--vocab-size", type=int, default=6144, help="total vocabulary incl. the 26 added tokens")
    ap.add_argument("--max-files", type=int, default=0, help="use only the first N sorted files (0 = all)")
    ap.add_argument("--sample-bytes", type=int, default=200_000, help="size cap of heldout_sample.txt")
    ap.add_argument("--model-max-length", type=int, default=32768)
    ap.add_argument("--reference", default=os.path.join(HERE, "..", "..", "..", "shared", "data", "qwen3-tokenizer"),
                    help="real Qwen3 tokenizer dir to compare the pipeline against, if present")
    ap.add_argument("--smoke", action="store_true", help="small run: first 120 files, vocab 1024")
    args = ap.parse_args()
    if args.smoke:
        args.max_files = args.max_files or 120
        args.vocab_size = 1024 if args.vocab_size == 6144 else args.vocab_size
    assert args.vocab_size % 64 == 0, "keep the vocabulary a multiple of 64"

    t0 = time.time()
    rels, train, held, skipped = read_corpus(args.stdlib, args.max_files or None)
    assert train and held, "corpus too small"
    print(f"[tokenizer] stdlib {args.stdlib}: {len(rels)} .py files; train {len(train)} files "
          f"({sum(d['bytes'] for d in train)/1e6:.2f} MB), held-out {len(held)} files "
          f"({sum(d['bytes'] for d in held)/1e6:.2f} MB), skipped {len(skipped)}")

    tok, n_bpe = build_tokenizer([d["text"] for d in train], args.vocab_size)
    total = tok.get_vocab_size(with_added_tokens=True)
    if total != args.vocab_size:
        print(f"[tokenizer] WARNING: vocabulary is {total}, not {args.vocab_size} (corpus too small for more merges)")
    os.makedirs(args.out, exist_ok=True)
    tok_path = os.path.join(args.out, "tokenizer.json")
    tok.save(tok_path)
    with open(tok_path, encoding="utf-8") as f:
        tok_json = json.load(f)
    # The Python binding's decoders.ByteLevel() takes no options and serializes the defaults (True, True, True);
    # write Qwen's exact decoder entry (ByteLevel decoding does not depend on these flags) and reload from JSON.
    tok_json["decoder"] = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False, "use_regex": False}
    tok_json["model"]["continuing_subword_prefix"] = ""  # as in Qwen's file (None and "" mean the same)
    tok_json["model"]["end_of_word_suffix"] = ""
    with open(tok_path, "w", encoding="utf-8") as f:
        json.dump(tok_json, f, indent=2, ensure_ascii=False)
    tok = Tokenizer.from_file(tok_path)
    check_added_tokens(tok_json, n_bpe)
    compare_with_reference(tok_json, os.path.abspath(args.reference))

    with open(os.path.join(HERE, "qwen3_chat_template.jinja"), encoding="utf-8") as f:
        chat_template = f.read()
    cfg = tokenizer_config(chat_template, args.model_max_length)
    cfg["added_tokens_decoder"] = {
        str(n_bpe + k): dict(content=c, lstrip=False, normalized=False, rstrip=False, single_word=False, special=s)
        for k, (c, s) in enumerate(QWEN_ADDED_TOKENS)}
    with open(os.path.join(args.out, "tokenizer_config.json"), "w", encoding="utf-8") as f:
        json.dump(cfg, f, indent=2, ensure_ascii=False)
        f.write("\n")

    # Corpus export
    os.makedirs(args.corpus_out, exist_ok=True)
    for name, docs in (("train.txt", train), ("heldout.txt", held)):
        with open(os.path.join(args.corpus_out, name), "w", encoding="utf-8", newline="") as f:
            f.write(EOT.join(d["text"] for d in docs))
    sample, size = [], 0
    for d in held:
        if d["path"].startswith(SAMPLE_SKIP_DIRS):
            continue
        b = len(d["text"].encode("utf-8")) + (len(EOT) if sample else 0)
        if size + b > args.sample_bytes:
            continue  # whole files only; keep scanning for smaller ones (deterministic)
        sample.append(d)
        size += b
    with open(os.path.join(args.corpus_out, "heldout_sample.txt"), "w", encoding="utf-8", newline="") as f:
        f.write(EOT.join(d["text"] for d in sample))

    enc = lambda docs: sum(len(e.ids) for e in tok.encode_batch([d["text"] for d in docs]))  # noqa: E731
    n_train_tok, n_held_tok = enc(train), enc(held)
    manifest = {
        "source": "CPython standard library *.py files (Python Software Foundation License)",
        "stdlib_dir": os.path.abspath(args.stdlib),
        "python_version_of_this_interpreter": sys.version.split()[0],
        "file_order": "sorted by POSIX relative path (bytes); site-packages, dist-packages, __pycache__ dirs and "
                      "_sysconfigdata*.py skipped",
        "heldout_sample_rule": f"held-out files in order, not under {SAMPLE_SKIP_DIRS}, whole files, total <= "
                               f"{args.sample_bytes} bytes (a file that does not fit is skipped)",
        "split_rule": f"sorted index i held out iff i % {HELDOUT_EVERY} == {HELDOUT_EVERY - 1}",
        "document_separator": EOT,
        "max_files": args.max_files,
        "n_files_listed": len(rels),
        "train": {"files": len(train), "bytes": sum(d["bytes"] for d in train), "tokens": n_train_tok},
        "heldout": {"files": len(held), "bytes": sum(d["bytes"] for d in held), "tokens": n_held_tok},
        "heldout_sample": {"files": [d["path"] for d in sample], "bytes": size},
        "tokenizer": {"vocab_size": total, "bpe_vocab": n_bpe, "added_tokens": len(QWEN_ADDED_TOKENS),
                      "first_added_id": n_bpe, "eos_token": EOT, "eos_token_id": n_bpe,
                      "min_frequency": 2, "tokenizers_version": __import__("tokenizers").__version__},
        "skipped": skipped,
        "train_files": [[d["path"], d["sha256"]] for d in train],
        "heldout_files": [[d["path"], d["sha256"]] for d in held],
    }
    with open(os.path.join(args.corpus_out, "manifest.json"), "w", encoding="utf-8") as f:
        json.dump(manifest, f, indent=1)
    with open(os.path.join(args.out, "corpus_manifest.json"), "w", encoding="utf-8") as f:
        json.dump({k: v for k, v in manifest.items() if k not in ("train_files", "heldout_files")}, f, indent=1)

    # Round trip check
    probe = "def f(x):\n    return x  # héllo\n<|im_start|>user\nhi<|im_end|>\n<think>\n</think>"
    ids = tok.encode(probe).ids
    assert tok.decode(ids, skip_special_tokens=False) == probe, tok.decode(ids, skip_special_tokens=False)
    print(f"[tokenizer] vocab {total} (BPE {n_bpe} + {len(QWEN_ADDED_TOKENS)} added, eos {EOT} = {n_bpe}); "
          f"train {n_train_tok} tokens ({manifest['train']['bytes'] / max(n_train_tok, 1):.2f} bytes/token), "
          f"held-out {n_held_tok} tokens; heldout_sample {size} bytes / {len(sample)} files; "
          f"{time.time() - t0:.1f} s")


if __name__ == "__main__":
    main()
