"""Where the held-out concept (the star shape, the colour purple) is missing in webvlm-tiny: the diagnosis behind lora_recipe.py.

    node scripts/python.mjs tools/train/concept_probe.py [--adapter DIR] [--json tools/train/results/concept-probe.json]
    node scripts/python.mjs tools/train/concept_probe.py --work .cache/train --checkpoint model-encoder.pt   (probes only)

Three measurements:
- tokens: the ids of " star" and " purple", and the norms of their rows in
  embed_tokens and lm_head against the words the base model was trained on (a
  row never trained keeps its init, or shrinks under weight decay).
- probes: logistic regressions on the frozen vision features of each object
  (the patches it covers, averaged with its coverage as weight), before the
  projector at every vision layer and after it, and on the object's raw pixels
  for reference: star against each other shape, purple against each other
  colour, split by image (70% train, 30% test), balanced test accuracy; and a
  small MLP probe for star against every other shape.
- answers: the concept set (lora_recipe.py's 100 questions, seed 8501) scored
  per task and per concept (star, purple, both), and what the model answers
  where the gold answer is "star" (with --adapter: after the adapter).
"""
import argparse
import collections
import json
import os
import sys

for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ[var] = "1"

import torch

sys.path.insert(0, os.path.dirname(__file__))
from data import COLOURS, REPO, SHAPES, Split, generate, normalise      # noqa: E402
from eval import answers, load_exported, questions                      # noqa: E402

WORK = os.path.join(REPO, ".cache", "lora-recipe")
TRAINED_SHAPES = [s for s in SHAPES if s != "star"]
TRAINED_COLOURS = [c for c in COLOURS if c != "purple"]


def token_rows(model, tok):
    """Norms of the new words' rows next to the trained words' (mean over the other shapes and colours)."""
    emb = model.language_model.model.embed_tokens.weight.detach()
    head = model.language_model.lm_head.weight.detach()

    def row(word):
        ids = tok.encode(" " + word)
        assert len(ids) == 1, f"' {word}' is {len(ids)} tokens"
        return ids[0]

    def norms(words):
        ids = [row(w) for w in words]
        return {"embed": round(float(emb[ids].norm(dim=1).mean()), 4), "lm_head": round(float(head[ids].norm(dim=1).mean()), 4)}

    out = {"vocab": emb.shape[0], "star_id": row("star"), "purple_id": row("purple"),
           "star": norms(["star"]), "purple": norms(["purple"]),
           "trained_shapes": norms(TRAINED_SHAPES), "trained_colours": norms(TRAINED_COLOURS),
           "init_norm_expected": round(0.02 * emb.shape[1] ** 0.5, 4)}
    # Cosine of the new rows to their nearest trained row: near 0 means the row is still a random direction.
    for w in ("star", "purple"):
        i = row(w)
        cos = torch.nn.functional.cosine_similarity(head[i][None], head, dim=1)
        cos[i] = -2
        out[w]["lm_head_max_cos_to_other_rows"] = round(float(cos.max()), 4)
    return out


