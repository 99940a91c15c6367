"""golden.json for the tiny Qwen2-VL: what PyTorch computes for fixed images and prompts.

Main case (top-level keys, as engines read it first): one 168 x 84 image (a 6 x 12
patch grid, 18 image tokens after the 2 x 2 merge) and "Describe this image.".
`two_images`: that image and an 84 x 140 one (10 x 6 patches, 15 tokens) in a turn
that starts with text, so several images' patches, features and 3D positions are
pinned. Both sizes are multiples of 28 within min/max_pixels, so smart_resize keeps
them (see qwen2_vl_processor.py for why); `smart_resize` lists sizes it changes,
with HF's answer and transformers.js's.
"""
import numpy as np
import torch

import qwen2_vl_processor as proc
from golden_stats import (SAMPLE_STRIDE, TWO_IMAGE_MESSAGES, check_replay, gradient_image, greedy_entries,
                          load_checkpoint, logits_entry, pixel_checks, striped_image, summary, write_images)
from qwen2_vl_model import Qwen2VLForConditionalGeneration

GREEDY_STEPS = 16
MESSAGES = [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "Describe this image."}]}]
FOLLOW_UP = "<|im_start|>user\nWhat colour is the square?<|im_end|>\n<|im_start|>assistant\n"
TEXT_MESSAGES = [{"role": "user", "content": "What is a red square?"}]
TOKENIZER_CHECKS = ["Describe this image.", "There are 12 shapes.\n\nIt's OK", "  two  spaces\tand tab",
                    "<|object_ref_start|>the red square<|object_ref_end|><|box_start|>(10,20),(300,400)<|box_end|>"]
# (height, width): on the grid, rounded, tied at .5 (Python rounds half to even, JS up),
# over max_pixels, under min_pixels, and smaller than the factor.
RESIZE_SIZES = [(84, 168), (100, 60), (60, 150), (70, 98), (42, 126), (300, 200), (30, 40), (20, 30)]


def wide_image():
    """168 x 84: a diagonal gradient with a red square, a blue disc and a green bar."""
    return gradient_image(84, 168, (10, 40, 20, 60), (115, 45, 22), (66, 76, 40, 150))


def tall_image():
    """84 x 140: horizontal stripes with a yellow square and a magenta disc."""
    return striped_image(140, 84, 10, 3, (80, 115, 10, 45), (55, 35, 18))


IMAGES = {"golden.png": wide_image, "golden-tall.png": tall_image}


def inputs_for(files, messages, tok, pre):
    """Images and chat -> (chat text, per-image pixel arrays, grids, expanded prompt, ids)."""
    pixels, grids = [], []
    for f in files:
        pv, grid = proc.preprocess(IMAGES[f](), pre)
        pixels.append(pv)
        grids.append(grid)
    chat = proc.render_chat(messages, add_generation_prompt=True)
    prompt = proc.expand_prompt(chat, grids, pre["merge_size"])
    return chat, pixels, grids, prompt, tok.encode(prompt)


def run_case(model, cfg, tok, pre, files, messages, steps=GREEDY_STEPS):
    chat, pixels, grids, prompt, ids = inputs_for(files, messages, tok, pre)
    pv = torch.from_numpy(np.concatenate(pixels)) if pixels else None
    grid = torch.tensor(grids) if grids else None
    input_ids = torch.tensor([ids])
    if pv is not None:
        with torch.no_grad():
            feats = model.visual(pv, grid)
            feats_export = model.visual.forward_export(pv, grid)
        loop_vs_export = float((feats - feats_export).abs().max())
        scale = float(feats.abs().max())
        if loop_vs_export > 1e-6 * max(1.0, scale):
            raise SystemExit(f"the vision tower's export form differs from HF's by {loop_vs_export} (scale {scale})")
    pos, deltas = model.get_rope_index(input_ids, grid)
    eos = (tok.vocab["<|im_end|>"], tok.vocab["<|endoftext|>"])     # generation_config.json's eos_token_id
    first, greedy, gap = model.greedy(input_ids, pv, grid, steps, eos)
    case = {
        "images": [{"file": f, "height": IMAGES[f]().shape[0], "width": IMAGES[f]().shape[1]} for f in files],
        "messages": messages,
        "chat_text": chat,
        "prompt": prompt,
        "input_ids": ids,
        "position_ids": pos[:, 0].tolist(),
        "rope_delta": int(deltas[0, 0]),
        **greedy_entries(first, greedy, gap, steps, tok),
    }
    if pv is not None:
        case["image_grid_thw"] = [list(g) for g in grids]
        case["pixel_values"] = {"shape": list(pv.shape), "sample_stride": SAMPLE_STRIDE,
                                "images": [pixel_checks(p) for p in pixels]}
        case["image_features"] = summary(feats)
    return case


