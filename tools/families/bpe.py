"""A small byte-level BPE tokenizer in the GPT-2 / SmolLM2 layout, its tokenizer.json, and its Python twin.

Hub families (SmolLM2 under SmolVLM, Qwen2, BART under Florence-2) ship byte-level
BPE tokenizers. This writes one with a few dozen merges learned from a fixed
corpus, so a fixture is kilobytes, yet @huggingface/transformers runs the same
code path it runs on the real files: added tokens split first, then the Digits
and ByteLevel pre-tokenizers (SmolLM2's Sequence), then BPE by merge rank.

`encode` below does the same steps for ASCII text (the GPT-2 regex's \\p{L} and
\\p{N} are written as ASCII classes; Python's re has no Unicode properties), and
the Node test checks that both give identical ids.
"""
import re
from collections import Counter


def bytes_to_unicode():
    """GPT-2's byte -> printable character map (space is 'Ġ', newline 'Ċ')."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs, n = bs[:], 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {b: chr(c) for b, c in zip(bs, cs)}


BYTE_CHARS = bytes_to_unicode()
# GPT-2's pattern with ASCII letter/digit classes.
GPT2_PATTERN = re.compile(r"""'s|'t|'re|'ve|'m|'ll|'d| ?[A-Za-z]+| ?[0-9]+| ?[^\sA-Za-z0-9]+|\s+(?!\S)|\s+""")


def pre_tokenize(text):
    """Digits(individual_digits) then ByteLevel(use_regex): pieces as byte-level strings."""
    out = []
    for part in re.split(r"([0-9])", text):
        if part:
            out.extend("".join(BYTE_CHARS[b] for b in p.encode("utf-8")) for p in GPT2_PATTERN.findall(part))
    return out


# Qwen2's Split pattern (tokenizer.json of Qwen2 / Qwen2-VL), with the same ASCII classes.
QWEN2_REGEX = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|"
               r"\s*[\r\n]+|\s+(?!\S)|\s+")
QWEN2_PATTERN = re.compile(r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\nA-Za-z0-9]?[A-Za-z]+|[0-9]| ?[^\sA-Za-z0-9]+[\r\n]*|"
                           r"\s*[\r\n]+|\s+(?!\S)|\s+")


def pre_tokenize_qwen2(text):
    """Qwen2's Sequence: Split(QWEN2_REGEX, Isolated) then ByteLevel(use_regex false)."""
    return ["".join(BYTE_CHARS[b] for b in p.encode("utf-8")) for p in QWEN2_PATTERN.findall(text)]


def pre_tokenize_bart(text):
    """BART / RoBERTa: ByteLevel(use_regex) alone, digits kept in runs."""
    return ["".join(BYTE_CHARS[b] for b in p.encode("utf-8")) for p in GPT2_PATTERN.findall(text)]


PRE_TOKENIZERS = {"smollm2": pre_tokenize, "qwen2": pre_tokenize_qwen2, "bart": pre_tokenize_bart}
# Added tokens that swallow the whitespace before them (BART's <mask>), per style.
LSTRIP = {"bart": ("<mask>",)}
# HF's clean_up_tokenization (and transformers.js's), applied by decode(cleanup=True).
CLEANUP = [(" .", "."), (" ?", "?"), (" !", "!"), (" ,", ","), (" ' ", "'"), (" n't", "n't"), (" 'm", "'m"),
           (" 's", "'s"), (" 've", "'ve"), (" 're", "'re")]


def learn_merges(corpus, count, pre=pre_tokenize):
    """Classic BPE training: repeatedly merge the most frequent adjacent pair (ties: smallest pair)."""
    words = Counter()
    for text in corpus:
        words.update(pre(text))
    seqs = {w: list(w) for w in words}
    merges = []
    while len(merges) < count:
        pairs = Counter()
        for w, f in words.items():
            s = seqs[w]
            for a, b in zip(s, s[1:]):
                pairs[(a, b)] += f
        if not pairs:
            break
        best = min(pairs, key=lambda p: (-pairs[p], p))
        merges.append(best)
        for w in words:
            s, i, out = seqs[w], 0, []
            while i < len(s):
                if i + 1 < len(s) and (s[i], s[i + 1]) == best:
                    out.append(s[i] + s[i + 1])
                    i += 2
                else:
                    out.append(s[i])
                    i += 1
            seqs[w] = out
    return merges


