"""Training-only character targets for text images, so the vision tower learns to read.

The scene heads (heads.py) teach colour, shape and place; nothing taught the encoder
what a glyph is, and after every stage OCR still answered a constant. The generator
knows where it drew each character (the text run's x, y and scale), so every patch
a character's cell covers gets that character's class, as the scene heads label a
patch with the object covering it, and every other patch is background. The head
reads the encoder's last-layer patch features and is not exported.
"""
import string

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

CHARS = string.digits + string.ascii_letters
GLYPH_WIDTH, CAP_ROWS = 5, 7   # the embedded font: 5 x 8, capitals and digits on rows 0-6


def glyph_targets(meta, size, patch):
    """Targets for a text image's metadata, or None when the image is resized (the run's pixel coordinates
    would no longer hold) or draws a character outside CHARS: "patch", each patch's class (0 background,
    1 + index in CHARS: the character whose cell, glyph width by cap height, covers most of it if that
    covers a quarter of it); "cover", each character's share of each patch; "chars", their classes."""
    run = meta.get("run")
    if run is None or meta["width"] != size or meta["height"] != size or any(c not in CHARS for c in run["text"]):
        return None
    grid = size // patch
    s = run["scale"]
    cover = np.zeros((len(run["text"]), size, size), np.float32)
    for i in range(len(run["text"])):
        x0, y0 = run["x"] + i * (GLYPH_WIDTH + 1) * s, run["y"]
        cover[i, y0:y0 + CAP_ROWS * s, x0:x0 + GLYPH_WIDTH * s] = 1
    cells = cover.reshape(len(run["text"]), grid, patch, grid, patch).mean((2, 4)).reshape(len(run["text"]), -1)
    best = cells.argmax(0)
    labels = np.array([1 + CHARS.index(run["text"][k]) for k in best], np.int64)
    labels[cells.max(0) < 0.25] = 0
    return {"patch": labels, "cover": cells, "chars": np.array([CHARS.index(c) for c in run["text"]], np.int64)}


class GlyphHead(nn.Module):
    def __init__(self, width):
        super().__init__()
        self.classify = nn.Sequential(nn.Linear(width, width), nn.GELU(), nn.Linear(width, len(CHARS) + 1))
        # A character spans several patches, none of which holds all of it: as for a scene object's shape,
        # classify the coverage-weighted mean of its patches too.
        self.char = nn.Sequential(nn.Linear(width, width), nn.GELU(), nn.Linear(width, len(CHARS)))

    def loss(self, feats, targets):
        """feats: (B, N, C) patch features of text images; targets: dicts from glyph_targets. Per-patch
        classes (background weighs a tenth, as in the scene heads) plus each character from its patches."""
        y = torch.stack([torch.from_numpy(t["patch"]) for t in targets]).to(feats.device)
        w = (y > 0).float() + 0.1 * (y == 0).float()
        ce = F.cross_entropy(self.classify(feats).flatten(0, 1), y.flatten(), reduction="none")
        per_patch = (ce * w.flatten()).sum() / w.sum()
        pooled = torch.cat([(torch.from_numpy(t["cover"]) @ feats[b]) / torch.from_numpy(t["cover"]).sum(1, keepdim=True)
                            .clamp(min=1e-6) for b, t in enumerate(targets)])
        chars = torch.cat([torch.from_numpy(t["chars"]) for t in targets]).to(feats.device)
        return per_patch + F.cross_entropy(self.char(pooled), chars)
