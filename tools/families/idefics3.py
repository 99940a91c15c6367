"""A tiny random SmolVLM (Idefics3) checkpoint in the hub's exact layout, with its PyTorch golden.

    node scripts/python.mjs tools/families/idefics3.py --out test/fixtures/hub/HuggingFaceTB-tiny-smolvlm

Writes what HuggingFaceTB/SmolVLM-256M-Instruct and its onnx-community export ship
(config.json, generation_config.json, preprocessor_config.json, processor_config.json,
chat_template.json, tokenizer.json, tokenizer_config.json, special_tokens_map.json,
model.safetensors in bf16, onnx/{vision_encoder,embed_tokens,decoder_model_merged}.onnx)
at tiny sizes with random weights (fixed seed), plus golden.png and golden.json: the
prompt ids, per-tile pixel values, image features, first-step logits and 16 greedy ids
that PyTorch computes for a 2 x 4 tile image and a chat prompt, and for that image with
a 4 x 2 tile one in the same turn (idefics3_golden.py). The weights are rounded
to bf16 first, so the bf16 safetensors and the f32 ONNX files hold the same numbers.
"""
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bpe  # noqa: E402
import hub_files  # noqa: E402
from idefics3_golden import make_golden, self_check  # noqa: E402
import idefics3_processor as proc  # noqa: E402
from idefics3_model import Idefics3Config, Idefics3ForConditionalGeneration, TextConfig, VisionConfig  # noqa: E402
from idefics3_onnx import export_onnx  # noqa: E402

SEED = 0
MERGES = 80
HEAD_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
IMAGE_TOKENS = (["<global-img>"] + [f"<row_{r}_col_{c}>" for r in range(1, 7) for c in range(1, 7)]
                + ["<fake_token_around_image>", "<image>"])
TAIL_TOKENS = IMAGE_TOKENS + ["<end_of_utterance>"]
CORPUS = [
    "User: Can you describe this image?\nAssistant: The image shows a red square and a blue circle.",
    "User: What is in the picture?\nAssistant: There is a green triangle on the left of the image.",
    "User: Describe the image in detail.\nAssistant: A small yellow star is above the large square.",
    "User: How many shapes are there?\nAssistant: There are 3 shapes in this image.",
    "\n\n", "\n", "the image", "this image", "the picture", "describe", "Assistant:", "User:",
]


def tiny_config(tok):
    vocab = len(tok.vocab)
    text = TextConfig(vocab_size=vocab, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                      num_attention_heads=4, num_key_value_heads=2, head_dim=16, max_position_embeddings=8192,
                      rms_norm_eps=1e-5, rope_theta=100000.0, tie_word_embeddings=True,
                      bos_token_id=tok.vocab["<|im_start|>"], eos_token_id=tok.vocab["<end_of_utterance>"],
                      pad_token_id=tok.vocab["<|im_end|>"])
    vision = VisionConfig(hidden_size=32, intermediate_size=128, num_hidden_layers=2, num_attention_heads=2,
                          image_size=64, patch_size=8, max_image_size={"longest_edge": 64},
                          size={"longest_edge": 256})
    return Idefics3Config(vision_config=vision, text_config=text, image_token_id=tok.vocab["<image>"], scale_factor=4)


def preprocessor_config(cfg):
    v = cfg.vision_config
    return {
        "do_convert_rgb": True, "do_image_splitting": True, "do_normalize": True, "do_pad": True,
        "do_rescale": True, "do_resize": True, "image_mean": [0.5, 0.5, 0.5], "image_std": [0.5, 0.5, 0.5],
        "image_processor_type": "Idefics3ImageProcessor", "max_image_size": dict(v.max_image_size),
        "processor_class": "Idefics3Processor", "resample": 1, "rescale_factor": 1 / 255,
        "size": dict(v.size),
    }


