"""Scores the PyTorch model on a freshly generated split: one row per task.

    npm run eval:tiny -- --seed 9 --count 1900 [--json scores.json] [--answers answers.json] [--model public/models/webvlm-tiny] [--adapter DIR]
    npm run eval:tiny -- --folder .cache/lora-recipe/concept-8501-n100 --adapter DIR     (an existing split, e.g. lora_recipe.py's)

Every assistant turn is one question, asked with the gold conversation before it
(so a multi-turn record scores each turn). Metrics: exact match for VQA, referring,
descriptions, comparisons, documents and charts; F1 of "yes" per POPE strategy;
the share of gold boxes found with IoU > 0.5 for grounding; the character error
rate (edit distance / gold length, summed over the split) for OCR.
"""
import argparse
import json
import os
import re
import sys
import time

for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ[var] = "1"

import torch

sys.path.insert(0, os.path.dirname(__file__))
import safetensors_io                                                         # noqa: E402
from data import REPO, generate, normalise, read_png, to_model_size           # noqa: E402
from generate import greedy                                                   # noqa: E402
from model import LlavaConfig, LlavaForConditionalGeneration                  # noqa: E402
from bpe_tokenizer import load_any                                            # noqa: E402
from tokenizer import IMAGE, llava_to_messages, render_chat                   # noqa: E402

torch.set_num_threads(1)

BOX_RE = re.compile(r"<ref>(.*?)</ref><box>\((\d+),(\d+)\),\((\d+),(\d+)\)</box>")


def load_exported(folder):
    with open(os.path.join(folder, "config.json")) as f:
        cfg = LlavaConfig.from_hf(json.load(f))
    model = LlavaForConditionalGeneration(cfg)
    model.load_state_dict(safetensors_io.load(os.path.join(folder, "model.safetensors")))
    return model.eval(), cfg, load_any(folder)


def metric_of(task):
    if task.startswith("pope-"):
        return "f1"
    if task.startswith("grounding"):
        return "iou>0.5"
    if task == "ocr":
        return "cer"
    return "exact_match"


