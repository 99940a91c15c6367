"""Exports a trained checkpoint to public/models/<name>/ in Hugging Face and onnx-community layout, with golden outputs.

    /usr/bin/python3 tools/train/export.py --work .cache/train --name webvlm-tiny [--scores eval.json]

Weights are rounded to f16 first (matrices; vectors stay f32) and everything
after that - ONNX files, golden logits, LoRA gradients - comes from the rounded
model, so an engine that loads model.safetensors and upcasts sees the same numbers.
"""
import argparse
import json
import os
import shutil
import sys

for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ[var] = "1"

import torch

sys.path.insert(0, os.path.dirname(__file__))
import safetensors_io                                      # noqa: E402
from data import IMAGE_MEAN, IMAGE_STD, REPO, generate, normalise, read_png, to_model_size  # noqa: E402
from golden import golden                                  # noqa: E402
from model import LlavaConfig, LlavaForConditionalGeneration  # noqa: E402
from model_card import write_model_card                    # noqa: E402
from onnx_export import export_onnx                        # noqa: E402
from bpe_tokenizer import load_any                         # noqa: E402
from tokenizer import IM_END, PAD, write_json              # noqa: E402

torch.set_num_threads(1)


def load_trained(work, which="checkpoint.pt"):
    with open(os.path.join(work, "config.json")) as f:
        cfg = LlavaConfig.from_hf(json.load(f))
    model = LlavaForConditionalGeneration(cfg)
    state = torch.load(os.path.join(work, which))
    model.load_state_dict(state["model"] if "model" in state else state)
    return model.eval(), cfg


def round_to_f16(model):
    """Matrices (and embeddings, convolutions) to f16 in place; 1-D tensors (norms, biases) stay f32."""
    stored = {}
    with torch.no_grad():
        for name, p in model.state_dict().items():
            if p.dim() >= 2:
                h = p.to(torch.float16)
                p.copy_(h.to(torch.float32))
                stored[name] = h
            else:
                stored[name] = p.clone()
    return stored


def write_configs(out, cfg, tok):
    write_json(os.path.join(out, "config.json"), cfg.to_hf())
    tok.save(out, model_max_length=cfg.text_config.max_position_embeddings)
    size = cfg.vision_config.image_size
    write_json(os.path.join(out, "preprocessor_config.json"), {
        "image_processor_type": "CLIPImageProcessor",
        "processor_class": "LlavaProcessor",
        # Resized straight to the square (no crop): scenes are already 64x64.
        "do_resize": True, "size": {"height": size, "width": size}, "resample": 2,
        "do_center_crop": False, "crop_size": {"height": size, "width": size},
        "do_rescale": True, "rescale_factor": 1 / 255,
        "do_normalize": True, "image_mean": IMAGE_MEAN, "image_std": IMAGE_STD,
        "do_convert_rgb": True,
    })
    write_json(os.path.join(out, "processor_config.json"), {
        "processor_class": "LlavaProcessor", "image_token": "<image>",
        "patch_size": cfg.vision_config.patch_size * cfg.image_pooling,
        "num_additional_image_tokens": 0,
        "vision_feature_select_strategy": cfg.vision_feature_select_strategy,
        "image_seq_length": cfg.image_seq_length,
    })
    write_json(os.path.join(out, "generation_config.json"), {
        "bos_token_id": None, "eos_token_id": IM_END, "pad_token_id": PAD,
        "do_sample": False, "max_new_tokens": 128,
    })


def golden_image(work):
    """A fixed one-object scene from the generator (seed 2024, first describe sample), copied beside the model.

    One object keeps the description (and its <|im_end|>) inside the 24 golden greedy
    tokens, so engines can check the stop as well.
    """
    folder = generate(os.path.join(work, "data", "golden-1"), seed=2024, count=1, tasks=["describe"], min_objects=1, max_objects=1)
    with open(os.path.join(folder, "data.json")) as f:
        rec = json.load(f)[0]
    return os.path.join(folder, rec["image"]), rec


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--work", default=os.path.join(REPO, ".cache", "train"))
    ap.add_argument("--checkpoint", default="checkpoint.pt")
    ap.add_argument("--name", default="webvlm-tiny")
    ap.add_argument("--scores", default=None, help="eval JSON to put in the model card")
    ap.add_argument("--card-only", action="store_true", help="only rewrite README.md (with --scores)")
    ap.add_argument("--out", default=None, help="export here instead of public/models/NAME (a scratch folder)")
    args = ap.parse_args()
    out = args.out or os.path.join(REPO, "public", "models", args.name)
    os.makedirs(os.path.join(out, "onnx"), exist_ok=True)

    model, cfg = load_trained(args.work, args.checkpoint)
    tok = load_any(os.path.join(args.work, "tokenizer"))
    scores = None
    if args.scores and os.path.exists(args.scores):
        with open(args.scores) as f:
            scores = json.load(f)
    ck = torch.load(os.path.join(args.work, "checkpoint.pt")) if os.path.exists(os.path.join(args.work, "checkpoint.pt")) else {}
    from recipes import RECIPES
    stages = RECIPES[ck.get("recipe", "v1")]["stages"]
    # The stages these weights went through (a later stage may be defined but not run yet).
    card = dict(stages=stages[:ck["stage"]] if "stage" in ck else stages, elapsed=ck.get("elapsed"))
    if args.card_only:
        write_model_card(out, args.name, model, cfg, tok, scores, **card)
        return
    stored = round_to_f16(model)
    safetensors_io.save(os.path.join(out, "model.safetensors"), stored, {"format": "pt"})
    write_configs(out, cfg, tok)

    png, record = golden_image(args.work)
    shutil.copy(png, os.path.join(out, "golden.png"))
    pixels = normalise(to_model_size(read_png(png), cfg.vision_config.image_size)[None])
    g = golden(model, cfg, tok, pixels, record, args.name)
    write_json(os.path.join(out, "golden.json"), g)
    export_onnx(model, cfg, os.path.join(out, "onnx"))
    if os.path.exists(os.path.join(args.work, "loss.csv")):
        # The loss curve of the run that made these weights, for the model card's readers.
        shutil.copy(os.path.join(args.work, "loss.csv"), os.path.join(out, "loss.csv"))
    write_model_card(out, args.name, model, cfg, tok, scores, **card)
    total = sum(os.path.getsize(os.path.join(dp, f)) for dp, _, fs in os.walk(out) for f in fs)
    print(f"exported {out}: {total / 1e6:.2f} MB; greedy: {g['greedy']['text']!r}")


if __name__ == "__main__":
    main()
