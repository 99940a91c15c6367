"""A PEFT LoRA adapter on the PyTorch SmolVLM (Idefics3) reference: the golden prompt with and without it.

    node scripts/python.mjs tools/families/idefics3_peft.py --adapter test/fixtures/lora/smolvlm-adapter \
        --out test/fixtures/lora/smolvlm-adapter-logits.json

Loads the tiny SmolVLM fixture (test/fixtures/hub/HuggingFaceTB-tiny-smolvlm), applies the
adapter with tools/train/peft.py's apply_adapter (keys `base_model.model.model.text_model.
layers.N.self_attn.q_proj.lora_A.weight`: Idefics3ForConditionalGeneration's own module
paths, which this reference shares), and writes golden.json's prompt's first-step logits and
greedy ids with the adapter, and the greedy ids without it. The browser writes and reads the
same files (src/models/lora/peft.ts), so its logits with the adapter must equal these.
"""
import argparse
import json
import os
import sys

for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ[var] = "1"

import numpy as np  # noqa: E402
import torch  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(1, os.path.join(HERE, "..", "train"))
import idefics3_processor as proc  # noqa: E402
from golden_stats import load_checkpoint  # noqa: E402
from idefics3_golden import GREEDY_STEPS, IMAGES  # noqa: E402
from idefics3_model import Idefics3Config, Idefics3ForConditionalGeneration  # noqa: E402
from peft import apply_adapter  # noqa: E402

REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
FIXTURE = os.path.join(REPO, "test", "fixtures", "hub", "HuggingFaceTB-tiny-smolvlm")


def read_json(folder, name):
    with open(os.path.join(folder, name)) as f:
        return json.load(f)


def golden_inputs(folder):
    """golden.json's prompt ids and its images' tiles (1, N, 3, M, M), as the golden was made."""
    golden = read_json(folder, "golden.json")
    pre = read_json(folder, "preprocessor_config.json")
    tiles = [proc.preprocess(IMAGES[i["file"]](), pre)[0] for i in golden["images"]]
    pixel_values = torch.from_numpy(np.concatenate(tiles))[None]
    mask = torch.ones(1, pixel_values.shape[1], *pixel_values.shape[3:], dtype=torch.bool)
    return torch.tensor([golden["input_ids"]]), pixel_values, mask


def first_step(model, cfg, ids, pixel_values, mask):
    eos = (cfg.text_config.pad_token_id, cfg.text_config.eos_token_id)
    with torch.no_grad():
        logits, greedy, _ = model.greedy(ids, pixel_values, mask, GREEDY_STEPS, eos)
    return {"logits": [round(float(v), 7) for v in logits], "greedy_ids": [int(i) for i in greedy]}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--adapter", required=True)
    ap.add_argument("--model", default=FIXTURE)
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    torch.set_num_threads(1)
    cfg = Idefics3Config.from_hf(read_json(args.model, "config.json"))
    model = load_checkpoint(Idefics3ForConditionalGeneration(cfg).eval(), args.model, {"lm_head.weight"})
    ids, pixel_values, mask = golden_inputs(args.model)
    base = first_step(model, cfg, ids, pixel_values, mask)
    config = apply_adapter(model, args.adapter)
    adapted = first_step(model, cfg, ids, pixel_values, mask)
    moved = max(abs(a - b) for a, b in zip(adapted["logits"], base["logits"]))
    out = {"adapter": os.path.relpath(os.path.abspath(args.adapter), REPO), "model": os.path.relpath(os.path.abspath(args.model), REPO),
           "prompt": "golden.json input_ids with its images' tiles", "r": config["r"], "lora_alpha": config["lora_alpha"],
           "with_adapter": adapted, "base_greedy_ids": base["greedy_ids"], "max_logit_change": round(moved, 6)}
    text = json.dumps(out) + "\n"
    if args.out:
        with open(args.out, "w") as f:
            f.write(text)
        print(f"wrote {args.out}: logits move by up to {moved:.3g} with the adapter")
    else:
        print(text)


if __name__ == "__main__":
    main()
