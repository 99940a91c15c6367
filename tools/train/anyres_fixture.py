"""Writes test/fixtures/anyres.json: anyres.py's outputs for test/models/anyres.test.ts.

The inputs are formulas, not pixels, so the fixture stays small and the
TypeScript test rebuilds them bit for bit:
- image pixel (c, y, x) = ((7x + 13y + 5c) % 256) / 255, then normalised with
  mean = std = 0.5 (a sawtooth: every resize tap shows in the result);
- view features (v, t, d) = ((31v + 7t + 3d) % 17 - 8) / 8 and newline d = 2 + d / 4
  (all exact in f32; the newline values lie outside the features' range).
Besides the AnyRes views and packings, plain resizes at non-integer ratios are
sampled, because there torch's f32 tap centres drift from exact ones.
Statistics are taken in float64 so torch's f32 reductions add no error of their own.

Run from the repository root: /usr/bin/python3 tools/train/anyres_fixture.py
"""
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from anyres import anyres_tiles, pack_features, patch_output_size, resize, select_best_resolution  # noqa: E402

FORMAT = 1
PINPOINTS = [[64, 128], [128, 64], [128, 128], [64, 192], [192, 64]]
TILE = 64
# (name, height, width): a document page, a wide strip, an image smaller than any pinpoint, odd sizes.
IMAGES = [("document", 256, 192), ("wide", 100, 300), ("small", 40, 50), ("odd", 97, 61)]
# (height, width, patches per side, channels) for pack_features, covering both unpad branches and odd cuts.
PACKS = [(256, 192, 5, 8), (100, 300, 4, 8), (40, 50, 5, 6), (97, 61, 4, 8), (128, 160, 5, 4), (30, 200, 3, 5), (130, 64, 4, 3)]
# (height, width, out height, out width): plain resizes at non-integer ratios over long rows, where
# torch's f32 tap centres drift from exact ones; every SAMPLE_STRIDE-th output value is kept.
RESIZES = [(100, 300, 97, 290), (61, 97, 150, 250), (256, 192, 77, 45), (7, 5, 1, 3)]
SAMPLE_STRIDE = 97
OUT = os.path.join("test", "fixtures", "anyres.json")


def pattern_image(h, w):
    c = torch.arange(3)[:, None, None]
    y = torch.arange(h)[None, :, None]
    x = torch.arange(w)[None, None, :]
    v = ((x * 7 + y * 13 + c * 5) % 256).float() / 255
    return (v - 0.5) / 0.5


def checksum_weights(n):
    # Position-dependent weights: a value in the wrong place changes the checksum even when sums agree.
    return ((torch.arange(n, dtype=torch.float64) * 7919) % 13) - 6


def rounded(t):
    return [round(float(v), 9) for v in t]


def view_stats(view):
    flat = view.flatten().double()
    return {
        "sum": round(flat.sum().item(), 9),
        "mean": round(flat.mean().item(), 12),
        "std": round(flat.std(unbiased=False).item(), 12),
        "checksum": round((flat * checksum_weights(flat.numel())).sum().item(), 9),
        "first": rounded(flat[:8]),
        "last": rounded(flat[-8:]),
    }


def image_case(name, h, w):
    size = (h, w)
    best = select_best_resolution(size, [tuple(p) for p in PINPOINTS])
    views = anyres_tiles(pattern_image(h, w), [tuple(p) for p in PINPOINTS], TILE)
    return {
        "name": name,
        "height": h,
        "width": w,
        "best": list(best),
        "resized": list(patch_output_size(size, best)),
        "grid": {"rows": best[0] // TILE, "cols": best[1] // TILE},
        "views": [view_stats(v) for v in views],
    }


def resize_case(h, w, oh, ow):
    flat = resize(pattern_image(h, w), (oh, ow)).flatten().double()
    return {
        "height": h,
        "width": w,
        "outHeight": oh,
        "outWidth": ow,
        "sum": round(flat.sum().item(), 9),
        "checksum": round((flat * checksum_weights(flat.numel())).sum().item(), 9),
        "samples": rounded(flat[::SAMPLE_STRIDE]),
    }


def pack_case(h, w, side, d):
    best = select_best_resolution((h, w), [tuple(p) for p in PINPOINTS])
    n = 1 + (best[0] // TILE) * (best[1] // TILE)
    v = torch.arange(n)[:, None, None]
    t = torch.arange(side * side)[None, :, None]
    c = torch.arange(d)[None, None, :]
    feats = ((v * 31 + t * 7 + c * 3) % 17 - 8).float() / 8
    newline = 2 + torch.arange(d).float() / 4
    packed = pack_features(feats, (h, w), [tuple(p) for p in PINPOINTS], TILE, newline)
    tokens = packed.shape[0]
    # The last global token, the first grid token, the first newline, and the last row of all.
    picks = sorted({side * side - 1, side * side, side * side + 1, tokens - 2, tokens - 1})
    flat = packed.flatten().double()
    return {
        "height": h,
        "width": w,
        "patchesPerSide": side,
        "channels": d,
        "shape": list(packed.shape),
        "sum": round(flat.sum().item(), 9),
        "checksum": round((flat * checksum_weights(flat.numel())).sum().item(), 9),
        "rows": {str(i): rounded(packed[i]) for i in picks},
        "newlineRows": [i for i in range(tokens) if torch.equal(packed[i], newline)],
    }


def main():
    torch.set_num_threads(1)
    fixture = {
        "format": FORMAT,
        "pinpoints": PINPOINTS,
        "tile": TILE,
        "images": [image_case(*im) for im in IMAGES],
        "sampleStride": SAMPLE_STRIDE,
        "resizes": [resize_case(*r) for r in RESIZES],
        "packs": [pack_case(*p) for p in PACKS],
    }
    with open(OUT, "w") as f:
        json.dump(fixture, f, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {OUT} ({os.path.getsize(OUT)} bytes)")


if __name__ == "__main__":
    main()
