#!/usr/bin/env python3
"""Perplexity reference for a bundled model, computed by transformers (fp32, CPU, eager), for qinfer's test.

  /opt/hfvenv/bin/python tools/train_tiny/eval_reference.py models/tiny-qwen35-dense models/heldout_sample.txt \
      --tokens 2048 --ctx 256 > models/tiny-qwen35-dense/eval_reference.json

Windows as `qinfer perplexity --ctx 256` (non-overlapping, each a fresh sequence; a window scores every token after its
first): the first --tokens tokens of the file, tokenized with the folder's tokenizer.json by HF tokenizers.
"""
import argparse
import json
import math

import torch
import transformers
from tokenizers import Tokenizer


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("file")
    ap.add_argument("--tokens", type=int, default=2048)
    ap.add_argument("--ctx", type=int, default=256)
    a = ap.parse_args()
    torch.set_num_threads(1)
    transformers.logging.set_verbosity_error()
    ids = Tokenizer.from_file(f"{a.model}/tokenizer.json").encode(open(a.file, encoding="utf-8").read()).ids[: a.tokens]
    cfg = transformers.AutoConfig.from_pretrained(a.model)
    model = getattr(transformers, cfg.architectures[0]).from_pretrained(
        a.model, dtype=torch.float32, attn_implementation="eager").eval()
    nll, scored = 0.0, 0
    with torch.no_grad():
        for b in range(0, len(ids), a.ctx):
            w = ids[b:b + a.ctx]
            if len(w) < 2:
                continue
            logits = model(input_ids=torch.tensor(w)[None]).logits[0].double()
            lp = torch.log_softmax(logits[:-1], -1)
            nll -= lp.gather(1, torch.tensor(w[1:])[:, None]).sum().item()
            scored += len(w) - 1
    print(json.dumps({"file": a.file, "tokens": len(ids), "ctx": a.ctx, "tokens_scored": scored,
                      "mean_nll": nll / scored, "perplexity": math.exp(nll / scored),
                      "transformers": transformers.__version__, "torch": torch.__version__,
                      "dtype": "float32"}, indent=2))


if __name__ == "__main__":
    main()
