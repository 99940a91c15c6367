"""Trains the bundled model on src/data splits, in stages, resumable, on one CPU thread.

    /usr/bin/python3 tools/train/train.py --work .cache/train [--steps-scale 1.0] [--binding-scale 1.0]
        [--recipe v1|v2] [--tokenizer word|bpe] [--silhouette WEIGHT] [--count-scale 1.0]

--recipe v2 (recipes.py) is the retrain: the byte-level BPE tokenizer, documents and charts in real
words, the weak tasks drawn more often, the label-free silhouette loss (silhouette.py) on the tower.

Recipe (from pilots on this data, see the model card):
  encoder   the vision tower alone on dense targets (per-patch colour/shape/box,
            count, per-object shape/colour), so it encodes what is where;
  warmup    the decoder on one-object scenes with easy questions, constant rate;
  two/four  a curriculum of 1-2 then 1-4 objects, box questions from the start;
  all       every task (scenes up to 5 objects, POPE, compare, multi-turn, OCR,
            documents, charts), cosine decay at the end;
  context/fine/more  document questions with the page text, 64 image tokens, fresh data;
  bind      the binding head (binding.py) on a middle decoder layer marks the named
            object's image tokens, so answers are about the right object among several;
  relate    a short pass weighted to relations (still at chance) and other spatial questions;
  ocr-text  document questions over page text laid out as OCR returns it;
  relations relation and position questions alone, then mix: every task again;
  glyphs    the vision tower alone on the glyph head (glyphs.py) beside the scene heads;
  ocr       OCR questions alone, so the decoder learns to read; read: every task again;
  polish*   low-rate passes over every task (OCR drawn 12x), with short focused passes between
            them (OCR alone twice; boxes, positions and counts twice; counts, relations and POPE once).
The dense heads stay on as an auxiliary loss after the first stage. The recipe itself is stages.py.
"""
import argparse
import csv
import json
import os
import random
import sys
import time

# One thread everywhere: the pilots ran faster on one than on two, and the
# machine's other core belongs to other work. Set before numpy/torch load.
for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ[var] = "1"

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(__file__))
from data import REPO, Split, collate, generate          # noqa: E402
from binding import BindingHead, binding_target          # noqa: E402
from glyphs import GlyphHead                              # noqa: E402
from heads import DenseHeads                              # noqa: E402
from model import LlavaConfig, LlavaForConditionalGeneration, TextConfig, VisionConfig, count_parameters  # noqa: E402
from recipes import RECIPES                                # noqa: E402
from stages import stage_pooling                          # noqa: E402
from silhouette import SilhouetteHead                      # noqa: E402
from vocab import TOKENIZERS, grow_vocabulary, tokenizer_for  # noqa: E402

torch.set_num_threads(1)
torch.set_num_interop_threads(1)

def model_config(vocab_size):
    return LlavaConfig(
        vision_config=VisionConfig(image_size=64, patch_size=8, hidden_size=128, intermediate_size=512,
                                   num_hidden_layers=4, num_attention_heads=4),
        text_config=TextConfig(vocab_size=vocab_size, hidden_size=192, intermediate_size=512, num_hidden_layers=4,
                               num_attention_heads=6, num_key_value_heads=2, head_dim=32,
                               max_position_embeddings=512, bos_token_id=1, eos_token_id=2, pad_token_id=0),
        image_token_index=3, image_pooling=2)


