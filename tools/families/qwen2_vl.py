"""A tiny random Qwen2-VL checkpoint in the hub's exact layout, with its PyTorch golden.

    node scripts/python.mjs tools/families/qwen2_vl.py --out test/fixtures/hub/Qwen-tiny-qwen2-vl

Writes what Qwen/Qwen2-VL-2B-Instruct and its onnx-community export ship (config.json,
generation_config.json, preprocessor_config.json, chat_template.json, tokenizer.json,
tokenizer_config.json, special_tokens_map.json, vocab.json, merges.txt,
model.safetensors in bf16, onnx/{vision_encoder,embed_tokens,decoder_model_merged}.onnx)
at tiny sizes with random weights (fixed seed), plus golden.png, golden-tall.png and
golden.json (qwen2_vl_golden.py). The weights are rounded to bf16 first, so the bf16
safetensors and the f32 ONNX files hold the same numbers.
"""
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bpe  # noqa: E402
import hub_files  # noqa: E402
import qwen2_vl_processor as proc  # noqa: E402
from qwen2_vl_golden import make_golden, self_check  # noqa: E402
from qwen2_vl_model import Qwen2VLConfig, Qwen2VLForConditionalGeneration, VisionConfig  # noqa: E402
from qwen2_vl_onnx import export_onnx  # noqa: E402

SEED = 0
MERGES = 80
# Qwen2's added tokens, in their id order after the BPE vocabulary (151643.. in the real one).
TAIL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|object_ref_start|>", "<|object_ref_end|>",
               "<|box_start|>", "<|box_end|>", "<|quad_start|>", "<|quad_end|>", "<|vision_start|>",
               "<|vision_end|>", "<|vision_pad|>", "<|image_pad|>", "<|video_pad|>"]
CORPUS = [
    "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n",
    "Describe this image.\nThe image shows a red square and a blue circle.",
    "What is in the picture? There is a green bar below the circle.",
    "Compare the two images. The first one is wide and the second one is tall.",
    "There are 3 shapes in this image.", "the red square", "the blue circle", "assistant", "user", "system",
]
VOCAB_MULTIPLE = 16   # the embedding is padded past the tokenizer, as Qwen2-VL's (151936 rows, 151657 tokens)


