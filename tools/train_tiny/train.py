#!/usr/bin/env python3
"""Train a tiny REAL Qwen3.5 text model (dense Qwen3_5ForCausalLM or MoE Qwen3_5MoeForCausalLM) on the CPython
standard library corpus exported by train_tokenizer.py, and save it as a Hugging Face checkpoint (bf16 safetensors)
with tokenizer, generation config, training log and a model card.

  python3 train.py --variant dense|moe --out DIR --tokenizer TOKDIR --corpus CORPUSDIR [--steps N] [--minutes M]
                   [--seed S] [--batch-size 64] [--seq-len 256] [--lr 3e-3] [--smoke]

Training: AdamW (betas 0.9/0.95, weight decay 0.3 on matrices only), linear warm-up then cosine decay to 10 % of the
peak LR, gradient clipping 1.0, bf16 autocast on CUDA (fp32 weights and optimizer state), fp32 on CPU, SDPA attention.
Batches are windows of seq_len+1 tokens cut at seeded random offsets from the token stream
"<eot> doc_0 <eot> doc_1 <eot> ..." of the training split (so the order of the data depends only on --seed).
If --minutes is given the LR schedule runs on progress = max(step/steps, elapsed/budget) and training stops at
progress 1, so the LR still anneals when the wall-clock cap binds first (then the step count depends on the speed of
the machine; the run is only reproducible when --steps binds).

Evaluation (at the end, on the SAVED checkpoint reloaded with from_pretrained: bf16 weights upcast to fp32, eager
attention, eager experts, TF32 off): mean token cross-entropy over the held-out split and over heldout_sample.txt.
Protocol (so an engine can reproduce the number): ids = tokenizer(text) (no BOS; "<|endoftext|>" separators are the
special token), windows ids[k*L : k*L+L+1] for k = 0,1,... (L = seq_len; the last window may be shorter), each window
is an independent forward pass from an empty state, loss = mean over all predicted positions of all windows.
"""
import argparse
import json
import math
import os
import platform
import shutil
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F
import transformers
from tokenizers import Tokenizer

EOT = "<|endoftext|>"
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json")


# ----------------------------------------------------------------------------------------------------------------------
# Model shapes
# ----------------------------------------------------------------------------------------------------------------------

def layer_types(n, interval):
    return ["full_attention" if (i + 1) % interval == 0 else "linear_attention" for i in range(n)]


COMMON = dict(
    hidden_size=256,
    num_attention_heads=4, num_key_value_heads=2, head_dim=64,            # full attention: Hq 4 / Hkv 2, hd 64
    linear_num_key_heads=2, linear_num_value_heads=4,                      # GDN: HK 2, HV 4 (r = 2)
    linear_key_head_dim=64, linear_value_head_dim=64, linear_conv_kernel_dim=4,
    hidden_act="silu", rms_norm_eps=1e-6, attention_bias=False, attention_dropout=0.0,
    # partial rotary 0.25 -> rotary dim 16 (8 frequency pairs); interleaved M-RoPE sections as in the real configs
    # (text-only positions make it equal to 1-D RoPE)
    rope_parameters={"rope_type": "default", "rope_theta": 1e7, "partial_rotary_factor": 0.25,
                     "mrope_section": [3, 3, 2], "mrope_interleaved": True},
    max_position_embeddings=32768, tie_word_embeddings=True, initializer_range=0.02, use_cache=True,
)

VARIANTS = {
    # 6 layers [L,L,F,L,L,F]; dense SwiGLU 512
    "dense": dict(cls="Qwen3_5ForCausalLM", cfg_cls="Qwen3_5TextConfig", name="tiny-qwen35-dense",
                  cfg=dict(COMMON, num_hidden_layers=6, layer_types=layer_types(6, 3), intermediate_size=512)),
    # 4 layers [L,L,L,F] (the real 3:1 pattern); 8 experts top-2 of width 128 + shared expert 256 with sigmoid gate
    "moe": dict(cls="Qwen3_5MoeForCausalLM", cfg_cls="Qwen3_5MoeTextConfig", name="tiny-qwen35-moe",
                cfg=dict(COMMON, num_hidden_layers=4, layer_types=layer_types(4, 4), num_experts=8,
                         num_experts_per_tok=2, moe_intermediate_size=128, shared_expert_intermediate_size=256,
                         router_aux_loss_coef=0.01)),
}


