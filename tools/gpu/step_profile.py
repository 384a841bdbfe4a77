#!/usr/bin/env python3
"""Where one decode step's GPU time goes, from an Nsight Compute CSV (device tool; see tools/gpu/model_bench.sh).

    ncu --clock-control none --nvtx --nvtx-include "qinfer_decode_step/" --metrics gpu__time_duration.sum \
        --csv --log-file P.csv qinfer bench --model DIR --batch 1 --input-len 16 --output-len 1 --no-graphs
    python3 tools/gpu/step_profile.py P.csv

Only the kernels inside `qinfer bench`'s NVTX ranges of decode steps are profiled; every forward starts with the
embedding gather, which splits the list into steps (one per batch size with --output-len 1). Prints, per step, each kernel (name without template arguments) with its calls and summed duration, largest first,
and the step's kernel total. Kernel durations exclude the launch gaps between kernels: compare the total with the step
time that `qinfer bench` measures under CUDA-graph replay.
"""
import csv
import re
import sys
from collections import defaultdict

UNIT = {"nsecond": 1e-3, "ns": 1e-3, "usecond": 1.0, "us": 1.0, "msecond": 1e3, "ms": 1e3, "second": 1e6}


def short(name):
    name = re.sub(r"\(.*", "", name)
    depth, out = 0, []
    for ch in name:  # drop <template arguments>
        if ch == "<":
            depth += 1
        elif ch == ">":
            depth -= 1
        elif depth == 0:
            out.append(ch)
    return "".join(out).replace("void ", "").split("::")[-1].strip()


def main(path):
    rows = []
    with open(path, newline="") as f:
        lines = [l for l in f if l.startswith('"')]  # skip ncu's ==PROF== chatter
    for r in csv.DictReader(lines):
        if r.get("Metric Name") != "gpu__time_duration.sum":
            continue
        us = float(r["Metric Value"].replace(",", "")) * UNIT.get(r["Metric Unit"], 1.0)
        rows.append((r["Kernel Name"], us, r.get("Grid Size", ""), r.get("Block Size", "")))
    starts = [i for i, (n, *_) in enumerate(rows) if "embedding" in n]
    if not starts:
        sys.exit("step_profile: no embedding kernel in the profile")
    for si, begin in enumerate(starts):
        step = rows[begin:starts[si + 1] if si + 1 < len(starts) else len(rows)]
        agg = defaultdict(lambda: [0, 0.0])
        for n, us, *_ in step:
            a = agg[short(n)]
            a[0] += 1
            a[1] += us
        total = sum(us for _, us, *_ in step)
        print(f"forward {si + 1} of the profile (a decode step or a prefill chunk): {len(step)} kernels, {total:.1f} us of kernel time")
        print(f"{'kernel':48s} {'calls':>6s} {'total us':>10s} {'share':>7s} {'us/call':>8s}")
        for n, (c, us) in sorted(agg.items(), key=lambda kv: -kv[1][1]):
            print(f"{n:48s} {c:6d} {us:10.1f} {100 * us / total:6.1f}% {us / c:8.2f}")
        print()


if __name__ == "__main__":
    main(sys.argv[1])
