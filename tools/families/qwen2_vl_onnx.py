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
import torch
import torch.nn as nn

import onnx_split
from onnx_split import EmbedTokens, export


class VisionEncoder(nn.Module):
    def __init__(self, model):
        super().__init__()
        self.visual = model.visual

    def forward(self, pixel_values, grid_thw):
        return self.visual.forward_export(pixel_values, grid_thw)


def export_vision(model, path):
    v = model.config.vision_config
    width = v.in_chans * v.temporal_patch_size * v.patch_size ** 2
    # Traced with two images of different grids so nothing about one image is baked in.
    grid = torch.tensor([[1, 4, 6], [1, 2, 4]])
    args = (torch.randn(int((grid[:, 0] * grid[:, 1] * grid[:, 2]).sum()), width), grid)
    export(VisionEncoder(model), args, path, ["pixel_values", "grid_thw"], ["image_features"],
           {"pixel_values": {0: "num_patches"}, "grid_thw": {0: "num_images"},
            "image_features": {0: "num_image_tokens"}})


def export_embed(model, path):
    onnx_split.export_embed(EmbedTokens(model.model.embed_tokens), path)


def export_decoder(model, path):
    c = model.config
    p, t = 2, 3                                      # onnx_split's past and new lengths
    pos = torch.stack([torch.arange(p, p + t), torch.arange(p + 1, p + t + 1), torch.arange(p + 2, p + t + 2)])[:, None]
    onnx_split.export_decoder(model, path, c.num_hidden_layers, c.num_key_value_heads, c.head_dim, c.hidden_size,
                              pos, {1: "batch_size", 2: "sequence_length"})


def export_onnx(model, folder):
    onnx_split.export_files(model, folder, {"vision_encoder.onnx": export_vision, "embed_tokens.onnx": export_embed,
                                            "decoder_model_merged.onnx": export_decoder})