def build_config(variant, vocab_size, eot_id):
    v = VARIANTS[variant]
    cfg = dict(v["cfg"], vocab_size=vocab_size, bos_token_id=eot_id, eos_token_id=eot_id, pad_token_id=eot_id)
    return getattr(transformers, v["cfg_cls"])(**cfg)


def param_report(model):
    seen, total, emb = set(), 0, 0
    experts = 0
    for n, p in model.named_parameters():
        if id(p) in seen:
            continue
        seen.add(id(p))
        total += p.numel()
        if "embed_tokens" in n or n == "lm_head.weight":
            emb += p.numel()
        if ".mlp.experts." in n:
            experts += p.numel()
    cfg = model.config
    active = total
    if experts:
        active = total - experts + experts * cfg.num_experts_per_tok // cfg.num_experts
    return dict(total=total, embedding=emb, non_embedding=total - emb, experts=experts, active_per_token=active,
                bf16_bytes=2 * total)


def check_dims_multiple_of_16(model):
    bad = []
    for n, m in model.named_modules():
        if isinstance(m, torch.nn.Linear) and m.in_features % 16:
            bad.append((n, m.in_features))
        if n.endswith("mlp.experts"):
            for pn, p in m.named_parameters(recurse=False):
                if p.shape[-1] % 16:
                    bad.append((f"{n}.{pn}", tuple(p.shape)))
    assert not bad, f"Linear K not a multiple of 16: {bad}"


# ----------------------------------------------------------------------------------------------------------------------
# Data
# ----------------------------------------------------------------------------------------------------------------------

def load_stream(tok, path, eot_id, max_docs=None):
    """'<eot> doc0 <eot> doc1 ...' as a 1-D int64 tensor (the file holds documents joined by <eot>)."""
    with open(path, encoding="utf-8", newline="") as f:
        docs = f.read().split(EOT)
    if max_docs:
        docs = docs[:max_docs]
    ids = [eot_id]
    for e in tok.encode_batch(docs, add_special_tokens=False):
        ids.extend(e.ids)
        ids.append(eot_id)
    return torch.tensor(ids[:-1], dtype=torch.int64), len(docs)


def encode_text(tok, text):
    return torch.tensor(tok.encode(text, add_special_tokens=False).ids, dtype=torch.int64)


@torch.no_grad()
def eval_loss(model, ids, seq_len, batch, device, max_windows=None, autocast=False):
    """Mean CE over windows ids[k*L : k*L+L+1] (see module docstring). Returns (mean loss, predicted tokens)."""
    starts = list(range(0, len(ids) - 1, seq_len))
    if max_windows:
        starts = starts[:max_windows]
    tot, cnt = 0.0, 0
    full = [s for s in starts if s + seq_len + 1 <= len(ids)]
    batches = [torch.stack([ids[s:s + seq_len + 1] for s in full[i:i + batch]]) for i in range(0, len(full), batch)]
    batches += [ids[s:][None] for s in starts if s + seq_len + 1 > len(ids)]  # the shorter last window
    for x in batches:
        x = x.to(device)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=autocast):
            logits = model(input_ids=x[:, :-1], use_cache=False).logits
        loss = F.cross_entropy(logits.float().reshape(-1, logits.shape[-1]), x[:, 1:].reshape(-1), reduction="sum")
        tot += loss.item()
        cnt += x[:, 1:].numel()
    return tot / max(cnt, 1), cnt


@torch.no_grad()
def expert_load(model, ids, seq_len, device, windows=16):
    """Fraction of routed (token, slot) pairs per expert and layer, on the first held-out windows."""
    counts = {}
    hooks = []
    for n, m in model.named_modules():
        if n.endswith("mlp.gate") and hasattr(m, "top_k"):
            def hook(mod, inp, out, n=n):
                idx = out[2] if isinstance(out, tuple) and len(out) == 3 else out[1]
                c = torch.bincount(idx.reshape(-1), minlength=mod.num_experts).cpu()
                counts[n] = counts.get(n, 0) + c
            hooks.append(m.register_forward_hook(hook))
    starts = list(range(0, len(ids) - seq_len - 1, seq_len))[:windows]
    if starts:
        x = torch.stack([ids[s:s + seq_len] for s in starts]).to(device)
        model(input_ids=x, use_cache=False)
    for h in hooks:
        h.remove()
    return {n.replace(".mlp.gate", ""): [round(float(v) / float(c.sum()), 4) for v in c] for n, c in counts.items()}


