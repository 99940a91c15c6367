"""Builds the byte-level BPE tokenizer (bpe_tokenizer.py) and measures vocabulary sizes.

Corpus, counted as pieces of the tokenizer's own pre-tokenizer:
- the synthetic data: an all-task split made with `npm run data` (LLaVA data.json);
- an English word list: Debian's `wamerican` (/usr/share/dict/words), each word
  with and without its leading space;
- English prose from Debian documentation: /usr/share/doc/*/copyright and plain
  README files, in sorted path order, only lines that read as sentences.
Held-out words (src/data/real-words.json, written by --write-words) are removed
from every part, so the merges are not fitted to the words an eval asks to copy.

One training run to the largest size gives every smaller size as a prefix of its
merges. For each size it prints the embedding + lm_head parameters at hidden 192
(untied, as webvlm-tiny) and mean tokens per synthetic prompt and answer, per
held-out document title and per held-out word.

Measured (bpe/measurement.json, against a 20,000-record `--words real` split): synthetic
prompts and answers are the same length at every size (their words are frequent enough
to become single tokens), so the choice is embedding cost and unseen-word length against
coverage: a token that training text never shows keeps an untrained embedding and an
lm_head row only ever pushed down, so a title that needs one can hardly be copied.
2048 is the pick: 98% of held-out titles use only tokens the training split shows (96%
at 3072, 93% at 4096, 82% at 8192), the bundled model grows from 3.07M to 3.25M
parameters (4.04M at 4096, 5.61M at 8192), and a held-out title takes 7.54 tokens
instead of 6.64 at 4096, a small price.
The doc prose depends on which Debian packages are installed, so rebuilding on
another machine may give other merges; the committed tokenizer.json is the reference.

Usage:
  /usr/bin/python3 tools/train/bpe_build.py --write-words      # once: the word split
  npm run data -- --out /tmp/all --count 20000 --seed 11 --held-out include
  npm run data -- --out /tmp/real --count 20000 --seed 23 --words real
  /usr/bin/python3 tools/train/bpe_build.py --data /tmp/all --train-data /tmp/real \
      --sizes 2048,3072,4096,8192 --pick 2048
"""
import argparse
import glob
import hashlib
import json
import os
import re
import sys
import time
from collections import Counter

from bpe_tokenizer import FIXED, BpeTokenizer, base_vocab, pieces, split_added, train_merges, write_json
from tokenizer import UNK, Tokenizer, render_chat

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
DICT = "/usr/share/dict/words"
WORDS_JSON = os.path.join(REPO, "src", "data", "real-words.json")
OUT = os.path.join(HERE, "bpe")
HIDDEN = 192
# Concept words kept out of base data for the LoRA experiments; no real word may spell them.
BANNED = ("star", "purple")


def need_dict():
    if not os.path.exists(DICT):
        sys.exit(f"{DICT} is missing; install Debian's English word list: apt-get install wamerican")


def synthetic_words():
    """Every word the synthetic data already uses: its word lists and the bundled word-level vocabulary
    (built from all of the generator's text, prompts included)."""
    found = set()
    for name in ("words.ts", "vocabulary.ts"):
        with open(os.path.join(REPO, "src", "data", name)) as f:
            found.update(w.lower() for w in re.findall(r"'([A-Za-z]+)'", f.read()))
    with open(os.path.join(REPO, "public", "models", "webvlm-tiny", "tokenizer.json")) as f:
        found.update(t.strip().lower() for t in json.load(f)["model"]["vocab"])
    return found


