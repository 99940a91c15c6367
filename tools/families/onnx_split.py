"""Pieces of the onnx-community split that every family exports the same way.

transformers.js names the empty cache's dims by these symbolic names (batch_size
becomes the batch, every other symbolic dim 0), so the names must not drift between
families. All f32, opset 14.
"""
import os

import onnx
import torch
import torch.nn as nn

OPSET = 14
TOKEN_AXES = {0: "batch_size", 1: "sequence_length"}


def export(module, args, path, names_in, names_out, axes):
    torch.onnx.export(module, args, path, input_names=names_in, output_names=names_out,
                      dynamic_axes=axes, opset_version=OPSET, do_constant_folding=True)


class EmbedTokens(nn.Module):
    def __init__(self, embed):
        super().__init__()
        self.embed = embed

    def forward(self, input_ids):
        return self.embed(input_ids)


class Decoder(nn.Module):
    """decode(inputs_embeds, attention_mask, position_ids, past) with the cache flattened to key, value per layer."""

    def __init__(self, model, layers):
        super().__init__()
        self.model = model
        self.layers = layers

    def forward(self, inputs_embeds, attention_mask, position_ids, *past_flat):
        past = [(past_flat[2 * i], past_flat[2 * i + 1]) for i in range(self.layers)]
        logits, presents = self.model.decode(inputs_embeds, attention_mask, position_ids, past)
        return (logits,) + tuple(t for kv in presents for t in kv)


def export_embed(module, path):
    """input_ids (batch_size, sequence_length) i64 -> inputs_embeds."""
    export(module, (torch.zeros(1, 3, dtype=torch.long),), path, ["input_ids"], ["inputs_embeds"],
           {"input_ids": dict(TOKEN_AXES), "inputs_embeds": dict(TOKEN_AXES)})


def export_decoder(model, path, layers, kv_heads, head_dim, hidden, position_ids, position_axes):
    """decoder_model_merged.onnx of a decoder-only model with a KV cache.

    Traced with a non-empty past (2 positions, then 3 new ones) so the concat and the
    mask keep their dynamic sizes; position_ids must fit those 3 new positions.
    """
    b, t, p = 1, 3, 2
    past, names_in, names_out = [], ["inputs_embeds", "attention_mask", "position_ids"], ["logits"]
    axes = {"inputs_embeds": dict(TOKEN_AXES),
            "attention_mask": {0: "batch_size", 1: "total_sequence_length"},
            "position_ids": position_axes,
            "logits": dict(TOKEN_AXES)}
    for i in range(layers):
        for kind in ("key", "value"):
            past.append(torch.randn(b, kv_heads, p, head_dim))
            names_in.append(f"past_key_values.{i}.{kind}")
            names_out.append(f"present.{i}.{kind}")
            axes[f"past_key_values.{i}.{kind}"] = {0: "batch_size", 2: "past_sequence_length"}
            axes[f"present.{i}.{kind}"] = {0: "batch_size", 2: "total_sequence_length"}
    args = (torch.randn(b, t, hidden), torch.ones(b, p + t, dtype=torch.long), position_ids, *past)
    export(Decoder(model, layers), args, path, names_in, names_out, axes)


def export_files(model, folder, files, *extra):
    """Runs each file's write(model, path, *extra) without gradients and checks every graph it wrote."""
    os.makedirs(folder, exist_ok=True)
    with torch.no_grad():
        for name, write in files.items():
            write(model, os.path.join(folder, name), *extra)
            onnx.checker.check_model(onnx.load(os.path.join(folder, name)))