# ----------------------------------------------------------------------------------------------------------------------
# Main
# ----------------------------------------------------------------------------------------------------------------------

def balance_loss_per_layer(router_logits, top_k, num_experts):
    """Switch-style load-balancing loss computed PER LAYER and averaged over layers (HF's load_balancing_loss_func
    concatenates all layers first, so it only balances the aggregate and lets single experts of a layer die).
    Per layer: E * sum_i f_i * P_i with f_i = routed slots of expert i / tokens, P_i = mean router probability.
    Equals top_k when perfectly balanced."""
    losses = []
    for lg in router_logits:
        p = torch.softmax(lg.float(), dim=-1)
        top = p.topk(top_k, dim=-1).indices
        f = F.one_hot(top, num_experts).float().sum(1).mean(0)
        losses.append(num_experts * (f * p.mean(0)).sum())
    return torch.stack(losses).mean()


def lr_at(progress, peak, warmup_frac, step, warmup_steps, min_ratio=0.1):
    if step < warmup_steps:
        return peak * (step + 1) / warmup_steps
    p = min(max(progress, 0.0), 1.0)
    return peak * (min_ratio + (1 - min_ratio) * 0.5 * (1 + math.cos(math.pi * p)))


def make_model(variant, config, device, attn, experts_impl):
    cls = getattr(transformers, VARIANTS[variant]["cls"])
    kw = dict(attn_implementation=attn)
    if variant == "moe":
        kw["experts_implementation"] = experts_impl
    model = cls._from_config(config, **kw)
    return model.to(device)


