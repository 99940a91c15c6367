"""A LoRA gradient golden for the recipe that teaches new words: golden.json's lora batch through the model
with LoRA on all 7 decoder targets, LoRA on the vision tower's encoder layers 2 and 3 (q/k/v/out_proj, fc1, fc2),
and the embed_tokens and lm_head rows of ' star', ' stars', ' purple' trained (PEFT's trainable_token_indices).
The batch is golden.json's lora batch plus one conversation that says the new words (so their rows get gradients).
Writes the loss and the norm of every trained tensor's gradient; the browser trainer must match them.

    node scripts/python.mjs tools/train/lora_vision_golden.py [--model public/models/webvlm-tiny]
        [--out test/fixtures/lora/vision-tokens-golden.json]

Init: every LoRA matrix from golden.py's lora_init (decoder layers in order, targets in DECODER_TARGETS order,
then the vision layers in order, targets in VISION_TARGETS order; A = matrix 2m with scale 0.2, B = 2m + 1 with
scale 0.05), the token rows from the base rows (as PEFT starts them).
"""
import argparse
import json
import os
import sys

for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ[var] = "1"

import torch
import torch.nn.functional as F
from torch import nn

sys.path.insert(0, os.path.dirname(__file__))
from data import REPO, encode_conversation, normalise, read_png, to_model_size   # noqa: E402
from eval import load_exported                              # noqa: E402
from golden import lora_backward, lora_init, pad_batch      # noqa: E402

RANK, ALPHA = 8, 16
DECODER_TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
VISION_TARGETS = ["q_proj", "k_proj", "v_proj", "out_proj", "fc1", "fc2"]
VISION_LAYERS = [2, 3]
WORDS = ["star", "stars", "purple"]
ROW_LAYERS = {"embed_tokens": "language_model.model.embed_tokens", "lm_head": "language_model.lm_head"}
TOKEN_ROWS = ".token_adapter.trainable_tokens_delta"


class Rows(nn.Module):
    """Rows `ids` of an embedding or output layer replaced by a trained tensor (PEFT's TrainableTokensLayer)."""

    def __init__(self, base, ids):
        super().__init__()
        self.base = base
        self.ids = torch.tensor(ids, dtype=torch.long)
        self.rows = base.weight.detach()[self.ids].clone().requires_grad_()

    def forward(self, x):
        w = self.base.weight.index_copy(0, self.ids, self.rows)
        return F.embedding(x, w) if isinstance(self.base, nn.Embedding) else F.linear(x, w, self.base.bias)


def linears(model):
    """[(HF path, nn.Linear)] in init order."""
    out = []
    for i, layer in enumerate(model.language_model.model.layers):
        for t in DECODER_TARGETS:
            block = layer.mlp if t in ("gate_proj", "up_proj", "down_proj") else layer.self_attn
            out.append((f"language_model.model.layers.{i}.{'mlp' if block is layer.mlp else 'self_attn'}.{t}", getattr(block, t)))
    enc = model.vision_tower.vision_model.encoder
    for i in VISION_LAYERS:
        for t in VISION_TARGETS:
            block = enc.layers[i].mlp if t.startswith("fc") else enc.layers[i].self_attn
            out.append((f"vision_tower.vision_model.encoder.layers.{i}.{'mlp' if t.startswith('fc') else 'self_attn'}.{t}", getattr(block, t)))
    return out


def extended_batch(tok, cfg, batch):
    """golden.json's lora batch plus one conversation that says the new words in its question and its answer."""
    conv = [{"from": "human", "value": "<image>\nIs there a purple star or are there stars?"},
            {"from": "gpt", "value": "There is no purple star; no stars at all."}]
    extra_ids, extra_labels = encode_conversation(tok, conv, cfg.image_seq_length)
    rows = [(i, l, a) for i, l, a in zip(batch["input_ids"], batch["labels"], batch["attention_mask"])]
    return pad_batch([(i[:sum(a)], l[:sum(a)]) for i, l, a in rows] + [(list(extra_ids), list(extra_labels))])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default=os.path.join(REPO, "public", "models", "webvlm-tiny"))
    ap.add_argument("--out", default=os.path.join(REPO, "test", "fixtures", "lora", "vision-tokens-golden.json"))
    args = ap.parse_args()
    torch.set_num_threads(1)
    model, cfg, tok = load_exported(args.model)
    for p in model.parameters():
        p.requires_grad_(False)
    with open(os.path.join(args.model, "golden.json")) as f:
        g = json.load(f)
    ids, labels, att = extended_batch(tok, cfg, g["lora"]["batch"])
    pixels = normalise(to_model_size(read_png(os.path.join(args.model, g["image"])), cfg.vision_config.image_size)[None])

    scale = ALPHA / RANK
    mats = []
    for m, (path, lin) in enumerate(linears(model)):
        a = lora_init(2 * m, (RANK, lin.in_features), 0.2).requires_grad_()
        b = lora_init(2 * m + 1, (lin.out_features, RANK), 0.05).requires_grad_()
        mats.append((path, a, b, lin))
    token_ids = sorted({tok.encode(" " + w)[0] for w in WORDS})
    for w in WORDS:
        assert len(tok.encode(" " + w)) == 1, w
    rows = {}
    for key, path in ROW_LAYERS.items():
        parent, _, child = path.rpartition(".")
        r = Rows(model.get_submodule(path), token_ids)
        setattr(model.get_submodule(parent), child, r)
        rows[path] = r
    loss, norms = lora_backward(model, mats, scale, ids, pixels, att, labels)
    for path, r in rows.items():
        norms[f"{path}{TOKEN_ROWS}"] = r.rows.grad.norm().item()
    out = {
        "rank": RANK, "alpha": ALPHA, "dropout": 0.0, "targets": DECODER_TARGETS,
        "vision_layers": VISION_LAYERS, "vision_targets": VISION_TARGETS,
        "words": WORDS, "token_ids": token_ids, "token_layers": list(ROW_LAYERS),
        "init": "golden.py lora_init: matrix m over decoder layers x targets, then vision layers x vision targets; "
                "A = index 2m scale 0.2, B = 2m + 1 scale 0.05; token rows start from the base rows",
        "batch": {"images": "golden.png for every sequence", "input_ids": ids.tolist(), "attention_mask": att.tolist(),
                  "labels": labels.tolist()},
        "loss": loss.item(),
        "grad_norms": norms,
    }
    with open(args.out, "w") as f:
        f.write(json.dumps(out, indent=1) + "\n")
    print(f"wrote {os.path.relpath(args.out, REPO)}: loss {loss.item():.6f}, {len(norms)} gradient norms")


if __name__ == "__main__":
    main()