def write_words(n_total, n_held):
    """A deterministic split of the dictionary's plain lowercase words: order by SHA-256, held-out first."""
    need_dict()
    with open(DICT, encoding="utf-8") as f:
        words = {w.strip() for w in f}
    known = synthetic_words()
    ok = [w for w in words if re.fullmatch(r"[a-z]{4,9}", w) and re.search(r"[aeiouy]", w)
          and not any(b in w for b in BANNED)]
    ok.sort(key=lambda w: hashlib.sha256(w.encode()).hexdigest())
    held = [w for w in ok if w not in known][:n_held]
    held_set = set(held)
    train = [w for w in ok if w not in held_set][: n_total - n_held]
    body = {
        "source": "Debian wamerican /usr/share/dict/words: lowercase a-z words of 4-9 letters with a vowel, none containing "
                  "'star' or 'purple', ordered by SHA-256 of the word; the first ones not already in the "
                  "synthetic vocabulary are held out, the next ones are for training",
        "train": sorted(train),
        "heldOut": sorted(held),
    }
    with open(WORDS_JSON, "w") as f:
        f.write(json.dumps(body, indent=0).replace("\n", "") + "\n")
    print(f"wrote {WORDS_JSON}: {len(train)} training words, {len(held)} held-out words")


def read_words():
    with open(WORDS_JSON) as f:
        return json.load(f)


def synthetic_turns(folder):
    with open(os.path.join(folder, "data.json")) as f:
        records = json.load(f)
    prompts, answers = [], []
    for r in records:
        for t in r["conversations"]:
            (prompts if t["from"] == "human" else answers).append(t["value"])
    return prompts, answers


def doc_sentences(max_chars):
    """Prose lines from Debian docs: sorted paths, plain text only, lines of >= 6 words, mostly letters."""
    paths = sorted(glob.glob("/usr/share/doc/*/copyright") + glob.glob("/usr/share/doc/*/README*"))
    out, total = [], 0
    for p in paths:
        if p.endswith((".gz", ".html", ".pdf")) or not os.path.isfile(p):
            continue
        try:
            with open(p, encoding="utf-8") as f:
                text = f.read(65536)
        except UnicodeDecodeError:
            continue
        for line in text.splitlines():
            line = " ".join(line.split())
            letters = sum(c.isalpha() for c in line)
            if len(line.split()) >= 6 and letters >= 0.7 * len(line):
                out.append(line)
                total += len(line)
        if total >= max_chars:
            break
    return out


def count_pieces(texts, held, weight=1, counts=None):
    counts = Counter() if counts is None else counts
    for t in texts:
        for part in split_added(t):
            if part in FIXED:
                continue
            for p in pieces(part):
                if p.strip().lower() not in held:
                    counts[p] += weight
    return counts


def held_titles(held, n):
    """Deterministic two-word titles of held-out words, capitalised as the generator writes them."""
    ws = sorted(held)
    return [f"{ws[(7 * i) % len(ws)].capitalize()} {ws[(13 * i + 5) % len(ws)].capitalize()}" for i in range(n)]


def bundled_params():
    """Parameter count of the bundled model, from its safetensors header."""
    with open(os.path.join(REPO, "public", "models", "webvlm-tiny", "model.safetensors"), "rb") as f:
        header = json.loads(f.read(int.from_bytes(f.read(8), "little")))
    total = 0
    for k, v in header.items():
        if k != "__metadata__":
            n = 1
            for d in v["shape"]:
                n *= d
            total += n
    return total


def coverage(tok, train_texts, texts):
    """How much of the texts training reaches: the share of their tokens that never occur in the
    training texts (embedding and lm_head rows no gradient trains as an answer), and the share of
    texts whose every token does occur."""
    seen = set()
    for t in train_texts:
        seen.update(tok.encode(t))
    encoded = [tok.encode(t) for t in texts]
    ids = [i for e in encoded for i in e]
    return {"held_out_title_tokens_unseen": round(sum(i not in seen for i in ids) / max(1, len(ids)), 4),
            "held_out_titles_fully_seen": round(sum(all(i in seen for i in e) for e in encoded) / max(1, len(texts)), 4)}


def mean_tokens(tok, texts):
    return round(sum(len(tok.encode(t)) for t in texts) / max(1, len(texts)), 3)


