"""A random-weight SmolVLM-256M-Instruct at its exact published config, in the hub's layout, for timing.

    node scripts/python.mjs tools/families/smolvlm_real_size.py [--layers N] [--out DIR] [--no-onnx]

Random weights know nothing; this checkpoint measures load, memory and speed at real
size (bench:model), never answers. It is written at bench time under .cache/ (ignored
by git) and never committed: 256M parameters are 0.5 GB of bf16 and 1 GB of f32 ONNX.

Config values are those of HuggingFaceTB/SmolVLM-256M-Instruct's config.json and
preprocessor files: SigLIP 768 wide, 12 layers, 12 heads, MLP 3072, patch 16 on
512 x 512 tiles; pixel shuffle x4 (1024 patches -> 64 tokens, 12288 -> 576); SmolLM2
576 wide, 30 layers, 9 heads, 3 KV heads, MLP 1536, vocabulary 49280, rope_theta
100000, untied lm_head; image_token_id 49190; size 2048 / max_image_size 512,
image_seq_len 64.

--layers N keeps the first N layers of both towers (each capped at its real count)
with the same per-layer shapes, so a software adapter can run it in minutes; the cut
is recorded in config.json (num_hidden_layers) and in real_size.json beside it.

The tokenizer is not SmolVLM's (its 49152 learned merges are not reachable here): it is
the tiny fixture's byte-level BPE (80 merges) padded to 49280 ids with unreachable
filler entries, so every special token sits at its real id (<global-img> 49152,
<row_1_col_1>..<row_6_col_6> 49153-49188, <fake_token_around_image> 49189, <image>
49190, <end_of_utterance> 49279). Prompts tokenize into more, shorter pieces than with
the real tokenizer; image tokens, which dominate a SmolVLM prompt, are the same.
"""
import argparse
import json
import os
import sys
import time

import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bpe  # noqa: E402
import hub_files  # noqa: E402
from idefics3 import CORPUS, HEAD_TOKENS, IMAGE_TOKENS, MERGES, preprocessor_config, write_tokenizer_files  # noqa: E402
from idefics3_model import Idefics3Config, Idefics3ForConditionalGeneration, TextConfig, VisionConfig  # noqa: E402
from idefics3_onnx import export_onnx  # noqa: E402

REPO = "HuggingFaceTB/SmolVLM-256M-Instruct"
SEED = 256
VOCAB = 49280
FIRST_IMAGE_TOKEN = 49152          # <global-img>: SmolLM2's 49152 ids come first
END_OF_UTTERANCE = VOCAB - 1
REAL_LAYERS = {"vision": 12, "text": 30}


def padded_tokenizer():
    """The tiny BPE with filler ids so the special tokens get SmolVLM's ids and the vocabulary its size."""
    tiny = bpe.build(CORPUS, MERGES, HEAD_TOKENS, [])
    vocab = dict(tiny.vocab)

    def fill_to(n):
        # Not byte-level strings of any text (a space is never a byte-level character), so BPE never yields them.
        while len(vocab) < n:
            vocab[f"<filler {len(vocab)}>"] = len(vocab)

    fill_to(FIRST_IMAGE_TOKEN)
    for t in IMAGE_TOKENS:
        vocab[t] = len(vocab)
    fill_to(END_OF_UTTERANCE)
    vocab["<end_of_utterance>"] = len(vocab)
    added = [(t, True) for t in HEAD_TOKENS + IMAGE_TOKENS + ["<end_of_utterance>"]]
    tok = bpe.ByteLevelBPE(vocab, tiny.merges, added)
    assert len(vocab) == VOCAB and vocab["<image>"] == 49190 and vocab["<fake_token_around_image>"] == 49189
    return tok


def real_config(tok, layers):
    text = TextConfig(vocab_size=VOCAB, hidden_size=576, intermediate_size=1536,
                      num_hidden_layers=min(layers, REAL_LAYERS["text"]), num_attention_heads=9,
                      num_key_value_heads=3, head_dim=64, max_position_embeddings=8192, rms_norm_eps=1e-5,
                      rope_theta=100000.0, tie_word_embeddings=False, bos_token_id=tok.vocab["<|im_start|>"],
                      eos_token_id=END_OF_UTTERANCE, pad_token_id=tok.vocab["<|im_end|>"])
    vision = VisionConfig(hidden_size=768, intermediate_size=3072,
                          num_hidden_layers=min(layers, REAL_LAYERS["vision"]), num_attention_heads=12,
                          image_size=512, patch_size=16, max_image_size={"longest_edge": 512},
                          size={"longest_edge": 2048})
    return Idefics3Config(vision_config=vision, text_config=text, image_token_id=tok.vocab["<image>"],
                          scale_factor=4, tie_word_embeddings=False)


