"""A tiny random LLaVA-NeXT (llava_next, AnyRes) checkpoint in the hub's layout, with its PyTorch golden.

    node scripts/python.mjs tools/families/llava_next.py --out test/fixtures/hub/llava-hf-tiny-llava-next

Writes what llava-hf/llava-v1.6-mistral-7b-hf ships (config.json with
image_grid_pinpoints, vision_config and text_config; generation_config.json,
preprocessor_config.json, processor_config.json, chat_template.json, tokenizer.json,
tokenizer_config.json, special_tokens_map.json, model.safetensors in bf16 with the
hub's pre-4.52 names) at tiny sizes with random weights (fixed seed): a CLIP tower of
32-pixel views read at vision_feature_layer -2, pinpoints that mirror the real
[[336, 672], [672, 336], [672, 672], [1008, 336], [336, 1008]] at 32-pixel tiles. Then
golden.png / golden-tall.png and golden.json (llava_next_golden.py): for a wide and a
tall image (and both in one turn) the chosen grid, the pixel values of every view, the image token count,
the packed image features, the first-step logits and 16 greedy ids.
"""
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bpe  # noqa: E402
import hub_files  # noqa: E402
import llava_next_processor as proc  # noqa: E402
from llava_next_golden import make_golden, self_check  # noqa: E402
from llava_next_model import LlavaNextConfig, LlavaNextForConditionalGeneration  # noqa: E402
from model import TextConfig, VisionConfig  # noqa: E402

SEED = 0
MERGES = 60
HEAD_TOKENS = ["<unk>", "<s>", "</s>"]
TAIL_TOKENS = ["<image>"]
CORPUS = [
    "[INST] What is shown in this image? [/INST] A red square and a blue circle on a gradient.",
    "[INST] Describe the picture. [/INST] There are yellow and magenta shapes on stripes.",
    "[INST] How many shapes are there? [/INST] There are 3 shapes in the image.",
    "\n", "the image", "this picture", "[INST]", "[/INST]",
]


def tiny_config(tok):
    text = TextConfig(vocab_size=len(tok.vocab), hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                      num_attention_heads=4, num_key_value_heads=2, head_dim=16, max_position_embeddings=4096,
                      rms_norm_eps=1e-5, rope_theta=1000000.0, bos_token_id=tok.vocab["<s>"],
                      eos_token_id=tok.vocab["</s>"], pad_token_id=tok.vocab["<unk>"])
    vision = VisionConfig(image_size=32, patch_size=8, hidden_size=32, intermediate_size=64, num_hidden_layers=3,
                          num_attention_heads=2, hidden_act="quick_gelu", projection_dim=32)
    return LlavaNextConfig(vision_config=vision, text_config=text, image_token_index=tok.vocab["<image>"])


def preprocessor_config(cfg):
    s = cfg.vision_config.image_size
    return {
        "aspect_ratio_setting": "anyres", "crop_size": {"height": s, "width": s}, "do_center_crop": True,
        "do_convert_rgb": True, "do_normalize": True, "do_pad": True, "do_rescale": True, "do_resize": True,
        "image_grid_pinpoints": cfg.image_grid_pinpoints, "image_mean": [0.5, 0.5, 0.5],
        "image_processor_type": "LlavaNextImageProcessor", "image_std": [0.5, 0.5, 0.5],
        "processor_class": "LlavaNextProcessor", "resample": 2, "rescale_factor": 1 / 255,
        "size": {"shortest_edge": s},
    }


def write_tokenizer_files(tok, folder):
    hub_files.write_json(os.path.join(folder, "tokenizer.json"), tok.tokenizer_json())
    hub_files.write_json(os.path.join(folder, "tokenizer_config.json"), {
        "add_bos_token": True, "add_eos_token": False, "added_tokens_decoder": tok.added_tokens_decoder(),
        "bos_token": "<s>", "chat_template": proc.CHAT_TEMPLATE, "clean_up_tokenization_spaces": False,
        "eos_token": "</s>", "image_token": "<image>", "extra_special_tokens": {"image_token": "<image>"},
        "legacy": False, "model_max_length": 4096, "pad_token": "<unk>", "padding_side": "left",
        "processor_class": "LlavaNextProcessor", "tokenizer_class": "GPT2Tokenizer", "unk_token": "<unk>",
    })
    special = {"lstrip": False, "normalized": False, "rstrip": False, "single_word": False}
    hub_files.write_json(os.path.join(folder, "special_tokens_map.json"), {
        "bos_token": dict(special, content="<s>"), "eos_token": dict(special, content="</s>"),
        "image_token": "<image>", "pad_token": dict(special, content="<unk>"), "unk_token": dict(special, content="<unk>"),
    })
    hub_files.write_json(os.path.join(folder, "chat_template.json"), {"chat_template": proc.CHAT_TEMPLATE})


def main():
    args = hub_files.begin(__doc__.split("\n")[0], "test/fixtures/hub/llava-hf-tiny-llava-next", SEED)
    tok = bpe.build(CORPUS, MERGES, HEAD_TOKENS, TAIL_TOKENS)
    cfg = tiny_config(tok)
    model = LlavaNextForConditionalGeneration(cfg).eval()
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(hub_files.to_bf16(p))

    hub_files.write_json(os.path.join(args.out, "config.json"), cfg.to_hf())
    t = cfg.text_config
    hub_files.write_json(os.path.join(args.out, "generation_config.json"), {
        "_from_model_config": True, "bos_token_id": t.bos_token_id, "eos_token_id": t.eos_token_id,
        "pad_token_id": t.pad_token_id})
    pre = preprocessor_config(cfg)
    hub_files.write_json(os.path.join(args.out, "preprocessor_config.json"), pre)
    hub_files.write_json(os.path.join(args.out, "processor_config.json"), {
        "image_token": "<image>", "num_additional_image_tokens": 1, "patch_size": cfg.vision_config.patch_size,
        "processor_class": "LlavaNextProcessor", "vision_feature_select_strategy": cfg.vision_feature_select_strategy})
    write_tokenizer_files(tok, args.out)
    hub_files.save_bf16_safetensors(os.path.join(args.out, "model.safetensors"), model.state_dict())
    golden = make_golden(model, cfg, tok, pre, args.out)
    hub_files.write_json(os.path.join(args.out, "golden.json"), golden)
    diff = max(self_check(args.out, cfg, tok, pre, case) for case in (golden, golden["tall"], golden["two_images"]))

    print(f"vocab {len(tok.vocab)}, self-check: reloaded without a cache, logits within {diff:.2e}, same ids")
    for name, case in (("wide", golden), ("tall", golden["tall"]), ("both", golden["two_images"])):
        sizes = " + ".join(f"{i['height']}x{i['width']}" for i in case["images"])
        grids = " + ".join(f"{r}x{c}" for r, c in zip(case["rows"], case["cols"]))
        print(f"{name} {sizes}: grid {grids} (+ global each), {case['image_tokens']} image tokens, prompt {len(case['input_ids'])} ids, "
              f"greedy {case['greedy_ids']}, smallest top-2 gap {case['greedy_min_top2_gap']:.4f}")
    for name, size in hub_files.file_sizes(args.out).items():
        print(f"{size:>9}  {name}")


if __name__ == "__main__":
    main()
