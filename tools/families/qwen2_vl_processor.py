"""Qwen2VLProcessor in Python: smart_resize, patch flattening, the chat template, prompt expansion.

Follows Hugging Face's image_processing_qwen2_vl.py and processing_qwen2_vl.py:

- smart_resize: each side rounded to a multiple of patch_size * merge_size (Python's
  round, half to even), then scaled down (floor) to max_pixels or up (ceil) to
  min_pixels keeping the aspect; sides under the factor are an error.
- rescale by 1/255, normalise with CLIP's mean and std, channels first.
- a single image is repeated temporal_patch_size times, then cut into
  (t, C, T, P, P) patches ordered by 2 x 2 merge blocks: grid (t, h/P, w/P) and
  pixel_values (t * h/P * w/P, C * T * P * P).
- each <|image_pad|> of the text becomes t * h * w / merge_size^2 of them.

`smart_resize_transformers_js` is the same arithmetic as @huggingface/transformers
4.3.2 writes it (Math.round, half away from zero; small sides scaled up, not an
error), so golden.json can name the sizes where the two disagree.
"""
import math

import numpy as np

CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073]
CLIP_STD = [0.26862954, 0.26130258, 0.27577711]

# Qwen/Qwen2-VL-2B-Instruct's chat_template.json.
CHAT_TEMPLATE = (
    "{% set image_count = namespace(value=0) %}{% set video_count = namespace(value=0) %}{% for message in messages %}"
    "{% if loop.first and message['role'] != 'system' %}<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n"
    "{% endif %}<|im_start|>{{ message['role'] }}\n{% if message['content'] is string %}{{ message['content'] }}"
    "<|im_end|>\n{% else %}{% for content in message['content'] %}{% if content['type'] == 'image' or 'image' in content"
    " or 'image_url' in content %}{% set image_count.value = image_count.value + 1 %}{% if add_vision_id %}Picture "
    "{{ image_count.value }}: {% endif %}<|vision_start|><|image_pad|><|vision_end|>{% elif content['type'] == 'video'"
    " or 'video' in content %}{% set video_count.value = video_count.value + 1 %}{% if add_vision_id %}Video "
    "{{ video_count.value }}: {% endif %}<|vision_start|><|video_pad|><|vision_end|>{% elif 'text' in content %}"
    "{{ content['text'] }}{% endif %}{% endfor %}<|im_end|>\n{% endif %}{% endfor %}{% if add_generation_prompt %}"
    "<|im_start|>assistant\n{% endif %}"
)


def render_chat(messages, add_generation_prompt=True, add_vision_id=False):
    """The chat template above, by hand (no jinja2 here), for string or list contents."""
    out = []
    images = 0
    for i, msg in enumerate(messages):
        if i == 0 and msg["role"] != "system":
            out.append("<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n")
        out.append(f"<|im_start|>{msg['role']}\n")
        if isinstance(msg["content"], str):
            out.append(msg["content"] + "<|im_end|>\n")
            continue
        for part in msg["content"]:
            if part.get("type") == "image" or "image" in part or "image_url" in part:
                images += 1
                if add_vision_id:
                    out.append(f"Picture {images}: ")
                out.append("<|vision_start|><|image_pad|><|vision_end|>")
            elif "text" in part:
                out.append(part["text"])
        out.append("<|im_end|>\n")
    if add_generation_prompt:
        out.append("<|im_start|>assistant\n")
    return "".join(out)


def _within_pixels(height, width, h_bar, w_bar, factor, min_pixels, max_pixels):
    """The rounded size, scaled down (floor) or up (ceil) to the factor when it leaves [min_pixels, max_pixels]."""
    if h_bar * w_bar > max_pixels:
        beta = math.sqrt((height * width) / max_pixels)
        h_bar = max(factor, math.floor(height / beta / factor) * factor)
        w_bar = max(factor, math.floor(width / beta / factor) * factor)
    elif h_bar * w_bar < min_pixels:
        beta = math.sqrt(min_pixels / (height * width))
        h_bar = math.ceil(height * beta / factor) * factor
        w_bar = math.ceil(width * beta / factor) * factor
    return h_bar, w_bar


def smart_resize(height, width, factor, min_pixels, max_pixels):
    if height < factor or width < factor:
        raise ValueError(f"height:{height} or width:{width} must be larger than factor:{factor}")
    if max(height, width) / min(height, width) > 200:
        raise ValueError("absolute aspect ratio must be smaller than 200")
    h_bar = round(height / factor) * factor
    w_bar = round(width / factor) * factor
    return _within_pixels(height, width, h_bar, w_bar, factor, min_pixels, max_pixels)


def smart_resize_transformers_js(height, width, factor, min_pixels, max_pixels):
    def js_round(x):
        return math.floor(x + 0.5)

    if height < factor or width < factor:
        scale = max(factor / height, factor / width)
        height, width = js_round(height * scale), js_round(width * scale)
    h_bar = js_round(height / factor) * factor
    w_bar = js_round(width / factor) * factor
    return _within_pixels(height, width, h_bar, w_bar, factor, min_pixels, max_pixels)


def preprocess(rgb, pre):
    """(H, W, 3) uint8 whose size smart_resize keeps -> (pixel_values (N, C T P P) f32, (t, h, w)).

    The golden images are sized so that smart_resize is the identity: HF resizes with
    PIL bicubic on uint8, transformers.js with sharp (Node) or a canvas (browser),
    and no single resampler reproduces all three.
    """
    p, m, tp = pre["patch_size"], pre["merge_size"], pre["temporal_patch_size"]
    h, w, _ = rgb.shape
    if smart_resize(h, w, p * m, pre["min_pixels"], pre["max_pixels"]) != (h, w):
        raise ValueError(f"{w} x {h} would be resized; pick a size smart_resize keeps")
    # Rescale to f32, then normalise in f64 and round to f32, as transformers.js does (HF
    # Python normalises in f32; the two differ by about 1e-7).
    x = (rgb.astype(np.float64) * pre["rescale_factor"]).astype(np.float32).astype(np.float64)
    x = ((x - np.array(pre["image_mean"])) / np.array(pre["image_std"])).astype(np.float32)
    x = x.transpose(2, 0, 1)[None]                                  # (1, C, H, W)
    x = np.concatenate([x] * tp)                                    # one image = temporal_patch_size frames
    gt, gh, gw = x.shape[0] // tp, h // p, w // p
    x = x.reshape(gt, tp, 3, gh // m, m, p, gw // m, m, p).transpose(0, 3, 6, 4, 7, 2, 1, 5, 8)
    return np.ascontiguousarray(x.reshape(gt * gh * gw, 3 * tp * p * p)), (gt, gh, gw)


def expand_prompt(text, grids, merge_size):
    """Each <|image_pad|> in turn becomes t * h * w / merge_size^2 copies."""
    out, rest = [], text
    for t, h, w in grids:
        head, sep, rest = rest.partition("<|image_pad|>")
        if not sep:
            raise ValueError("more images than <|image_pad|> tokens")
        out.append(head + "<|image_pad|>" * (t * h * w // merge_size ** 2))
    if "<|image_pad|>" in rest:
        raise ValueError("more <|image_pad|> tokens than images")
    return "".join(out) + rest
