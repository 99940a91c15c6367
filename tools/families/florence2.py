"""A tiny random Florence-2 checkpoint in the hub's exact layout, with its PyTorch golden.

    node scripts/python.mjs tools/families/florence2.py --out test/fixtures/hub/microsoft-tiny-florence2

Writes what microsoft/Florence-2-base and its onnx-community export ship (config.json,
generation_config.json, preprocessor_config.json with the task tables transformers.js
reads, tokenizer.json, tokenizer_config.json, special_tokens_map.json, vocab.json,
merges.txt, model.safetensors in bf16, onnx/{vision_encoder,embed_tokens,encoder_model,
decoder_model_merged}.onnx) at tiny sizes with random weights (fixed seed), plus
golden.png and golden.json (florence2_golden.py). The weights are rounded to bf16 first,
so the bf16 safetensors and the f32 ONNX files hold the same numbers.
"""
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bpe  # noqa: E402
import hub_files  # noqa: E402
import florence2_golden as fg  # noqa: E402
from florence2_model import Florence2Config, Florence2ForConditionalGeneration, LanguageConfig  # noqa: E402
from florence2_onnx import export_onnx  # noqa: E402
from florence2_vision import DaViTConfig  # noqa: E402

SEED = 0
MERGES = 80
IMAGE_SIZE = 96
HEAD_TOKENS = ["<s>", "<pad>", "</s>", "<unk>"]
# What Florence-2's processor adds to BART's tokenizer, in id order after <mask> (50265.. in the real one).
FLORENCE_TOKENS = (["<od>", "</od>", "<ocr>", "</ocr>"] + [f"<loc_{i}>" for i in range(1000)] +
                   ["<cap>", "</cap>", "<ncap>", "</ncap>", "<dcap>", "</dcap>", "<grounding>", "</grounding>",
                    "<seg>", "</seg>", "<sep>", "<region_cap>", "</region_cap>", "<region_to_desciption>",
                    "</region_to_desciption>", "<proposal>", "</proposal>", "<poly>", "</poly>", "<and>"])
CORPUS = list(fg.TASK_PROMPTS.values()) + [p.replace("{input}", "") for p in fg.TASK_PROMPTS_WITH_INPUT.values()] + [
    "a red square and a blue circle", "a green bar below the circle", "the text in the image", "square", "circle",
    "There are 3 shapes in this image.",
]
# The real model's generation_config.json (onnx-community/Florence-2-base-ft), ids as BART's.
GENERATION = {"_from_model_config": True, "bos_token_id": 0, "decoder_start_token_id": 2, "early_stopping": True,
              "eos_token_id": 2, "forced_bos_token_id": 0, "forced_eos_token_id": 2, "no_repeat_ngram_size": 3,
              "num_beams": 3, "pad_token_id": 1, "transformers_version": "4.42.0.dev0"}


def preprocessor_config(num_image_tokens):
    """CLIPImageProcessor as Florence-2's, tiny size, with the task tables transformers.js reads from it."""
    size = {"height": IMAGE_SIZE, "width": IMAGE_SIZE}
    return {
        "auto_map": {"AutoProcessor": "microsoft/Florence-2-base--processing_florence2.Florence2Processor"},
        "crop_size": dict(size), "do_center_crop": False, "do_convert_rgb": None, "do_normalize": True,
        "do_rescale": True, "do_resize": True, "image_mean": fg.IMAGENET_MEAN,
        "image_processor_type": "CLIPImageProcessor", "image_seq_length": num_image_tokens,
        "image_std": fg.IMAGENET_STD, "processor_class": "Florence2Processor", "resample": 3,
        "rescale_factor": 1 / 255, "size": size,
        "tasks_answer_post_processing_type": fg.TASK_TYPES,
        "task_prompts_without_inputs": fg.TASK_PROMPTS,
        "task_prompts_with_input": fg.TASK_PROMPTS_WITH_INPUT,
    }


