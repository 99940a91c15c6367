"""golden.json for the tiny LLaVA-NeXT: what PyTorch computes for a wide and a tall image.

The main case (top-level keys, as engines read it first) is a 40 x 100 image: the
32 x 96 pinpoint (1 x 3 tiles) wins, the image is resized to 32 x 80 and padded by 8
columns each side, so unpad cuts grid columns. The second, `tall`, is 120 x 44: the
96 x 32 pinpoint (3 x 1 tiles), resized to 88 x 32 and padded by 4 rows, so unpad
cuts grid rows. Both downscale, so the antialiased resize is exercised on every view.
The third, `two_images`, puts both in one turn (60 then 66 image tokens).
"""
import numpy as np
import torch

import llava_next_processor as proc
from golden_stats import (SAMPLE_STRIDE, check_replay, gradient_image, greedy_entries, load_checkpoint,
                          pixel_checks, striped_image, summary, write_images)
from llava_next_model import LlavaNextForConditionalGeneration

GREEDY_STEPS = 16
MESSAGES = [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "What is shown in this image?"}]}]
# Both images in one turn: two runs of image tokens of different lengths, packed in order.
TWO_IMAGE_MESSAGES = [{"role": "user", "content": [{"type": "image"}, {"type": "image"}, {"type": "text", "text": "Describe the picture."}]}]


def wide_image():
    """40 x 100: a diagonal gradient with a red square, a blue disc and a green bar."""
    return gradient_image(40, 100, (5, 20, 8, 28), (60, 20, 11), (28, 34, 36, 92))


def tall_image():
    """120 x 44: horizontal stripes with a yellow square and a magenta disc."""
    return striped_image(120, 44, 8, 5, (10, 30, 6, 26), (22, 84, 13))


IMAGES = {"golden.png": wide_image, "golden-tall.png": tall_image}


def inputs_for(files, messages, cfg, tok, pre):
    """Images and chat -> (chat text, grids, token counts, prompt, ids, [views (V, 3, S, S)], [(h, w)])."""
    views, grids, counts, sizes = [], [], [], []
    for f in files:
        img = IMAGES[f]()
        v, grid = proc.preprocess(img, pre)
        views.append(v)
        grids.append(grid)
        sizes.append(img.shape[:2])
        counts.append(proc.number_of_image_tokens(img.shape[:2], pre, cfg.vision_config.patch_size))
    chat = proc.render_chat(messages)
    prompt = proc.expand_prompt(chat, counts)
    return chat, grids, counts, prompt, tok.encode(prompt), views, sizes


def run_case(model, cfg, tok, pre, files, messages):
    chat, grids, counts, prompt, ids, views, sizes = inputs_for(files, messages, cfg, tok, pre)
    with torch.no_grad():
        feats = model.image_features(views, sizes)                        # (sum of tokens, D)
    if feats.shape[0] != sum(counts):
        raise SystemExit(f"pack_image_features gave {feats.shape[0]} tokens, the processor counted {sum(counts)}")
    first, greedy, gap = model.greedy(torch.tensor([ids]), views, sizes, GREEDY_STEPS, (cfg.text_config.eos_token_id,))
    all_views = torch.cat(views).numpy().astype(np.float64)
    return {
        "images": [{"file": f, "height": int(s[0]), "width": int(s[1])} for f, s in zip(files, sizes)],
        "messages": messages,
        "chat_text": chat,
        "best_resolution": [list(proc.select_best_resolution(s, [tuple(p) for p in pre["image_grid_pinpoints"]])) for s in sizes],
        "rows": [r for r, _ in grids], "cols": [c for _, c in grids],
        "image_tokens": counts,
        "prompt": prompt,
        "input_ids": ids,
        "pixel_values": {"shape": list(all_views.shape), "sample_stride": SAMPLE_STRIDE,
                         "resample": "antialiased bilinear on 0-255 floats (torch); HF Python resizes uint8 with PIL",
                         "views": [pixel_checks(v) for v in all_views]},
        "image_features": summary(feats),
        **greedy_entries(first, greedy, gap, GREEDY_STEPS, tok),
    }


def make_golden(model, cfg, tok, pre, folder):
    write_images(folder, IMAGES)
    return {
        "format": 1,
        "note": "Random weights with llava-v1.6's structure at tiny sizes; PyTorch outputs of tools/families/llava_next.py.",
        **run_case(model, cfg, tok, pre, ["golden.png"], MESSAGES),
        "tall": run_case(model, cfg, tok, pre, ["golden-tall.png"], MESSAGES),
        "two_images": run_case(model, cfg, tok, pre, ["golden.png", "golden-tall.png"], TWO_IMAGE_MESSAGES),
    }


def self_check(folder, cfg, tok, pre, case):
    """The written checkpoint reloads into the same numbers, and the KV cache changes nothing:
    a fresh model reads model.safetensors and runs the prompt plus the greedy ids in one pass."""
    model = load_checkpoint(LlavaNextForConditionalGeneration(cfg).eval(), folder, set())
    _, _, _, _, _, views, sizes = inputs_for([i["file"] for i in case["images"]], case["messages"], cfg, tok, pre)
    ids = torch.tensor([case["input_ids"] + case["greedy_ids"]])
    with torch.no_grad():
        x = model.embed(ids, model.image_features(views, sizes))
        logits, _ = model.decode_logits(x, torch.ones_like(ids), torch.arange(ids.shape[1])[None])
    return check_replay(logits, case)
