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
import torch
import torch.nn as nn

import onnx_split
from onnx_split import EmbedTokens, export


class VisionEncoder(nn.Module):
    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, pixel_values, pixel_attention_mask):
        return self.model.get_image_features(pixel_values, pixel_attention_mask)


def export_vision(model, path):
    s = model.config.vision_config.max_image_size["longest_edge"]
    args = (torch.randn(1, 2, 3, s, s), torch.ones(1, 2, s, s, dtype=torch.bool))
    export(VisionEncoder(model), args, path, ["pixel_values", "pixel_attention_mask"], ["image_features"],
           {"pixel_values": {0: "batch_size", 1: "num_images"},
            "pixel_attention_mask": {0: "batch_size", 1: "num_images"},
            "image_features": {0: "num_real_images"}})


def export_embed(model, path):
    onnx_split.export_embed(EmbedTokens(model.model.text_model.embed_tokens), path)


def export_decoder(model, path):
    tc = model.config.text_config
    onnx_split.export_decoder(model, path, tc.num_hidden_layers, tc.num_key_value_heads, tc.head_dim,
                              tc.hidden_size, torch.arange(2, 5)[None], {0: "batch_size", 1: "sequence_length"})


def export_onnx(model, folder):
    onnx_split.export_files(model, folder, {"vision_encoder.onnx": export_vision, "embed_tokens.onnx": export_embed,
                                            "decoder_model_merged.onnx": export_decoder})
