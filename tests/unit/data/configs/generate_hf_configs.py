#!/usr/bin/env python3
"""Regenerates the tiny HF-written config.json fixtures used by tests/unit/test_hf_config.cpp.

Each fixture is what `model.save_pretrained()` of transformers writes for a tiny randomly initialised model of one
supported architecture (the weights are discarded, only config.json is kept). Building the model, not just the config,
proves that HF itself accepts the config. The script also prints, per fixture, the facts the C++ test asserts
(layer types, which layers are MoE, rotary dim, tying), read back from the instantiated HF model.

Usage: /opt/hfvenv/bin/python tests/unit/data/configs/generate_hf_configs.py   (transformers 5.17.0 was used)
"""
import json
import os
import tempfile

import torch
import transformers
from transformers import (Qwen3_5Config, Qwen3_5ForCausalLM, Qwen3_5ForConditionalGeneration, Qwen3_5MoeConfig,
                          Qwen3_5MoeForCausalLM, Qwen3_5MoeForConditionalGeneration, Qwen3_5MoeTextConfig,
                          Qwen3_5TextConfig, Qwen3NextConfig, Qwen3NextForCausalLM)

HERE = os.path.dirname(os.path.abspath(__file__))

# Deliberately distinct sizes so that a swapped field shows up in the test.
LINEAR = dict(linear_conv_kernel_dim=4, linear_key_head_dim=16, linear_value_head_dim=24, linear_num_key_heads=2,
              linear_num_value_heads=4)
ATTN = dict(num_attention_heads=4, num_key_value_heads=2, head_dim=32)
VISION = dict(depth=1, hidden_size=32, intermediate_size=64, num_heads=2, out_hidden_size=64)
MROPE = dict(rope_type="default", rope_theta=1000000.0, partial_rotary_factor=0.25, mrope_section=[2, 1, 1],
             mrope_interleaved=True)


def dense_text(**kw):
    return dict(vocab_size=320, hidden_size=64, intermediate_size=96, num_hidden_layers=4, **ATTN, **LINEAR, **kw)


def moe_text(**kw):
    return dict(vocab_size=320, hidden_size=64, num_hidden_layers=4, num_experts=8, num_experts_per_tok=2,
                moe_intermediate_size=32, shared_expert_intermediate_size=48, **ATTN, **LINEAR, **kw)


def layers(model):
    inner = model.model.language_model if hasattr(model.model, "language_model") else model.model
    return inner


def facts(model):
    inner = layers(model)
    text_cfg = inner.config
    moe = [type(l.mlp).__name__.endswith("SparseMoeBlock") for l in inner.layers]
    rotary_dim = inner.rotary_emb.inv_freq.shape[0] * 2
    tied = model.lm_head.weight.data_ptr() == inner.embed_tokens.weight.data_ptr()
    return dict(layer_types=text_cfg.layer_types, moe=moe, rotary_dim=rotary_dim, tied=tied,
                rope=text_cfg.rope_parameters)


def save(name, model):
    with tempfile.TemporaryDirectory() as d:
        model.save_pretrained(d)
        with open(os.path.join(d, "config.json")) as f:
            text = f.read()
    with open(os.path.join(HERE, name), "w") as f:
        f.write(text)
    print(name, json.dumps(facts(model)))


def main():
    torch.manual_seed(0)
    print("transformers", transformers.__version__)

    # 1. Qwen3_5ForConditionalGeneration (model_type qwen3_5, nested text_config), explicit M-RoPE dict, eos/bos in
    #    text_config.
    cfg = Qwen3_5Config(text_config=dense_text(rope_parameters=MROPE, eos_token_id=7, bos_token_id=6),
                        vision_config=VISION)
    save("hf_qwen3_5.json", Qwen3_5ForConditionalGeneration(cfg))

    # 2. Qwen3_5MoeForConditionalGeneration (model_type qwen3_5_moe, nested text_config).
    cfg = Qwen3_5MoeConfig(text_config=moe_text(rope_parameters=MROPE, eos_token_id=[7, 8]), vision_config=VISION)
    save("hf_qwen3_5_moe.json", Qwen3_5MoeForConditionalGeneration(cfg))

    # 3. Qwen3_5ForCausalLM (model_type qwen3_5_text, flat): tied embeddings like Qwen3.5-0.8B, interval 2, defaults
    #    for RoPE (theta 10000, partial factor 0.25).
    cfg = Qwen3_5TextConfig(**dense_text(full_attention_interval=2, tie_word_embeddings=True))
    save("hf_qwen3_5_text.json", Qwen3_5ForCausalLM(cfg))

    # 4. Qwen3_5MoeForCausalLM (model_type qwen3_5_moe_text, flat).
    cfg = Qwen3_5MoeTextConfig(**moe_text(rope_parameters={"rope_theta": 5000000.0}, eos_token_id=9))
    save("hf_qwen3_5_moe_text.json", Qwen3_5MoeForCausalLM(cfg))

    # 5. Qwen3NextForCausalLM (model_type qwen3_next, flat), every layer MoE, norm_topk_prob false.
    cfg = Qwen3NextConfig(vocab_size=320, hidden_size=64, intermediate_size=96, num_hidden_layers=4,
                          num_experts=8, num_experts_per_tok=2, moe_intermediate_size=32,
                          shared_expert_intermediate_size=40, norm_topk_prob=False, rope_theta=10000000.0,
                          eos_token_id=300, bos_token_id=299, **ATTN, **LINEAR)
    save("hf_qwen3_next.json", Qwen3NextForCausalLM(cfg))

    # 6. Qwen3-Next with dense layers: decoder_sparse_step 2 and mlp_only_layers [3], full_attention_interval 3.
    cfg = Qwen3NextConfig(vocab_size=320, hidden_size=64, intermediate_size=96, num_hidden_layers=6,
                          num_experts=8, num_experts_per_tok=2, moe_intermediate_size=32,
                          shared_expert_intermediate_size=40, decoder_sparse_step=2, mlp_only_layers=[3],
                          full_attention_interval=3, **ATTN, **LINEAR)
    save("hf_qwen3_next_sparse_step.json", Qwen3NextForCausalLM(cfg))


if __name__ == "__main__":
    main()
