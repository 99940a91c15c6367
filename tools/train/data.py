"""Synthetic splits from src/data as tensors: images, token ids with assistant-only labels, dense targets.

The TypeScript generator is the single source of data (`npm run data`), so the
trainer, the eval and the browser see the same pixels for the same seed.
"""
import json
import os
import struct
import subprocess
import zlib

import numpy as np
import torch
import torch.nn.functional as F

from glyphs import glyph_targets
from silhouette import silhouettes
from tokenizer import IMAGE, llava_to_messages, render_chat

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))

COLOURS = ["red", "orange", "yellow", "green", "cyan", "blue", "pink", "purple"]
SHAPES = ["circle", "square", "triangle", "diamond", "cross", "star"]
IMAGE_MEAN = [0.5, 0.5, 0.5]
IMAGE_STD = [0.5, 0.5, 0.5]
# The concept kept out for LoRA. Where a split shows it (train.py --unlabelled-held-out), its objects carry no
# shape or colour label: the dense heads skip them (heads.py), only label-free targets (box, count, silhouette) stay.
HELD_OUT_SHAPES = {"star"}
HELD_OUT_COLOURS = {"purple"}


def generate(out, seed, count, tasks=None, min_objects=None, max_objects=None, masks=False, held_out=None, words=None):
    """Writes a split with the project's own generator unless it is already there.
    words: None (the generator's default, the synthetic lists) or a --words source such as "real"."""
    if os.path.exists(os.path.join(out, "data.json")):
        return out
    cmd = ["npm", "run", "--silent", "data", "--", "--out", out, "--seed", str(seed), "--count", str(count), "--force"]
    if tasks:
        cmd += ["--tasks", ",".join(tasks)]
    if min_objects is not None:
        cmd += ["--min-objects", str(min_objects)]
    if max_objects is not None:
        cmd += ["--max-objects", str(max_objects)]
    if held_out:
        cmd += ["--held-out", held_out]
    if words:
        cmd += ["--words", words]
    if masks:
        cmd.append("--masks")
    subprocess.run(cmd, cwd=REPO, check=True, stdout=subprocess.DEVNULL)
    return out


def read_png(path):
    """8-bit grey or RGB PNGs as the generator writes them: (H, W, channels) uint8."""
    with open(path, "rb") as f:
        data = f.read()
    pos, idat, width = 8, [], None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour_type = struct.unpack(">IIBB", body[:10])
            channels = {0: 1, 2: 3}[colour_type]
            assert depth == 8
        elif kind == b"IDAT":
            idat.append(body)
        pos += 12 + length
    raw = np.frombuffer(zlib.decompress(b"".join(idat)), dtype=np.uint8)
    rows = raw.reshape(height, 1 + width * channels)
    if rows[:, 0].any():
        raise ValueError(f"{path}: only filter type 0 is expected from the generator")
    return rows[:, 1:].reshape(height, width, channels).copy()


def to_model_size(img, size):
    """(H, W, 3) uint8 -> (3, size, size) float in 0..255; bilinear with antialiasing when the size differs."""
    x = torch.from_numpy(img).permute(2, 0, 1).float()
    if x.shape[1] != size or x.shape[2] != size:
        x = F.interpolate(x[None], size=(size, size), mode="bilinear", align_corners=False, antialias=True)[0]
    return x


def normalise(x):
    """0..255 -> the model's input: rescale by 1/255, then (x - mean) / std per channel."""
    mean = torch.tensor(IMAGE_MEAN).view(-1, 3, 1, 1) if x.dim() == 4 else torch.tensor(IMAGE_MEAN).view(3, 1, 1)
    std = torch.tensor(IMAGE_STD).view(mean.shape)
    return (x / 255.0 - mean) / std


def encode_conversation(tok, conversations, image_seq_length):
    """Token ids and labels: loss on the assistant's answers and their <|im_end|> only.

    The chat is rendered turn by turn; every turn boundary is an added token or a
    newline, which never merges with neighbours, so the pieces' ids concatenate to
    the ids of the whole text. Each <image> becomes image_seq_length image tokens,
    as HF's LlavaProcessor expands it.
    """
    msgs = llava_to_messages(conversations)
    ids, labels = [], []
    for m in msgs:
        head = tok.encode(render_chat([{"role": m["role"], "content": ""}])[:-len("<|im_end|>\n")])
        ids += head
        labels += [-100] * len(head)
        body = tok.encode(render_chat([m])[len("<|im_start|>" + m["role"] + "\n"):-1])  # content + <|im_end|>
        ids += body
        labels += (body if m["role"] == "assistant" else [-100] * len(body))
        nl = tok.encode("\n")
        ids += nl
        labels += [-100]
    out_ids, out_labels = [], []
    for i, l in zip(ids, labels):
        reps = image_seq_length if i == IMAGE else 1
        out_ids += [i] * reps
        out_labels += [l] * reps
    return out_ids, out_labels


