"""Florence2Processor in Python and golden.json for the tiny Florence-2.

Processor (HF's processing_florence2.py and transformers.js's processing_florence2.js
agree on these steps):
- the image: CLIPImageProcessor, resized to size (height x width; the golden image is
  drawn at that size, so the resize is an identity in every implementation), rescaled by
  1/255 and normalised with ImageNet's mean and std, channels first;
- the prompt: a task token alone becomes its fixed question (task_prompts_without_inputs),
  a task token with text after it fills `{input}` of task_prompts_with_input, anything
  else is kept as it is; BART's tokenizer puts <s> ... </s> around it. The two differ at
  the edges (HF strips the input and refuses a task token with extra text; transformers.js
  does neither): `construct_prompts` in golden.json lists both answers.

Generation as generate() runs it with generation_config.json: the decoder starts at
decoder_start_token_id (</s>), the first step is forced to <s> (forced_bos_token_id),
no 3-gram may repeat (no_repeat_ngram_size), the step that reaches max_length is forced
to </s> (forced_eos_token_id), and it stops after </s>. num_beams is 3 in the hub's
file; transformers.js 4.3.2 keeps only the best candidate of each step, which is greedy,
so greedy is the reference here.

post_process_generation is written as transformers.js 4.3.2 does it (its regexes, labels
trimmed, an empty label repeating the previous one, coordinates (bin + 0.5) / 1000 times
image_size[i % 2], where image_size is [width, height]).
"""
import os
import re

import numpy as np
import torch

import hub_files
from golden_stats import SAMPLE_STRIDE, load_checkpoint, logits_entry, pixel_checks, summary

IMAGENET_MEAN = [0.485, 0.456, 0.406]
IMAGENET_STD = [0.229, 0.224, 0.225]
MAX_NEW_TOKENS = 24
POST_SIZES = [[96, 96], [640, 480]]          # [width, height]: the image itself, and a larger original

TASK_TYPES = {
    "<OCR>": "pure_text", "<OCR_WITH_REGION>": "ocr", "<CAPTION>": "pure_text",
    "<DETAILED_CAPTION>": "pure_text", "<MORE_DETAILED_CAPTION>": "pure_text",
    "<OD>": "description_with_bboxes", "<DENSE_REGION_CAPTION>": "description_with_bboxes",
    "<CAPTION_TO_PHRASE_GROUNDING>": "phrase_grounding", "<REFERRING_EXPRESSION_SEGMENTATION>": "polygons",
    "<REGION_TO_SEGMENTATION>": "polygons", "<OPEN_VOCABULARY_DETECTION>": "description_with_bboxes_or_polygons",
    "<REGION_TO_CATEGORY>": "pure_text", "<REGION_TO_DESCRIPTION>": "pure_text", "<REGION_TO_OCR>": "pure_text",
    "<REGION_PROPOSAL>": "bboxes",
}
TASK_PROMPTS = {
    "<OCR>": "What is the text in the image?",
    "<OCR_WITH_REGION>": "What is the text in the image, with regions?",
    "<CAPTION>": "What does the image describe?",
    "<DETAILED_CAPTION>": "Describe in detail what is shown in the image.",
    "<MORE_DETAILED_CAPTION>": "Describe with a paragraph what is shown in the image.",
    "<OD>": "Locate the objects with category name in the image.",
    "<DENSE_REGION_CAPTION>": "Locate the objects in the image, with their descriptions.",
    "<REGION_PROPOSAL>": "Locate the region proposals in the image.",
}
TASK_PROMPTS_WITH_INPUT = {
    "<CAPTION_TO_PHRASE_GROUNDING>": "Locate the phrases in the caption: {input}",
    "<REFERRING_EXPRESSION_SEGMENTATION>": "Locate {input} in the image with mask",
    "<REGION_TO_SEGMENTATION>": "What is the polygon mask of region {input}",
    "<OPEN_VOCABULARY_DETECTION>": "Locate {input} in the image.",
    "<REGION_TO_CATEGORY>": "What is the region {input}?",
    "<REGION_TO_DESCRIPTION>": "What does the region {input} describe?",
    "<REGION_TO_OCR>": "What text is in the region {input}?",
}
CASES = ["<CAPTION>", "<OD>", "<OCR_WITH_REGION>", "<CAPTION_TO_PHRASE_GROUNDING>a red square"]
TOKENIZER_CHECKS = ["What does the image describe?", "There are 12 shapes, aren't there?",
                    "the red square<loc_12><loc_40><loc_300><loc_999>", "  two  spaces\tand tab"]
