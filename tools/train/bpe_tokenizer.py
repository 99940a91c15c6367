"""A byte-level BPE tokenizer, written as a Hugging Face tokenizer.json, and its Python twin.

The word-level tokenizer (tokenizer.py) knows only the synthetic world's words, so
a model using it cannot spell a word it has not seen. This one has no unknown
token: text becomes UTF-8 bytes, each byte a base token, and learned merges join
frequent byte runs, so any string round-trips and a new word is a few pieces.

The JSON uses pieces @huggingface/transformers and the Rust `tokenizers` library
both implement: added tokens split first; a `Sequence` pre-tokenizer of one
`Split` (an explicit-class regex: leading-space letter runs, single digits,
leading-space punctuation runs, single whitespace) and a `ByteLevel` step with
`use_regex: false` (bytes -> GPT-2's printable characters, no second split); a
`BPE` model; a `ByteLevel` decoder. The regex names no Unicode classes (JS and
Python disagree on \\w and \\s outside ASCII): every non-ASCII character counts
as a letter, so accented words stay one piece. Specials, markup and the chat
template are tokenizer.py's, at the same ids; <unk> (id 4) stays reserved but
the model never produces or needs it.
"""
import heapq
import json
import os
import re
from collections import Counter, defaultdict

from tokenizer import CHAT_TEMPLATE, MARKUP, SPECIAL, Tokenizer, split_added, write_json  # noqa: F401

# Letters: ASCII letters and any non-ASCII character. Punctuation: the ASCII symbols.
# The final class catches ASCII control characters, so every character lands in a piece.
LETTER = r"[^\x00-\x40\x5B-\x60\x7B-\x7F]"
PUNCT = r"[!-/:-@\x5B-\x60\x7B-\x7E]"
PATTERN = rf" ?{LETTER}+|[0-9]| ?{PUNCT}+|[ \t\n\r]|[\x00-\x7F]"
_PIECE_RE = re.compile(PATTERN)


def byte_chars():
    """GPT-2's byte -> printable character table (the one ByteLevel uses)."""
    keep = list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAC + 1)) + list(range(0xAE, 0xFF + 1))
    table, extra = {}, 0
    for b in range(256):
        if b in keep:
            table[b] = chr(b)
        else:
            table[b] = chr(256 + extra)
            extra += 1
    return table


BYTE_CHAR = byte_chars()
CHAR_BYTE = {c: b for b, c in BYTE_CHAR.items()}
FIXED = SPECIAL + MARKUP


def pieces(text):
    return _PIECE_RE.findall(text)


def to_byte_chars(piece):
    return "".join(BYTE_CHAR[b] for b in piece.encode("utf-8"))


def base_vocab():
    """Specials and markup at tokenizer.py's ids, then the 256 byte characters in byte order."""
    vocab = {t: i for i, t in enumerate(FIXED)}
    for b in range(256):
        vocab[BYTE_CHAR[b]] = len(vocab)
    return vocab


def train_merges(word_counts, n_merges, log=None):
    """Classic BPE on byte-character words: repeatedly merge the most frequent adjacent pair.

    Ties go to the lexicographically smallest pair, so the result depends only on the
    counts. A heap with lazy deletion and a pair -> words index keep each merge cheap.
    """
    words = [list(to_byte_chars(w)) for w in word_counts]
    freqs = list(word_counts.values())
    pair_count = Counter()
    where = defaultdict(set)
    for i, syms in enumerate(words):
        for a, b in zip(syms, syms[1:]):
            pair_count[(a, b)] += freqs[i]
            where[(a, b)].add(i)
    heap = [(-c, p) for p, c in pair_count.items()]
    heapq.heapify(heap)
    merges = []
    while len(merges) < n_merges and heap:
        neg, pair = heapq.heappop(heap)
        if pair_count.get(pair, 0) != -neg or -neg <= 0:
            continue
        merges.append(pair)
        a, b = pair
        joined = a + b
        touched = Counter()
        for i in list(where[pair]):
            syms, f = words[i], freqs[i]
            for x, y in zip(syms, syms[1:]):
                touched[(x, y)] -= f
            out, k = [], 0
            while k < len(syms):
                if k + 1 < len(syms) and syms[k] == a and syms[k + 1] == b:
                    out.append(joined)
                    k += 2
                else:
                    out.append(syms[k])
                    k += 1
            words[i] = out
            for x, y in zip(out, out[1:]):
                touched[(x, y)] += f
                where[(x, y)].add(i)
        for p, delta in touched.items():
            if delta == 0:
                continue
            pair_count[p] += delta
            if pair_count[p] > 0:
                heapq.heappush(heap, (-pair_count[p], p))
        del where[pair]
        if log and len(merges) % 1000 == 0:
            log(f"{len(merges)} merges, last {joined!r} x{-neg}")
    return merges