def pick_experts_impl(requested, device):
    if requested != "auto":
        return requested
    return "grouped_mm" if device.type == "cuda" else "eager"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--variant", choices=sorted(VARIANTS), required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--tokenizer", required=True, help="directory with tokenizer.json + tokenizer_config.json")
    ap.add_argument("--corpus", required=True, help="directory with train.txt, heldout.txt, heldout_sample.txt")
    ap.add_argument("--steps", type=int, default=900)
    ap.add_argument("--minutes", type=float, default=0.0, help="wall-clock cap of the training loop (0 = none)")
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--seq-len", type=int, default=256)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--warmup", type=int, default=100)
    ap.add_argument("--weight-decay", type=float, default=0.3)
    ap.add_argument("--log-every", type=int, default=25)
    ap.add_argument("--eval-every", type=int, default=0, help="held-out eval (autocast) every N steps (0 = off)")
    ap.add_argument("--experts-impl", default="auto", help="MoE training experts implementation (auto: grouped_mm "
                    "on CUDA, eager on CPU)")
    ap.add_argument("--compile", action="store_true", help="torch.compile the model for training")
    ap.add_argument("--eval-max-windows", type=int, default=0, help="cap of held-out windows (0 = all)")
    ap.add_argument("--smoke", action="store_true", help="a few steps on CPU-sized batches")
    ap.add_argument("--hardware", default="", help="free text for the model card (default: detected)")
    args = ap.parse_args()
    if args.smoke:
        args.steps = min(args.steps, 6)
        args.batch_size = min(args.batch_size, 2)
        args.warmup = 2
        args.log_every = 1
        args.eval_max_windows = args.eval_max_windows or 4

    t_start = time.time()
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    torch.manual_seed(args.seed)
    np.random.seed(args.seed)
    if device.type == "cuda":
        torch.cuda.manual_seed_all(args.seed)
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
        torch.backends.cudnn.deterministic = True
        torch.backends.cudnn.benchmark = False
    hw = args.hardware or (torch.cuda.get_device_name(0) if device.type == "cuda"
                           else f"CPU ({platform.processor() or platform.machine()}, {torch.get_num_threads()} threads)")

    tok = Tokenizer.from_file(os.path.join(args.tokenizer, "tokenizer.json"))
    eot_id = tok.token_to_id(EOT)
    vocab = tok.get_vocab_size(with_added_tokens=True)
    vocab_padded = (vocab + 63) // 64 * 64
    train_ids, n_train_docs = load_stream(tok, os.path.join(args.corpus, "train.txt"), eot_id)
    held_ids, n_held_docs = load_stream(tok, os.path.join(args.corpus, "heldout.txt"), eot_id)
    with open(os.path.join(args.corpus, "heldout_sample.txt"), encoding="utf-8", newline="") as f:
        sample_ids = encode_text(tok, f.read())
    print(f"[{args.variant}] device {device} ({hw}); vocab {vocab} (model {vocab_padded}); train {len(train_ids)} "
          f"tokens / {n_train_docs} docs; held-out {len(held_ids)} tokens / {n_held_docs} docs; "
          f"heldout_sample {len(sample_ids)} tokens", flush=True)

    config = build_config(args.variant, vocab_padded, eot_id)
    experts_impl = pick_experts_impl(args.experts_impl, device)
    model = make_model(args.variant, config, device, "sdpa", experts_impl)
    check_dims_multiple_of_16(model)
    params = param_report(model)
    print(f"[{args.variant}] layer_types {config.layer_types}; params {params}", flush=True)

    decay, no_decay = [], []
    for n, p in model.named_parameters():
        (decay if p.ndim >= 2 and "embed_tokens" not in n else no_decay).append(p)
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": args.weight_decay},
                             {"params": no_decay, "weight_decay": 0.0}],
                            lr=args.lr, betas=(0.9, 0.95), eps=1e-8, fused=device.type == "cuda")
    fwd = torch.compile(model) if args.compile else model
    use_amp = device.type == "cuda"
    is_moe = args.variant == "moe"
    aux_coef = config.router_aux_loss_coef if is_moe else 0.0

    gen = torch.Generator().manual_seed(args.seed)
    train_dev = train_ids.to(device)
    L = args.seq_len
    n_starts = len(train_ids) - L - 1
    assert n_starts > 0
    offs = torch.arange(L + 1, device=device)

    os.makedirs(args.out, exist_ok=True)
    log_path = os.path.join(args.out, "train_log.jsonl")
    logf = open(log_path, "w")
    budget = args.minutes * 60.0
    model.train()
    t_loop = time.time()
    step, acc_loss, acc_aux, acc_n, last_loss = 0, 0.0, 0.0, 0, float("nan")
    tokens_seen = 0
    step_times = []
    while True:
        elapsed = time.time() - t_loop
        progress = step / args.steps
        if budget > 0:
            progress = max(progress, elapsed / budget)
        if step >= args.steps or progress >= 1.0:
            break
        lr = lr_at(progress, args.lr, 0, step, args.warmup)
        for g in opt.param_groups:
            g["lr"] = lr
        ts = time.time()
        starts = torch.randint(0, n_starts, (args.batch_size,), generator=gen).to(device)
        batch = train_dev[starts[:, None] + offs]
        x, y = batch[:, :-1], batch[:, 1:]
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=use_amp):
            out = fwd(input_ids=x, use_cache=False, **({"output_router_logits": True} if is_moe else {}))
        ce = F.cross_entropy(out.logits.float().reshape(-1, out.logits.shape[-1]), y.reshape(-1))
        loss = ce
        if is_moe:
            aux = balance_loss_per_layer(out.router_logits, config.num_experts_per_tok, config.num_experts)
            loss = ce + aux_coef * aux
            acc_aux += aux.detach()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        gnorm = torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        acc_loss = acc_loss + ce.detach()
        acc_n += 1
        step += 1
        tokens_seen += x.numel()
        if device.type == "cpu" or step <= 3:
            step_times.append(time.time() - ts)
        do_eval = bool(args.eval_every) and step % args.eval_every == 0
        if step % args.log_every == 0 or step == args.steps or do_eval:
            last_loss = float(acc_loss) / acc_n
            rec = dict(step=step, loss=round(last_loss, 5), lr=lr, grad_norm=round(float(gnorm), 4),
                       elapsed=round(time.time() - t_loop, 2), tokens=tokens_seen)
            if is_moe:
                rec["aux_loss"] = round(float(acc_aux) / acc_n, 5)
            if do_eval:  # whole held-out split, training model under autocast (not the fp32 reference number)
                model.eval()
                rec["heldout_loss_bf16"] = round(
                    eval_loss(model, held_ids, L, 64, device, args.eval_max_windows or None, use_amp)[0], 5)
                model.train()
            logf.write(json.dumps(rec) + "\n")
            logf.flush()
            print(f"[{args.variant}] " + " ".join(f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}"
                                                  for k, v in rec.items()), flush=True)
            acc_loss, acc_aux, acc_n = 0.0, 0.0, 0
    if acc_n:
        last_loss = float(acc_loss) / acc_n
    if device.type == "cuda":
        torch.cuda.synchronize()
    train_time = time.time() - t_loop
    logf.close()
    print(f"[{args.variant}] trained {step} steps, {tokens_seen} tokens in {train_time:.1f} s "
          f"({tokens_seen / max(train_time, 1e-9):.0f} tok/s)", flush=True)

    # ---------------- save (bf16) ----------------
    model.eval()
    model = model.to(torch.bfloat16)
    model.generation_config = transformers.GenerationConfig(bos_token_id=eot_id, eos_token_id=eot_id,
                                                            pad_token_id=eot_id, do_sample=False)
    model.save_pretrained(args.out)
    for fn in TOKENIZER_FILES:
        shutil.copy(os.path.join(args.tokenizer, fn), os.path.join(args.out, fn))
    del model, fwd, opt
    if device.type == "cuda":
        torch.cuda.empty_cache()

    # ---------------- reload + fp32 eager evaluation ----------------
    if device.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
    cls = getattr(transformers, VARIANTS[args.variant]["cls"])
    kw = dict(dtype=torch.float32, attn_implementation="eager")
    if is_moe:
        kw["experts_implementation"] = "eager"
    ref = cls.from_pretrained(args.out, **kw).to(device).eval()
    t_eval = time.time()
    held_loss, held_n = eval_loss(ref, held_ids, L, 32, device, args.eval_max_windows or None)
    sample_loss, sample_n = eval_loss(ref, sample_ids, L, 32, device, args.eval_max_windows or None)
    eval_time = time.time() - t_eval
    load = expert_load(ref, held_ids, L, device) if is_moe else None
    print(f"[{args.variant}] held-out loss {held_loss:.4f} (ppl {math.exp(held_loss):.2f}, {held_n} tokens); "
          f"heldout_sample loss {sample_loss:.4f} (ppl {math.exp(sample_loss):.2f}, {sample_n} tokens); "
          f"eval {eval_time:.1f} s", flush=True)

    # greedy sample through generate() (exercises the cached decode path: GDN recurrent step + conv state)
    from transformers import AutoTokenizer
    hf_tok = AutoTokenizer.from_pretrained(args.out)
    prompt = "import os\n\n\ndef "
    enc = hf_tok(prompt, return_tensors="pt").to(device)
    with torch.no_grad():
        gen_ids = ref.generate(**enc, max_new_tokens=8 if args.smoke else 64, do_sample=False)
    sample_text = hf_tok.decode(gen_ids[0], skip_special_tokens=False)
    # consistency: the full forward on the generated sequence must pick the same greedy tokens
    with torch.no_grad():
        full = ref(input_ids=gen_ids, use_cache=False).logits.argmax(-1)[0, enc["input_ids"].shape[1] - 1:-1]
    consistent = bool((full == gen_ids[0, enc["input_ids"].shape[1]:]).all())
    print(f"[{args.variant}] sample (greedy, cache/full-forward consistent: {consistent}):\n{sample_text}", flush=True)

    wall = time.time() - t_start
    results = dict(
        variant=args.variant, name=VARIANTS[args.variant]["name"], architecture=VARIANTS[args.variant]["cls"],
        params=params, layer_types=config.layer_types, vocab_size=vocab_padded, tokenizer_vocab=vocab,
        eos_token_id=eot_id, steps=step, tokens_seen=tokens_seen, batch_size=args.batch_size, seq_len=L,
        lr=args.lr, warmup=args.warmup, weight_decay=args.weight_decay, seed=args.seed,
        minutes_cap=args.minutes, steps_requested=args.steps, compile=args.compile,
        experts_impl_train=experts_impl if is_moe else None, final_train_loss=round(last_loss, 5),
        heldout_loss=round(held_loss, 5), heldout_ppl=round(math.exp(held_loss), 3), heldout_tokens=held_n,
        heldout_sample_loss=round(sample_loss, 5), heldout_sample_ppl=round(math.exp(sample_loss), 3),
        heldout_sample_tokens=sample_n, eval_max_windows=args.eval_max_windows, expert_load=load,
        train_time_s=round(train_time, 1), wall_time_s=round(wall, 1),
        step_time_first3_s=[round(t, 3) for t in step_times[:3]],
        cpu_step_time_mean_s=(round(sum(step_times[1:]) / max(len(step_times) - 1, 1), 3)
                              if device.type == "cpu" else None),
        hardware=hw, device=device.type, train_precision="bf16 autocast" if use_amp else "fp32",
        torch=torch.__version__, transformers=transformers.__version__,
        tokenizers=__import__("tokenizers").__version__, python=sys.version.split()[0],
        generate_sample=sample_text, generate_consistent=consistent, smoke=args.smoke,
    )
    with open(os.path.join(args.out, "train_results.json"), "w") as f:
        json.dump(results, f, indent=1)
    write_card(args, results, config)
    print(f"[{args.variant}] saved {args.out} ({sum(os.path.getsize(os.path.join(args.out, f)) for f in os.listdir(args.out)) / 1e6:.2f} MB); "
          f"wall {wall:.1f} s", flush=True)


