"""Writes test/fixtures/encode-conversation.json: LLaVA records encoded by data.encode_conversation.

The browser's trainer encodes the same records with src/models/lora/encode-conversation.ts;
a Node test holds it to these ids and labels (loss on the assistant's answers and their
<|im_end|> only, every <image> expanded to the model's image_seq_length tokens).

Usage: node scripts/python.mjs tools/train/encode_fixture.py
"""
import json
import os

from data import REPO, encode_conversation
from bpe_tokenizer import load_any

MODEL = os.path.join(REPO, "public", "models", "webvlm-tiny")

RECORDS = [
    {"id": "multi-turn", "image": "a.png", "conversations": [
        {"from": "human", "value": "<image>\nHow many objects are there?"},
        {"from": "gpt", "value": "3"},
        {"from": "human", "value": "What colour is the circle?"},
        {"from": "gpt", "value": "The circle is red."}]},
    {"id": "two-images", "image": ["a.png", "b.png"], "conversations": [
        {"from": "human", "value": "<image>\n<image>\nWhat is the difference between these two images?"},
        {"from": "gpt", "value": "The second image has an extra blue square."}]},
    {"id": "image-after-text", "image": "a.png", "conversations": [
        {"from": "human", "value": "Where is the purple star?<image>"},
        {"from": "gpt", "value": "<ref>purple star</ref><box>(31,656),(266,891)</box>"}]},
    {"id": "unknown-words", "image": "a.png", "conversations": [
        {"from": "human", "value": "<image>\nWrite a zorblax story, please!"},
        {"from": "gpt", "value": "Once upon a time, 12 shapes met.\nThe end."}]},
    {"id": "text-only", "conversations": [
        {"from": "human", "value": "Say hello."},
        {"from": "gpt", "value": "hello"}]},
]


def main():
    with open(os.path.join(MODEL, "config.json")) as f:
        cfg = json.load(f)
    tok = load_any(MODEL)
    cases = []
    for r in RECORDS:
        ids, labels = encode_conversation(tok, r["conversations"], cfg["image_seq_length"])
        cases.append({"record": r, "ids": ids, "labels": labels})
    out = {"model": "webvlm-tiny", "image_seq_length": cfg["image_seq_length"], "image_token_id": cfg["image_token_index"],
           "cases": cases}
    # One case per line: the fixture diffs record by record.
    body = ",\n".join("    " + json.dumps(c, ensure_ascii=False) for c in out.pop("cases"))
    head = json.dumps(out)[:-1]
    with open(os.path.join(REPO, "test", "fixtures", "encode-conversation.json"), "w") as f:
        f.write(f'{head}, "cases": [\n{body}\n]}}\n')


if __name__ == "__main__":
    main()
