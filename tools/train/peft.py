"""PEFT LoRA adapters on the PyTorch reference: read, apply, score, and make one.

    node scripts/python.mjs tools/train/peft.py logits --adapter DIR [--model public/models/webvlm-tiny] [--out logits.json]
    node scripts/python.mjs tools/train/peft.py fixture --out test/fixtures/lora/pytorch-adapter
    npm run eval:tiny -- --adapter DIR            (eval.py scores the model with the adapter applied)

An adapter is the two files peft's save_pretrained writes: adapter_config.json
and adapter_model.safetensors, keys `base_model.model.<module>.lora_A.weight`
([r, in]) and `.lora_B.weight` ([out, r]), plus the full weights of any module in
modules_to_save under its own path, plus the rows of trainable_token_indices
(`<module>.token_adapter.trainable_tokens_delta`, [tokens, width]: the trained
rows themselves, which replace the base rows of embed_tokens or lm_head, as
peft's TrainableTokensLayer does). Each targeted nn.Linear computes
W x + (lora_alpha / r) * B (A x), as peft's LoraLayer does in eval mode (no
dropout). The browser's Fine-tune view writes and reads the same files
(src/models/lora/peft.ts), so an adapter trained there is scored here by the same
code as the base model.
"""
import argparse
import json
import os
import sys

for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ[var] = "1"

import torch
from torch import nn

sys.path.insert(0, os.path.dirname(__file__))
import safetensors_io                                   # noqa: E402
from data import REPO                                   # noqa: E402

PREFIX = "base_model.model."
SUPPORTED_TARGETS = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")


class LoraLinear(nn.Module):
    """A frozen nn.Linear plus scale * B(A x)."""

    def __init__(self, base: nn.Linear, a: torch.Tensor, b: torch.Tensor, scale: float):
        super().__init__()
        self.base = base
        self.lora_A = nn.Parameter(a.clone())
        self.lora_B = nn.Parameter(b.clone())
        self.scale = scale

    def forward(self, x):
        return self.base(x) + self.scale * nn.functional.linear(nn.functional.linear(x, self.lora_A), self.lora_B)


def canonical(key):
    """Checkpoint module names; transformers' newer LLaVA layout (model.language_model.layers...) mapped back."""
    inner = key[len(PREFIX):] if key.startswith(PREFIX) else key
    if inner.startswith("model.language_model."):
        inner = "language_model.model." + inner[len("model.language_model."):]
    elif inner.startswith("model.multi_modal_projector."):
        inner = inner[len("model."):]
    elif inner.startswith("lm_head."):
        inner = "language_model." + inner
    return inner


TOKEN_ROWS = ".token_adapter.trainable_tokens_delta"


def token_indices(config, path):
    """The token ids whose rows `path` replaces: trainable_token_indices is a list (the input embedding) or a dict by module name."""
    spec = config.get("trainable_token_indices")
    if isinstance(spec, list):
        return spec if path.endswith("embed_tokens") else None
    for name, ids in (spec or {}).items():
        if path == name or path.endswith("." + name):
            return ids
    return None


def apply_token_rows(model, folder, config, tensors):
    """Write every trainable_tokens_delta into its layer's weight (peft's merge of a TrainableTokensLayer); returns the keys used."""
    modules = dict(model.named_modules())
    used = set()
    for key in sorted(k for k in tensors if k.endswith(TOKEN_ROWS)):
        path = key[: -len(TOKEN_ROWS)]
        layer = modules.get(path)
        ids = token_indices(config, path)
        if not isinstance(layer, (nn.Embedding, nn.Linear)):
            raise SystemExit(f"{folder}: {path} is not an embedding or linear layer of this model")
        if ids is None:
            raise SystemExit(f"{folder}: {key} has no trainable_token_indices entry in adapter_config.json")
        rows = tensors[key]
        if tuple(rows.shape) != (len(ids), layer.weight.shape[1]) or max(ids) >= layer.weight.shape[0]:
            raise SystemExit(f"{folder}: {key} is {tuple(rows.shape)} for {len(ids)} token ids; {path} needs "
                             f"({len(ids)}, {layer.weight.shape[1]}) and ids below {layer.weight.shape[0]}")
        with torch.no_grad():
            layer.weight.index_copy_(0, torch.tensor(ids, dtype=torch.long), rows.to(layer.weight.dtype))
        used.add(key)
    return used


def read_adapter(folder):
    with open(os.path.join(folder, "adapter_config.json")) as f:
        config = json.load(f)
    if config.get("peft_type") != "LORA":
        raise SystemExit(f"{folder}: peft_type is {config.get('peft_type')!r}, not LORA")
    for flag in ("use_dora", "use_rslora", "fan_in_fan_out"):
        if config.get(flag):
            raise SystemExit(f"{folder}: {flag} adapters are not supported")
    tensors = {canonical(k): v.float() for k, v in safetensors_io.load(os.path.join(folder, "adapter_model.safetensors")).items()}
    return config, tensors


