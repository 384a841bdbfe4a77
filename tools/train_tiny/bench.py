#!/usr/bin/env python3
"""Time training steps of the tiny Qwen3.5 models (random tokens) to size --steps / --batch-size for a time budget.

  python3 bench.py [--cases dense:64,dense:128,moe:64:grouped_mm,moe:64:eager,dense:128:compile] [--steps 15]
                   [--vocab 6144]

Each case = variant:batch[:experts_impl][:compile]. Prints ms/step, tokens/s and peak GPU memory per case.
"""
import argparse
import os
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import train as T  # noqa: E402


def run_case(spec, steps, vocab, seq_len, device):
    parts = spec.split(":")
    variant, batch = parts[0], int(parts[1])
    compile_ = "compile" in parts[2:]
    impl = next((p for p in parts[2:] if p != "compile"), "auto")
    torch.manual_seed(0)
    cfg = T.build_config(variant, vocab, vocab - 26)
    impl = T.pick_experts_impl(impl, device)
    model = T.make_model(variant, cfg, device, "sdpa", impl)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, fused=device.type == "cuda")
    fwd = torch.compile(model) if compile_ else model
    amp = device.type == "cuda"
    is_moe = variant == "moe"
    x = torch.randint(0, vocab - 26, (batch, seq_len + 1), device=device)
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats()

    def step():
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=amp):
            out = fwd(input_ids=x[:, :-1], use_cache=False, **({"output_router_logits": True} if is_moe else {}))
        loss = F.cross_entropy(out.logits.float().reshape(-1, out.logits.shape[-1]), x[:, 1:].reshape(-1))
        if is_moe:
            loss = loss + 0.01 * T.balance_loss_per_layer(out.router_logits, cfg.num_experts_per_tok, cfg.num_experts)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        return loss

    t0 = time.time()
    for _ in range(3):
        step()
    if device.type == "cuda":
        torch.cuda.synchronize()
    t_warm = time.time() - t0
    t0 = time.time()
    for _ in range(steps):
        step()
    if device.type == "cuda":
        torch.cuda.synchronize()
    dt = (time.time() - t0) / steps
    mem = torch.cuda.max_memory_allocated() / 2**30 if device.type == "cuda" else 0.0
    print(f"[bench] {spec:28s} impl={impl:10s} warm-up(3 steps) {t_warm:6.1f} s  step {dt * 1e3:8.1f} ms  "
          f"{batch * seq_len / dt:9.0f} tok/s  peak {mem:.1f} GiB", flush=True)
    del model, opt, fwd
    if device.type == "cuda":
        torch.cuda.empty_cache()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cases", default="dense:64,dense:128,moe:64:grouped_mm,moe:64:eager")
    ap.add_argument("--steps", type=int, default=15)
    ap.add_argument("--vocab", type=int, default=6144)
    ap.add_argument("--seq-len", type=int, default=256)
    args = ap.parse_args()
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = True
        print(f"[bench] {torch.cuda.get_device_name(0)} torch {torch.__version__}", flush=True)
    for spec in args.cases.split(","):
        try:
            run_case(spec, args.steps, args.vocab, args.seq_len, device)
        except Exception as e:  # keep going: one failing implementation must not hide the others
            print(f"[bench] {spec}: FAILED {type(e).__name__}: {str(e)[:300]}", flush=True)


if __name__ == "__main__":
    main()
