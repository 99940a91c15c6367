"""golden.json: PyTorch's outputs on fixed inputs, which the native and ONNX engines must reproduce.

Format 1:
  tokenizer / chat   texts and chat messages with the ids our tokenizer gives
  inputs             the prompt, its ids (one <image>) and expanded ids (image_seq_length image tokens)
  pixel_values       statistics of the preprocessed golden.png
  image_features     statistics and a [0, :4, :8] slice of the projector output
  logits             first step (the prompt's last position): a slice, the top 5, statistics
  greedy             24 greedy ids from the prompt, not stopping at <|im_end|>
  lora               one fixed batch through the decoder with rank-8 LoRA on q/k/v/o:
                     the loss and the Frobenius norm of every LoRA matrix's gradient
"""
import torch
import torch.nn.functional as F

from data import encode_conversation
from generate import greedy
from tokenizer import IMAGE, render_chat

FORMAT = 1
LORA_RANK, LORA_ALPHA = 8, 16
LORA_TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj"]


def stats(t):
    t = t.double()
    return {"shape": list(t.shape), "mean": t.mean().item(), "std": t.std().item(),
            "min": t.min().item(), "max": t.max().item(), "sum": t.sum().item()}


def lora_init(matrix_index, shape, scale):
    """Deterministic, engine-independent init: Knuth's multiplicative hash of the element index.

    value[e] = scale * (((k * 2654435761) mod 2^32) / 2^32 - 0.5), k = matrix_index * 65536 + e + 1,
    e the row-major element index. Exact in float64 (k * 2654435761 < 2^53), so JS reproduces it.
    """
    n = shape[0] * shape[1]
    k = torch.arange(n, dtype=torch.float64) + 1 + matrix_index * 65536
    u = torch.remainder(k * 2654435761.0, 4294967296.0) / 4294967296.0
    return (scale * (u - 0.5)).to(torch.float32).reshape(shape)


def lora_matrices(model):
    """[(name, A, B, module)] in layer order then q, k, v, o; A is (r, in), B is (out, r) as in PEFT."""
    out, m = [], 0
    for i, layer in enumerate(model.language_model.model.layers):
        for t in LORA_TARGETS:
            lin = getattr(layer.self_attn, t)
            a = lora_init(m, (LORA_RANK, lin.in_features), 0.2).requires_grad_()
            b = lora_init(m + 1, (lin.out_features, LORA_RANK), 0.05).requires_grad_()
            out.append((f"language_model.model.layers.{i}.self_attn.{t}", a, b, lin))
            m += 2
    return out


def lora_batch(tok, cfg, record):
    """Two samples on the golden image: its description and its object count (1 by construction)."""
    convs = [record["conversations"],
             [{"from": "human", "value": "<image>\nHow many objects are there?"}, {"from": "gpt", "value": "1"}]]
    return pad_batch([encode_conversation(tok, c, cfg.image_seq_length) for c in convs])


def pad_batch(rows):
    """[(ids, labels)] -> right-padded (ids, labels, attention_mask) tensors (B, T): ids 0, labels -100, mask 0."""
    t = max(len(i) for i, _ in rows)
    ids = torch.zeros(len(rows), t, dtype=torch.long)
    labels = torch.full((len(rows), t), -100, dtype=torch.long)
    att = torch.zeros(len(rows), t, dtype=torch.long)
    for b, (i, l) in enumerate(rows):
        ids[b, :len(i)] = torch.tensor(i)
        labels[b, :len(l)] = torch.tensor(l)
        att[b, :len(i)] = 1
    return ids, labels, att


def lora_backward(model, mats, scale, ids, pixels, att, labels):
    """One batch through the model, every (name, A, B, linear) of mats adding scale * B (A x) to its linear's
    output, then the loss's backward: (loss, the norm of each A's and B's gradient under its PEFT name)."""
    hooks = [lin.register_forward_hook(lambda mod, inp, out, a=a, b=b: out + scale * F.linear(F.linear(inp[0], a), b))
             for _, a, b, lin in mats]
    try:
        logits = model(ids, pixels.expand(ids.shape[0], -1, -1, -1), att)
        # Mean over every supervised token of the batch (HF's causal-LM loss).
        loss = F.cross_entropy(logits[:, :-1].flatten(0, 1), labels[:, 1:].flatten(), ignore_index=-100)
        loss.backward()
    finally:
        for h in hooks:
            h.remove()
    norms = {}
    for name, a, b, _ in mats:
        norms[f"{name}.lora_A.weight"] = a.grad.norm().item()
        norms[f"{name}.lora_B.weight"] = b.grad.norm().item()
    return loss, norms