def write_tokenizer_files(tok, folder):
    hub_files.write_json(os.path.join(folder, "tokenizer.json"), tok.tokenizer_json())
    extra = ["<fake_token_around_image>", "<image>", "<end_of_utterance>"]
    hub_files.write_json(os.path.join(folder, "tokenizer_config.json"), {
        "add_prefix_space": False,
        "added_tokens_decoder": tok.added_tokens_decoder(),
        "additional_special_tokens": extra,
        "bos_token": "<|im_start|>",
        "chat_template": proc.CHAT_TEMPLATE,
        "clean_up_tokenization_spaces": False,
        "eos_token": "<end_of_utterance>",
        "legacy": False,
        "model_max_length": 8192,
        "pad_token": "<|im_end|>",
        "processor_class": "Idefics3Processor",
        "tokenizer_class": "GPT2Tokenizer",
        "truncation_side": "left",
        "unk_token": "<|endoftext|>",
        "vocab_size": len(tok.vocab),
    })
    special = {"content": None, "lstrip": False, "normalized": False, "rstrip": False, "single_word": False}
    hub_files.write_json(os.path.join(folder, "special_tokens_map.json"), {
        "additional_special_tokens": [dict(special, content=t) for t in extra],
        "bos_token": dict(special, content="<|im_start|>"),
        "eos_token": dict(special, content="<end_of_utterance>"),
        "pad_token": dict(special, content="<|im_end|>"),
        "unk_token": dict(special, content="<|endoftext|>"),
    })
    hub_files.write_json(os.path.join(folder, "chat_template.json"), {"chat_template": proc.CHAT_TEMPLATE})


def state_dict_for_hub(model):
    sd = model.state_dict()
    # Tied: the hub checkpoint holds embed_tokens only (save_pretrained drops the tied copy).
    return {k: v for k, v in sd.items() if k != "lm_head.weight"}


def main():
    args = hub_files.begin(__doc__.split("\n")[0], "test/fixtures/hub/HuggingFaceTB-tiny-smolvlm", SEED)

    tok = bpe.build(CORPUS, MERGES, HEAD_TOKENS, TAIL_TOKENS)
    cfg = tiny_config(tok)
    model = Idefics3ForConditionalGeneration(cfg).eval()
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(hub_files.to_bf16(p))

    text_extra = {"architectures": ["VLlama3ForCausalLM"], "is_llama_config": True, "rope_interleaved": False}
    hub_files.write_json(os.path.join(args.out, "config.json"), cfg.to_hf(text_extra))
    hub_files.write_json(os.path.join(args.out, "generation_config.json"), {
        "_from_model_config": True, "bos_token_id": cfg.text_config.bos_token_id,
        "eos_token_id": [cfg.text_config.pad_token_id, cfg.text_config.eos_token_id],
        "pad_token_id": cfg.text_config.pad_token_id})
    pre = preprocessor_config(cfg)
    hub_files.write_json(os.path.join(args.out, "preprocessor_config.json"), pre)
    hub_files.write_json(os.path.join(args.out, "processor_config.json"),
                         {"image_seq_len": cfg.image_seq_len, "processor_class": "Idefics3Processor"})
    write_tokenizer_files(tok, args.out)
    hub_files.save_bf16_safetensors(os.path.join(args.out, "model.safetensors"), state_dict_for_hub(model))
    export_onnx(model, os.path.join(args.out, "onnx"))
    golden = make_golden(model, cfg, tok, pre, args.out)
    gap = golden["greedy_min_top2_gap"]
    hub_files.write_json(os.path.join(args.out, "golden.json"), golden)
    diff = max(self_check(args.out, cfg, tok, pre, golden), self_check(args.out, cfg, tok, pre, golden["two_images"]))

    two = golden["two_images"]
    print(f"vocab {len(tok.vocab)}, image_seq_len {cfg.image_seq_len}, self-check: reloaded without a cache, "
          f"logits within {diff:.2e}, same ids")
    for name, case in (("one image", golden), ("two images", two)):
        grid = " + ".join(f"{r}x{c}" for r, c in zip(case["rows"], case["cols"]))
        print(f"{name}: tiles {grid} (+ a global view each), prompt {len(case['input_ids'])} ids, "
              f"greedy {case['greedy_ids']}, smallest top-2 gap {case['greedy_min_top2_gap']:.4f}")
    for name, size in hub_files.file_sizes(args.out).items():
        print(f"{size:>9}  {name}")


if __name__ == "__main__":
    main()
