"""Pieces the decoder-only families (Idefics3, Qwen2-VL) share: their random init, the
Llama-style layer stack with a KV cache, and greedy decoding as HF's generate does it.
"""
import os
import sys

import torch
import torch.nn as nn

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "train"))
from model import LlamaRmsNorm  # noqa: E402


def wide_init(m, conv_type, conv_std):
    """Random weights with a wider spread than HF's 0.02 init, so the tiny model's logits are
    far apart and greedy ids do not flip on rounding differences between runtimes."""
    if isinstance(m, (nn.Linear, conv_type)):
        nn.init.normal_(m.weight, std=0.3 if isinstance(m, nn.Linear) else conv_std)
        if m.bias is not None:
            nn.init.normal_(m.bias, std=0.05)
    elif isinstance(m, nn.Embedding):
        nn.init.normal_(m.weight, std=0.2)
    elif isinstance(m, LlamaRmsNorm):
        nn.init.normal_(m.weight, mean=1.0, std=0.1)
    elif isinstance(m, nn.LayerNorm):
        nn.init.normal_(m.weight, mean=1.0, std=0.1)
        nn.init.normal_(m.bias, std=0.05)


def run_layers(layers, x, cos, sin, mask, past):
    """The decoder layers in turn: (last hidden state, presents [(k, v)] of (B, K, P + T, hd))."""
    presents = []
    for i, layer in enumerate(layers):
        x, kv = layer(x, cos, sin, mask, None if past is None else past[i])
        presents.append(kv)
    return x, presents


def greedy_loop(logits, past, mask, steps, eos_ids, decode_next):
    """Greedy decoding after the prompt's (logits, past, mask), up to `steps` ids or an end id (kept).

    decode_next(id, mask, cache_position, past) -> (logits, past) runs one step; mask already
    covers the new id. Returns (first-step logits (V,), generated ids, smallest top-1/top-2 gap).
    """
    first, ids, gap = logits[0, -1].clone(), [], float("inf")
    for _ in range(steps):
        top2 = torch.topk(logits[0, -1], 2).values
        gap = min(gap, float(top2[0] - top2[1]))
        nxt = int(logits[0, -1].argmax())
        ids.append(nxt)
        if nxt in eos_ids:
            break
        pos = mask.shape[1]
        mask = torch.cat([mask, torch.ones(1, 1, dtype=mask.dtype)], 1)
        logits, past = decode_next(nxt, mask, pos, past)
    return first, ids, gap