def lr_at(stage, step):
    warm = min(100, stage["steps"] // 10)
    if step < warm:
        return stage["lr"] * (step + 1) / warm
    if stage["schedule"] == "cosine":
        p = (step - warm) / max(1, stage["steps"] - warm)
        return stage["lr"] * (0.05 + 0.95 * 0.5 * (1 + np.cos(np.pi * p)))
    return stage["lr"]


BIND_LAYER = 1   # the binding head reads this decoder layer's output, so the layers after it can use what it marks


def losses(model, heads, split, batch, want_lm, want_dense, bind=None, glypher=None, shaper=None):
    """LM loss on assistant tokens, the dense auxiliary loss (sharing one vision pass), with bind =
    (head, per-row targets, tap) the binding loss at the image tokens, and with glypher (a GlyphHead)
    the character loss on the text images, with shaper (a SilhouetteHead) the label-free silhouette loss."""
    feats = model.patch_features(batch["pixel_values"])                  # (images, N, C)
    l_lm = l_dense = l_bind = l_glyph = l_shape = None
    if want_lm:
        image_features = model.multi_modal_projector(model.pool(feats))  # (images, tokens, D)
        x = model.embed(batch["input_ids"], image_features)
        att = batch["attention_mask"]
        logits, _, _ = model.decode(x, att, (att.cumsum(-1) - 1).clamp(min=0))
        # Next-token prediction: position t predicts token t + 1.
        l_lm = F.cross_entropy(logits[:, :-1].flatten(0, 1), batch["labels"][:, 1:].flatten(), ignore_index=-100)
        if bind is not None:
            head, targets, tap = bind
            l_bind = head.loss(tap["h"], batch["input_ids"], model.config.image_token_index, targets)
    if want_dense:
        l_dense = on_images(feats, batch["image_idx"], split.dense, lambda f, t: heads.loss(f, t)[0])
    if glypher is not None:
        l_glyph = on_images(feats, batch["image_idx"], split.glyphs, glypher.loss)
    if want_dense and shaper is not None:
        l_shape = on_images(feats, batch["image_idx"], split.dense, shaper.loss)
    return l_lm, l_dense, l_bind, l_glyph, l_shape


def on_images(feats, image_idx, targets, loss):
    """An auxiliary head's loss on the batch images that have targets (image index -> targets), or None."""
    idx = [j for j, i in enumerate(image_idx) if i in targets]
    return loss(feats[idx], [targets[image_idx[j]] for j in idx]) if idx else None


LONG = 80   # tokens besides the image's; longer samples (documents with their text) go in a micro-batch of their own


def batch_loss(model, heads, split, picks, st, bind=None, glypher=None, shaper=None):
    """The step's loss with short and long samples in separate micro-batches, so a few long prompts do not
    pad the whole batch; each part weighs by its share of answer tokens (LM) and of samples (dense, binding).
    bind: (head, targets per sample index, tap) or None; glypher: a GlyphHead, or None; shaper: a SilhouetteHead
    (weighed by st["silhouette"]), or None."""
    long = LONG + model.config.image_seq_length
    groups = [[i for i in picks if len(split.samples[i][2]) <= long], [i for i in picks if len(split.samples[i][2]) > long]]
    groups = [g for g in groups if g]
    answer_tokens = [sum(sum(1 for x in split.samples[i][3] if x != -100) for i in g) for g in groups]
    total = torch.zeros(())
    sums = {"lm": None, "dense": None, "binding": None, "glyph": None, "silhouette": None}   # the stage's weight names
    for g, n in zip(groups, answer_tokens):
        batch = collate(split, g)
        b = None if bind is None else (bind[0], [bind[1][i] for i in g], bind[2])
        l_lm, l_dense, l_bind, l_glyph, l_shape = losses(model, heads, split, batch, st["lm"] > 0, st["dense"] > 0, b,
                                                         glypher, shaper)
        samples, tokens = len(g) / len(picks), n / max(1, sum(answer_tokens))
        for key, loss, share in (("glyph", l_glyph, samples), ("binding", l_bind, samples), ("lm", l_lm, tokens),
                                 ("dense", l_dense, samples), ("silhouette", l_shape, samples)):
            if loss is not None:
                part = loss * share
                total = total + st[key] * part
                sums[key] = part if sums[key] is None else sums[key] + part
    return total, sums["lm"], sums["dense"], sums["binding"], sums["glyph"], sums["silhouette"]


def split_binding(split):
    """Binding targets per sample (None where the first question names no object of one scene image).
    Dense targets exist only for scene images, so a sample with them has scene metadata."""
    out = []
    for r, (_, imgs, _, _) in zip(split.records, split.samples):
        d = split.dense.get(imgs[0]) if len(imgs) == 1 else None
        objects = None if d is None else split.meta[os.path.basename(r["image"])]["objects"]
        out.append(None if d is None else binding_target(r, objects, d["cover"]))
    return out


def load_optimizer(opt, saved):
    """Loads a saved optimizer state whose parameters are a prefix of the current list: heads added since
    (the glyph head after the binding one) start with a fresh state, the rest keep theirs."""
    saved = {**saved, "param_groups": [{**saved["param_groups"][0],
                                        "params": list(range(len(opt.param_groups[0]["params"])))}]}
    opt.load_state_dict(saved)


def write_config(work, cfg, name="config.json"):
    with open(os.path.join(work, name), "w") as f:
        json.dump(cfg.to_hf(), f, indent=2)


def save_checkpoint(path, state):
    tmp = path + ".tmp"
    torch.save(state, tmp)
    os.replace(tmp, path)   # never leave a half-written checkpoint behind


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--work", default=os.path.join(REPO, ".cache", "train"))
    ap.add_argument("--steps-scale", type=float, default=1.0, help="multiply every stage's steps (pilots: 0.1)")
    ap.add_argument("--unlabelled-held-out", action=argparse.BooleanOptionalAction, default=None,
                    help="stages that train no text (lm weight 0, no OCR) show the held-out star and purple in their "
                         "scenes with no shape or colour label (heads.py skips them): only box, count and silhouette "
                         "targets (the recipe's default: v1 off)")
    ap.add_argument("--count-scale", type=float, default=1.0,
                    help="multiply every stage's split size (at least 64 records; a smoke test: 0.01)")
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--stop-after", default=None, help="stop after this stage (checkpoint kept)")
    ap.add_argument("--binding-scale", type=float, default=1.0, help="multiply the binding loss weight (0: ablation)")
    ap.add_argument("--recipe", choices=sorted(RECIPES), default="v1", help="the stage list (stages.py, recipe_v2.py)")
    ap.add_argument("--tokenizer", choices=TOKENIZERS, default=None,
                    help="word (v1's default) or bpe (v2's default: the committed byte-level BPE, tools/train/bpe)")
    ap.add_argument("--silhouette", type=float, default=None,
                    help="weight of the label-free silhouette loss (silhouette.py) wherever the dense heads train; "
                         "0 turns it off (v1's default 0, v2's 0.5)")
    args = ap.parse_args()
    stages = RECIPES[args.recipe]["stages"]
    tokenizer = args.tokenizer or RECIPES[args.recipe]["tokenizer"]
    silhouette = RECIPES[args.recipe]["silhouette"] if args.silhouette is None else args.silhouette
    if args.unlabelled_held_out is None:
        args.unlabelled_held_out = RECIPES[args.recipe]["unlabelled_held_out"]
    os.makedirs(args.work, exist_ok=True)
    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)

    tok = tokenizer_for(args.work, tokenizer)
    cfg = model_config(len(tok))
    model = LlavaForConditionalGeneration(cfg)
    heads = DenseHeads(cfg.vision_config.hidden_size)
    binder = BindingHead(cfg.text_config.hidden_size)
    glypher = GlyphHead(cfg.vision_config.hidden_size)
    shaper = SilhouetteHead(cfg.vision_config.hidden_size) if silhouette > 0 else None
    tap = {}
    model.language_model.model.layers[BIND_LAYER].register_forward_hook(lambda m, i, o: tap.__setitem__("h", o[0]))
    print(f"parameters: {count_parameters(model):,} (vision {count_parameters(model, 'vision_tower'):,}, "
          f"projector {count_parameters(model, 'multi_modal_projector'):,}, text {count_parameters(model, 'language_model'):,})", flush=True)
    params = list(model.parameters()) + list(heads.parameters()) + list(binder.parameters()) + list(glypher.parameters())
    params += [] if shaper is None else list(shaper.parameters())   # last, so a run without it keeps its layout
    opt = torch.optim.AdamW(params, lr=1e-3, betas=(0.9, 0.98), weight_decay=0.01)
    ckpt_path = os.path.join(args.work, "checkpoint.pt")
    start_stage, start_step, elapsed = 0, 0, 0.0
    if os.path.exists(ckpt_path):
        ck = torch.load(ckpt_path)
        if ck.get("recipe", "v1") != args.recipe:
            raise SystemExit(f"{ckpt_path} is a --recipe {ck.get('recipe', 'v1')} run; use that recipe or a fresh --work")
        grown = grow_vocabulary(ck["model"], model.state_dict())
        model.load_state_dict(ck["model"])
        heads.load_state_dict(ck["heads"])
        if "binding" in ck:
            binder.load_state_dict(ck["binding"])
        if "glyph" in ck:
            glypher.load_state_dict(ck["glyph"])
        if shaper is not None and "silhouette" in ck:
            shaper.load_state_dict(ck["silhouette"])
        if grown:
            print("vocabulary grew: embedding rows added, optimizer state restarted", flush=True)
        elif "binding" not in ck:
            print("binding head added: optimizer state restarted", flush=True)
        else:
            load_optimizer(opt, ck["opt"])
        torch.set_rng_state(ck["torch_rng"])
        start_stage, start_step, elapsed = ck["stage"], ck["step"], ck["elapsed"]
        print(f"resumed at stage {stages[start_stage]['name'] if start_stage < len(stages) else 'done'} step {start_step}", flush=True)
    cfg.image_pooling = stage_pooling(min(start_stage, len(stages) - 1), stages)
    write_config(args.work, cfg)

    log_path = os.path.join(args.work, "loss.csv")
    header = ["stage", "step", "lr", "lm_loss", "dense_loss", "elapsed_s", "binding_loss", "glyph_loss"]
    header += ["silhouette_loss"] if shaper is not None else []
    if os.path.exists(log_path):
        with open(log_path) as f:
            lines = f.read().splitlines()
        if lines and lines[0] != ",".join(header):   # a log from before the later columns: widen it (0 = none)
            rows = [r + ",0" * (len(header) - 1 - r.count(",")) for r in lines[1:]]
            with open(log_path, "w") as f:
                f.write("\n".join([",".join(header)] + rows) + "\n")
    new_log = not os.path.exists(log_path)
    log = open(log_path, "a", newline="")
    writer = csv.writer(log)
    if new_log:
        writer.writerow(header)

    for si in range(start_stage, len(stages)):
        st = {**stages[si], "binding": stages[si].get("binding", 0.0) * args.binding_scale,
              "glyph": stages[si].get("glyph", 0.0), "silhouette": silhouette}
        steps = max(1, int(st["steps"] * args.steps_scale))
        if cfg.image_pooling != stage_pooling(si, stages):
            cfg.image_pooling = stage_pooling(si, stages)
            write_config(args.work, cfg)
            print(f"image pooling {cfg.image_pooling}: {cfg.image_seq_length} tokens per image", flush=True)
        count = max(64, int(st["count"] * args.count_scale))
        # Only stages that train no text and print none (not the glyph stage's OCR images) show the held-out concept.
        shown = args.unlabelled_held_out and st["lm"] == 0 and "ocr" not in (st["tasks"] or ["ocr"])
        folder = generate(os.path.join(args.work, "data", st["name"] + ("-unlabelled-held-out" if shown else "")),
                          st["seed"], count, st["tasks"], st["min_objects"], st["max_objects"], masks=True,
                          words=st.get("words"), held_out="include" if shown else None)
        split = Split(folder, tok, cfg.vision_config.image_size, cfg.image_seq_length, dense=True)
        print(f"stage {st['name']}: {len(split)} samples, {len(split.dense)} dense images, "
              f"{len(split.glyphs)} text images, {steps} steps", flush=True)
        # Tasks drawn more often than their share of the split: copying from a page's text is learnt late.
        weights = st.get("task_weights")
        draw_p = None
        if weights:
            draw_p = np.array([weights.get(sample[0], 1.0) for sample in split.samples])
            draw_p /= draw_p.sum()
        # The batch order is a function of (seed, stage, step), so a resumed run draws the same batches.
        step0 = start_step if si == start_stage else 0
        bind = (binder, split_binding(split), tap) if st["binding"] > 0 else None
        if bind:
            print(f"binding targets: {sum(t is not None for t in bind[1])} samples", flush=True)
        t0, running = time.time(), dict(lm=0.0, dense=0.0, bind=0.0, glyph=0.0, silhouette=0.0)
        for step in range(step0, steps):
            rng = np.random.default_rng([args.seed, si, step])
            picks = (rng.choice(len(split), args.batch, p=draw_p) if draw_p is not None
                     else rng.integers(0, len(split), args.batch)).tolist()
            lr = lr_at({**st, "steps": steps}, step)
            for g in opt.param_groups:
                g["lr"] = lr
            loss, *parts = batch_loss(model, heads, split, picks, st, bind, glypher if st["glyph"] > 0 else None, shaper)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            opt.step()
            values = dict(zip(running, (0.0 if p is None else p.item() for p in parts)))   # as running's keys
            for k, v in values.items():
                running[k] = 0.9 * running[k] + 0.1 * v
            now = elapsed + time.time() - t0
            if step % 20 == 0 or step == steps - 1:
                writer.writerow([st["name"], step, f"{lr:.6f}", f"{values['lm']:.4f}", f"{values['dense']:.4f}",
                                 f"{now:.1f}", f"{values['bind']:.4f}", f"{values['glyph']:.4f}"]
                                + ([f"{values['silhouette']:.4f}"] if shaper is not None else []))
                log.flush()
            if step % 100 == 0 or step == steps - 1:
                shown = {k: v for k, v in running.items() if k != "silhouette" or shaper is not None}
                print(f"{st['name']} {step}/{steps} lr {lr:.2e} " + " ".join(f"{k} {v:.3f}" for k, v in shown.items())
                      + f" {now:.0f}s", flush=True)
            if (step + 1) % 300 == 0 or step == steps - 1:
                done = step == steps - 1
                save_checkpoint(ckpt_path, {"model": model.state_dict(), "heads": heads.state_dict(),
                                            "binding": binder.state_dict(), "glyph": glypher.state_dict(),
                                            "opt": opt.state_dict(), "recipe": args.recipe,
                                            **({} if shaper is None else {"silhouette": shaper.state_dict()}),
                                            "torch_rng": torch.get_rng_state(), "stage": si + 1 if done else si,
                                            "step": 0 if done else step + 1, "elapsed": now, "config": cfg.to_hf()})
        elapsed += time.time() - t0
        torch.save(model.state_dict(), os.path.join(args.work, f"model-{st['name']}.pt"))
        write_config(args.work, cfg, f"config-{st['name']}.json")
        if args.stop_after == st["name"]:
            break
    log.close()
    print(f"training done, {elapsed:.0f}s", flush=True)


if __name__ == "__main__":
    main()
