#!/usr/bin/env python3
"""Print transformers' fp32 CPU logits stats for a checkpoint folder and a list of token ids.

  /opt/hfvenv/bin/python tools/golden/check_against_hf.py CKPT_DIR --ids 1,2,3 [--save ref.npy] [--class NAME]

--ids is a comma/space separated list, or a path to a .npy / text file with the ids. The model class is the first
entry of config.json "architectures" (override with --class, e.g. AutoModelForCausalLM for the text-only model).
"""
import argparse
import json
import os

import numpy as np
import torch
import transformers


def parse_ids(s):
    if os.path.exists(s):
        if s.endswith(".npy"):
            return [int(x) for x in np.load(s).reshape(-1)]
        s = open(s).read()
    return [int(x) for x in s.replace(",", " ").split()]


def load_hf(ckpt, cls_name=None):
    cfg = json.load(open(os.path.join(ckpt, "config.json")))
    cls_name = cls_name or (cfg.get("architectures") or ["AutoModelForCausalLM"])[0]
    cls = getattr(transformers, cls_name)
    kw = dict(dtype=torch.float32, attn_implementation="eager", output_loading_info=True)
    if "num_experts" in cfg.get("text_config", cfg):
        kw["experts_implementation"] = "eager"
    model, info = cls.from_pretrained(ckpt, **kw)
    for k in ("missing_keys", "mismatched_keys"):
        if info.get(k):  # e.g. lm_head missing -> randomly initialised: the reference would be garbage
            print(f"WARNING: {k}: {sorted(info[k])}")
    return model.eval()


def hf_logits(model, ids):
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    with torch.no_grad():
        return model(input_ids=torch.tensor(ids, dtype=torch.long)[None]).logits[0].float().numpy()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("ckpt")
    ap.add_argument("--ids", required=True)
    ap.add_argument("--class", dest="cls", default=None)
    ap.add_argument("--save", default=None, help="write the reference logits [T,V] float32 .npy here")
    a = ap.parse_args()
    transformers.logging.set_verbosity_error()
    ids = parse_ids(a.ids)
    model = load_hf(a.ckpt, a.cls)
    lg = hf_logits(model, ids)
    print(f"transformers {transformers.__version__} torch {torch.__version__} class {type(model).__name__}")
    print(f"ids T={len(ids)}: {ids[:16]}{' ...' if len(ids) > 16 else ''}")
    print(f"logits shape {list(lg.shape)} mean {lg.mean():.6f} std {lg.std():.6f} min {lg.min():.6f} "
          f"max {lg.max():.6f} max|x| {np.abs(lg).max():.6f}")
    for t in sorted({0, len(ids) // 2, len(ids) - 1}):
        top = np.argsort(-lg[t])[:5]
        print(f"  t={t}: argmax {top[0]} top5 " + " ".join(f"{i}:{lg[t, i]:.5f}" for i in top)
              + f"  std {lg[t].std():.5f}")
    if a.save:
        np.save(a.save, lg.astype(np.float32))
        print(f"saved {a.save}")


if __name__ == "__main__":
    main()
