"""Training-only binding targets: which image tokens hold the object a question names.

The chat template puts the question before the image, so (causal attention) every
image token can already see what is asked. After the scene pilots, the model knew
what each patch showed but still answered about the wrong object among several:
boxes the size of an object at another object's place, positions and relations at
chance. The generator knows the answer to "which patches are the red circle" for
free, so a small head on a middle decoder layer is taught it at the image tokens:
channel 0 for the first object named in the first question, channel 1 for the
second (relations). POPE questions about an absent object have an all-zero target.
The head is not part of the exported model; only the decoder weights it shaped are.
"""
import re

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from data import COLOURS, SHAPES

WORD = re.compile(r"[a-z]+")
OBJECT_WORDS = {"object", "objects"}


def singular(word):
    """The shape a (possibly plural) word names, or None."""
    for s in SHAPES:
        if word in (s, s + "s", s + "es"):
            return s
    return None


def mentions(text):
    """(colour or None, shape or None) for every object phrase in text, in order: "red circle", "triangle",
    "red object(s)", "objects" (any object)."""
    words = WORD.findall(text.lower())
    out = []
    for i, w in enumerate(words):
        shape = singular(w)
        if shape is None and w not in OBJECT_WORDS:
            continue
        colour = words[i - 1] if i > 0 and words[i - 1] in COLOURS else None
        out.append((colour, shape))
    return out


def binding_target(record, objects, cover):
    """(2, N) float targets and (2,) channel weights for a one-scene-image record, or None when its first
    question names no object. cover: (objects, N) share of each patch each object covers."""
    conv = record["conversations"]
    named = mentions(conv[0]["value"])
    if not named and record["task"] == "referring":
        named = mentions(conv[1]["value"])   # "What is the object at <box>?": the answer names it
    if not named:
        return None
    n = cover.shape[1]
    target = np.zeros((2, n), np.float32)
    weight = np.zeros(2, np.float32)
    for c, (colour, shape) in enumerate(named[:2]):
        for k, o in enumerate(objects):
            if (colour is None or o["colour"] == colour) and (shape is None or o["shape"] == shape):
                target[c] += cover[k]
        weight[c] = 1.0
    return np.clip(target, 0, 1), weight


class BindingHead(nn.Module):
    """Two logits per image token from a decoder layer's hidden state."""

    def __init__(self, width):
        super().__init__()
        self.proj = nn.Linear(width, 2)

    def loss(self, hidden, input_ids, image_token, targets):
        """hidden: (B, T, D) at the tapped layer; targets: per row None or (target (2, N), weight (2,)).
        Mean BCE over the weighted channels' image tokens (the first image of each row)."""
        terms, total_w = [], 0.0
        for b, tw in enumerate(targets):
            if tw is None:
                continue
            target, weight = tw
            pos = (input_ids[b] == image_token).nonzero().flatten()[: target.shape[1]]
            logits = self.proj(hidden[b, pos]).T                                   # (2, N)
            t = torch.from_numpy(target)
            w = torch.from_numpy(weight)[:, None].expand_as(t)
            terms.append((F.binary_cross_entropy_with_logits(logits, t, reduction="none") * w).sum())
            total_w += float(w.sum())
        if not terms:
            return None
        return torch.stack(terms).sum() / max(1.0, total_w)