# JavaScript's `.` stops at \r, \u2028 and \u2029 too, and its trim() strips this set (Python's strip
# would also take \x1c-\x1f and \x85, which random ids can decode to).
JS_DOT = "[^\n\r\u2028\u2029]"
JS_SPACE = "\t\n\v\f\r \xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a" \
           "\u2028\u2029\u202f\u205f\u3000\ufeff"
REGEXES = {"quad_boxes": re.compile("(" + JS_DOT + "+?)" + r"<loc_(\d+)>" * 8),
           "bboxes": re.compile(r"([^<]+)?" + r"<loc_(\d+)>" * 4)}


def golden_image(size):
    """size x size: a gradient with a red square, a blue disc and a green bar."""
    y, x = np.mgrid[0:size, 0:size]
    img = np.stack([x * 255 // (size - 1), y * 255 // (size - 1), ((x + y) * 3) % 256], -1).astype(np.uint8)
    img[8:40, 10:44] = [220, 30, 40]
    img[((x - 66) ** 2 + (y - 30) ** 2) < 16 ** 2] = [30, 60, 210]
    img[70:80, 12:84] = [40, 200, 60]
    return img


def preprocess(img, pre):
    h, w = pre["size"]["height"], pre["size"]["width"]
    if img.shape[:2] != (h, w):
        raise ValueError("the golden image is drawn at the processor's size, so no resize is compared")
    x = (img.astype(np.float64) * pre["rescale_factor"]).astype(np.float32)
    x = ((x.astype(np.float64) - np.asarray(pre["image_mean"])) / np.asarray(pre["image_std"])).astype(np.float32)
    return np.ascontiguousarray(x.transpose(2, 0, 1))[None]


def construct_prompt(text):
    """transformers.js's construct_prompts: a task token alone, else the first task token found with the
    whole text put in {input} and the token then removed (nothing stripped)."""
    if text in TASK_PROMPTS:
        return TASK_PROMPTS[text]
    for task, prompt in TASK_PROMPTS_WITH_INPUT.items():
        if task in text:
            return prompt.replace("{input}", text).replace(task, "")
    return text


def construct_prompt_hf(text):
    """HF Python's _construct_prompts: the input after a task token is stripped; a task token without
    inputs must stand alone (an error otherwise, None here)."""
    for task, prompt in TASK_PROMPTS.items():
        if task in text:
            return prompt if text == task else None
    for task, prompt in TASK_PROMPTS_WITH_INPUT.items():
        if task in text:
            return prompt.format(input=text.replace(task, "").strip())
    return text


PROMPT_CHECKS = ["<OD>", "<CAPTION_TO_PHRASE_GROUNDING>a red square", "<CAPTION_TO_PHRASE_GROUNDING> a red square ",
                 "<REGION_TO_DESCRIPTION><loc_10><loc_20><loc_300><loc_400>", "<OD> please", "What is this?"]


def task_of(text):
    return next((t for t in list(TASK_PROMPTS) + list(TASK_PROMPTS_WITH_INPUT) if text.startswith(t)), text)


def post_process(text, task, image_size):
    kind = TASK_TYPES.get(task, "pure_text")
    text = text.replace("<s>", "").replace("</s>", "")
    if kind == "pure_text":
        return {task: text}
    if kind not in ("description_with_bboxes", "bboxes", "phrase_grounding", "ocr"):
        raise ValueError(kind)
    key = "quad_boxes" if kind == "ocr" else "bboxes"
    labels, items = [], []
    for m in REGEXES[key].finditer(text):
        label = m.group(1)
        labels.append(label.strip(JS_SPACE) if label else (labels[-1] if labels else ""))
        items.append([((int(v) + 0.5) / 1000) * image_size[i % 2] for i, v in enumerate(m.groups()[1:])])
    return {task: {"labels": labels, key: items}}


def no_repeat_banned(ids, n):
    """The tokens that would repeat an n-gram of `ids` (HF's and transformers.js's rule)."""
    if len(ids) + 1 < n:
        return []
    prefix = tuple(ids[len(ids) - n + 1:])
    return [ids[j + n - 1] for j in range(len(ids) - n + 1) if tuple(ids[j:j + n - 1]) == prefix]


def generate(model, input_ids, pixel_values, gen, max_new_tokens):
    """Greedy with the KV cache and generation_config's processors. Returns the sequence (decoder start
    first), raw logits of the first two steps, the smallest top-1/top-2 gap over unforced steps, and how
    many steps the no-repeat rule changed."""
    x, mask, _ = model.encoder_inputs(input_ids, pixel_values)
    enc = model.encode(x, mask)
    seq, past, raw, gap, changed = [gen["decoder_start_token_id"]], None, [], float("inf"), 0
    max_length = 1 + max_new_tokens
    while len(seq) < max_length:
        step = torch.tensor([[seq[-1]]])
        logits, presents = model.decode(model.embed(step), enc, mask, past)
        past = [kv for kv, _ in presents]
        scores = logits[0, -1].clone()
        raw.append(scores.clone())
        banned = no_repeat_banned(seq, gen["no_repeat_ngram_size"])
        if banned:
            before = int(scores.argmax())
            scores[banned] = -float("inf")
            changed += int(int(scores.argmax()) != before)
        if len(seq) == 1:
            nxt = gen["forced_bos_token_id"]
        elif len(seq) == max_length - 1:
            nxt = gen["forced_eos_token_id"]
        else:
            top2 = torch.topk(scores, 2).values
            gap = min(gap, float(top2[0] - top2[1]))
            nxt = int(scores.argmax())
        seq.append(nxt)
        if nxt == gen["eos_token_id"]:
            break
    return seq, raw[:2], gap, changed


def run_case(model, tok, pre, gen, text, pv):
    prompt = construct_prompt(text)
    ids = [tok.vocab["<s>"]] + tok.encode(prompt) + [tok.vocab["</s>"]]
    with torch.no_grad():
        seq, raw, gap, changed = generate(model, torch.tensor([ids]), torch.from_numpy(pv), gen, MAX_NEW_TOKENS)
    decoded = tok.decode(seq, cleanup=True)
    task = task_of(text)
    return {
        "text": text, "task": task, "prompt": prompt, "input_ids": ids,
        "first_logits": logits_entry(raw[0]), "second_logits": logits_entry(raw[1]),
        "max_new_tokens": MAX_NEW_TOKENS, "sequence": seq, "decoded": decoded,
        "loc_tokens": sum(1 for i in seq if tok.inv[i].startswith("<loc_")),
        "greedy_min_top2_gap": gap, "no_repeat_changed_steps": changed,
        "post_processed": [{"image_size": s, "result": post_process(decoded, task, s)} for s in POST_SIZES],
    }


def make_golden(model, tok, pre, gen, folder):
    img = golden_image(pre["size"]["height"])
    hub_files.write_png(os.path.join(folder, "golden.png"), img)
    pv = preprocess(img, pre)
    with torch.no_grad():
        feats = model.encode_image(torch.from_numpy(pv))
    return {
        "format": 1,
        "note": "Random weights with Florence-2-base's structure; PyTorch outputs of tools/families/florence2.py.",
        "image": {"file": "golden.png", "width": img.shape[1], "height": img.shape[0]},
        "pixel_values": {"shape": list(pv.shape), "sample_stride": SAMPLE_STRIDE, "checks": pixel_checks(pv)},
        "image_features": summary(feats),
        "cases": [run_case(model, tok, pre, gen, t, pv) for t in CASES],
        "construct_prompts": [{"text": t, "transformers_js": construct_prompt(t), "hf": construct_prompt_hf(t)}
                              for t in PROMPT_CHECKS],
        "tokenizer": [{"text": t, "ids": [tok.vocab["<s>"]] + tok.encode(t) + [tok.vocab["</s>"]]}
                      for t in TOKENIZER_CHECKS],
    }


def self_check(model_cls, cfg, folder, tok, pre, golden):
    """model.safetensors reloads into a fresh model that, without a KV cache (the whole decoder sequence at
    once), gives the same first-step logits and the same argmax wherever the golden step was unforced."""
    tied = {"language_model.lm_head.weight", "language_model.model.encoder.embed_tokens.weight",
            "language_model.model.decoder.embed_tokens.weight"}
    model = load_checkpoint(model_cls(cfg).eval(), folder, tied)
    pv = torch.from_numpy(preprocess(golden_image(pre["size"]["height"]), pre))
    worst = 0.0
    for case in golden["cases"]:
        seq = case["sequence"]
        with torch.no_grad():
            x, mask, _ = model.encoder_inputs(torch.tensor([case["input_ids"]]), pv)
            logits, _ = model.decode(model.embed(torch.tensor([seq[:-1]])), model.encode(x, mask), mask)
        worst = max(worst, float((logits[0, 0] - torch.tensor(case["first_logits"]["values"])).abs().max()))
        end = len(seq) - 1 if len(seq) < 1 + case["max_new_tokens"] else len(seq) - 2   # a forced last </s>
        for i in range(1, end):              # logits[i] predicts seq[i + 1]; seq[1] is the forced <s>
            scores = logits[0, i].clone()
            scores[no_repeat_banned(seq[:i + 1], 3)] = -float("inf")
            if int(scores.argmax()) != seq[i + 1]:
                raise SystemExit(f"self-check: {case['text']} step {i} gives {int(scores.argmax())}, not {seq[i + 1]}")
    if worst > 1e-4:
        raise SystemExit(f"self-check: first-step logits differ by {worst}")
    return worst