def write_tokenizer_files(tok, folder):
    hub_files.write_json(os.path.join(folder, "tokenizer.json"), tok.tokenizer_json())
    decoder = tok.added_tokens_decoder()
    decoder[str(tok.vocab["<mask>"])]["lstrip"] = True
    special = {"lstrip": False, "normalized": False, "rstrip": False, "single_word": False}
    names = {"bos_token": "<s>", "cls_token": "<s>", "eos_token": "</s>", "mask_token": "<mask>",
             "pad_token": "<pad>", "sep_token": "</s>", "unk_token": "<unk>"}
    hub_files.write_json(os.path.join(folder, "tokenizer_config.json"), dict(
        {"add_prefix_space": False, "added_tokens_decoder": decoder, "additional_special_tokens": FLORENCE_TOKENS,
         "clean_up_tokenization_spaces": True, "errors": "replace", "model_max_length": 1024,
         "processor_class": "Florence2Processor", "tokenizer_class": "BartTokenizer", "trim_offsets": True},
        **names))
    hub_files.write_json(os.path.join(folder, "special_tokens_map.json"), dict(
        {"additional_special_tokens": FLORENCE_TOKENS},
        **{k: dict(special, content=v, lstrip=v == "<mask>") for k, v in names.items()}))
    model = tok.tokenizer_json()["model"]
    hub_files.write_json(os.path.join(folder, "vocab.json"), dict(model["vocab"], **{"<mask>": tok.vocab["<mask>"]}))
    with open(os.path.join(folder, "merges.txt"), "w") as f:
        f.write("#version: 0.2\n" + "".join(m + "\n" for m in model["merges"]))


def randomise(model):
    """bf16-rounded random weights; norms and biases moved off 1 and 0 so a misplaced one shows."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith(".bias"):
                p.copy_(torch.randn_like(p) * 0.1)
            elif "norm" in name and p.dim() == 1:
                p.copy_(1 + torch.randn_like(p) * 0.1)
            p.copy_(hub_files.to_bf16(p))
        lm = model.language_model
        lm.final_logits_bias.copy_(hub_files.to_bf16(torch.randn_like(lm.final_logits_bias) * 0.1))
        lm.model.shared.weight[lm.model.shared.padding_idx] = 0


def main():
    args = hub_files.begin(__doc__.split("\n")[0], "test/fixtures/hub/microsoft-tiny-florence2", SEED)

    tok = bpe.build(CORPUS, MERGES, HEAD_TOKENS, ["<mask>"] + FLORENCE_TOKENS, style="bart")
    cfg = Florence2Config(DaViTConfig(), LanguageConfig(vocab_size=len(tok.vocab)))
    model = Florence2ForConditionalGeneration(cfg).eval()
    randomise(model)
    with torch.no_grad():
        num_image_tokens = model.encode_image(torch.zeros(1, 3, IMAGE_SIZE, IMAGE_SIZE)).shape[1]

    hub_files.write_json(os.path.join(args.out, "config.json"), cfg.to_hf(num_image_tokens))
    hub_files.write_json(os.path.join(args.out, "generation_config.json"), GENERATION)
    pre = preprocessor_config(num_image_tokens)
    hub_files.write_json(os.path.join(args.out, "preprocessor_config.json"), pre)
    write_tokenizer_files(tok, args.out)
    tied = ("language_model.lm_head.weight", "language_model.model.encoder.embed_tokens.weight",
            "language_model.model.decoder.embed_tokens.weight")
    sd = {k: v for k, v in model.state_dict().items() if k not in tied}
    hub_files.save_bf16_safetensors(os.path.join(args.out, "model.safetensors"), sd)
    export_onnx(model, os.path.join(args.out, "onnx"), IMAGE_SIZE)
    golden = fg.make_golden(model, tok, pre, GENERATION, args.out)
    hub_files.write_json(os.path.join(args.out, "golden.json"), golden)
    diff = fg.self_check(Florence2ForConditionalGeneration, cfg, args.out, tok, pre, golden)

    print(f"vocab {len(tok.vocab)} tokens, {num_image_tokens} image tokens; self-check: reloaded without a cache, "
          f"first logits within {diff:.2e}, same ids")
    for case in golden["cases"]:
        print(f"{case['text']}: prompt {len(case['input_ids'])} ids, {len(case['sequence'])} decoder ids, "
              f"{case['loc_tokens']} <loc_N>, gap {case['greedy_min_top2_gap']:.4f}, "
              f"no-repeat changed {case['no_repeat_changed_steps']} steps")
        print(f"    {case['decoded']!r}")
        print(f"    {case['post_processed'][0]['result']}")
    for name, size in hub_files.file_sizes(args.out).items():
        print(f"{size:>9}  {name}")


if __name__ == "__main__":
    main()