def tiny_config(tok):
    v = tok.vocab
    return Qwen2VLConfig(
        vision_config=VisionConfig(depth=2, embed_dim=32, mlp_ratio=4, num_heads=2, in_chans=3, hidden_size=64,
                                   patch_size=14, spatial_merge_size=2, temporal_patch_size=2),
        vocab_size=-(-len(v) // VOCAB_MULTIPLE) * VOCAB_MULTIPLE, hidden_size=64, intermediate_size=128,
        num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2, rms_norm_eps=1e-6,
        rope_theta=1000000.0, mrope_section=(2, 3, 3), tie_word_embeddings=True,
        bos_token_id=v["<|endoftext|>"], eos_token_id=v["<|im_end|>"],
        vision_start_token_id=v["<|vision_start|>"], vision_end_token_id=v["<|vision_end|>"],
        vision_token_id=v["<|vision_pad|>"], image_token_id=v["<|image_pad|>"], video_token_id=v["<|video_pad|>"])


def preprocessor_config():
    """Qwen2VLImageProcessor as save_pretrained writes it (every flag explicit), tiny max_pixels."""
    min_pixels, max_pixels = 56 * 56, 28 * 28 * 32
    return {
        "do_convert_rgb": True, "do_normalize": True, "do_rescale": True, "do_resize": True,
        "image_mean": proc.CLIP_MEAN, "image_processor_type": "Qwen2VLImageProcessor", "image_std": proc.CLIP_STD,
        "max_pixels": max_pixels, "merge_size": 2, "min_pixels": min_pixels, "patch_size": 14,
        "processor_class": "Qwen2VLProcessor", "resample": 3, "rescale_factor": 1 / 255,
        "size": {"max_pixels": max_pixels, "min_pixels": min_pixels}, "temporal_patch_size": 2,
    }


def write_tokenizer_files(tok, folder):
    hub_files.write_json(os.path.join(folder, "tokenizer.json"), tok.tokenizer_json())
    extra = TAIL_TOKENS[1:]
    hub_files.write_json(os.path.join(folder, "tokenizer_config.json"), {
        "add_prefix_space": False,
        "added_tokens_decoder": tok.added_tokens_decoder(),
        "additional_special_tokens": extra,
        "bos_token": None,
        "chat_template": proc.CHAT_TEMPLATE,
        "clean_up_tokenization_spaces": False,
        "eos_token": "<|im_end|>",
        "errors": "replace",
        "model_max_length": 32768,
        "pad_token": "<|endoftext|>",
        "padding_side": "left",
        "split_special_tokens": False,
        "tokenizer_class": "Qwen2Tokenizer",
        "unk_token": None,
    })
    special = {"lstrip": False, "normalized": False, "rstrip": False, "single_word": False}
    hub_files.write_json(os.path.join(folder, "special_tokens_map.json"), {
        "additional_special_tokens": extra,
        "eos_token": dict(special, content="<|im_end|>"),
        "pad_token": dict(special, content="<|endoftext|>"),
    })
    hub_files.write_json(os.path.join(folder, "chat_template.json"), {"chat_template": proc.CHAT_TEMPLATE})
    model = tok.tokenizer_json()["model"]
    hub_files.write_json(os.path.join(folder, "vocab.json"), model["vocab"])
    with open(os.path.join(folder, "merges.txt"), "w") as f:
        f.write("#version: 0.2\n" + "".join(m + "\n" for m in model["merges"]))


def main():
    args = hub_files.begin(__doc__.split("\n")[0], "test/fixtures/hub/Qwen-tiny-qwen2-vl", SEED)

    tok = bpe.build(CORPUS, MERGES, [], TAIL_TOKENS, style="qwen2")
    cfg = tiny_config(tok)
    model = Qwen2VLForConditionalGeneration(cfg).eval()
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(hub_files.to_bf16(p))
        model.model.embed_tokens.weight[len(tok.vocab):] = 0    # rows past the tokenizer: logit 0, never the top

    hub_files.write_json(os.path.join(args.out, "config.json"), cfg.to_hf())
    ends = [tok.vocab["<|im_end|>"], tok.vocab["<|endoftext|>"]]
    hub_files.write_json(os.path.join(args.out, "generation_config.json"), {
        "bos_token_id": tok.vocab["<|endoftext|>"], "pad_token_id": tok.vocab["<|endoftext|>"], "do_sample": True,
        "eos_token_id": ends, "repetition_penalty": 1.0, "temperature": 0.01, "top_p": 0.001, "top_k": 1,
        "transformers_version": "4.37.0"})
    pre = preprocessor_config()
    hub_files.write_json(os.path.join(args.out, "preprocessor_config.json"), pre)
    write_tokenizer_files(tok, args.out)
    sd = {k: v for k, v in model.state_dict().items() if k != "lm_head.weight"}   # tied: not stored
    hub_files.save_bf16_safetensors(os.path.join(args.out, "model.safetensors"), sd)
    export_onnx(model, os.path.join(args.out, "onnx"))
    golden = make_golden(model, cfg, tok, pre, args.out)
    cases = (("one image", golden), ("two images", golden["two_images"]), ("text only", golden["text_only"]))
    for _, case in cases + (("second turn", golden["second_turn"]),):
        if any(i >= len(tok.vocab) for i in case["greedy_ids"]):
            raise SystemExit("greedy picked a padding row of the embedding")
    hub_files.write_json(os.path.join(args.out, "golden.json"), golden)
    diff = max(self_check(args.out, cfg, tok, pre, case) for _, case in cases + (("", golden["second_turn"]),))

    print(f"vocab {len(tok.vocab)} tokens, {cfg.vocab_size} embedding rows; self-check: reloaded without a cache, "
          f"logits within {diff:.2e}, same ids")
    for name, case in cases:
        print(f"{name}: grids {case.get('image_grid_thw')}, prompt {len(case['input_ids'])} ids, rope delta "
              f"{case['rope_delta']}, greedy {case['greedy_ids']}, smallest top-2 gap {case['greedy_min_top2_gap']:.4f}")
    for row in golden["smart_resize"]["sizes"]:
        print(f"smart_resize {row['height']} x {row['width']}: HF {row['hf']}, transformers.js {row['transformers_js']}")
    for name, size in hub_files.file_sizes(args.out).items():
        print(f"{size:>9}  {name}")


if __name__ == "__main__":
    main()