def apply_adapter(model, folder):
    """Wrap every targeted linear layer of `model` with its LoRA and load modules_to_save; returns the config."""
    config, tensors = read_adapter(folder)
    scale = config["lora_alpha"] / config["r"]
    modules = dict(model.named_modules())
    done = set()
    for key in sorted(tensors):
        if not key.endswith(".lora_A.weight"):
            continue
        path = key[: -len(".lora_A.weight")]
        base = modules.get(path)
        if not isinstance(base, nn.Linear):
            raise SystemExit(f"{folder}: {path} is not a linear layer of this model")
        a, b = tensors[key], tensors[path + ".lora_B.weight"]
        if a.shape != (config["r"], base.in_features) or b.shape != (base.out_features, config["r"]):
            raise SystemExit(f"{folder}: {path} has A {tuple(a.shape)} and B {tuple(b.shape)}; this layer needs "
                             f"({config['r']}, {base.in_features}) and ({base.out_features}, {config['r']})")
        parent_name, _, child = path.rpartition(".")
        setattr(modules[parent_name], child, LoraLinear(base, a, b, scale))
        done.update({key, path + ".lora_B.weight"})
    done.update(apply_token_rows(model, folder, config, tensors))
    saved = {k: v for k, v in tensors.items() if k not in done}
    for name in config.get("modules_to_save") or []:
        own = {k[len(name) + 1:]: v for k, v in saved.items() if k.startswith(name + ".")}
        modules[name].load_state_dict(own)
        done.update(name + "." + k for k in own)
    left = sorted(set(tensors) - done)
    if left:
        raise SystemExit(f"{folder}: tensors {left[:3]} are neither LoRA matrices nor in modules_to_save")
    return config


def golden_prompt(model_dir):
    """The golden prompt's expanded ids and pixels, as golden.json records them."""
    from data import normalise, read_png, to_model_size
    from eval import load_exported
    model, cfg, tok = load_exported(model_dir)
    with open(os.path.join(model_dir, "golden.json")) as f:
        g = json.load(f)
    pixels = normalise(to_model_size(read_png(os.path.join(model_dir, "golden.png")), cfg.vision_config.image_size)[None])
    return model, cfg, g["inputs"]["expanded_input_ids"], pixels


def first_step(model, ids, pixels, max_new_tokens=24):
    from generate import greedy
    with torch.no_grad():
        logits = model(torch.tensor([ids]), pixels)[0, -1]
        new = greedy(model, [ids], pixels, max_new_tokens, stop_at_eos=False)[0]
    return {"logits": [round(float(v), 7) for v in logits], "greedy_ids": new}


def cmd_logits(args):
    model, _, ids, pixels = golden_prompt(args.model)
    base = first_step(model, ids, pixels)
    config = apply_adapter(model, args.adapter)
    out = {"adapter": os.path.relpath(args.adapter, REPO), "model": os.path.relpath(args.model, REPO),
           "prompt": "golden.json inputs.expanded_input_ids with golden.png", "r": config["r"],
           "lora_alpha": config["lora_alpha"], "with_adapter": first_step(model, ids, pixels),
           "base_greedy_ids": base["greedy_ids"]}
    text = json.dumps(out) + "\n"
    if args.out:
        with open(args.out, "w") as f:
            f.write(text)
    else:
        print(text)


def seeded(shape, seed, scale):
    g = torch.Generator().manual_seed(seed)
    return (torch.rand(shape, generator=g) - 0.5) * 2 * scale


def cmd_fixture(args):
    """A PyTorch-made adapter: rank 8 on q/k/v/o with seeded nonzero A and B, and the projector saved."""
    model, cfg, _, _ = golden_prompt(args.model)
    r, alpha, targets = 8, 16, ["q_proj", "k_proj", "v_proj", "o_proj"]
    tensors = {}
    seed = 1
    for name, mod in sorted(model.named_modules()):
        if isinstance(mod, nn.Linear) and name.split(".")[-1] in targets and name.startswith("language_model."):
            tensors[f"{PREFIX}{name}.lora_A.weight"] = seeded((r, mod.in_features), seed, 0.2)
            tensors[f"{PREFIX}{name}.lora_B.weight"] = seeded((mod.out_features, r), seed + 1, 0.3)
            seed += 2
    for k, v in model.multi_modal_projector.state_dict().items():
        tensors[f"{PREFIX}multi_modal_projector.{k}"] = v.detach().float() * 1.05 + seeded(v.shape, seed, 0.002)
        seed += 1
    os.makedirs(args.out, exist_ok=True)
    config = {
        "alpha_pattern": {}, "auto_mapping": None, "base_model_name_or_path": "webvlm-tiny", "bias": "none",
        "fan_in_fan_out": False, "inference_mode": True, "init_lora_weights": True, "layers_pattern": None,
        "layers_to_transform": None, "lora_alpha": alpha, "lora_dropout": 0.05,
        "modules_to_save": ["multi_modal_projector"], "peft_type": "LORA", "r": r, "rank_pattern": {},
        "revision": None, "target_modules": sorted(targets), "task_type": "CAUSAL_LM", "use_dora": False,
        "use_rslora": False,
    }
    with open(os.path.join(args.out, "adapter_config.json"), "w") as f:
        f.write(json.dumps(config, indent=2) + "\n")
    safetensors_io.save(os.path.join(args.out, "adapter_model.safetensors"), tensors, {"format": "pt"})
    print(f"wrote {args.out}: {len(tensors)} tensors")


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    lg = sub.add_parser("logits", help="first-step logits and 24 greedy ids of golden's prompt with an adapter")
    lg.add_argument("--adapter", required=True)
    lg.add_argument("--model", default=os.path.join(REPO, "public", "models", "webvlm-tiny"))
    lg.add_argument("--out", default=None)
    fx = sub.add_parser("fixture", help="write a seeded PyTorch-made adapter")
    fx.add_argument("--out", required=True)
    fx.add_argument("--model", default=os.path.join(REPO, "public", "models", "webvlm-tiny"))
    args = ap.parse_args()
    torch.set_num_threads(1)
    {"logits": cmd_logits, "fixture": cmd_fixture}[args.cmd](args)


if __name__ == "__main__":
    main()