def object_features(model, split, batch=64):
    """Per object: pooled features at every vision layer, after the projector, and raw pixels; its shape and colour."""
    feats, labels = collections.defaultdict(list), []
    items = sorted(split.dense.items())
    with torch.no_grad():
        for s in range(0, len(items), batch):
            chunk = items[s:s + batch]
            px = normalise(split.images[[i for i, _ in chunk]].float())
            states = model.vision_tower.vision_model.hidden_states(px)
            layers = [h[:, 1:] for h in states]                           # class token dropped, as LLaVA does
            proj = model.multi_modal_projector(model.pool(layers[model.config.vision_feature_layer]))
            b, _, side, _ = px.shape
            p = model.config.vision_config.patch_size
            raw = px.reshape(b, 3, side // p, p, side // p, p).permute(0, 2, 4, 1, 3, 5).reshape(b, (side // p) ** 2, -1)
            for j, (_, t) in enumerate(chunk):
                w = torch.from_numpy(t["cover"])                           # (objects, patches)
                w = w * (w >= 0.25)
                for k in range(t["count"]):
                    if float(w[k].sum()) == 0:
                        continue                                           # an object too small to own a patch
                    wk = w[k] / w[k].sum()
                    for li, h in enumerate(layers):
                        feats[f"vision_layer_{li}"].append(wk @ h[j])
                    feats["projector"].append(wk @ proj[j])
                    feats["pixels"].append(wk @ raw[j])
                    labels.append((SHAPES[t["obj_shape"][k]], COLOURS[t["obj_colour"][k]], j + s))
    return {k: torch.stack(v) for k, v in feats.items()}, labels


def probe(x, y, train, steps=300):
    """L2-regularised logistic regression on standardised x; balanced accuracy on the rows not in train."""
    mu, sd = x[train].mean(0), x[train].std(0) + 1e-6
    z = (x - mu) / sd
    w = torch.zeros(z.shape[1], requires_grad=True)
    b = torch.zeros(1, requires_grad=True)
    pos = float(y[train].mean())
    weight = torch.where(y[train] > 0, 0.5 / max(pos, 1e-6), 0.5 / max(1 - pos, 1e-6))
    opt = torch.optim.LBFGS([w, b], max_iter=steps, line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        logit = z[train] @ w + b
        loss = (torch.nn.functional.binary_cross_entropy_with_logits(logit, y[train], weight=weight)
                + 1e-3 * (w * w).sum())
        loss.backward()
        return loss
    opt.step(closure)
    with torch.no_grad():
        pred = (z[~train] @ w + b) > 0
        yt = y[~train] > 0
        tpr = float((pred & yt).sum()) / max(1, int(yt.sum()))
        tnr = float((~pred & ~yt).sum()) / max(1, int((~yt).sum()))
    return round((tpr + tnr) / 2, 4), int(yt.sum()), int((~yt).sum())


def mlp_probe(x, y, train, steps=1500):
    """A one-hidden-layer probe (128 GELU units), class-balanced loss; balanced test accuracy. The decoder is not linear either."""
    torch.manual_seed(0)
    mu, sd = x[train].mean(0), x[train].std(0) + 1e-6
    z = (x - mu) / sd
    pos = float(y[train].mean())
    weight = torch.where(y[train] > 0, 0.5 / pos, 0.5 / (1 - pos))
    net = torch.nn.Sequential(torch.nn.Linear(z.shape[1], 128), torch.nn.GELU(), torch.nn.Linear(128, 1))
    opt = torch.optim.AdamW(net.parameters(), 1e-3, weight_decay=1e-2)
    for _ in range(steps):
        opt.zero_grad()
        torch.nn.functional.binary_cross_entropy_with_logits(net(z[train])[:, 0], y[train], weight=weight).backward()
        opt.step()
    with torch.no_grad():
        pred = net(z[~train])[:, 0] > 0
    yt = y[~train] > 0
    return round((float((pred & yt).sum()) / int(yt.sum()) + float((~pred & ~yt).sum()) / int((~yt).sum())) / 2, 4)


def probes(feats, labels, n_images):
    image = torch.tensor([im for _, _, im in labels])
    train = image < int(n_images * 0.7)
    out = {}
    for target, index, others in (("star", 0, TRAINED_SHAPES), ("purple", 1, TRAINED_COLOURS)):
        attr = [lab[index] for lab in labels]
        rows = {}
        for name, x in feats.items():
            row = {}
            for other in ["all"] + others:
                keep = torch.tensor([a == target or other == "all" or a == other for a in attr])
                y = torch.tensor([1.0 if a == target else 0.0 for a in attr])[keep]
                acc, npos, nneg = probe(x[keep], y, train[keep])
                row[f"vs_{other}"] = acc
            rows[name] = row
        out[target] = rows
    star = torch.tensor([1.0 if s == "star" else 0.0 for s, _, _ in labels])
    out["star_mlp_vs_all"] = {name: mlp_probe(feats[name], star, train) for name in ("vision_layer_2", "vision_layer_4", "projector", "pixels")}
    out["objects"] = len(labels)
    out["star_objects"] = sum(1 for s, _, _ in labels if s == "star")
    out["purple_objects"] = sum(1 for _, c, _ in labels if c == "purple")
    return out


def concept_answers(model, cfg, tok, folder):
    """Scores per task and per concept, and the answers given where the gold is 'star' or 'purple'."""
    with open(os.path.join(folder, "data.json")) as f:
        records = json.load(f)
    rows = collections.defaultdict(lambda: [0, 0])
    said = {"star": collections.Counter(), "purple": collections.Counter()}
    examples = []
    for (task, answer, gold), r in zip(answers(model, tok, questions(records, folder, cfg, tok)), records):
        text = " ".join(c["value"].lower() for c in r["conversations"])
        concept = "both" if "star" in text and "purple" in text else "star" if "star" in text else "purple"
        for key in (f"task:{task}", f"concept:{concept}", f"{concept}:{task}"):
            rows[key][0] += answer == gold
            rows[key][1] += 1
        for w in ("star", "purple"):
            if w in gold:
                said[w][answer] += 1
        if len(examples) < 12 and "star" in text and answer != gold:
            examples.append({"q": r["conversations"][0]["value"].replace("<image>\n", ""), "gold": gold, "answer": answer})
    return {"accuracy": {k: {"n": v[1], "exact": round(v[0] / v[1], 4)} for k, v in sorted(rows.items())},
            "answers_when_gold_names": {w: dict(c.most_common(8)) for w, c in said.items()},
            "wrong_star_examples": examples}


def probe_split(tok, cfg, images):
    """The probe scenes (seed 8600, every shape and colour, the held-out ones included) with their dense targets."""
    folder = generate(os.path.join(WORK, f"probe-8600-n{images}"), 8600, images, ["vqa-shape"], held_out="include", masks=True)
    return Split(folder, tok, cfg.vision_config.image_size, cfg.image_seq_length, patch=cfg.vision_config.patch_size, dense=True)


def probe_work(args):
    """The vision probes of a training checkpoint (train.py's work folder), printed and optionally saved."""
    from bpe_tokenizer import load_any
    from export import load_trained
    model, cfg = load_trained(args.work, args.checkpoint)
    cfg.image_pooling = 1   # the projector row of each patch, as the exported model has (pooling carries no weights)
    split = probe_split(load_any(os.path.join(args.work, "tokenizer")), cfg, args.images)
    feats, labels = object_features(model, split)
    result = {"command": " ".join(["node scripts/python.mjs tools/train/concept_probe.py"] + sys.argv[1:]),
              "probe": probes(feats, labels, len(split.dense))}
    p = result["probe"]
    for layer in ("vision_layer_2", "vision_layer_4", "projector", "pixels"):
        print(f"{layer:<15} star vs all {p['star'][layer]['vs_all']:.4f}  "
              + " ".join(f"vs {s} {p['star'][layer]['vs_' + s]:.4f}" for s in TRAINED_SHAPES)
              + f"  mlp {p['star_mlp_vs_all'][layer]:.4f}", flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=1)
            f.write("\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default=os.path.join(REPO, "public", "models", "webvlm-tiny"))
    ap.add_argument("--adapter", default=None, help="score the concept set with this PEFT adapter applied")
    ap.add_argument("--probe-adapter", action="store_true", help="probe the vision features with --adapter applied too (an adapter with vision-tower LoRA)")
    ap.add_argument("--images", type=int, default=600)
    ap.add_argument("--skip-probe", action="store_true")
    ap.add_argument("--work", default=None, help="probe a training work folder's weights instead of --model "
                    "(the vision probes only: a tower trained alone has no decoder worth asking)")
    ap.add_argument("--checkpoint", default="checkpoint.pt", help="with --work: which weights file")
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    if args.work:
        probe_work(args)
        return
    model, cfg, tok = load_exported(args.model)
    result = {"command": " ".join(["node scripts/python.mjs tools/train/concept_probe.py"] + sys.argv[1:]), "tokens": token_rows(model, tok)}
    print("tokens", json.dumps(result["tokens"]), flush=True)
    if args.adapter and args.probe_adapter:
        from peft import apply_adapter
        apply_adapter(model, args.adapter)
        model.eval()
    if not args.skip_probe:
        split = probe_split(tok, cfg, args.images)
        feats, labels = object_features(model, split)
        result["probe"] = probes(feats, labels, len(split.dense))
        print("probe", json.dumps(result["probe"]), flush=True)
    if args.adapter and not args.probe_adapter:
        from peft import apply_adapter
        apply_adapter(model, args.adapter)
        model.eval()
    if args.adapter:
        result["adapter"] = os.path.relpath(args.adapter, REPO)
    from lora_recipe import concept_split
    result["concept"] = concept_answers(model, cfg, tok, concept_split(8501))
    print("concept", json.dumps(result["concept"]), flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=1)
            f.write("\n")


if __name__ == "__main__":
    main()