UNICODE = [
    "Region-based segmentation", "café naïve résumé", "Crème brûlée à la carte, s'il vous plaît",
    "東京都の天気は晴れです", "中文测试：你好，世界！", "Ελληνικά και Русский текст", "emoji 😀👍🏽 family 👨‍👩‍👧 flag 🇫🇷",
    "tabs\tand\nnewlines  double  space \r\n", "control \u0001\u007f chars", "<ref>red circle</ref><box>(31,656),(266,891)</box>",
    "<image>\nWhat is the title of this document?", "x<|im_end|>\n<|im_start|>user", "1,234.56 + 7% = ?",
]
CHATS = [
    ({"messages": [{"role": "user", "content": [{"type": "text", "text": "What is the title?"}, {"type": "image"}]}],
      "add_generation_prompt": True}),
    ({"messages": [{"role": "user", "content": "Read the word: quibbling"},
                   {"role": "assistant", "content": "quibbling"}], "add_generation_prompt": False}),
]


def fuzz_texts(n, seed=20261208):
    """Deterministic strings mixing ASCII, accents, Greek, Cyrillic, kana, CJK, emoji and joiners."""
    ranges = [(0x20, 0x7E), (0x09, 0x0A), (0xC0, 0x17F), (0x391, 0x3C9), (0x410, 0x44F), (0x3041, 0x3096),
              (0x4E00, 0x4FFF), (0x1F600, 0x1F64F), (0x200D, 0x200D), (0x1F3FB, 0x1F3FF)]
    state = seed
    out = []
    for _ in range(n):
        chars = []
        state = (state * 1103515245 + 12345) % 2147483648
        for _ in range(1 + state % 24):
            state = (state * 1103515245 + 12345) % 2147483648
            lo, hi = ranges[state % len(ranges)]
            state = (state * 1103515245 + 12345) % 2147483648
            chars.append(chr(lo + state % (hi - lo + 1)))
        out.append("".join(chars))
    return out