class ByteLevelBPE:
    def __init__(self, vocab, merges, added, style="smollm2"):
        self.style = style                       # the pre-tokenizer family: "smollm2" or "qwen2"
        self.pre = PRE_TOKENIZERS[style]
        self.vocab = vocab                       # token -> id, added tokens included
        self.inv = {i: t for t, i in vocab.items()}
        self.ranks = {m: r for r, m in enumerate(merges)}
        self.merges = merges
        self.added = added                       # [(content, special)]
        names = sorted((a for a, _ in added), key=len, reverse=True)
        self._added_re = re.compile("(" + "|".join(re.escape(a) for a in names) + ")")

    def bpe(self, piece):
        s = list(piece)
        while len(s) > 1:
            ranked = [(self.ranks.get((a, b), 1 << 30), i) for i, (a, b) in enumerate(zip(s, s[1:]))]
            r, i = min(ranked)
            if r == 1 << 30:
                break
            s = s[:i] + [s[i] + s[i + 1]] + s[i + 2:]
        return s

    def encode(self, text):
        ids = []
        parts = self._added_re.split(text)
        for i, part in enumerate(parts):
            if i + 1 < len(parts) and parts[i + 1] in LSTRIP.get(self.style, ()):
                part = part.rstrip()
            if not part:
                continue
            if part in self.vocab and any(part == a for a, _ in self.added):
                ids.append(self.vocab[part])
                continue
            for piece in self.pre(part):
                ids.extend(self.vocab[t] for t in self.bpe(piece))
        return ids

    def decode(self, ids, cleanup=False):
        back = {c: b for b, c in BYTE_CHARS.items()}
        out = bytearray()
        for i in ids:
            t = self.inv[int(i)]
            if any(t == a for a, _ in self.added):
                out.extend(t.encode("utf-8"))
            else:
                out.extend(back[c] for c in t)
        text = out.decode("utf-8", errors="replace")
        if cleanup:
            for a, b in CLEANUP:
                text = text.replace(a, b)
        return text

    def tokenizer_json(self):
        if self.style == "qwen2":
            return self._tokenizer_json_qwen2()
        if self.style == "bart":
            return self._tokenizer_json_bart()
        byte_level = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True}
        return {
            "version": "1.0",
            "truncation": None,
            "padding": None,
            "added_tokens": [
                {"id": self.vocab[a], "content": a, "single_word": False, "lstrip": False, "rstrip": False,
                 "normalized": False, "special": special}
                for a, special in self.added
            ],
            "normalizer": None,
            "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
                {"type": "Digits", "individual_digits": True}, byte_level]},
            "post_processor": dict(byte_level, trim_offsets=False),
            "decoder": dict(byte_level),
            "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None,
                      "end_of_word_suffix": None, "fuse_unk": False, "byte_fallback": False,
                      "vocab": {t: i for t, i in sorted(self.vocab.items(), key=lambda kv: kv[1])
                                if not any(t == a for a, _ in self.added)},
                      "merges": [f"{a} {b}" for a, b in self.merges]},
        }

    def _tokenizer_json_qwen2(self):
        """Qwen2's layout: NFC, then Split on QWEN2_REGEX and a regex-free ByteLevel; BPE without unk."""
        out = self._tokenizer_json_smollm2_shape()
        byte_level = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False, "use_regex": False}
        out["normalizer"] = {"type": "NFC"}
        out["pre_tokenizer"] = {"type": "Sequence", "pretokenizers": [
            {"type": "Split", "pattern": {"Regex": QWEN2_REGEX}, "behavior": "Isolated", "invert": False},
            byte_level]}
        out["post_processor"] = dict(byte_level)
        out["decoder"] = dict(byte_level)
        out["model"]["ignore_merges"] = False
        return out

    def _tokenizer_json_bart(self):
        """BART's layout (facebook/bart-large, Florence-2): ByteLevel alone, RoBERTa's <s> ... </s> around
        a sequence, <mask> with lstrip, BPE with empty subword prefix and suffix."""
        out = self._tokenizer_json_smollm2_shape()
        byte_level = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True}
        for t in out["added_tokens"]:
            t["lstrip"] = t["content"] in LSTRIP["bart"]
        out["pre_tokenizer"] = dict(byte_level)
        out["post_processor"] = {"type": "RobertaProcessing", "sep": ["</s>", self.vocab["</s>"]],
                                 "cls": ["<s>", self.vocab["<s>"]], "trim_offsets": True, "add_prefix_space": False}
        out["decoder"] = dict(byte_level)
        out["model"]["continuing_subword_prefix"] = ""
        out["model"]["end_of_word_suffix"] = ""
        return out

    def _tokenizer_json_smollm2_shape(self):
        style, self.style = self.style, "smollm2"
        try:
            return self.tokenizer_json()
        finally:
            self.style = style

    def added_tokens_decoder(self):
        return {str(self.vocab[a]): {"content": a, "lstrip": False, "normalized": False, "rstrip": False,
                                     "single_word": False, "special": special}
                for a, special in self.added}


def build(corpus, merges_count, head_tokens, tail_tokens, style="smollm2"):
    """Vocabulary: head added tokens, the 256 bytes, the merges, then tail added tokens (ids in that order)."""
    merges = learn_merges(corpus, merges_count, PRE_TOKENIZERS[style])
    vocab = {}
    for t in head_tokens:
        vocab[t] = len(vocab)
    for b in range(256):
        vocab[BYTE_CHARS[b]] = len(vocab)
    for a, b in merges:
        vocab.setdefault(a + b, len(vocab))
    for t in tail_tokens:
        vocab[t] = len(vocab)
    added = [(t, True) for t in head_tokens] + [(t, True) for t in tail_tokens]
    return ByteLevelBPE(vocab, merges, added, style)