def lora_golden(model, cfg, tok, pixels, record):
    ids, labels, att = lora_batch(tok, cfg, record)
    mats = lora_matrices(model)
    scale = LORA_ALPHA / LORA_RANK
    loss, norms = lora_backward(model, mats, scale, ids, pixels, att, labels)
    model.zero_grad(set_to_none=True)
    return {
        "rank": LORA_RANK, "alpha": LORA_ALPHA, "scaling": scale, "targets": LORA_TARGETS, "dropout": 0.0,
        "init": "A: scale 0.2, B: scale 0.05; value[e] = scale * (((k * 2654435761) mod 2^32) / 2^32 - 0.5), "
                "k = m * 65536 + e + 1, e row-major; m = 2 * (4 * layer + target) for A, that + 1 for B",
        "shapes": {"A": "(rank, in_features)", "B": "(out_features, rank)"},
        "batch": {"images": ["golden.png", "golden.png"], "input_ids": ids.tolist(),
                  "attention_mask": att.tolist(), "labels": labels.tolist()},
        "loss": loss.item(),
        "grad_norms": norms,
    }


def tokenizer_cases(tok):
    texts = ["Describe this image in detail.", "<ref>red circle</ref><box>(31,656),(266,891)</box>",
             "What is the value of Mar?", "HELLO world 12276", "Weekly Report\nDate: 2024-03-15",
             "Is there a purple star in the image?", "an unknownword here!"]
    chats = [
        ([{"role": "user", "content": [{"type": "text", "text": "What colour is the object?"}, {"type": "image"}]}], True),
        ([{"role": "user", "content": [{"type": "image"}, {"type": "image"},
                                       {"type": "text", "text": "What is the difference between these two images?"}]},
          {"role": "assistant", "content": "The second image has an extra red circle."}], False),
        ([{"role": "user", "content": [{"type": "text", "text": "How many objects are there?"}, {"type": "image"}]},
          {"role": "assistant", "content": "2"},
          {"role": "user", "content": "Where is the blue square?"}], True),
    ]
    return ([{"text": t, "ids": tok.encode(t)} for t in texts],
            [{"messages": m, "add_generation_prompt": g, "text": render_chat(m, g), "ids": tok.encode(render_chat(m, g))}
             for m, g in chats])


@torch.no_grad()
def forward_golden(model, cfg, tok, pixels, record):
    question = record["conversations"][0]["value"].replace("<image>\n", "")
    messages = [{"role": "user", "content": [{"type": "text", "text": question}, {"type": "image"}]}]
    prompt = render_chat(messages, add_generation_prompt=True)
    ids = tok.encode(prompt)
    expanded = [j for i in ids for j in ([i] * cfg.image_seq_length if i == IMAGE else [i])]
    feats = model.get_image_features(pixels)
    logits = model(torch.tensor([expanded]), pixels)[0, -1]
    top = logits.topk(5)
    new = greedy(model, [expanded], pixels, 24, stop_at_eos=False)[0]
    return {
        "inputs": {"messages": messages, "prompt": prompt, "input_ids": ids, "expanded_input_ids": expanded},
        "pixel_values": {**stats(pixels), "first": pixels.flatten()[:16].tolist()},
        "image_features": {**stats(feats), "slice": "[0, :4, :8]", "values": feats[0, :4, :8].flatten().tolist()},
        "logits": {"position": len(expanded) - 1, **stats(logits), "slice": "[:16]", "values": logits[:16].tolist(),
                   "top5": [{"id": int(i), "logit": float(v)} for v, i in zip(top.values, top.indices)]},
        "greedy": {"max_new_tokens": 24, "stop_at_eos": False, "ids": new, "text": tok.decode(new, skip_special=False)},
    }


def golden(model, cfg, tok, pixels, record, name):
    texts, chats = tokenizer_cases(tok)
    g = {"format": FORMAT, "model": name, "image": "golden.png",
         "image_source": {"generator": "src/data", "seed": 2024, "tasks": ["describe"], "min_objects": 1,
                          "max_objects": 1, "sample": 0},
         "tokenizer": texts, "chat": chats}
    g.update(forward_golden(model, cfg, tok, pixels, record))
    g["lora"] = lora_golden(model, cfg, tok, pixels, record)
    return g