def run_second_turn(model, tok, pre, first):
    """The main case's conversation one turn on: its prompt and greedy answer as ids (an engine keeps
    ids, it does not re-tokenise an answer), the end of that turn, then a text-only question."""
    end = tok.vocab["<|im_end|>"]
    tail = ("\n" if first["greedy_ids"][-1] == end else "<|im_end|>\n") + FOLLOW_UP
    ids = first["input_ids"] + first["greedy_ids"] + tok.encode(tail)
    pixels, grids = zip(*(proc.preprocess(IMAGES[i["file"]](), pre) for i in first["images"]))
    pv, grid = torch.from_numpy(np.concatenate(pixels)), torch.tensor(grids)
    input_ids = torch.tensor([ids])
    pos, deltas = model.get_rope_index(input_ids, grid)
    eos = (end, tok.vocab["<|endoftext|>"])
    first_logits, greedy, gap = model.greedy(input_ids, pv, grid, GREEDY_STEPS, eos)
    return {
        "images": first["images"],
        "appended_text": tail,
        "input_ids": ids,
        "position_ids": pos[:, 0].tolist(),
        "rope_delta": int(deltas[0, 0]),
        "first_logits": logits_entry(first_logits),
        "max_new_tokens": GREEDY_STEPS,
        "greedy_ids": greedy,
        "greedy_min_top2_gap": gap,
    }


def resize_table(pre):
    factor = pre["patch_size"] * pre["merge_size"]
    rows = []
    for h, w in RESIZE_SIZES:
        try:
            hf = list(proc.smart_resize(h, w, factor, pre["min_pixels"], pre["max_pixels"]))
        except ValueError:
            hf = None
        js = list(proc.smart_resize_transformers_js(h, w, factor, pre["min_pixels"], pre["max_pixels"]))
        rows.append({"height": h, "width": w, "hf": hf, "transformers_js": js})
    return rows


def make_golden(model, cfg, tok, pre, folder):
    write_images(folder, IMAGES)
    main = run_case(model, cfg, tok, pre, ["golden.png"], MESSAGES)
    return {
        "format": 1,
        "note": "Random weights with Qwen2-VL-2B-Instruct's structure; PyTorch outputs of tools/families/qwen2_vl.py.",
        **main,
        "two_images": run_case(model, cfg, tok, pre, ["golden.png", "golden-tall.png"], TWO_IMAGE_MESSAGES),
        "second_turn": run_second_turn(model, tok, pre, main),
        "text_only": run_case(model, cfg, tok, pre, [], TEXT_MESSAGES),
        "smart_resize": {"factor": pre["patch_size"] * pre["merge_size"], "min_pixels": pre["min_pixels"],
                         "max_pixels": pre["max_pixels"], "sizes": resize_table(pre)},
        "tokenizer": [{"text": t, "ids": tok.encode(t)} for t in TOKENIZER_CHECKS],
    }


def self_check(folder, cfg, tok, pre, case):
    """The written checkpoint reloads into the same numbers, and the KV cache changes nothing.

    A fresh model loads model.safetensors (bf16, no lm_head: tied) and recomputes the
    prompt plus the greedy ids in one pass without a cache (positions from
    get_rope_index over the whole sequence); its logits at the prompt's last position
    and the argmax at every generated position must agree with the case.
    """
    model = load_checkpoint(Qwen2VLForConditionalGeneration(cfg).eval(), folder, {"lm_head.weight"})
    done = [proc.preprocess(IMAGES[i["file"]](), pre) for i in case.get("images", [])]
    pixels, grids = [p for p, _ in done], [g for _, g in done]
    grid = torch.tensor(grids) if grids else None
    ids = torch.tensor([case["input_ids"] + case["greedy_ids"]])
    with torch.no_grad():
        x = model.embed(ids, model.visual(torch.from_numpy(np.concatenate(pixels)), grid) if pixels else None)
        pos, _ = model.get_rope_index(ids, grid)
        logits, _ = model.decode(x, torch.ones_like(ids), pos)
    return check_replay(logits, case)
