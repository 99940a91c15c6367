"""A small word-level tokenizer, written as a Hugging Face tokenizer.json, and its Python twin.

The synthetic world has a closed vocabulary, so whole words (with their leading
space, GPT-2 style) are single tokens and answers stay a few tokens long; digits
are single tokens so any number can be spelled. Every printable ASCII character
is in the vocabulary too, so unseen punctuation still maps to something; only a
letter run outside the vocabulary becomes <unk>.

The JSON uses only pieces @huggingface/transformers and the Rust `tokenizers`
library both implement: added tokens split first, one `Split` pre-tokenizer whose
regex matches every character (so "Isolated" keeps everything), a `WordLevel`
model and a `Fuse` decoder (tokens carry their own spaces). `encode` below does
the same steps, and a Node test checks that both give identical ids.
"""
import json
import re
import os

# Leading-space words, single digits, leading-space punctuation, single whitespace.
# No \s or \w: JS and Python classes differ outside ASCII, explicit sets do not.
PATTERN = r" ?[A-Za-z]+|[0-9]| ?[^ \t\n\rA-Za-z0-9]|[ \t\n\r]"

# Fixed ids first, so config.json and the engines can rely on them.
SPECIAL = ["<pad>", "<|im_start|>", "<|im_end|>", "<image>", "<unk>"]
# Grounding markup: added (matched before pre-tokenisation) but not special, so decode keeps them.
MARKUP = ["<ref>", "</ref>", "<box>", "</box>"]
PAD, IM_START, IM_END, IMAGE, UNK = range(5)

CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\\n' }}"
    "{% if message['content'] is string %}{{ message['content'] }}"
    "{% else %}"
    # Text first, then the images: the decoder reads the question before the image
    # tokens, so (causal attention) the image positions can already attend to it.
    "{% for part in message['content'] %}{% if part['type'] == 'text' %}{{ part['text'] }}{% endif %}{% endfor %}"
    "{% for part in message['content'] %}{% if part['type'] == 'image' %}{{ '\\n<image>' }}{% endif %}{% endfor %}"
    "{% endif %}"
    "{{ '<|im_end|>\\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)


def pieces(text):
    return re.findall(PATTERN, text)


def build_vocab(texts, extra_words=()):
    """Vocabulary: specials, markup, printable ASCII, then every piece of the corpus, sorted for stability."""
    seen = set()
    for t in texts:
        for part in split_added(t):
            if part not in SPECIAL and part not in MARKUP:
                seen.update(pieces(part))
    for w in extra_words:
        seen.update([w, " " + w])
    for c in range(32, 127):
        seen.update([chr(c), " " + chr(c)])
    seen.update(["\n", "\t", "\r"])
    fixed = SPECIAL + MARKUP
    rest = sorted(s for s in seen if s not in fixed)
    return {tok: i for i, tok in enumerate(fixed + rest)}


_ADDED_RE = re.compile("(" + "|".join(re.escape(t) for t in sorted(SPECIAL + MARKUP, key=len, reverse=True)) + ")")


def split_added(text):
    """Added tokens split the text first (longest match), as both libraries do."""
    return [p for p in _ADDED_RE.split(text) if p]


class Tokenizer:
    def __init__(self, vocab):
        self.vocab = vocab
        self.inv = {i: t for t, i in vocab.items()}

    def __len__(self):
        return len(self.vocab)

    def encode(self, text):
        ids = []
        for part in split_added(text):
            if part in self.vocab and (part in SPECIAL or part in MARKUP):
                ids.append(self.vocab[part])
                continue
            ids.extend(self.vocab.get(p, UNK) for p in pieces(part))
        return ids

    def decode(self, ids, skip_special=True):
        out = []
        for i in ids:
            t = self.inv.get(int(i), "<unk>")
            if skip_special and t in SPECIAL:
                continue
            out.append(t)
        return "".join(out)

    # -------------------------------------------------------------- files

    def tokenizer_json(self):
        added = [
            {"id": self.vocab[t], "content": t, "single_word": False, "lstrip": False, "rstrip": False,
             "normalized": False, "special": t in SPECIAL}
            for t in SPECIAL + MARKUP
        ]
        return {
            "version": "1.0",
            "truncation": None,
            "padding": None,
            "added_tokens": added,
            "normalizer": None,
            "pre_tokenizer": {"type": "Split", "pattern": {"Regex": PATTERN}, "behavior": "Isolated", "invert": False},
            "post_processor": None,
            "decoder": {"type": "Fuse"},
            "model": {"type": "WordLevel", "vocab": self.vocab, "unk_token": "<unk>"},
        }

    def save(self, folder, model_max_length=512):
        os.makedirs(folder, exist_ok=True)
        write_json(os.path.join(folder, "tokenizer.json"), self.tokenizer_json())
        added_decoder = {
            str(self.vocab[t]): {"content": t, "lstrip": False, "normalized": False, "rstrip": False,
                                 "single_word": False, "special": t in SPECIAL}
            for t in SPECIAL + MARKUP
        }
        write_json(os.path.join(folder, "tokenizer_config.json"), {
            "tokenizer_class": "PreTrainedTokenizerFast",
            "added_tokens_decoder": added_decoder,
            "bos_token": None,
            "eos_token": "<|im_end|>",
            "pad_token": "<pad>",
            "unk_token": "<unk>",
            "image_token": "<image>",
            "extra_special_tokens": {"image_token": "<image>"},
            "additional_special_tokens": ["<|im_start|>", "<|im_end|>", "<image>"],
            "clean_up_tokenization_spaces": False,
            "model_max_length": model_max_length,
            "padding_side": "left",
            "chat_template": CHAT_TEMPLATE,
        })
        write_json(os.path.join(folder, "special_tokens_map.json"), {
            "eos_token": "<|im_end|>", "pad_token": "<pad>", "unk_token": "<unk>",
            "additional_special_tokens": ["<|im_start|>", "<|im_end|>", "<image>"],
        })

    @staticmethod
    def load(folder):
        with open(os.path.join(folder, "tokenizer.json")) as f:
            return Tokenizer(json.load(f)["model"]["vocab"])


def render_chat(messages, add_generation_prompt=False):
    """CHAT_TEMPLATE by hand (no Jinja here); the Node test checks both agree."""
    out = []
    for m in messages:
        out.append("<|im_start|>" + m["role"] + "\n")
        c = m["content"]
        if isinstance(c, str):
            out.append(c)
        else:
            out.extend(p["text"] for p in c if p["type"] == "text")
            out.extend("\n<image>" for p in c if p["type"] == "image")
        out.append("<|im_end|>\n")
    if add_generation_prompt:
        out.append("<|im_start|>assistant\n")
    return "".join(out)


def llava_to_messages(conversations):
    """LLaVA turns -> chat messages; the first human turn's '<image>' lines become image parts."""
    msgs = []
    for i, turn in enumerate(conversations):
        role = "user" if turn["from"] == "human" else "assistant"
        text = turn["value"]
        if role == "user" and "<image>" in text:
            n = text.count("<image>")
            text = text.replace("<image>\n", "").replace("<image>", "")
            msgs.append({"role": role, "content": [{"type": "text", "text": text}] + [{"type": "image"}] * n})
        else:
            msgs.append({"role": role, "content": text})
    return msgs


def write_json(path, obj):
    with open(path, "w") as f:
        json.dump(obj, f, indent=2, ensure_ascii=False)
        f.write("\n")
