"""The chain with the byte-level BPE tokenizer, end to end in minutes: train a few steps, export, load in Node.

    node scripts/python.mjs tools/train/bpe_smoke.py [--work .cache/bpe-smoke]

Trains the first stages (encoder, warmup) for a handful of steps on 1% splits with
--tokenizer bpe, exports to a scratch folder (never public/models), then checks:
the exported tokenizer files are tools/train/bpe's; the vocabulary dimension of
model.safetensors (embed_tokens, lm_head), of config.json and of the ONNX files
(embed_tokens' table, the decoder's logits) is the tokenizer's size; and
@huggingface/transformers in Node loads the exported folder's tokenizer and gives
the Python ids for texts with words the synthetic data never shows. Needs torch,
so it is not part of the vitest suite. Prints one line per check; exits 1 on a failure.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys

import onnx

sys.path.insert(0, os.path.dirname(__file__))
import safetensors_io                                   # noqa: E402
from bpe_tokenizer import load_any                      # noqa: E402
from data import REPO                                   # noqa: E402
from vocab import BPE_FILES, BPE_FOLDER                 # noqa: E402

TEXTS = ["What is the title of this document?", "Region-based segmentation", "Zürich café 2024-05-17",
         "<|im_start|>user\nthe quixotic xylophonist<|im_end|>\n"]

NODE_CHECK = """
import { AutoTokenizer, env } from '@huggingface/transformers';
env.allowRemoteModels = false; env.allowLocalModels = true; env.localModelPath = process.argv[1];
const tok = await AutoTokenizer.from_pretrained(process.argv[2]);
const texts = JSON.parse(process.argv[3]);
console.log(JSON.stringify(texts.map((t) => Array.from(tok.encode(t, { add_special_tokens: false })))));
"""


def onnx_vocab_dims(folder):
    """The vocabulary dimension of embed_tokens.onnx's table and of the decoder's logits output."""
    embed = onnx.load(os.path.join(folder, "onnx", "embed_tokens.onnx"))
    table = max((i for i in embed.graph.initializer if len(i.dims) == 2), key=lambda i: i.dims[0] * i.dims[1])
    dec = onnx.load(os.path.join(folder, "onnx", "decoder_model_merged.onnx"), load_external_data=False)
    logits = next(o for o in dec.graph.output if o.name == "logits")
    return table.dims[0], logits.type.tensor_type.shape.dim[-1].dim_value


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--work", default=os.path.join(REPO, ".cache", "bpe-smoke"))
    args = ap.parse_args()
    shutil.rmtree(args.work, ignore_errors=True)
    here = os.path.dirname(os.path.abspath(__file__))
    out = os.path.join(args.work, "export", "webvlm-tiny")
    subprocess.run([sys.executable, os.path.join(here, "train.py"), "--work", args.work, "--tokenizer", "bpe",
                    "--stop-after", "warmup", "--steps-scale", "0.005", "--count-scale", "0.01", "--batch", "8"],
                   cwd=REPO, check=True)
    subprocess.run([sys.executable, os.path.join(here, "export.py"), "--work", args.work, "--out", out],
                   cwd=REPO, check=True)
    tok = load_any(out)
    n = len(tok)
    checks = []
    same = all(open(os.path.join(out, f), "rb").read() == open(os.path.join(BPE_FOLDER, f), "rb").read()
               for f in ("tokenizer.json",))
    checks.append(("exported tokenizer.json is tools/train/bpe's", same))
    checks.append(("exported folder has " + ", ".join(BPE_FILES), all(os.path.exists(os.path.join(out, f)) for f in BPE_FILES)))
    with open(os.path.join(out, "config.json")) as f:
        cfg_vocab = json.load(f)["text_config"]["vocab_size"]
    weights = safetensors_io.load(os.path.join(out, "model.safetensors"))
    rows = {k: tuple(weights[k].shape) for k in ("language_model.model.embed_tokens.weight", "language_model.lm_head.weight")}
    table, logits = onnx_vocab_dims(out)
    print(f"tokenizer {n} tokens; config vocab_size {cfg_vocab}; safetensors {rows}; onnx embed {table}, logits {logits}")
    checks.append(("config.json vocab_size is the tokenizer's", cfg_vocab == n))
    checks.append(("safetensors rows are the tokenizer's", all(s[0] == n for s in rows.values())))
    checks.append(("ONNX embed table and logits are the tokenizer's", table == n and logits == n))
    node = subprocess.run(["node", "--input-type=module", "-e", NODE_CHECK, os.path.dirname(out), os.path.basename(out),
                           json.dumps(TEXTS)], cwd=REPO, capture_output=True, text=True)
    js = json.loads(node.stdout) if node.returncode == 0 else None
    py = [tok.encode(t) for t in TEXTS]
    print(f"transformers.js ids {js}\nPython ids          {py}")
    checks.append(("transformers.js loads the exported tokenizer with the Python ids", js == py))
    checks.append(("no unknown token", all(4 not in ids for ids in py) and all(tok.decode(ids, skip_special=False) == t for ids, t in zip(py, TEXTS))))
    for name, ok in checks:
        print(f"{'ok  ' if ok else 'FAIL'} {name}")
    if node.returncode != 0:
        print(node.stderr[-2000:])
    sys.exit(0 if all(ok for _, ok in checks) else 1)


if __name__ == "__main__":
    main()
