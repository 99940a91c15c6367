"""Numbers every family's golden.json records, written the same way for each family.

An engine compares its own pixels, features and logits with these, so every family
must summarise a tensor identically: sums, an index-weighted sum (catches reordering)
and a strided sample for pixels; shape, sums and the first/last 8 values for features;
all values plus the top 5 for logits.
"""
import os

import numpy as np
import torch

import hub_files

SAMPLE_STRIDE = 61
# A turn that starts with text and holds two images, so both chat-template branches
# and the order of several images' features are pinned.
TWO_IMAGE_MESSAGES = [{"role": "user", "content": [
    {"type": "text", "text": "Compare "}, {"type": "image"}, {"type": "text", "text": " with "},
    {"type": "image"}, {"type": "text", "text": "."}]}]


def write_images(folder, images):
    """Each {file: draw} image as the PNG the engines read."""
    for f, draw in images.items():
        hub_files.write_png(os.path.join(folder, f), draw())


def gradient_image(h, w, square, disc, bar):
    """(h, w, 3) uint8: a diagonal gradient with a red square, a blue disc and a green bar.

    square and bar are (top, bottom, left, right); disc is (centre x, centre y, radius).
    """
    y, x = np.mgrid[0:h, 0:w]
    img = np.stack([(x * 255 // (w - 1)), (y * 255 // (h - 1)), ((x + y) * 3) % 256], -1).astype(np.uint8)
    img[square[0]:square[1], square[2]:square[3]] = [220, 30, 40]
    img[((x - disc[0]) ** 2 + (y - disc[1]) ** 2) < disc[2] ** 2] = [30, 60, 210]
    img[bar[0]:bar[1], bar[2]:bar[3]] = [40, 200, 60]
    return img


def striped_image(h, w, stripe, x_step, square, disc):
    """(h, w, 3) uint8: horizontal stripes `stripe` rows high with a yellow square and a magenta disc."""
    y, x = np.mgrid[0:h, 0:w]
    img = np.stack([(y // stripe) * 15 % 256, 255 - (x * x_step) % 256, (x * y) % 256], -1).astype(np.uint8)
    img[square[0]:square[1], square[2]:square[3]] = [230, 220, 40]
    img[((x - disc[0]) ** 2 + (y - disc[1]) ** 2) < disc[2] ** 2] = [200, 40, 190]
    return img


def pixel_checks(values):
    """Sum, sum of |x|, an index-weighted sum (catches reordering) and every 61st value."""
    flat = values.astype(np.float64).reshape(-1)
    weights = (np.arange(flat.size) % 1000) / 1000
    return {"sum": float(flat.sum()), "abs_sum": float(np.abs(flat).sum()),
            "weighted_sum": float((flat * weights).sum()),
            "sample": [float(v) for v in flat[::SAMPLE_STRIDE]]}


def summary(t):
    """A tensor's shape, sum, sum of |x|, its first 8 and last 8 values."""
    flat = t.detach().double().reshape(-1)
    return {"shape": list(t.shape), "sum": float(flat.sum()), "abs_sum": float(flat.abs().sum()),
            "first": [float(v) for v in flat[:8]], "last": [float(v) for v in flat[-8:]]}


def logits_entry(v):
    """One position's logits and their top 5."""
    top = torch.topk(v, 5)
    return {"values": [float(x) for x in v], "top5": {"ids": [int(i) for i in top.indices],
                                                      "values": [float(x) for x in top.values]}}


def greedy_entries(first, greedy, gap, steps, tok):
    """A case's first-step logits and greedy path, in golden.json's key order."""
    return {"first_logits": logits_entry(first), "max_new_tokens": steps, "greedy_ids": greedy,
            "greedy_min_top2_gap": gap, "greedy_text": tok.decode(greedy)}


def load_checkpoint(model, folder, tied):
    """Loads folder/model.safetensors (bf16) into model; the names left out must be exactly `tied`."""
    sd = hub_files.load_bf16_safetensors(os.path.join(folder, "model.safetensors"))
    missing, unexpected = model.load_state_dict(sd, strict=False)
    if unexpected or set(missing) != set(tied):
        raise SystemExit(f"checkpoint names: missing {missing}, unexpected {unexpected}")
    return model


def check_replay(logits, case):
    """Logits of the prompt plus the greedy ids in one pass: the prompt's last position must match
    the case's first logits and the argmax at every generated position its greedy ids."""
    n = len(case["input_ids"])
    diff = float((logits[0, n - 1] - torch.tensor(case["first_logits"]["values"])).abs().max())
    again = [int(i) for i in logits[0, n - 1:-1].argmax(-1)]
    if diff > 1e-4 or again != case["greedy_ids"]:
        raise SystemExit(f"self-check failed: logits differ by {diff}, ids {again} vs {case['greedy_ids']}")
    return diff