def write_card(args, r, config):
    manifest = {}
    mp = os.path.join(args.tokenizer, "corpus_manifest.json")
    if os.path.isfile(mp):
        with open(mp) as f:
            manifest = json.load(f)
        shutil.copy(mp, os.path.join(args.out, "corpus_manifest.json"))
    p = r["params"]
    c = config
    arch = [f"- `{r['architecture']}` (`model_type` `{c.model_type}`), {c.num_hidden_layers} layers "
            f"`{''.join('F' if t == 'full_attention' else 'L' for t in c.layer_types)}` (L = Gated DeltaNet, F = "
            f"gated full attention), hidden {c.hidden_size}, vocab {c.vocab_size}, tied embeddings.",
            f"- Full attention: {c.num_attention_heads} query / {c.num_key_value_heads} KV heads, head_dim "
            f"{c.head_dim}, partial RoPE 0.25 (rotary dim {int(c.head_dim * 0.25)}), rope_theta "
            f"{c.rope_parameters['rope_theta']:g}, interleaved M-RoPE sections {c.rope_parameters['mrope_section']}.",
            f"- Gated DeltaNet: {c.linear_num_key_heads} key heads / {c.linear_num_value_heads} value heads, "
            f"dk = dv = {c.linear_key_head_dim}, conv kernel {c.linear_conv_kernel_dim}."]
    if r["variant"] == "moe":
        arch.append(f"- MoE in every layer: {c.num_experts} experts, top-{c.num_experts_per_tok} (renormalised), "
                    f"expert width {c.moe_intermediate_size}, shared expert {c.shared_expert_intermediate_size} with "
                    f"sigmoid gate; trained with a per-layer load-balancing loss (coefficient {c.router_aux_loss_coef}).")
    else:
        arch.append(f"- Dense SwiGLU MLP width {c.intermediate_size}.")
    tr = manifest.get("train", {})
    he = manifest.get("heldout", {})
    lines = [
        "---",
        "library_name: transformers",
        "license: other",
        "license_name: psf-2.0-training-data",
        "pipeline_tag: text-generation",
        "tags: [qwen3_5, tiny, test-model, qinfer]",
        "---",
        "",
        f"# {r['name']}",
        "",
        f"A tiny but really trained {'mixture-of-experts ' if r['variant'] == 'moe' else ''}model of the Qwen3.5 "
        "text architecture, made for testing the qinfer inference engine (real weight and activation statistics, "
        "a meaningful perplexity, coherent-ish Python continuations). It is NOT a useful language model.",
        "",
        "## Architecture",
        "",
        *arch,
        f"- Parameters: {p['total']:,} total ({p['embedding']:,} embedding, {p['non_embedding']:,} non-embedding"
        + (f", {p['active_per_token']:,} active per token" if r["variant"] == "moe" else "")
        + f"); {p['bf16_bytes'] / 1e6:.2f} MB in bf16.",
        "- Weights stored in bfloat16 (`model.safetensors`, written by `save_pretrained`"
        + ("; experts as per-expert 2-D tensors" if r["variant"] == "moe" else "") + ").",
        "",
        "## Data",
        "",
        "The `*.py` files of the CPython standard library "
        f"({manifest.get('stdlib_dir', '?')}, Python {manifest.get('python_version_of_this_interpreter', '?')}), "
        "licensed under the Python Software Foundation License Version 2. "
        f"Files sorted by relative path; {manifest.get('split_rule', '?')} (every 20th file held out). "
        f"Training split: {tr.get('files', '?')} files, {tr.get('bytes', 0) / 1e6:.2f} MB, "
        f"{tr.get('tokens', '?')} tokens; held-out split: {he.get('files', '?')} files, "
        f"{he.get('bytes', 0) / 1e6:.2f} MB, {he.get('tokens', '?')} tokens. Documents are separated by "
        "`<|endoftext|>`. See `corpus_manifest.json`.",
        "",
        "## Tokenizer",
        "",
        f"Byte-level BPE trained with Hugging Face `tokenizers` {r['tokenizers']} on the training split: "
        f"{r['tokenizer_vocab']} tokens = {r['tokenizer_vocab'] - 26} BPE + the 26 added tokens of Qwen3 "
        f"(`<|endoftext|>` = {r['eos_token_id']}, `<|im_start|>`, `<|im_end|>`, ..., `<think>`, `</think>`, same "
        "flags). Same normalizer (NFC), pre-tokenizer (Qwen regex split + ByteLevel), decoder and post-processor as "
        "Qwen3; ChatML chat template of Qwen3 (Apache-2.0). `eos_token` = `<|endoftext|>` (base model).",
        "",
        "## Training",
        "",
        f"- {r['steps']} steps x batch {r['batch_size']} x {r['seq_len']} tokens = {r['tokens_seen']:,} tokens "
        f"(windows at seeded random offsets), seed {r['seed']}.",
        f"- AdamW (0.9, 0.95), peak LR {r['lr']}, {r['warmup']} warm-up steps, cosine to 10 %, weight decay "
        f"{r['weight_decay']} (matrices), grad clip 1.0; {r['train_precision']}; SDPA attention"
        + (f"; experts `{r['experts_impl_train']}`" if r["variant"] == "moe" else "")
        + (f"; torch.compile" if r["compile"] else "") + ".",
        f"- Hardware: {r['hardware']}; training {r['train_time_s']} s, whole script {r['wall_time_s']} s.",
        f"- Software: Python {r['python']}, torch {r['torch']}, transformers {r['transformers']}.",
        "- Reproducibility: data order and initialisation depend only on the seed; CUDA kernels with atomics "
        "(embedding backward, SDPA backward, index_add_) leave run-to-run differences at the float-rounding level.",
        "",
        "## Results",
        "",
        "| metric | value |",
        "|---|---|",
        f"| final train loss (mean of last log interval) | {r['final_train_loss']:.4f} |",
        f"| held-out loss / perplexity ({r['heldout_tokens']:,} tokens) | {r['heldout_loss']:.4f} / "
        f"{r['heldout_ppl']:.2f} |",
        f"| `heldout_sample.txt` loss / perplexity ({r['heldout_sample_tokens']:,} tokens) | "
        f"{r['heldout_sample_loss']:.4f} / {r['heldout_sample_ppl']:.2f} |",
        "",
        f"Evaluation: the saved bf16 checkpoint reloaded in fp32 with eager attention (TF32 off); ids = "
        f"tokenizer(text) without BOS, independent windows ids[k*{r['seq_len']} : k*{r['seq_len']}+{r['seq_len'] + 1}]"
        ", mean cross-entropy over all predicted tokens."
        + (f" Evaluation capped at {r['eval_max_windows']} windows." if r["eval_max_windows"] else ""),
        "",
    ]
    if r["expert_load"]:
        lines += ["Expert load on held-out text (fraction of routed slots per expert):", ""]
        lines += [f"- `{k}`: {v}" for k, v in r["expert_load"].items()] + [""]
    lines += ["Greedy continuation of `import os\\n\\n\\ndef ` (via `generate`):", "", "```python",
              r["generate_sample"], "```", ""]
    if r["smoke"]:
        lines += ["**SMOKE RUN** (a few CPU steps on a corpus subset): the numbers above are not meaningful.", ""]
    with open(os.path.join(args.out, "README.md"), "w") as f:
        f.write("\n".join(lines))


if __name__ == "__main__":
    main()
