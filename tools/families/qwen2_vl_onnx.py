"""The onnx-community split of a Qwen2-VL model, as transformers.js 4.3.2 loads it.

onnx/vision_encoder.onnx        pixel_values (num_patches, C * T * P * P) f32,
                                grid_thw (num_images, 3) i64
                                -> image_features (num_image_tokens, hidden_size)
onnx/embed_tokens.onnx          input_ids (batch_size, sequence_length) i64 -> inputs_embeds
onnx/decoder_model_merged.onnx  inputs_embeds, attention_mask (batch_size, total_sequence_length),
                                position_ids (3, batch_size, sequence_length) i64: M-RoPE rows,
                                past_key_values.N.key/value (batch_size, K, past_sequence_length, hd)
                                -> logits, present.N.key/value

Qwen2VLForConditionalGeneration.encode_image feeds the grid as `grid_thw` (its
image_grid_thw_name); transformers.js makes the empty cache from these symbolic
dim names. All f32, opset 14.
"""
import os

import onnx
import torch
import torch.nn as nn

OPSET = 14


class VisionEncoder(nn.Module):
    def __init__(self, model):
        super().__init__()
        self.visual = model.visual

    def forward(self, pixel_values, grid_thw):
        return self.visual.forward_export(pixel_values, grid_thw)


class EmbedTokens(nn.Module):
    def __init__(self, model):
        super().__init__()
        self.embed = model.model.embed_tokens

    def forward(self, input_ids):
        return self.embed(input_ids)


class Decoder(nn.Module):
    def __init__(self, model):
        super().__init__()
        self.model = model
        self.layers = model.config.num_hidden_layers

    def forward(self, inputs_embeds, attention_mask, position_ids, *past_flat):
        past = [(past_flat[2 * i], past_flat[2 * i + 1]) for i in range(self.layers)]
        logits, presents = self.model.decode(inputs_embeds, attention_mask, position_ids, past)
        return (logits,) + tuple(t for kv in presents for t in kv)


def export_vision(model, path):
    v = model.config.vision_config
    width = v.in_chans * v.temporal_patch_size * v.patch_size ** 2
    # Traced with two images of different grids so nothing about one image is baked in.
    grid = torch.tensor([[1, 4, 6], [1, 2, 4]])
    args = (torch.randn(int((grid[:, 0] * grid[:, 1] * grid[:, 2]).sum()), width), grid)
    torch.onnx.export(VisionEncoder(model), args, path, input_names=["pixel_values", "grid_thw"],
                      output_names=["image_features"],
                      dynamic_axes={"pixel_values": {0: "num_patches"}, "grid_thw": {0: "num_images"},
                                    "image_features": {0: "num_image_tokens"}},
                      opset_version=OPSET, do_constant_folding=True)


def export_embed(model, path):
    torch.onnx.export(EmbedTokens(model), (torch.zeros(1, 3, dtype=torch.long),), path,
                      input_names=["input_ids"], output_names=["inputs_embeds"],
                      dynamic_axes={"input_ids": {0: "batch_size", 1: "sequence_length"},
                                    "inputs_embeds": {0: "batch_size", 1: "sequence_length"}},
                      opset_version=OPSET, do_constant_folding=True)


def export_decoder(model, path):
    c = model.config
    b, t, p = 1, 3, 2
    past, names_in, names_out = [], ["inputs_embeds", "attention_mask", "position_ids"], ["logits"]
    axes = {"inputs_embeds": {0: "batch_size", 1: "sequence_length"},
            "attention_mask": {0: "batch_size", 1: "total_sequence_length"},
            "position_ids": {1: "batch_size", 2: "sequence_length"},
            "logits": {0: "batch_size", 1: "sequence_length"}}
    for i in range(c.num_hidden_layers):
        for kind in ("key", "value"):
            past.append(torch.randn(b, c.num_key_value_heads, p, c.head_dim))
            names_in.append(f"past_key_values.{i}.{kind}")
            names_out.append(f"present.{i}.{kind}")
            axes[f"past_key_values.{i}.{kind}"] = {0: "batch_size", 2: "past_sequence_length"}
            axes[f"present.{i}.{kind}"] = {0: "batch_size", 2: "total_sequence_length"}
    pos = torch.stack([torch.arange(p, p + t), torch.arange(p + 1, p + t + 1), torch.arange(p + 2, p + t + 2)])[:, None]
    args = (torch.randn(b, t, c.hidden_size), torch.ones(b, p + t, dtype=torch.long), pos, *past)
    torch.onnx.export(Decoder(model), args, path, input_names=names_in, output_names=names_out,
                      dynamic_axes=axes, opset_version=OPSET, do_constant_folding=True)


def export_onnx(model, folder):
    os.makedirs(folder, exist_ok=True)
    files = {"vision_encoder.onnx": export_vision, "embed_tokens.onnx": export_embed,
             "decoder_model_merged.onnx": export_decoder}
    with torch.no_grad():
        for name, export in files.items():
            export(model, os.path.join(folder, name))
            onnx.checker.check_model(onnx.load(os.path.join(folder, name)))
