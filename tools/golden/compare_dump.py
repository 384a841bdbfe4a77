#!/usr/bin/env python3
"""Layer-by-layer diff of `qinfer logits --dump DIR` against a golden file (or a fresh transformers run).

  qinfer logits --model CKPT --ids ... --out /tmp/l.npy --dump /tmp/dump
  /opt/hfvenv/bin/python tools/golden/compare_dump.py /tmp/dump/taps.safetensors --golden CKPT/golden.safetensors
  /opt/hfvenv/bin/python tools/golden/compare_dump.py /tmp/dump/taps.safetensors --ckpt CKPT --ids 1,2,3

Prints, in forward order, every tap present on both sides with max|d|, max|ref| and their ratio, and names the first
tap whose ratio exceeds --rtol (default 1e-3): the first layer that went wrong.
"""
import argparse
import os
import sys

import numpy as np
from safetensors import safe_open

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


def load(path, strip=""):
    out = {}
    with safe_open(path, "np") as f:
        for k in f.keys():
            if k.startswith(strip):
                out[k[len(strip):]] = f.get_tensor(k).astype(np.float64)
    return out


def forward_order(name):
    """Sort key: embeddings, then layers by index (mixer, mlp, out), then the final norm and logits."""
    parts = name.split(".")
    if name.startswith("model.embed_tokens"):
        return (0, 0, 0)
    if name.startswith("model.layers."):
        rank = {"out": 2, "mlp": 1}.get(parts[3], 0)
        return (1, int(parts[2]), rank)
    return (2, 0, 1 if name == "logits" else 0)


def reference_from_hf(ckpt, ids):
    import make_goldens as mg  # transformers is only needed on this path
    import torch
    import transformers
    torch.set_num_threads(1)
    transformers.logging.set_verbosity_error()
    cfg = transformers.AutoConfig.from_pretrained(ckpt)
    cls = cfg.architectures[0]
    model, _ = mg.load_model(cls, ckpt, moe=("Moe" in cls or "Next" in cls))
    logits, _, taps, _, _, _ = mg.run_reference(model, ids)
    ref = {k[len("hidden."):]: v.numpy().astype(np.float64) for k, v in taps.items()}
    ref["logits"] = logits.numpy().astype(np.float64)
    return ref


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("taps")
    ap.add_argument("--golden")
    ap.add_argument("--ckpt")
    ap.add_argument("--ids")
    ap.add_argument("--rtol", type=float, default=1e-3)
    a = ap.parse_args()
    ours = load(a.taps)
    if a.golden:
        ref = load(a.golden, "hidden.")
        ref["logits"] = load(a.golden)["logits"]
    elif a.ckpt and a.ids:
        ref = reference_from_hf(a.ckpt, [int(x) for x in a.ids.split(",")])
    else:
        sys.exit("give --golden FILE or --ckpt DIR --ids LIST")
    first_bad = None
    for name in sorted(ref, key=forward_order):
        r = ref[name]
        if name not in ours:
            continue
        o = ours[name]
        if o.shape != r.shape:
            print(f"{name:55s} shape {list(o.shape)} != reference {list(r.shape)}")
            first_bad = first_bad or name
            continue
        d = float(np.abs(o - r).max())
        m = float(np.abs(r).max())
        ratio = d / m if m > 0 else d
        flag = "" if ratio <= a.rtol else "  <-- exceeds rtol"
        print(f"{name:55s} max|d| {d:.3e}  max|ref| {m:.3e}  ratio {ratio:.2e}{flag}")
        if flag and first_bad is None:
            first_bad = name
    print(f"first diverging tap: {first_bad}" if first_bad else "all taps within rtol")
    return 1 if first_bad else 0


if __name__ == "__main__":
    sys.exit(main())
