"""Greedy decoding with a KV cache, batched with left padding: the reference for every engine's generate."""
import torch

from tokenizer import IM_END, PAD


@torch.no_grad()
def greedy(model, prompts, pixel_values, max_new_tokens, stop_at_eos=True):
    """prompts: lists of ids with image tokens already expanded; pixel_values: every image, in prompt order.

    Returns the new ids per prompt (without the stop token when stopping at it).
    """
    b = len(prompts)
    t = max(len(p) for p in prompts)
    ids = torch.full((b, t), PAD, dtype=torch.long)
    att = torch.zeros(b, t, dtype=torch.long)
    for i, p in enumerate(prompts):
        ids[i, t - len(p):] = torch.tensor(p)   # left padding keeps every sequence's last token at t - 1
        att[i, t - len(p):] = 1
    feats = model.get_image_features(pixel_values) if pixel_values is not None and len(pixel_values) else None
    x = model.embed(ids, feats)
    pos = (att.cumsum(-1) - 1).clamp(min=0)
    logits, _, past = model.decode(x, att, pos)
    out = [[] for _ in range(b)]
    done = torch.zeros(b, dtype=torch.bool)
    for _ in range(max_new_tokens):
        nxt = logits[:, -1].argmax(-1)                                  # (B,)
        for i in range(b):
            if not done[i]:
                if stop_at_eos and int(nxt[i]) == IM_END:
                    done[i] = True
                else:
                    out[i].append(int(nxt[i]))
        if stop_at_eos and bool(done.all()):
            break
        att = torch.cat([att, torch.ones(b, 1, dtype=torch.long)], 1)
        pos = pos[:, -1:] + 1
        x = model.language_model.model.embed_tokens(nxt[:, None])      # (B, 1, D)
        logits, _, past = model.decode(x, att, pos, past)
    return out
