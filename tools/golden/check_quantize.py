#!/usr/bin/env python3
"""Check a checkpoint written by `qinfer quantize` against the INDEPENDENT Python quantizer (make_quant_goldens.py).

  /opt/hfvenv/bin/python tools/golden/check_quantize.py QUANT_DIR BF16_DIR [--qinfer build/bin/qinfer] [--ids IDS]

QUANT_DIR is qinfer's output, BF16_DIR the unquantized folder it was made from. Run by hand, not in CI. Checks:
  0. exclude_modules: equal to make_quant_goldens.summarise_exclude (ModelOpt's prefix-wildcard summary) over the
     unquantized units of the transformers model (+ `mtp*` when the folder has an MTP head);
  1. formats: every module's format detected from the tensors alone (make_quant_goldens.dequantize_checkpoint) equals
     the opinion of the written config (fnmatch over exclude_modules / quantized_layers with `...mlp.experts` parent
     keys, make_quant_goldens.config_opinion) for every Linear and routed-expert unit of the transformers model, and
     hf_quant_config.json agrees with config.json quantization_config;
  2. shared scales: the groups are found independently like ModelOpt does (quantized nn.Linear modules that receive
     the same input tensor object in a hooked transformers forward, make_quant_goldens.same_input_groups, plus each
     routed expert's gate/up); each quantized module's weight_scale_2 (NVFP4) / weight_scale (FP8) must equal, bit
     for bit, max over its group of amax(w)/(6*448) (amax(w)/448), computed from the BF16 source;
  3. bytes: every quantized module re-quantized from the BF16 source with make_quant_goldens.nvfp4_modelopt_quantize
     / fp8_quantize at that scale must give the same packed nibbles, E4M3 block scales and FP8 bytes;
  4. input scales: recomputed with make_quant_goldens.calibrate (transformers fp32 forward of the calibration ids
     recorded in the safetensors metadata; experts: one amax per layer and projection input), shared over the same
     groups; reported as the max relative difference (the two fp32 forwards differ in summation order);
  5. logits: transformers fp32 on the DEQUANTIZED weights vs `qinfer logits` on QUANT_DIR (weight-only), PASS iff
     max|d| <= rtol * max|ref| (compare_npy.py's rule).
Exit status 0 iff every check passes.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch
import transformers
from safetensors import safe_open
from safetensors.torch import save_file

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_goldens as mg  # noqa: E402
import make_quant_goldens as mqg  # noqa: E402

REPO = mg.REPO
INPUT_SCALE_RTOL = 1e-4  # two fp32 forwards (different GEMM summation order) move activations by ~1e-6 relative


def source_weight(src, module):
    """fp32 weight of an output module from the BF16 source: '<m>.weight', or a routed expert's slice of the fused
    3-D tensors (gate_up_proj [E, 2I, H]: rows 0..I-1 gate, I..2I-1 up; down_proj [E, H, I])."""
    if module + ".weight" in src:
        return src[module + ".weight"].float()
    base, e, proj = module.rsplit(".", 2)
    e = int(e)
    if proj == "down_proj":
        return src[base + ".down_proj"][e].float()
    gu = src[base + ".gate_up_proj"][e].float()
    i = gu.shape[0] // 2
    return gu[:i] if proj == "gate_proj" else gu[i:]


def metadata(d):
    with safe_open(os.path.join(d, "model.safetensors"), "pt") as f:
        return f.metadata() or {}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("quant")
    ap.add_argument("src")
    ap.add_argument("--qinfer", default=os.path.join(REPO, "build", "bin", "qinfer"))
    ap.add_argument("--ids", default=None, help="ids for the logits check (default: the source's golden input_ids)")
    ap.add_argument("--rtol", type=float, default=1e-3)
    a = ap.parse_args()
    torch.set_num_threads(1)
    transformers.logging.set_verbosity_error()
    ok = True

    def fail(msg):
        nonlocal ok
        ok = False
        print("FAIL:", msg)

    qt = mqg.read_checkpoint(a.quant)
    src = mqg.read_checkpoint(a.src)
    hfq = json.load(open(os.path.join(a.quant, "hf_quant_config.json")))
    cfg = json.load(open(os.path.join(a.quant, "config.json")))
    qc = cfg["quantization_config"]
    q = hfq["quantization"]
    algo = q["quant_algo"]
    if qc["quant_algo"] != algo or qc["ignore"] != q["exclude_modules"] or \
            qc.get("quantized_layers") != q.get("quantized_layers"):
        fail("config.json quantization_config and hf_quant_config.json disagree")

    # ---- 1. formats: tensors vs config opinion, over the transformers model's units ------------------------------
    cls_name = cfg["architectures"][0]
    moe = "num_experts" in cfg.get("text_config", cfg)
    model, _ = mg.load_model(cls_name, a.src, moe)
    units = mqg.quant_units(model)
    # make_quant_goldens' reader knows BF16/F32 unquantized tensors only; F16 ones (dense_text_prefix) are exact in F32
    deq, fmt = mqg.dequantize_checkpoint({k: v.float() if v.dtype == torch.float16 else v for k, v in qt.items()})
    mixed = algo == "MIXED_PRECISION"
    opinion = mqg.config_opinion({"producer": "modelopt"}, hfq, list(units))
    n_checked = 0
    for n, u in units.items():
        if n.rsplit(".", 1)[-1] == "gate":
            continue  # routers: ModelOpt gives them no quantizer, so they are not in exclude_modules (doc §3.1 item 4)
        want = opinion[n]
        if want is not None and not mixed:
            want = algo
        tens = fmt.get(n)
        if tens is None and u["kind"] == "expert":
            tens = "BF16"  # a fused 3-D expert tensor kept as it is
        if tens is None and n == "lm_head" and want is None:
            continue  # tied to the embedding: no tensor of its own
        if tens != (want or "BF16"):
            fail(f"{n}: tensors say {tens}, config says {want}")
        n_checked += 1
    quantized = sorted(p for p, f in fmt.items() if f != "BF16")
    # ModelOpt's exclude summary, re-run by make_quant_goldens.summarise_exclude over the transformers units (routers
    # and a tied lm_head have no quantizer / no tensor) plus `mtp*` for an MTP head transformers does not build.
    unq = [n for n in units if n.rsplit(".", 1)[-1] != "gate" and fmt.get(n, "BF16" if units[n]["kind"] == "expert"
                                                                           else None) == "BF16"]
    want_ex = set(mqg.summarise_exclude(unq, quantized)) | ({"mtp*"} if any(k.startswith("mtp.") for k in qt) else set())
    if set(q["exclude_modules"]) != want_ex:
        fail(f"exclude_modules {q['exclude_modules']} != make_quant_goldens.summarise_exclude {sorted(want_ex)}")
    print(f"formats: {n_checked} units agree (tensors == config); {len(quantized)} quantized modules: "
          + ", ".join(f"{k} {v}" for k, v in sorted({f: sum(1 for p in quantized if fmt[p] == f)
                                                      for f in set(fmt[p] for p in quantized)}.items())))

    # ---- 2./3. shared weight scales and bytes ----------------------------------------------------------------------
    md = metadata(a.quant)
    calib = [int(x) for x in md["qinfer.calibration_ids"].split(",")] if "qinfer.calibration_ids" in md else None
    ids_for_groups = calib or list(range(8))
    qset = set(quantized)
    groups = [[n for n in g if n in qset] for g in mqg.same_input_groups(model, ids_for_groups)]
    groups = [g for g in groups if len(g) > 1]
    for n in quantized:
        if n.endswith(".gate_proj") and ".experts." in n and n.replace(".gate_proj", ".up_proj") in qset:
            groups.append([n, n.replace(".gate_proj", ".up_proj")])
    group_of = {n: g for g in groups for n in g}
    W = {n: source_weight(src, n) for n in quantized}
    wamax = {n: W[n].abs().max() for n in quantized}
    n_bytes = 0
    for n in quantized:
        g = group_of.get(n, [n])
        amax = max((wamax[x] for x in g), key=float)
        if fmt[n] == "FP8":
            ws = amax / 448.0
            got = qt[n + ".weight_scale"]
            if got.item() != ws.item():
                fail(f"{n}: weight_scale {got.item()!r} != expected {ws.item()!r} (group {g})")
            q8 = mqg.fp8_quantize(W[n], got)
            if not torch.equal(q8.view(torch.uint8), qt[n + ".weight"].view(torch.uint8)):
                fail(f"{n}: FP8 bytes differ")
        else:
            ws2 = amax / (6.0 * 448.0)
            got = qt[n + ".weight_scale_2"]
            if got.item() != ws2.item():
                fail(f"{n}: weight_scale_2 {got.item()!r} != expected {ws2.item()!r} (group {g})")
            packed, s8 = mqg.nvfp4_modelopt_quantize(W[n], got)
            if not torch.equal(packed, qt[n + ".weight"]):
                fail(f"{n}: packed nibbles differ ({(packed != qt[n + '.weight']).sum().item()} bytes)")
            if not torch.equal(s8.view(torch.uint8), qt[n + ".weight_scale"].view(torch.uint8)):
                fail(f"{n}: block scales differ")
        n_bytes += sum(qt[n + s].numel() * qt[n + s].element_size() for s in (".weight", ".weight_scale"))
    print(f"weights: {len(quantized)} modules re-quantized by make_quant_goldens at the expected shared scales; "
          f"{len(groups)} shared-scale groups (e.g. {groups[0] if groups else '-'}); {n_bytes} bytes compared")

    # ---- 4. input scales ---------------------------------------------------------------------------------------------
    with_in = [n for n in quantized if n + ".input_scale" in qt]
    if with_in:
        if calib is None:
            fail("input_scale present but no qinfer.calibration_ids in the safetensors metadata")
        else:
            amax_in = mqg.calibrate(model, units, calib, False)
            worst, where = 0.0, None
            for n in with_in:
                am = max(amax_in[x] for x in group_of.get(n, [n]))
                want = am / 448.0 if fmt[n] == "FP8" else am / (6.0 * 448.0)
                got = qt[n + ".input_scale"].item()
                rel = abs(got - want) / want
                if rel > worst:
                    worst, where = rel, n
            print(f"input scales: {len(with_in)} modules, calibrated on {len(calib)} ids; max relative difference vs "
                  f"transformers {worst:.3e}" + (f" ({where})" if where else ""))
            if worst > INPUT_SCALE_RTOL:
                fail(f"input_scale relative difference {worst:.3e} > {INPUT_SCALE_RTOL}")

    # ---- 5. logits: transformers on the dequantized weights vs qinfer ------------------------------------------------
    if a.ids:
        ids = [int(x) for x in a.ids.replace(",", " ").split()]
    elif os.path.exists(os.path.join(a.src, "golden.safetensors")):
        with safe_open(os.path.join(a.src, "golden.safetensors"), "pt") as f:
            ids = f.get_tensor("input_ids").tolist()
    else:
        ids = calib or list(range(16))
    with tempfile.TemporaryDirectory(prefix="check_quantize_") as tmp:
        ref_dir = os.path.join(tmp, "dequantized")
        os.makedirs(ref_dir)
        save_file({k: v.contiguous() for k, v in deq.items()}, os.path.join(ref_dir, "model.safetensors"),
                  metadata={"format": "pt"})
        plain = dict(cfg)
        del plain["quantization_config"]
        json.dump(plain, open(os.path.join(ref_dir, "config.json"), "w"), indent=2)
        ref_model, info = mg.load_model(cls_name, ref_dir, moe)
        if any(info.get(k) for k in ("missing_keys", "mismatched_keys")):
            fail(f"transformers reload of the dequantized weights: {info}")
        mg.verify_loaded(ref_model, ref_dir)
        with torch.no_grad():
            ref = ref_model(input_ids=torch.tensor(ids)[None]).logits[0].double().numpy()
        npy = os.path.join(tmp, "qinfer.npy")
        subprocess.run([a.qinfer, "logits", "--model", a.quant, "--ids", ",".join(map(str, ids)), "--out", npy],
                       check=True)
        ours = np.load(npy).astype(np.float64)
    d = np.abs(ours - ref)
    max_ref = np.abs(ref).max()
    print(f"logits: T={len(ids)} max|d| {d.max():.3e} vs max|ref| {max_ref:.4f} (ratio {d.max() / max_ref:.2e}, "
          f"bound {a.rtol:g}); argmax agree {(ours.argmax(-1) == ref.argmax(-1)).sum()}/{len(ids)}")
    if not d.max() <= a.rtol * max_ref:
        fail("qinfer logits differ from transformers on the dequantized weights")
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
