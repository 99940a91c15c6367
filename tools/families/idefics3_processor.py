"""Idefics3ImageProcessor and Idefics3Processor's prompt expansion (SmolVLM), in numpy and torch.

Steps, as the preprocessor config says (HF image_processing_idefics3.py):
1. do_resize: the longest edge becomes size.longest_edge, the other keeps the aspect
   ratio (int(), then +1 if odd: HF's rule).
2. do_image_splitting: both edges rounded up to multiples of max_image_size.longest_edge
   (M), then cut into rows x cols tiles of M x M, plus the whole image resized to M x M
   (the global view, last).
3. rescale by rescale_factor, normalise with image_mean/std; pixel_attention_mask all true.

Resampling is where implementations part ways. HF Python resizes uint8 images with PIL
(resample=1, LANCZOS) at every step; transformers.js resizes step 1 with sharp
(lanczos3) and steps 2 and the global view with bilinear interpolation (ONNX Resize,
half-pixel, no antialias) on the normalised floats. This reference follows
transformers.js for the global view (bilinear on normalised floats). A resize in
steps 1-2 here is bilinear with antialias on 0-255 values rounded back to uint8, which
matches neither library exactly, so golden images are chosen to make steps 1-2
identities (longest edge == size.longest_edge, both edges multiples of M): the tiles
are then exact crops in every implementation.
"""
import math

import numpy as np
import torch
import torch.nn.functional as F

FAKE = "<fake_token_around_image>"
IMAGE = "<image>"
GLOBAL = "<global-img>"


def resize_to_max_len(height, width, max_len):
    """HF's _resize_output_size_rescale_to_max_len (min_len 1)."""
    aspect = width / height
    if width >= height:
        width = max_len
        height = int(width / aspect)
        if height % 2 != 0:
            height += 1
    else:
        height = max_len
        width = int(height * aspect)
        if width % 2 != 0:
            width += 1
    return max(height, 1), max(width, 1)


def size_for_vision_encoder(height, width, m):
    """HF's resize_for_vision_encoder: edges rounded up to multiples of m, aspect kept first."""
    aspect = width / height
    if width >= height:
        width = math.ceil(width / m) * m
        height = math.ceil(int(width / aspect) / m) * m
    else:
        height = math.ceil(height / m) * m
        width = math.ceil(int(height * aspect) / m) * m
    return height, width


def resize_uint8(img, height, width):
    """(H, W, 3) uint8 -> (height, width, 3) uint8; identity when the size already matches."""
    if img.shape[0] == height and img.shape[1] == width:
        return img
    x = torch.from_numpy(img.astype(np.float32)).permute(2, 0, 1)[None]
    y = F.interpolate(x, size=(height, width), mode="bilinear", align_corners=False, antialias=True)
    return y[0].permute(1, 2, 0).round().clamp(0, 255).numpy().astype(np.uint8)


def normalise(img, cfg):
    """uint8 (H, W, 3) -> float32 (3, H, W): rescale, then (x - mean) / std, each step rounded to f32
    (as transformers.js stores them)."""
    x = (img.astype(np.float64) * cfg["rescale_factor"]).astype(np.float32)
    mean = np.asarray(cfg["image_mean"], dtype=np.float64)
    std = np.asarray(cfg["image_std"], dtype=np.float64)
    x = ((x.astype(np.float64) - mean) / std).astype(np.float32)
    return np.ascontiguousarray(x.transpose(2, 0, 1))


def preprocess(img, cfg):
    """One uint8 RGB image -> (tiles (N, 3, M, M) float32, rows, cols); N = rows * cols + 1, or 1 unsplit."""
    m = cfg["max_image_size"]["longest_edge"]
    if cfg.get("do_resize", True):
        img = resize_uint8(img, *resize_to_max_len(img.shape[0], img.shape[1], cfg["size"]["longest_edge"]))
    if not cfg.get("do_image_splitting", True):
        # HF keeps the resized image as it is here; transformers.js squashes it to M x M.
        return normalise(img, cfg)[None], 0, 0
    img = resize_uint8(img, *size_for_vision_encoder(img.shape[0], img.shape[1], m))
    x = normalise(img, cfg)                                     # (3, H, W)
    h, w = x.shape[1:]
    if h <= m and w <= m:
        return x[None], 0, 0
    rows, cols = math.ceil(h / m), math.ceil(w / m)
    th, tw = math.ceil(h / rows), math.ceil(w / cols)
    tiles = [x[:, r * th:min(r * th + th, h), c * tw:min(c * tw + tw, w)] for r in range(rows) for c in range(cols)]
    glob = F.interpolate(torch.from_numpy(x)[None], size=(m, m), mode="bilinear", align_corners=False)[0].numpy()
    return np.stack(tiles + [glob]).astype(np.float32), rows, cols


def image_prompt(rows, cols, image_seq_len):
    """The text one <image> becomes (HF's get_image_prompt_string)."""
    if rows == 0 and cols == 0:
        return FAKE + GLOBAL + IMAGE * image_seq_len + FAKE
    text = ""
    for r in range(rows):
        for c in range(cols):
            text += FAKE + f"<row_{r + 1}_col_{c + 1}>" + IMAGE * image_seq_len
        text += "\n"
    return text + "\n" + FAKE + GLOBAL + IMAGE * image_seq_len + FAKE


def expand_prompt(text, grids, image_seq_len):
    """Every <image> of the text replaced by its image's block, in order; grids = [(rows, cols)]."""
    parts = text.split(IMAGE)
    if len(parts) - 1 != len(grids):
        raise ValueError(f"{len(parts) - 1} <image> tokens in the text but {len(grids)} images")
    out = parts[0]
    for (rows, cols), rest in zip(grids, parts[1:]):
        out += image_prompt(rows, cols, image_seq_len) + rest
    return out


def render_chat(messages, add_generation_prompt):
    """SmolVLM-Instruct's chat template (chat_template in tokenizer_config.json), rendered by hand:
    '<|im_start|>' once, then per message 'Role:' (': ' when it starts with text), its parts, and
    '<end_of_utterance>\\n'; 'Assistant:' to prompt a reply."""
    out = "<|im_start|>"
    for msg in messages:
        out += msg["role"].capitalize() + (":" if msg["content"][0]["type"] == "image" else ": ")
        for part in msg["content"]:
            out += part["text"] if part["type"] == "text" else IMAGE
        out += "<end_of_utterance>\n"
    return out + ("Assistant:" if add_generation_prompt else "")


CHAT_TEMPLATE = (
    "<|im_start|>{% for message in messages %}{{message['role'] | capitalize}}"
    "{% if message['content'][0]['type'] == 'image' %}{{':'}}{% else %}{{': '}}{% endif %}"
    "{% for line in message['content'] %}{% if line['type'] == 'text' %}{{line['text']}}"
    "{% elif line['type'] == 'image' %}{{ '<image>' }}{% endif %}{% endfor %}<end_of_utterance>\n"
    "{% endfor %}{% if add_generation_prompt %}{{ 'Assistant:' }}{% endif %}"
)