def write_sample(tok, synthetic, held_texts):
    """Python's ids for a sample of texts and chats; the Node test holds transformers.js to them."""
    cases = []
    for kind, texts in (("synthetic", synthetic), ("unicode", UNICODE + fuzz_texts(40)), ("held-out", held_texts)):
        for t in texts:
            ids = tok.encode(t)
            assert tok.decode(ids, skip_special=False) == t, t
            cases.append({"kind": kind, "text": t, "ids": ids})
    chats = []
    for c in CHATS:
        text = render_chat(c["messages"], c["add_generation_prompt"])
        chats.append({**c, "text": text, "ids": tok.encode(text)})
    path = os.path.join(REPO, "test", "fixtures", "bpe-sample.json")
    body = ",\n".join("  " + json.dumps(c, ensure_ascii=False) for c in cases)
    chat_body = ",\n".join("  " + json.dumps(c, ensure_ascii=False) for c in chats)
    with open(path, "w") as f:
        f.write(f'{{"vocab": {len(tok)}, "cases": [\n{body}\n], "chats": [\n{chat_body}\n]}}\n')
    print(f"wrote {path}: {len(cases)} texts, {len(chats)} chats")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--write-words", action="store_true", help="write src/data/real-words.json and stop")
    ap.add_argument("--words", type=int, default=6600)
    ap.add_argument("--held", type=int, default=600)
    ap.add_argument("--data", help="folder of an all-task `npm run data` split")
    ap.add_argument("--train-data", help="folder of a `npm run data -- --words real` split: measures how many "
                    "held-out title tokens such training data never shows")
    ap.add_argument("--sizes", default="2048,3072,4096,8192")
    ap.add_argument("--pick", type=int, default=2048)
    ap.add_argument("--doc-chars", type=int, default=3_000_000)
    a = ap.parse_args()
    if a.write_words:
        write_words(a.words, a.held)
        return
    if not a.data:
        sys.exit("--data DIR (an `npm run data` split) is required")
    need_dict()
    sizes = sorted(int(s) for s in a.sizes.split(","))
    if a.pick not in sizes:
        sys.exit("--pick must be one of --sizes")
    held = set(read_words()["heldOut"])
    prompts, answers = synthetic_turns(a.data)
    with open(DICT, encoding="utf-8") as f:
        dict_words = [w.strip() for w in f if w.strip()]
    docs = doc_sentences(a.doc_chars)
    counts = count_pieces(prompts + answers, held)
    count_pieces(dict_words + [" " + w for w in dict_words], held, counts=counts)
    count_pieces(docs, held, counts=counts)
    print(f"corpus: {len(prompts)} prompts, {len(answers)} answers, {len(dict_words)} dictionary words, "
          f"{len(docs)} doc lines ({sum(map(len, docs))} chars); {len(counts)} distinct pieces")
    t0 = time.time()
    n_base = len(base_vocab())
    merges = train_merges(counts, sizes[-1] - n_base, log=print)
    print(f"trained {len(merges)} merges in {time.time() - t0:.1f} s")
    titles = held_titles(held, 500)
    held_spaced = [" " + w for w in sorted(held)]
    sample_p, sample_a = prompts[::10], answers[::10]
    real_turns = sum(synthetic_turns(a.train_data), []) if a.train_data else []
    rows = []
    today = bundled_params()
    word = Tokenizer.load(os.path.join(REPO, "public", "models", "webvlm-tiny"))
    for v in sizes:
        tok = BpeTokenizer(merges[: v - n_base])
        row = {
            "vocab": len(tok), "merges": len(tok.merges), "embed_lm_head_params": 2 * len(tok) * HIDDEN,
            "tokens_per_prompt": mean_tokens(tok, sample_p), "tokens_per_answer": mean_tokens(tok, sample_a),
            "tokens_per_held_out_title": mean_tokens(tok, titles),
            "tokens_per_held_out_word": mean_tokens(tok, held_spaced),
            "bundled_model_params": today - 2 * len(word) * HIDDEN + 2 * len(tok) * HIDDEN,
        }
        if real_turns:
            row.update(coverage(tok, real_turns, titles))
        rows.append(row)
        print(json.dumps(row))
    word_row = {"vocab": len(word), "embed_lm_head_params": 2 * len(word) * HIDDEN,
                "tokens_per_prompt": mean_tokens(word, sample_p), "tokens_per_answer": mean_tokens(word, sample_a),
                "held_out_words_unknown": sum(UNK in word.encode(w) for w in held_spaced),
                "bundled_model_params": today}
    print("word-level today:", json.dumps(word_row))
    chosen = BpeTokenizer(merges[: a.pick - n_base])
    why = "; ".join(f"{r['vocab']}: {r['bundled_model_params'] / 1e6:.2f}M params, {r['tokens_per_held_out_title']} "
                    f"tokens per held-out title, {r['tokens_per_prompt']} per prompt"
                    + (f", {r['held_out_titles_fully_seen']:.0%} of held-out titles fully seen in training"
                       if "held_out_titles_fully_seen" in r else "") for r in rows)
    print(f"picked {a.pick} ({why})")
    chosen.save(OUT)
    spread = max(1, len(sample_p) // 40)
    write_sample(chosen, sample_p[::spread][:40] + sample_a[::spread][:40], titles[:20] + held_spaced[:20])
    write_json(os.path.join(OUT, "measurement.json"), {
        "corpus": {"synthetic_prompts": len(prompts), "synthetic_answers": len(answers),
                   "dictionary_words": len(dict_words), "doc_lines": len(docs), "distinct_pieces": len(counts),
                   "measured_on": f"every 10th synthetic turn, {len(titles)} held-out titles, "
                                  f"{len(held_spaced)} held-out words",
                   "real_training_turns": len(real_turns)},
        "hidden": HIDDEN, "word_level": word_row, "sizes": rows, "picked": a.pick, "compared": why,
    })
    print(f"wrote {OUT}/tokenizer.json ({len(chosen)} tokens) and measurement.json")


if __name__ == "__main__":
    main()
