#!/usr/bin/env python3
"""Compare a logits .npy (float32 [T,V], e.g. written by `qinfer logits`) with transformers' fp32 logits.

  /opt/hfvenv/bin/python tools/golden/compare_npy.py CKPT_DIR --ids 1,2,3 --npy ours.npy [--rtol 1e-3]

PASS iff max|ours - ref| <= rtol * max|ref|. Exit status 0 on PASS, 1 on FAIL.
"""
import argparse
import os
import sys

import numpy as np
import transformers

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from check_against_hf import hf_logits, load_hf, parse_ids  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("ckpt")
    ap.add_argument("--ids", required=True)
    ap.add_argument("--npy", required=True)
    ap.add_argument("--class", dest="cls", default=None)
    ap.add_argument("--rtol", type=float, default=1e-3)
    a = ap.parse_args()
    transformers.logging.set_verbosity_error()
    ours = np.load(a.npy).astype(np.float64)
    ref = hf_logits(load_hf(a.ckpt, a.cls), parse_ids(a.ids)).astype(np.float64)
    if ours.shape != ref.shape:
        print(f"FAIL: shape {list(ours.shape)} != reference {list(ref.shape)}")
        return 1
    d = np.abs(ours - ref)
    t, v = np.unravel_index(np.argmax(d), d.shape)
    max_ref = np.abs(ref).max()
    tol = a.rtol * max_ref
    agree = int((ours.argmax(-1) == ref.argmax(-1)).sum())
    print(f"max|d| {d.max():.6e} at [t={t}, v={v}] (ours {ours[t, v]:.6f} ref {ref[t, v]:.6f}); "
          f"mean|d| {d.mean():.3e}; max|ref| {max_ref:.6f}; tol {tol:.6e}; argmax agree {agree}/{ref.shape[0]}")
    ok = bool(d.max() <= tol)
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