class BpeTokenizer(Tokenizer):
    def __init__(self, merges):
        vocab = base_vocab()
        for a, b in merges:
            vocab.setdefault(a + b, len(vocab))
        super().__init__(vocab)
        self.merges = [tuple(m) for m in merges]
        self.ranks = {m: r for r, m in enumerate(self.merges)}
        self._cache = {}

    def bpe(self, chars):
        """Lowest-rank pair first, all its occurrences left to right, until no pair has a rank."""
        hit = self._cache.get(chars)
        if hit is not None:
            return hit
        syms = list(chars)
        while len(syms) > 1:
            best = min(zip(syms, syms[1:]), key=lambda p: self.ranks.get(p, 1 << 30))
            if best not in self.ranks:
                break
            out, k = [], 0
            while k < len(syms):
                if k + 1 < len(syms) and syms[k] == best[0] and syms[k + 1] == best[1]:
                    out.append(syms[k] + syms[k + 1])
                    k += 2
                else:
                    out.append(syms[k])
                    k += 1
            syms = out
        ids = [self.vocab[s] for s in syms]
        self._cache[chars] = ids
        return ids

    def encode(self, text):
        ids = []
        for part in split_added(text):
            if part in FIXED:
                ids.append(self.vocab[part])
                continue
            for p in pieces(part):
                ids.extend(self.bpe(to_byte_chars(p)))
        return ids

    def decode(self, ids, skip_special=True):
        out, pending = [], bytearray()
        for i in ids:
            t = self.inv[int(i)]
            if t in FIXED:
                out.append(pending.decode("utf-8", errors="replace"))
                pending = bytearray()
                if not (skip_special and t in SPECIAL):
                    out.append(t)
                continue
            pending.extend(CHAR_BYTE[c] for c in t)
        out.append(pending.decode("utf-8", errors="replace"))
        return "".join(out)

    def tokenizer_json(self):
        added = [
            {"id": self.vocab[t], "content": t, "single_word": False, "lstrip": False, "rstrip": False,
             "normalized": False, "special": t in SPECIAL}
            for t in FIXED
        ]
        return {
            "version": "1.0",
            "truncation": None,
            "padding": None,
            "added_tokens": added,
            "normalizer": None,
            "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
                {"type": "Split", "pattern": {"Regex": PATTERN}, "behavior": "Isolated", "invert": False},
                {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False, "use_regex": False},
            ]},
            "post_processor": None,
            "decoder": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False, "use_regex": False},
            "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None,
                      "end_of_word_suffix": None, "fuse_unk": False, "byte_fallback": False,
                      "ignore_merges": False, "vocab": self.vocab, "merges": [list(m) for m in self.merges]},
        }

    @staticmethod
    def load(folder):
        with open(os.path.join(folder, "tokenizer.json")) as f:
            model = json.load(f)["model"]
        return BpeTokenizer([tuple(m) for m in model["merges"]])


def load_any(folder):
    """The folder's tokenizer, word-level or BPE, by the model type its tokenizer.json names."""
    with open(os.path.join(folder, "tokenizer.json")) as f:
        kind = json.load(f)["model"]["type"]
    return BpeTokenizer.load(folder) if kind == "BPE" else Tokenizer.load(folder)
