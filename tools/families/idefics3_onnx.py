"""The onnx-community split of an Idefics3 / SmolVLM model, as transformers.js loads it.

onnx/vision_encoder.onnx        pixel_values (batch_size, num_images, 3, height, width) f32,
                                pixel_attention_mask (batch_size, num_images, height, width) bool
                                -> image_features (num_real_images, image_seq_len, D)
onnx/embed_tokens.onnx          input_ids (batch_size, sequence_length) i64 -> inputs_embeds
onnx/decoder_model_merged.onnx  inputs_embeds, attention_mask (batch_size, total_sequence_length),
                                position_ids (batch_size, sequence_length),
                                past_key_values.N.key/value (batch_size, K, past_sequence_length, hd)
                                -> logits, present.N.key/value

transformers.js names the empty cache's dims by these symbolic names (batch_size
becomes the batch, every other symbolic dim 0), so the names matter. All f32, opset 14.
"""
import os

import onnx
import torch
import torch.nn as nn

OPSET = 14


class VisionEncoder(nn.Module):
    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, pixel_values, pixel_attention_mask):
        return self.model.get_image_features(pixel_values, pixel_attention_mask)


class EmbedTokens(nn.Module):
    def __init__(self, model):
        super().__init__()
        self.embed = model.model.text_model.embed_tokens

    def forward(self, input_ids):
        return self.embed(input_ids)


class Decoder(nn.Module):
    def __init__(self, model):
        super().__init__()
        self.model = model
        self.layers = model.config.text_config.num_hidden_layers

    def forward(self, inputs_embeds, attention_mask, position_ids, *past_flat):
        past = [(past_flat[2 * i], past_flat[2 * i + 1]) for i in range(self.layers)]
        logits, presents = self.model.decode(inputs_embeds, attention_mask, position_ids, past)
        return (logits,) + tuple(t for kv in presents for t in kv)


def export_vision(model, path):
    s = model.config.vision_config.max_image_size["longest_edge"]
    args = (torch.randn(1, 2, 3, s, s), torch.ones(1, 2, s, s, dtype=torch.bool))
    torch.onnx.export(VisionEncoder(model), args, path,
                      input_names=["pixel_values", "pixel_attention_mask"], output_names=["image_features"],
                      dynamic_axes={"pixel_values": {0: "batch_size", 1: "num_images"},
                                    "pixel_attention_mask": {0: "batch_size", 1: "num_images"},
                                    "image_features": {0: "num_real_images"}},
                      opset_version=OPSET, do_constant_folding=True)


def export_embed(model, path):
    torch.onnx.export(EmbedTokens(model), (torch.zeros(1, 3, dtype=torch.long),), path,
                      input_names=["input_ids"], output_names=["inputs_embeds"],
                      dynamic_axes={"input_ids": {0: "batch_size", 1: "sequence_length"},
                                    "inputs_embeds": {0: "batch_size", 1: "sequence_length"}},
                      opset_version=OPSET, do_constant_folding=True)


def export_decoder(model, path):
    tc = model.config.text_config
    # Traced with a non-empty past so the concat and the mask keep their dynamic sizes.
    b, t, p = 1, 3, 2
    past, names_in, names_out = [], ["inputs_embeds", "attention_mask", "position_ids"], ["logits"]
    axes = {"inputs_embeds": {0: "batch_size", 1: "sequence_length"},
            "attention_mask": {0: "batch_size", 1: "total_sequence_length"},
            "position_ids": {0: "batch_size", 1: "sequence_length"},
            "logits": {0: "batch_size", 1: "sequence_length"}}
    for i in range(tc.num_hidden_layers):
        for kind in ("key", "value"):
            past.append(torch.randn(b, tc.num_key_value_heads, p, tc.head_dim))
            names_in.append(f"past_key_values.{i}.{kind}")
            names_out.append(f"present.{i}.{kind}")
            axes[f"past_key_values.{i}.{kind}"] = {0: "batch_size", 2: "past_sequence_length"}
            axes[f"present.{i}.{kind}"] = {0: "batch_size", 2: "total_sequence_length"}
    args = (torch.randn(b, t, tc.hidden_size), torch.ones(b, p + t, dtype=torch.long),
            torch.arange(p, p + t)[None], *past)
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
