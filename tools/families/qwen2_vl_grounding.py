"""A tiny Qwen2-VL whose decoder is trained to answer one grounding question with a box.

    node scripts/python.mjs tools/families/qwen2_vl_grounding.py --out test/fixtures/hub/Qwen-tiny-qwen2-vl-grounding

The random fixture (qwen2_vl.py) never emits Qwen2-VL's box markers, so an app cannot
be shown drawing its box. This one starts from the same seed, tokenizer, config and
weights, freezes the vision tower and the (tied) embedding, and trains the decoder
layers and final norm on one example (the fixture's golden.png and GROUNDING_PROMPT)
until greedy decoding gives

    <|object_ref_start|>red square<|object_ref_end|><|box_start|>(x1,y1),(x2,y2)<|box_end|><|im_end|>

with the red square's true corners in Qwen2-VL's 0..1000 per-axis scale. Training is
full-batch Adam on CPU with one thread and a fixed seed (a few seconds), so the bytes
repeat. The weights are rounded to bf16 afterwards, as in the random fixture, and the
rounded model must still give the target. It writes the ONNX export's layout (configs,
tokenizer, onnx/*.onnx in fp32, q8 and q4: quantize_onnx.py) but no model.safetensors: only ONNX engines read this
fixture, and the vision and embedding files are byte-identical to the random fixture's.
"""
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bpe  # noqa: E402
import hub_files  # noqa: E402
import qwen2_vl  # noqa: E402
import qwen2_vl_processor as proc  # noqa: E402
from golden_stats import check_replay, write_images  # noqa: E402
from qwen2_vl_golden import IMAGES, inputs_for, run_case, wide_image  # noqa: E402
from qwen2_vl_model import Qwen2VLForConditionalGeneration  # noqa: E402
from qwen2_vl_onnx import export_onnx  # noqa: E402
from quantize_onnx import write_quantized  # noqa: E402

