"""The trainer's tokenizer: the word-level one built from the synthetic data, or the committed byte-level BPE.

A work folder keeps the tokenizer it started with (work/tokenizer): a resumed run
reads it back, and asking for the other kind there is refused, since the
checkpoint's embedding rows belong to the first one's ids.
"""
import json
import os
import re
import shutil

import torch

from bpe_tokenizer import load_any
from data import REPO, generate
from tokenizer import Tokenizer, build_vocab

BPE_FOLDER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "bpe")
BPE_FILES = ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json")
TOKENIZERS = ("word", "bpe")


def kind_of(folder):
    """'bpe' or 'word', by the model type the folder's tokenizer.json names."""
    with open(os.path.join(folder, "tokenizer.json")) as f:
        return "bpe" if json.load(f)["model"]["type"] == "BPE" else "word"


def tokenizer_for(work, kind="word"):
    """The work folder's tokenizer, made on first use: 'word' builds it from the data, 'bpe' copies tools/train/bpe."""
    folder = os.path.join(work, "tokenizer")
    if os.path.exists(os.path.join(folder, "tokenizer.json")):
        have = kind_of(folder)
        if have != kind:
            raise SystemExit(f"{folder} holds a {have} tokenizer and its checkpoint's rows follow it; "
                             f"--tokenizer {kind} needs a fresh --work folder")
    elif kind == "bpe":
        os.makedirs(folder, exist_ok=True)
        for name in BPE_FILES:
            shutil.copy(os.path.join(BPE_FOLDER, name), os.path.join(folder, name))
    return load_any(folder) if kind == "bpe" else vocabulary(work)


# Words the first vocabulary lacked (the Documents page's preset questions and its
# context header). Appended after the sorted vocabulary so every earlier id stays.
ADDED_WORDS = ["Document", "Extract", "mentioned", "dates", "tables", "present", "Describe", "their", "contents",
               "Summarize", "main", "points", "trend", "shown", "maximum", "minimum", "values", "chart",
               "One", "with", "columns", "rows"]


def vocabulary(work):
    """Builds (once) the word vocabulary from a large all-task split, held-out concepts included (LoRA needs them)."""
    folder = os.path.join(work, "tokenizer")
    if os.path.exists(os.path.join(folder, "tokenizer.json")):
        tok = Tokenizer.load(folder)
        missing = [p for w in ADDED_WORDS for p in (w, " " + w) if p not in tok.vocab]
        if missing:
            tok = Tokenizer({**tok.vocab, **{p: len(tok.vocab) + i for i, p in enumerate(missing)}})
            tok.save(folder)
            print(f"vocabulary: {len(missing)} pieces appended ({len(tok)} now)", flush=True)
        return tok
    corpus = generate(os.path.join(work, "data", "vocab"), seed=7, count=8000, held_out="include")
    with open(os.path.join(corpus, "data.json")) as f:
        texts = [t["value"] for r in json.load(f) for t in r["conversations"]]
    with open(os.path.join(REPO, "src", "data", "words.ts")) as f:
        words = re.findall(r"'([A-Za-z]+)'", f.read())
    extra = {v for w in words for v in (w.lower(), w.title(), w.upper())} | {"user", "assistant", "system"}
    tok = Tokenizer(build_vocab(texts, sorted(extra)))
    tok.save(folder)
    return tok


def grow_vocabulary(saved, fresh):
    """Pads the saved embedding and output rows up to a grown vocabulary (new rows: the mean row plus the fresh
    init's small noise), in place. Returns whether anything grew."""
    grown = False
    for name in ("language_model.model.embed_tokens.weight", "language_model.lm_head.weight"):
        old, new = saved[name], fresh[name]
        if old.shape[0] < new.shape[0]:
            extra = old.mean(0, keepdim=True) + 0.1 * new[old.shape[0]:]
            saved[name] = torch.cat([old, extra], 0)
            grown = True
    return grown


