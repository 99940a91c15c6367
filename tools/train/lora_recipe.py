"""Teaching the held-out concept (the star shape, the colour purple) with LoRA, in PyTorch: the recipe the browser's Fine-tune view is sized from.

    node scripts/python.mjs tools/train/lora_recipe.py [--train 600] [--steps 150] [--batch 8] [--lr 1e-3]
        [--rank 16] [--alpha 32] [--targets q_proj,...] [--projector] [--vision [--vision-layers 2,3]]
        [--train-tokens star,stars,purple [--token-lr 5e-3]] [--tasks ...] [--mix 0.3] [--mix-tasks ...]
        [--out .cache/lora-recipe/adapter] [--json result.json]

Data: `npm run data -- --held-out focus` puts a star or a purple object in every
scene (the base model never saw either); the training split mixes those scenes'
questions with ordinary ones (`--mix`, the share drawn from a held-out-free split
of `--mix-tasks`) so the rest is not forgotten. Measured before and after: 100
fresh questions that name the concept or answer with it (seed 8501), and the
standard vqa and pope tasks on a fresh seed (eval.py's scores, seed 8502).
Training: LoRA on the decoder's `--targets` (peft's default init: A
Kaiming-uniform, B zero), dropout on the LoRA input, AdamW, linear warm-up then
cosine, loss on the answers only. Optionally the projector (modules_to_save),
LoRA on the vision tower's encoder layers, and the rows of new words in
embed_tokens and lm_head (`--train-tokens`, PEFT's trainable_token_indices): the
base model never saw " star" or " purple", so their embedding rows are still at
init and their lm_head rows were only ever pushed down, all into one shared
direction (tools/train/concept_probe.py measures both); LoRA alone cannot make
the model say them. The adapter is written in PEFT's layout (tools/train/peft.py
reads it back). Resumable: each split is generated once under .cache/lora-recipe.
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


class TrainRows(nn.Module):
    """An embedding or output layer whose rows `ids` are trainable: PEFT's TrainableTokensLayer (trainable_token_indices).

    The trained rows replace the base rows (PEFT stores the rows themselves, not a difference), starting from them.
    """

    def __init__(self, base, ids):
        super().__init__()
        self.base = base
        self.register_buffer("ids", torch.tensor(ids, dtype=torch.long))
        self.rows = nn.Parameter(base.weight.detach()[self.ids].clone())

    def forward(self, x):
        w = self.base.weight.index_copy(0, self.ids, self.rows)
        return F.embedding(x, w, self.base.padding_idx) if isinstance(self.base, nn.Embedding) else F.linear(x, w, self.base.bias)


# Where PEFT finds each layer whose rows are trained, by the key it uses in trainable_token_indices.
ROW_LAYERS = {"embed_tokens": "language_model.model.embed_tokens", "lm_head": "language_model.lm_head"}


def attach_rows(model, tok, words, layers):
    """Trainable rows for `words` (each one token with its leading space) in `layers` (keys of ROW_LAYERS)."""
    ids = []
    for w in words:
        piece = tok.encode(" " + w)
        if len(piece) != 1:
            raise SystemExit(f"--train-tokens: ' {w}' is {len(piece)} tokens, not one")
        ids.append(piece[0])
    ids = sorted(set(ids))
    out = []
    for key in layers:
        path = ROW_LAYERS[key]
        parent, _, child = path.rpartition(".")
        rows = TrainRows(model.get_submodule(path), ids)
        setattr(model.get_submodule(parent), child, rows)
        out.append((key, path, rows))
    return out


VISION_TARGETS = ("q_proj", "k_proj", "v_proj", "out_proj", "fc1", "fc2")


def attach(model, r, alpha, dropout, targets, seed, vision=False, vision_layers=None):
    """LoRA on the decoder's `targets`, and with `vision` on the linear layers of the vision tower's encoder too
    (all of them, or those of the encoder layers numbered in `vision_layers`)."""
    gen = torch.Generator().manual_seed(seed)
    for p in model.parameters():
        p.requires_grad_(False)
    wrapped = []
    for name, mod in list(model.named_modules()):
        leaf = name.split(".")[-1]
        in_decoder = name.startswith("language_model.") and leaf in targets
        in_vision = vision and name.startswith("vision_tower.") and ".encoder." in name and leaf in VISION_TARGETS
        if in_vision and vision_layers is not None:
            in_vision = int(name.split(".encoder.layers.")[1].split(".")[0]) in vision_layers
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


def save_peft(wrapped, model, args, out, rows=()):
    from peft import PREFIX
    tensors = {}
    for _, path, r in rows:
        tensors[f"{PREFIX}{path}.token_adapter.trainable_tokens_delta"] = r.rows.detach()
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
              "r": args.rank, "rank_pattern": {}, "revision": None, "target_modules": sorted({n.split(".")[-1] for n, _ in wrapped}),
              "task_type": "CAUSAL_LM", "use_dora": False, "use_rslora": False}
    if rows:
        config["trainable_token_indices"] = {key: r.ids.tolist() for key, _, r in rows}
    with open(os.path.join(out, "adapter_config.json"), "w") as f:
        f.write(json.dumps(config, indent=2) + "\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default=os.path.join(REPO, "public", "models", "webvlm-tiny"))
    ap.add_argument("--train", type=int, default=600, help="focus records generated; those naming the concept are trained on")
    ap.add_argument("--tasks", default=",".join(TASKS), help="tasks of the generated training records (focus and ordinary)")
    ap.add_argument("--focus-all", action="store_true", help="train on every focus record, also those that do not name the concept (hard negatives: a diamond next to a star)")
    ap.add_argument("--repeat-concept", type=int, default=1, help="with --focus-all: how many times each record naming the concept enters the pool")
    ap.add_argument("--mix-tasks", default=None, help="tasks of the ordinary records (default: --tasks)")
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
    ap.add_argument("--vision-layers", default=None, help="with --vision: only these encoder layers (comma-separated, from 0)")
    ap.add_argument("--train-tokens", default="", help="words whose embed_tokens/lm_head rows are trained (PEFT's trainable_token_indices), e.g. star,stars,purple")
    ap.add_argument("--token-layers", default="embed_tokens,lm_head", help="which of embed_tokens, lm_head get the --train-tokens rows")
    ap.add_argument("--token-lr", type=float, default=None, help="learning rate of the token rows (default: --lr)")
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
    result = {"command": " ".join(["node scripts/python.mjs tools/train/lora_recipe.py"] + sys.argv[1:]), "args": vars(args)}
    t0 = time.time()
    if not args.skip_before:
        result["before"] = {"concept": scores(model, cfg, tok, concept), "standard": scores(model, cfg, tok, standard)}
        print("before", json.dumps(result["before"]), f"({time.time() - t0:.0f}s)", flush=True)

    tasks = args.tasks.split(",")
    tag = "" if tasks == TASKS else "-" + "-".join(sorted(tasks))
    focus = Split(generate(os.path.join(WORK, f"train-focus-{args.train}{tag}"), 8500, args.train, tasks, held_out="focus"),
                  tok, cfg.vision_config.image_size, cfg.image_seq_length)
    # By default keep the records that name the concept or answer with it. Every kept "What shape is ...?" then
    # answers "star", which teaches a prior as much as the shape: the model said "star" for diamonds and crosses
    # (standard vqa-shape 1.00 -> 0.90). --focus-all keeps the focus scenes' other questions as negatives.
    keep = [i for i, r in enumerate(focus.records) if any(w in c["value"].lower() for c in r["conversations"] for w in CONCEPT)]
    if not args.focus_all:
        focus.samples = [focus.samples[i] for i in keep]
    n_mix = int(len(keep) * args.mix)
    mix_tasks = args.mix_tasks.split(",") if args.mix_tasks else tasks
    mix_tag = "" if mix_tasks == TASKS else "-" + "-".join(sorted(mix_tasks))
    ordinary = Split(generate(os.path.join(WORK, f"train-ordinary-{n_mix}{mix_tag}"), 8503, max(n_mix, 1), mix_tasks, held_out="exclude"),
                     tok, cfg.vision_config.image_size, cfg.image_seq_length) if n_mix else None
    extra = [(focus, i) for i in keep for _ in range(args.repeat_concept - 1)] if args.focus_all else []
    pool = [(focus, i) for i in range(len(focus))] + extra + ([(ordinary, i) for i in range(len(ordinary))] if ordinary else [])

    vision_layers = [int(v) for v in args.vision_layers.split(",")] if args.vision_layers else None
    targets = [t for t in args.targets.split(",") if t]
    wrapped = attach(model, args.rank, args.alpha, args.dropout, targets, args.seed, args.vision, vision_layers)
    params = [p for _, l in wrapped for p in (l.lora_A, l.lora_B)]
    if args.projector:
        for p in model.multi_modal_projector.parameters():
            p.requires_grad_(True)
            params.append(p)
    words = [w for w in args.train_tokens.split(",") if w]
    rows = attach_rows(model, tok, words, args.token_layers.split(",")) if words else []
    groups = [{"params": params, "lr": args.lr}]
    if rows:
        groups.append({"params": [r.rows for _, _, r in rows], "lr": args.token_lr or args.lr})
    params = [p for g in groups for p in g["params"]]
    opt = torch.optim.AdamW(groups, lr=args.lr, weight_decay=0.0)
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
            print(f"step {step + 1}/{args.steps} loss {loss_sum / max(count, 1):.4f} lr {sched.get_last_lr()[0]:.2e} "
                  f"({time.time() - t1:.0f}s)", flush=True)
    train_s = time.time() - t1
    model.eval()
    result["train"] = {"steps": args.steps, "sequences": args.steps * args.batch, "records": len(pool), "seconds": round(train_s, 1),
                       "tokens_per_second": round(tokens / train_s, 1)}
    result["after"] = {"concept": scores(model, cfg, tok, concept), "standard": scores(model, cfg, tok, standard)}
    print("after", json.dumps(result["after"]), flush=True)
    print("train", json.dumps(result["train"]))
    save_peft(wrapped, model, args, args.out, rows)
    result["adapter"] = {"folder": os.path.relpath(args.out, REPO), "trainable_parameters": sum(p.numel() for p in params),
                         "trainable_token_indices": {key: r.ids.tolist() for key, _, r in rows}}
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=2)
            f.write("\n")


if __name__ == "__main__":
    main()