def iou(a, b):
    ix = max(0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def boxes(text):
    return [(m[0], tuple(int(v) for v in m[1:])) for m in BOX_RE.findall(text)]


def box_hits(pred, gold):
    """Gold boxes matched by a predicted box of the same name with IoU > 0.5 (each prediction used once)."""
    p, hits = boxes(pred), 0
    for name, g in boxes(gold):
        for j, (n, b) in enumerate(p):
            if n == name and iou(b, g) > 0.5:
                hits += 1
                p.pop(j)
                break
    return hits, len(boxes(gold))


def edit_distance(a, b):
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


class Tally:
    def __init__(self):
        self.rows = {}

    def add(self, task, pred, gold):
        r = self.rows.setdefault(task, {"n": 0, "hit": 0, "edits": 0, "chars": 0, "tp": 0, "fp": 0, "fn": 0, "boxes": 0})
        r["n"] += 1
        r["hit"] += pred == gold
        r["edits"] += edit_distance(pred, gold)
        r["chars"] += len(gold)
        r["tp"] += pred == "yes" and gold == "yes"
        r["fp"] += pred == "yes" and gold != "yes"
        r["fn"] += pred != "yes" and gold == "yes"
        if task.startswith("grounding"):
            h, n = box_hits(pred, gold)
            r["box_hit"] = r.get("box_hit", 0) + h
            r["boxes"] += n

    def scores(self):
        out = {}
        for task in sorted(self.rows):
            r, m = self.rows[task], metric_of(task)
            if m == "f1":
                s = 2 * r["tp"] / max(1, 2 * r["tp"] + r["fp"] + r["fn"])
            elif m == "iou>0.5":
                s = r.get("box_hit", 0) / max(1, r["boxes"])
            elif m == "cer":
                s = r["edits"] / max(1, r["chars"])
            else:
                s = r["hit"] / max(1, r["n"])
            out[task] = {"n": r["n"], "metric": m, "score": round(s, 4)}
        return out


def questions(records, folder, cfg, tok):
    """(task, prompt ids, pixel_values, gold) for every assistant turn of every record."""
    size = cfg.vision_config.image_size
    cache = {}
    for r in records:
        names = [r["image"]] if isinstance(r["image"], str) else r["image"]
        for n in names:
            if n not in cache:
                cache[n] = normalise(to_model_size(read_png(os.path.join(folder, n)), size)[None])[0]
        pixels = torch.stack([cache[n] for n in names])
        conv = r["conversations"]
        for j in range(1, len(conv), 2):
            ids = tok.encode(render_chat(llava_to_messages(conv[:j]), add_generation_prompt=True))
            ids = [k for i in ids for k in ([i] * cfg.image_seq_length if i == IMAGE else [i])]
            yield r["task"], ids, pixels, conv[j]["value"]


# Room for the longest answer the generator writes (boxes for five objects: up to 126 tokens); a shorter budget
# cut those answers and scored them wrong. Decoding stops once every answer of a batch has ended.
MAX_NEW_TOKENS = 160


def answers(model, tok, qs, batch=32, max_new_tokens=MAX_NEW_TOKENS):
    """(task, answer, gold) for each of questions()'s items, in order, decoded greedily in batches."""
    pending = []
    for q in qs:
        pending.append(q)
        if len(pending) == batch:
            yield from _decode(model, tok, pending, max_new_tokens)
            pending = []
    if pending:
        yield from _decode(model, tok, pending, max_new_tokens)


def _decode(model, tok, pending, max_new_tokens):
    outs = greedy(model, [p[1] for p in pending], torch.cat([p[2] for p in pending]), max_new_tokens)
    return [(task, tok.decode(out).strip(), gold) for (task, _, _, gold), out in zip(pending, outs)]


def evaluate(model, cfg, tok, folder, batch=32, max_new_tokens=MAX_NEW_TOKENS, limit=None):
    with open(os.path.join(folder, "data.json")) as f:
        records = json.load(f)[:limit]
    tally = Tally()
    for task, answer, gold in answers(model, tok, questions(records, folder, cfg, tok), batch, max_new_tokens):
        tally.add(task, answer, gold)
    return tally.scores()


# Bumped when the layout of the --answers file changes, so its readers can refuse what they do not know.
ANSWERS_FORMAT = 1


def turns(records):
    """(record id, turn index, question text) for every assistant turn, in questions()' order.

    The question text is the human turn without its image lines, as a chat UI asks it.
    """
    for r in records:
        conv = r["conversations"]
        for j in range(1, len(conv), 2):
            yield r["id"], j // 2, re.sub(r"<image>\n?", "", conv[j - 1]["value"]).strip()


def evaluate_answers(model, cfg, tok, folder, batch=32, max_new_tokens=MAX_NEW_TOKENS):
    """evaluate()'s scores, plus one row per question (id, turn, task, prompt, answer, gold) in the split's order."""
    with open(os.path.join(folder, "data.json")) as f:
        records = json.load(f)
    tally, rows = Tally(), []
    decoded = answers(model, tok, questions(records, folder, cfg, tok), batch, max_new_tokens)
    for (rid, turn, prompt), (task, answer, gold) in zip(turns(records), decoded):
        tally.add(task, answer, gold)
        rows.append({"id": rid, "turn": turn, "task": task, "prompt": prompt, "answer": answer, "gold": gold})
    return tally.scores(), rows


def write_answers(path, args, tasks, scores, rows):
    with open(path, "w") as f:
        json.dump({"format": ANSWERS_FORMAT, "seed": args.seed, "count": args.count, "tasks": tasks,
                   "scores": scores, "questions": rows}, f, indent=1)
        f.write("\n")


def eval_split(seed, count, tasks=None, words=None):
    """The held-out split for (seed, count, tasks, words), generated once under .cache/eval."""
    name = f"seed{seed}-n{count}" + (f"-{'-'.join(tasks)}" if tasks else "") + (f"-{words}" if words else "")
    return generate(os.path.join(REPO, ".cache", "eval", name), seed, count, tasks, words=words)


def add_model_args(ap):
    """The exported model to score, or a training checkpoint in a work folder."""
    ap.add_argument("--model", default=os.path.join(REPO, "public", "models", "webvlm-tiny"))
    ap.add_argument("--checkpoint", default=None, help="score a training checkpoint (with --work) instead")
    ap.add_argument("--work", default=os.path.join(REPO, ".cache", "train"))
    ap.add_argument("--adapter", default=None, help="a PEFT LoRA adapter folder to apply (adapter_config.json, adapter_model.safetensors)")


def load_model(args):
    """(model, config, tokenizer) as add_model_args chose, with --adapter applied."""
    if args.checkpoint:
        from export import load_trained
        model, cfg = load_trained(args.work, args.checkpoint)
        tok = load_any(os.path.join(args.work, "tokenizer"))
    else:
        model, cfg, tok = load_exported(args.model)
    if getattr(args, "adapter", None):
        from peft import apply_adapter
        apply_adapter(model, args.adapter)
        model.eval()
    return model, cfg, tok


def print_table(scores):
    print(f"{'task':<18} {'n':>5}  {'metric':<12} {'score':>7}")
    for task, r in scores.items():
        print(f"{task:<18} {r['n']:>5}  {r['metric']:<12} {r['score']:>7.3f}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=9)
    ap.add_argument("--count", type=int, default=1900)
    ap.add_argument("--json", default=None)
    ap.add_argument("--tasks", default=None, help="comma-separated task names (default: all)")
    ap.add_argument("--folder", default=None, help="score this generated split folder (data.json, images) instead of a fresh one")
    ap.add_argument("--words", default=None, help="print documents and charts in these words (real-held-out: "
                    "real words no training split shows)")
    ap.add_argument("--answers", default=None, help="also write every question, its answer and gold, and the scores, as JSON")
    add_model_args(ap)
    args = ap.parse_args()
    model, cfg, tok = load_model(args)
    tasks = args.tasks.split(",") if args.tasks else None
    folder = args.folder or eval_split(args.seed, args.count, tasks, args.words)
    t0 = time.time()
    if args.answers:
        scores, rows = evaluate_answers(model, cfg, tok, folder)
        write_answers(args.answers, args, tasks, scores, rows)
    else:
        scores = evaluate(model, cfg, tok, folder)
    print_table(scores)
    print(f"({time.time() - t0:.0f}s)")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"seed": args.seed, "count": args.count, "tasks": scores}, f, indent=2)
            f.write("\n")


if __name__ == "__main__":
    main()
