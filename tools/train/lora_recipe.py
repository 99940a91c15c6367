"""Teaching the held-out concept (the star shape, the colour purple) with LoRA, in PyTorch: the recipe the browser's Fine-tune view is sized from.

    node scripts/python.mjs tools/train/lora_recipe.py [--train 600] [--steps 150] [--batch 8] [--lr 1e-3]
        [--rank 16] [--alpha 32] [--projector] [--out .cache/lora-recipe/adapter] [--json result.json]

Data: `npm run data -- --held-out focus` puts a star or a purple object in every
scene (the base model never saw either); the training split mixes those scenes'
questions with ordinary ones (`--mix`, the share drawn from a held-out-free split)
so the rest is not forgotten. Measured before and after: 100 fresh questions that
name the concept or answer with it (seed 8501), and the standard vqa and pope tasks
on a fresh seed (eval.py's scores, seed 8502). Training: LoRA on q/k/v/o (peft's
default init: A Kaiming-uniform, B zero), dropout on the LoRA input, AdamW,
linear warm-up then cosine, loss on the answers only. The adapter is written in
PEFT's layout (tools/train/peft.py reads it back). Resumable: each split is
generated once under .cache/lora-recipe.
"""
import argparse
import json
import math
import os
import sys
import time

for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ[var] = "1"

import torch
import torch.nn.functional as F
from torch import nn

sys.path.insert(0, os.path.dirname(__file__))
import safetensors_io                                            # noqa: E402
from data import REPO, Split, collate, generate                  # noqa: E402
from eval import evaluate, load_exported                         # noqa: E402

CONCEPT = ("star", "purple")
TASKS = ["vqa-colour", "vqa-shape", "vqa-count", "vqa-position", "pope-random", "pope-popular", "pope-adversarial", "describe"]
STANDARD = ["vqa-colour", "vqa-shape", "vqa-count", "vqa-position", "vqa-relation", "pope-random", "pope-popular", "pope-adversarial"]
WORK = os.path.join(REPO, ".cache", "lora-recipe")


class TrainLora(nn.Module):
    """nn.Linear + (alpha / r) * B(A dropout(x)), peft's LoraLayer in training mode."""

    def __init__(self, base: nn.Linear, r, alpha, dropout, gen):
        super().__init__()
        self.base = base
        self.lora_A = nn.Parameter(torch.empty(r, base.in_features))
        bound = 1 / math.sqrt(base.in_features)     # kaiming_uniform_(a=sqrt(5)) on [r, in]
        with torch.no_grad():
            self.lora_A.uniform_(-bound, bound, generator=gen)
        self.lora_B = nn.Parameter(torch.zeros(base.out_features, r))
        self.scale = alpha / r
        self.dropout = nn.Dropout(dropout)

    def forward(self, x):
        return self.base(x) + self.scale * F.linear(F.linear(self.dropout(x), self.lora_A), self.lora_B)


VISION_TARGETS = ("q_proj", "k_proj", "v_proj", "out_proj", "fc1", "fc2")


def attach(model, r, alpha, dropout, targets, seed, vision=False):
    """LoRA on the decoder's `targets`, and with `vision` on every linear layer of the vision tower's encoder too."""
    gen = torch.Generator().manual_seed(seed)
    for p in model.parameters():
        p.requires_grad_(False)
    wrapped = []
    for name, mod in list(model.named_modules()):
        leaf = name.split(".")[-1]
        in_decoder = name.startswith("language_model.") and leaf in targets
        in_vision = vision and name.startswith("vision_tower.") and ".encoder." in name and leaf in VISION_TARGETS
        if isinstance(mod, nn.Linear) and (in_decoder or in_vision):
            parent, _, child = name.rpartition(".")
            lora = TrainLora(mod, r, alpha, dropout, gen)
            setattr(model.get_submodule(parent), child, lora)
            wrapped.append((name, lora))
    return wrapped


