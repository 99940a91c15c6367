"""golden.json for the tiny SmolVLM: what PyTorch computes for fixed images and prompts.

Two cases. The main one (top-level keys, as engines read it first): one 256 x 128
image (2 x 4 tiles plus the global view) and "Can you describe this image?". The
second, `two_images`: that image and a 128 x 256 one (4 x 2 tiles) in one turn that
starts with text, so both chat-template branches and the order of several images'
tiles and features are pinned. Both images have longest edge 256 and edges that are
multiples of 64, so every resize before the tiling is an identity (see
idefics3_processor.py for why).
"""
import numpy as np
import torch

import idefics3_processor as proc
from golden_stats import (SAMPLE_STRIDE, TWO_IMAGE_MESSAGES, check_replay, gradient_image, greedy_entries,
                          load_checkpoint, pixel_checks, striped_image, summary, write_images)
from idefics3_model import Idefics3ForConditionalGeneration

GREEDY_STEPS = 16
MESSAGES = [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "Can you describe this image?"}]}]
TOKENIZER_CHECKS = ["Can you describe this image?", "User: there are 12 shapes.\n\nAssistant: OK", "  two  spaces\tand tab"]


def wide_image():
    """256 x 128: a diagonal gradient with a red square, a blue disc and a green bar."""
    return gradient_image(128, 256, (20, 60, 30, 80), (170, 70, 30), (100, 112, 60, 230))


def tall_image():
    """128 x 256: horizontal stripes with a yellow square and a magenta disc."""
    return striped_image(256, 128, 16, 2, (150, 200, 20, 70), (90, 60, 25))


IMAGES = {"golden.png": wide_image, "golden-tall.png": tall_image}


def tile_checks(tiles):
    """Per tile: the pixel checks of golden_stats."""
    return [pixel_checks(t) for t in tiles.astype(np.float64)]


def inputs_for(files, messages, cfg, tok, pre):
    """Images and chat -> (chat text, grids, expanded prompt, ids, pixel_values (1, N, 3, M, M), mask)."""
    tiles, grids = [], []
    for f in files:
        t, rows, cols = proc.preprocess(IMAGES[f](), pre)
        tiles.append(t)
        grids.append((rows, cols))
    chat = proc.render_chat(messages, add_generation_prompt=True)
    prompt = proc.expand_prompt(chat, grids, cfg.image_seq_len)
    pixel_values = torch.from_numpy(np.concatenate(tiles))[None]
    mask = torch.ones(1, pixel_values.shape[1], *pixel_values.shape[3:], dtype=torch.bool)
    return chat, grids, prompt, tok.encode(prompt), pixel_values, mask


def run_case(model, cfg, tok, pre, files, messages):
    chat, grids, prompt, ids, pixel_values, mask = inputs_for(files, messages, cfg, tok, pre)
    with torch.no_grad():
        feats = model.get_image_features(pixel_values, mask)                     # (N, image_seq_len, D)
        side = cfg.vision_config.image_size // cfg.vision_config.patch_size
        full = torch.ones(pixel_values.shape[1], side, side, dtype=torch.bool)
        hidden = model.model.vision_model(pixel_values[0], full)                 # (N, n, C), before the connector
    eos = (cfg.text_config.pad_token_id, cfg.text_config.eos_token_id)   # generation_config.json's eos_token_id
    first, greedy, gap = model.greedy(torch.tensor([ids]), pixel_values, mask, GREEDY_STEPS, eos)
    return {
        "images": [{"file": f, "height": IMAGES[f]().shape[0], "width": IMAGES[f]().shape[1]} for f in files],
        "messages": messages,
        "chat_text": chat,
        "rows": [r for r, _ in grids], "cols": [c for _, c in grids],
        "prompt": prompt,
        "input_ids": ids,
        "pixel_values": {"shape": list(pixel_values.shape), "sample_stride": SAMPLE_STRIDE,
                         "resample_global": "bilinear on normalised floats (transformers.js); HF Python "
                                            "resizes uint8 with PIL LANCZOS", "tiles": tile_checks(pixel_values[0].numpy())},
        "vision_hidden": summary(hidden),
        "image_features": summary(feats),
        **greedy_entries(first, greedy, gap, GREEDY_STEPS, tok),
    }


def make_golden(model, cfg, tok, pre, folder):
    write_images(folder, IMAGES)
    main = run_case(model, cfg, tok, pre, ["golden.png"], MESSAGES)
    return {
        "format": 1,
        "note": "Random weights with SmolVLM-256M-Instruct's structure; PyTorch outputs of tools/families/idefics3.py.",
        **main,
        "two_images": run_case(model, cfg, tok, pre, ["golden.png", "golden-tall.png"], TWO_IMAGE_MESSAGES),
        "tokenizer": [{"text": t, "ids": tok.encode(t)} for t in TOKENIZER_CHECKS],
    }


def self_check(folder, cfg, tok, pre, case):
    """The written checkpoint reloads into the same numbers, and the KV cache changes nothing.

    A fresh model loads model.safetensors (bf16, no lm_head: tied) and recomputes the
    prompt plus the greedy ids in one pass without a cache; its logits at the prompt's
    last position and the argmax at every generated position must agree with the case.
    """
    model = load_checkpoint(Idefics3ForConditionalGeneration(cfg).eval(), folder, {"lm_head.weight"})
    _, _, _, _, pv, mask = inputs_for([i["file"] for i in case["images"]], case["messages"], cfg, tok, pre)
    ids = torch.tensor([case["input_ids"] + case["greedy_ids"]])   # the last id's own logits are not checked
    with torch.no_grad():
        x = model.embed(ids, model.get_image_features(pv, mask))
        logits, _ = model.decode(x, torch.ones_like(ids), torch.arange(ids.shape[1])[None])
    return check_replay(logits, case)