def hf_init(model):
    """HF's initializer_range 0.02 (not the tiny fixtures' wide spread, which would blow up 12 x 768-wide layers)."""
    for m in model.modules():
        if isinstance(m, (nn.Linear, nn.Conv2d, nn.Embedding)):
            nn.init.normal_(m.weight, std=0.02)
            if getattr(m, "bias", None) is not None:
                nn.init.zeros_(m.bias)
        elif hasattr(m, "weight") and m.weight is not None and m.weight.dim() == 1:
            nn.init.ones_(m.weight)             # LayerNorm and RMSNorm scales
            if getattr(m, "bias", None) is not None:
                nn.init.zeros_(m.bias)
        with torch.no_grad():
            for p in m.parameters(recurse=False):
                p.copy_(hub_files.to_bf16(p))


def write_hub_files(model, cfg, tok, out):
    text_extra = {"architectures": ["VLlama3ForCausalLM"], "is_llama_config": True, "rope_interleaved": False}
    hub_files.write_json(os.path.join(out, "config.json"), cfg.to_hf(text_extra))
    hub_files.write_json(os.path.join(out, "generation_config.json"), {
        "_from_model_config": True, "bos_token_id": cfg.text_config.bos_token_id,
        "eos_token_id": [cfg.text_config.pad_token_id, cfg.text_config.eos_token_id],
        "pad_token_id": cfg.text_config.pad_token_id})
    hub_files.write_json(os.path.join(out, "preprocessor_config.json"), preprocessor_config(cfg))
    hub_files.write_json(os.path.join(out, "processor_config.json"),
                         {"image_seq_len": cfg.image_seq_len, "processor_class": "Idefics3Processor"})
    write_tokenizer_files(tok, out)
    # Untied: lm_head.weight is stored beside embed_tokens (256.5M parameters, 513 MB of bf16, as the hub's file).
    hub_files.save_bf16_safetensors(os.path.join(out, "model.safetensors"), model.state_dict())


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=os.path.join(".cache", "hub", REPO.replace("/", "-")))
    ap.add_argument("--layers", type=int, default=max(REAL_LAYERS.values()),
                    help="keep the first N layers of each tower (default: all, 12 vision and 30 text)")
    ap.add_argument("--no-onnx", action="store_true", help="skip the onnx/ files (the native engine does not read them)")
    args = ap.parse_args()
    if args.layers < 1:
        ap.error("--layers must be >= 1")
    torch.manual_seed(SEED)
    torch.set_num_threads(1)
    os.makedirs(args.out, exist_ok=True)
    start = time.time()

    tok = padded_tokenizer()
    cfg = real_config(tok, args.layers)
    model = Idefics3ForConditionalGeneration(cfg).eval()
    hf_init(model)
    assert model.lm_head.weight is not model.model.text_model.embed_tokens.weight
    write_hub_files(model, cfg, tok, args.out)
    if not args.no_onnx:
        export_onnx(model, os.path.join(args.out, "onnx"))

    params = sum(p.numel() for p in model.parameters())
    layers = {"vision": cfg.vision_config.num_hidden_layers, "text": cfg.text_config.num_hidden_layers}
    info = {
        "stands_in_for": REPO,
        "random_weights": True,
        "layers": layers,
        "real_layers": REAL_LAYERS,
        "depth_cut": layers != REAL_LAYERS,
        "parameters": params,
        "tokenizer": "the tiny fixture's byte-level BPE (80 merges) padded to 49280 ids; special tokens at their real ids",
        "files": {k: v for k, v in hub_files.file_sizes(args.out).items() if k != "real_size.json"},
    }
    hub_files.write_json(os.path.join(args.out, "real_size.json"), info)
    print(f"{REPO} at its real config, random weights, layers vision {layers['vision']}/12 text {layers['text']}/30: "
          f"{params / 1e6:.1f}M parameters in {time.time() - start:.0f} s -> {args.out}")
    for name, size in info["files"].items():
        print(f"{size:>11}  {name}")


if __name__ == "__main__":
    main()