def concept_split(seed, count=100):
    """`count` fresh questions that name the star or purple, or answer with it."""
    folder = generate(os.path.join(WORK, f"concept-{seed}-pool"), seed, count * 6, ["vqa-colour", "vqa-shape", "pope-random", "vqa-count"], held_out="focus")
    out = os.path.join(WORK, f"concept-{seed}-n{count}")
    if not os.path.exists(os.path.join(out, "data.json")):
        with open(os.path.join(folder, "data.json")) as f:
            records = json.load(f)
        pick = [r for r in records if any(w in (c["value"].lower()) for c in r["conversations"] for w in CONCEPT)][:count]
        os.makedirs(out, exist_ok=True)
        for name in ("meta.json",):
            with open(os.path.join(folder, name)) as f, open(os.path.join(out, name), "w") as g:
                g.write(f.read())
        for r in pick:
            r["image"] = os.path.relpath(os.path.join(folder, r["image"]), out)
        with open(os.path.join(out, "data.json"), "w") as f:
            json.dump(pick, f)
    return out


def scores(model, cfg, tok, folder):
    s = evaluate(model, cfg, tok, folder)
    n = sum(v["n"] for v in s.values())
    return {"mean": round(sum(v["score"] * v["n"] for v in s.values()) / n, 4), "n": n, "tasks": {k: round(v["score"], 4) for k, v in s.items()}}