GROUNDING_PROMPT = "Find the red square and give its bounding box."
MESSAGES = [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": GROUNDING_PROMPT}]}]
# golden.png's red square (qwen2_vl_golden.wide_image): rows 10..40, columns 20..60 of 168 x 84.
SQUARE = {"x1": 20, "y1": 10, "x2": 60, "y2": 40}
STEPS = 300
LR = 3e-3
MAX_NEW_TOKENS = 32


def target_text(height, width):
    """The answer trained in: the square's corners in Qwen2-VL's 0..1000 scale (rounded down, as its data is)."""
    nx = lambda v: v * 1000 // width  # noqa: E731
    ny = lambda v: v * 1000 // height  # noqa: E731
    box = [nx(SQUARE["x1"]), ny(SQUARE["y1"]), nx(SQUARE["x2"]), ny(SQUARE["y2"])]
    text = (f"<|object_ref_start|>red square<|object_ref_end|><|box_start|>({box[0]},{box[1]}),({box[2]},{box[3]})"
            "<|box_end|>")
    return text, box


def train(model, cfg, tok, pre, target_ids):
    """Teacher-forced cross-entropy on the answer ids, decoder layers and final norm only."""
    _, pixels, grids, _, ids = inputs_for(["golden.png"], MESSAGES, tok, pre)
    pv, grid = torch.from_numpy(pixels[0]), torch.tensor(grids)
    seq = torch.tensor([ids + target_ids])
    with torch.no_grad():
        feats = model.visual(pv, grid)
        x = model.embed(seq, feats)
    pos, _ = model.get_rope_index(seq, grid)
    mask = torch.ones_like(seq)
    for p in model.parameters():
        p.requires_grad_(False)
    params = list(model.model.layers.parameters()) + list(model.model.norm.parameters())
    for p in params:
        p.requires_grad_(True)
    opt = torch.optim.Adam(params, lr=LR)
    labels = torch.tensor(target_ids)
    n = len(ids)
    loss = None
    for _ in range(STEPS):
        logits, _ = model.decode(x, mask, pos)
        loss = torch.nn.functional.cross_entropy(logits[0, n - 1:-1], labels)
        opt.zero_grad()
        loss.backward()
        opt.step()
    for p in model.parameters():
        p.requires_grad_(False)
    return float(loss)


def main():
    args = hub_files.begin(__doc__.split("\n")[0], "test/fixtures/hub/Qwen-tiny-qwen2-vl-grounding", qwen2_vl.SEED)

    # The random fixture's tokenizer, config and initial weights, built in the same order from the same seed.
    tok = bpe.build(qwen2_vl.CORPUS, qwen2_vl.MERGES, [], qwen2_vl.TAIL_TOKENS, style="qwen2")
    cfg = qwen2_vl.tiny_config(tok)
    model = Qwen2VLForConditionalGeneration(cfg).eval()
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(hub_files.to_bf16(p))
        model.model.embed_tokens.weight[len(tok.vocab):] = 0
    pre = qwen2_vl.preprocessor_config()

    height, width = wide_image().shape[:2]
    text, box = target_text(height, width)
    end = tok.vocab["<|im_end|>"]
    target_ids = tok.encode(text) + [end]
    loss = train(model, cfg, tok, pre, target_ids)
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(hub_files.to_bf16(p))

    hub_files.write_json(os.path.join(args.out, "config.json"), cfg.to_hf())
    ends = [end, tok.vocab["<|endoftext|>"]]
    hub_files.write_json(os.path.join(args.out, "generation_config.json"), {
        "bos_token_id": tok.vocab["<|endoftext|>"], "pad_token_id": tok.vocab["<|endoftext|>"], "do_sample": True,
        "eos_token_id": ends, "repetition_penalty": 1.0, "temperature": 0.01, "top_p": 0.001, "top_k": 1,
        "transformers_version": "4.37.0"})
    hub_files.write_json(os.path.join(args.out, "preprocessor_config.json"), pre)
    qwen2_vl.write_tokenizer_files(tok, args.out)
    export_onnx(model, os.path.join(args.out, "onnx"))
    write_quantized(os.path.join(args.out, "onnx"))           # q8 and q4 files, as the hub repo has them
    write_images(args.out, {"golden.png": IMAGES["golden.png"]})

    case = run_case(model, cfg, tok, pre, ["golden.png"], MESSAGES, MAX_NEW_TOKENS)
    if case["greedy_ids"] != target_ids:
        raise SystemExit(f"after training (loss {loss:.2e}) greedy gives {tok.decode(case['greedy_ids'])!r}, not the box")
    # The whole answer recomputed in one pass without the KV cache agrees with the cached greedy steps.
    seq = torch.tensor([case["input_ids"] + case["greedy_ids"]])
    _, pixels, grids, _, _ = inputs_for(["golden.png"], MESSAGES, tok, pre)
    grid = torch.tensor(grids)
    with torch.no_grad():
        x = model.embed(seq, model.visual(torch.from_numpy(pixels[0]), grid))
        pos, _ = model.get_rope_index(seq, grid)
        logits, _ = model.decode(x, torch.ones_like(seq), pos)
    diff = check_replay(logits, case)
    scale = {"width": width, "height": height}
    golden = {
        "format": 1,
        "note": ("Qwen2-VL-2B-Instruct's structure, decoder trained on one grounding example; PyTorch outputs of "
                 "tools/families/qwen2_vl_grounding.py."),
        **case,
        "greedy_text_with_markers": tok.decode(case["greedy_ids"][:-1]),
        "box": {"normalised": box, "scale": 1000, "image": scale,
                "pixels": [box[0] * width / 1000, box[1] * height / 1000, box[2] * width / 1000, box[3] * height / 1000],
                "label": "red square", "true_pixels": [SQUARE["x1"], SQUARE["y1"], SQUARE["x2"], SQUARE["y2"]]},
        "training": {"steps": STEPS, "lr": LR, "final_loss": loss, "trained": ["model.layers.*", "model.norm"]},
    }
    hub_files.write_json(os.path.join(args.out, "golden.json"), golden)

    print(f"trained {STEPS} steps, final loss {loss:.3e}; replay without cache within {diff:.2e}")
    print(f"greedy: {golden['greedy_text_with_markers']!r}, smallest top-2 gap {case['greedy_min_top2_gap']:.3f}")
    for name, size in hub_files.file_sizes(args.out).items():
        print(f"{size:>9}  {name}")


if __name__ == "__main__":
    main()
