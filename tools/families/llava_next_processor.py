"""LlavaNextImageProcessor and LlavaNextProcessor's prompt expansion (HF image_processing_llava_next.py,
processing_llava_next.py), in torch.

For one image of (h, w) pixels, as preprocessor_config.json says:
1. select_best_resolution: the grid pinpoint (height, width) that keeps the most of the
   image after an aspect-preserving resize into it, ties to the least waste.
2. Resize into it keeping the aspect ratio, paste centred on a black canvas of the
   pinpoint's size (the remainder of an odd margin goes right/bottom), cut that into
   crop_size tiles row-major.
3. The global view: the whole image squashed to crop_size x crop_size, first.
4. Rescale and normalise each view: pixel_values (1 + rows * cols, 3, S, S).
The processor then replaces the prompt's <image> with as many <image> tokens as
pack_image_features will produce for that size (its _get_number_of_features).

Resampling: HF resizes the uint8 image with PIL (the config's resample) and rounds to
bytes. Here every resize is torch's antialiased bilinear on 0-255 floats, not rounded
(resample 2: PIL's bilinear is the same triangle filter widened on a downscale), so a
TypeScript twin can match it to f32 rounding; the fixture says resample 2.
"""
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "train"))
# HF's pinpoint choice and aspect-preserving size, shared with the tower's AnyRes reference.
from anyres import patch_output_size, select_best_resolution  # noqa: E402,F401

IMAGE = "<image>"


def grid_shape(original_size, pinpoints, tile):
    """Tiles per column and per row of the chosen pinpoint (HF's get_anyres_image_grid_shape)."""
    h, w = select_best_resolution(original_size, pinpoints)
    return h // tile, w // tile


def resize(x, size):
    """(3, H, W) floats -> (3, h, w), antialiased bilinear; identity when the size matches."""
    if tuple(x.shape[1:]) == tuple(size):
        return x
    return F.interpolate(x[None], size=size, mode="bilinear", align_corners=False, antialias=True)[0]


def normalise(x, cfg):
    """(3, H, W) 0-255 floats -> rescaled, then (x - mean) / std per channel, in f32."""
    x = x * cfg["rescale_factor"]
    mean = torch.tensor(cfg["image_mean"], dtype=torch.float32)[:, None, None]
    std = torch.tensor(cfg["image_std"], dtype=torch.float32)[:, None, None]
    return (x - mean) / std


def preprocess(img, cfg):
    """(H, W, 3) uint8 -> (pixel_values (1 + rows * cols, 3, S, S) float32, (rows, cols))."""
    tile = cfg["crop_size"]["height"]
    pinpoints = [tuple(p) for p in cfg["image_grid_pinpoints"]]
    x = torch.from_numpy(img.astype(np.float32)).permute(2, 0, 1).contiguous()   # (3, H, W), 0-255
    size = tuple(x.shape[1:])
    bh, bw = select_best_resolution(size, pinpoints)
    nh, nw = patch_output_size(size, (bh, bw))
    canvas = torch.zeros(3, bh, bw)                                               # black, as HF's pad
    top, left = (bh - nh) // 2, (bw - nw) // 2
    canvas[:, top:top + nh, left:left + nw] = resize(x, (nh, nw))
    views = [resize(x, (tile, tile))]
    for r in range(bh // tile):
        for c in range(bw // tile):
            views.append(canvas[:, r * tile:(r + 1) * tile, c * tile:(c + 1) * tile])
    return torch.stack([normalise(v, cfg) for v in views]), (bh // tile, bw // tile)


def number_of_image_tokens(original_size, cfg, patch_size):
    """HF LlavaNextProcessor._get_number_of_features for the 'default' strategy (class token dropped):
    the global view's patches, then the unpadded grid with one newline per row."""
    tile = cfg["crop_size"]["height"]
    side = tile // patch_size
    rows, cols = grid_shape(original_size, [tuple(p) for p in cfg["image_grid_pinpoints"]], tile)
    oh, ow = original_size
    h, w = side * rows, side * cols
    if ow / oh > w / h:
        h -= 2 * ((h - int(round(oh * (w / ow), 7))) // 2)
    else:
        w -= 2 * ((w - int(round(ow * (h / oh), 7))) // 2)
    return side * side + h * w + h


def expand_prompt(text, token_counts):
    """Every <image> of the text replaced by its image's count of <image> tokens, in order."""
    parts = text.split(IMAGE)
    if len(parts) - 1 != len(token_counts):
        raise ValueError(f"{len(parts) - 1} <image> tokens in the text but {len(token_counts)} images")
    out = parts[0]
    for n, rest in zip(token_counts, parts[1:]):
        out += IMAGE * n + rest
    return out


# llava-v1.6-mistral's layout: "[INST] " then the images, then the text, then " [/INST]".
CHAT_TEMPLATE = (
    "{{ '<s>' }}{% for message in messages %}"
    "{% if message['role'] == 'user' %}{{ '[INST] ' }}"
    "{% for part in message['content'] %}{% if part['type'] == 'image' %}{{ '<image>\\n' }}{% endif %}{% endfor %}"
    "{% for part in message['content'] %}{% if part['type'] == 'text' %}{{ part['text'] }}{% endif %}{% endfor %}"
    "{{ ' [/INST]' }}"
    "{% else %}{% for part in message['content'] %}{% if part['type'] == 'text' %}{{ ' ' + part['text'] }}{% endif %}{% endfor %}"
    "{{ '</s>' }}{% endif %}{% endfor %}"
)


def render_chat(messages):
    """CHAT_TEMPLATE rendered by hand (the TypeScript test renders the template and compares)."""
    out = "<s>"
    for m in messages:
        if m["role"] == "user":
            out += "[INST] " + "<image>\n" * sum(p["type"] == "image" for p in m["content"])
            out += "".join(p["text"] for p in m["content"] if p["type"] == "text") + " [/INST]"
        else:
            out += "".join(" " + p["text"] for p in m["content"] if p["type"] == "text") + "</s>"
    return out