def patch_targets(mask, objects, patch):
    """Dense labels per patch from a label map: colour and shape class (0 = background), the object's box.

    A patch belongs to the object covering most of its pixels if that covers a
    quarter of it; boxes are the tight pixel box / image side, so 0..1.
    """
    h, w = mask.shape
    gh, gw = h // patch, w // patch
    cells = mask.reshape(gh, patch, gw, patch).transpose(0, 2, 1, 3).reshape(gh * gw, patch * patch)
    n = len(objects)
    cover = np.stack([(cells == k + 1).mean(1) for k in range(n)], 1) if n else np.zeros((gh * gw, 0))
    colour = np.zeros(gh * gw, np.int64)
    shape = np.zeros(gh * gw, np.int64)
    box = np.zeros((gh * gw, 4), np.float32)
    if n:
        best = cover.argmax(1)
        for p in range(gh * gw):
            k = best[p]
            if cover[p, k] >= 0.25:
                o = objects[k]
                colour[p] = COLOURS.index(o["colour"]) + 1
                shape[p] = SHAPES.index(o["shape"]) + 1
                b = o["bbox"]
                box[p] = [b["x1"] / w, b["y1"] / h, b["x2"] / w, b["y2"] / h]
    held = np.array([o["shape"] in HELD_OUT_SHAPES or o["colour"] in HELD_OUT_COLOURS for o in objects], bool)
    unlabelled = held[best] & (colour > 0) if n else np.zeros(gh * gw, bool)   # patches of a held-out object
    obj_colour = np.array([COLOURS.index(o["colour"]) for o in objects], np.int64)
    obj_shape = np.array([SHAPES.index(o["shape"]) for o in objects], np.int64)
    return {"colour": colour, "shape": shape, "box": box, "cover": cover.T.astype(np.float32),
            "obj_colour": obj_colour, "obj_shape": obj_shape, "count": n, "silhouette": silhouettes(mask, objects),
            "unlabelled": unlabelled, "obj_unlabelled": held}


class Split:
    """One generated split in memory: images resized to the model's side (uint8), encoded samples."""

    def __init__(self, folder, tok, image_size, image_seq_length, patch=8, dense=False):
        self.folder = folder
        with open(os.path.join(folder, "data.json")) as f:
            self.records = json.load(f)
        with open(os.path.join(folder, "meta.json")) as f:
            self.meta = json.load(f)["images"]
        names = sorted({n for r in self.records for n in ([r["image"]] if isinstance(r["image"], str) else r["image"])})
        self.index = {n: i for i, n in enumerate(names)}
        self.images = torch.empty(len(names), 3, image_size, image_size, dtype=torch.uint8)
        self.dense = {}
        self.glyphs = {}    # image index -> per-patch character classes (text images, glyphs.py)
        for n, i in self.index.items():
            img = read_png(os.path.join(folder, n))
            self.images[i] = to_model_size(img, image_size).round().clamp(0, 255).to(torch.uint8)
            base = os.path.basename(n)
            meta = self.meta.get(base)
            mpath = os.path.join(folder, "masks", base)
            if dense and meta and meta["kind"] == "scene" and os.path.exists(mpath):
                self.dense[i] = patch_targets(read_png(mpath)[..., 0], meta["objects"], patch)
            if dense and meta and meta["kind"] == "text":
                t = glyph_targets(meta, image_size, patch)
                if t is not None:
                    self.glyphs[i] = t
        self.samples = []
        for r in self.records:
            imgs = [r["image"]] if isinstance(r["image"], str) else r["image"]
            ids, labels = encode_conversation(tok, r["conversations"], image_seq_length)
            self.samples.append((r["task"], [self.index[n] for n in imgs], ids, labels))

    def __len__(self):
        return len(self.samples)


def collate(split, picks, max_len=None):
    """A right-padded batch: input_ids, labels, attention_mask, pixel_values for every image in order."""
    rows = [split.samples[i] for i in picks]
    t = max(len(r[2]) for r in rows)
    if max_len:
        t = min(t, max_len)
    ids = torch.zeros(len(rows), t, dtype=torch.long)
    labels = torch.full((len(rows), t), -100, dtype=torch.long)
    att = torch.zeros(len(rows), t, dtype=torch.long)
    image_idx = []
    for b, (_, imgs, i, l) in enumerate(rows):
        n = min(len(i), t)
        ids[b, :n] = torch.tensor(i[:n])
        labels[b, :n] = torch.tensor(l[:n])
        att[b, :n] = 1
        image_idx += imgs
    pixels = normalise(split.images[image_idx].float())
    return {"input_ids": ids, "labels": labels, "attention_mask": att, "pixel_values": pixels, "image_idx": image_idx}