def save_peft(wrapped, model, args, out):
    from peft import PREFIX
    tensors = {}
    for name, lora in wrapped:
        tensors[f"{PREFIX}{name}.lora_A.weight"] = lora.lora_A.detach()
        tensors[f"{PREFIX}{name}.lora_B.weight"] = lora.lora_B.detach()
    if args.projector:
        for k, v in model.multi_modal_projector.state_dict().items():
            tensors[f"{PREFIX}multi_modal_projector.{k}"] = v.detach().float()
    os.makedirs(out, exist_ok=True)
    safetensors_io.save(os.path.join(out, "adapter_model.safetensors"), tensors, {"format": "pt"})
    config = {"alpha_pattern": {}, "auto_mapping": None, "base_model_name_or_path": "webvlm-tiny", "bias": "none",
              "fan_in_fan_out": False, "inference_mode": True, "init_lora_weights": True, "layers_pattern": None,
              "layers_to_transform": None, "lora_alpha": args.alpha, "lora_dropout": args.dropout,
              "modules_to_save": ["multi_modal_projector"] if args.projector else None, "peft_type": "LORA",
              "r": args.rank, "rank_pattern": {}, "revision": None, "target_modules": sorted(args.targets.split(",")),
              "task_type": "CAUSAL_LM", "use_dora": False, "use_rslora": False}
    with open(os.path.join(out, "adapter_config.json"), "w") as f:
        f.write(json.dumps(config, indent=2) + "\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default=os.path.join(REPO, "public", "models", "webvlm-tiny"))
    ap.add_argument("--train", type=int, default=600, help="focus records generated; those naming the concept are trained on")
    ap.add_argument("--mix", type=float, default=0.3, help="share of ordinary (held-out-free) records added")
    ap.add_argument("--steps", type=int, default=150)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--warmup", type=int, default=10)
    ap.add_argument("--rank", type=int, default=16)
    ap.add_argument("--alpha", type=float, default=32)
    ap.add_argument("--dropout", type=float, default=0.05)
    ap.add_argument("--targets", default="q_proj,k_proj,v_proj,o_proj")
    ap.add_argument("--projector", action="store_true")
    ap.add_argument("--vision", action="store_true", help="LoRA on the vision tower's encoder layers too (not LLaVA's recipe; a test of where the concept is missing)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--skip-before", action="store_true")
    ap.add_argument("--out", default=os.path.join(WORK, "adapter"))
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(args.seed)

    model, cfg, tok = load_exported(args.model)
    concept = concept_split(8501)
    standard = generate(os.path.join(WORK, "standard-8502"), 8502, 400, STANDARD)
    result = {"args": vars(args)}
    t0 = time.time()
    if not args.skip_before:
        result["before"] = {"concept": scores(model, cfg, tok, concept), "standard": scores(model, cfg, tok, standard)}
        print("before", json.dumps(result["before"]), f"({time.time() - t0:.0f}s)", flush=True)

    focus = Split(generate(os.path.join(WORK, f"train-focus-{args.train}"), 8500, args.train, TASKS, held_out="focus"),
                  tok, cfg.vision_config.image_size, cfg.image_seq_length)
    # Keep the records that name the concept or answer with it; the rest of the focus scenes' questions teach nothing new.
    keep = [i for i, r in enumerate(focus.records) if any(w in c["value"].lower() for c in r["conversations"] for w in CONCEPT)]
    focus.samples = [focus.samples[i] for i in keep]
    n_mix = int(len(keep) * args.mix)
    ordinary = Split(generate(os.path.join(WORK, f"train-ordinary-{n_mix}"), 8503, max(n_mix, 1), TASKS, held_out="exclude"),
                     tok, cfg.vision_config.image_size, cfg.image_seq_length) if n_mix else None
    pool = [(focus, i) for i in range(len(focus))] + ([(ordinary, i) for i in range(len(ordinary))] if ordinary else [])

    wrapped = attach(model, args.rank, args.alpha, args.dropout, args.targets.split(","), args.seed, args.vision)
    params = [p for _, l in wrapped for p in (l.lora_A, l.lora_B)]
    if args.projector:
        for p in model.multi_modal_projector.parameters():
            p.requires_grad_(True)
            params.append(p)
    opt = torch.optim.AdamW(params, lr=args.lr, weight_decay=0.0)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: (s + 1) / args.warmup if s < args.warmup else
                                              0.5 * (1 + math.cos(math.pi * (s - args.warmup) / max(1, args.steps - args.warmup))))
    gen = torch.Generator().manual_seed(args.seed)
    order = torch.randperm(len(pool), generator=gen).tolist()
    model.train()
    t1 = time.time()
    tokens = 0
    for step in range(args.steps):
        picks = [pool[order[(step * args.batch + j) % len(order)]] for j in range(args.batch)]
        losses, count = [], 0
        opt.zero_grad()
        for split in {id(s): s for s, _ in picks}.values():
            b = collate(split, [i for s, i in picks if s is split])
            logits = model(b["input_ids"], b["pixel_values"], b["attention_mask"])
            lab = b["labels"][:, 1:]
            losses.append(F.cross_entropy(logits[:, :-1].flatten(0, 1), lab.flatten(), ignore_index=-100, reduction="sum"))
            count += int((lab != -100).sum())
            tokens += int(b["attention_mask"].sum())
        loss = sum(losses) / max(count, 1)     # the mean over the step's supervised tokens, as HF's loss
        loss.backward()
        loss_sum = float(loss) * max(count, 1)
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        sched.step()
        if step % 10 == 0 or step == args.steps - 1:
            print(f"step {step + 1}/{args.steps} loss {loss_sum / max(count, 1):.4f} lr {sched.get_last_lr()[0]:.2e}", flush=True)
    train_s = time.time() - t1
    model.eval()
    result["train"] = {"steps": args.steps, "sequences": args.steps * args.batch, "records": len(pool), "seconds": round(train_s, 1),
                       "tokens_per_second": round(tokens / train_s, 1)}
    result["after"] = {"concept": scores(model, cfg, tok, concept), "standard": scores(model, cfg, tok, standard)}
    print("after", json.dumps(result["after"]), flush=True)
    print("train", json.dumps(result["train"]))
    save_peft(wrapped, model, args, args.out)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=2)
            f.write("\n")


if __name__ == "__main__":
    main()
