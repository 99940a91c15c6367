"""The onnx-community split of a LLaVA model: vision encoder (+ projector), token embeddings, decoder with KV cache.

decoder_model_merged.onnx takes past_key_values.N.key/value of shape (B, K, P, hd)
and returns present.N.key/value of shape (B, K, P + T, hd); P may be 0 on the
first step (an empty past), so one graph serves prefill and decode. All f32, opset 14.
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

    def forward(self, pixel_values):
        return self.model.get_image_features(pixel_values)    # (num_images, image_seq_length, D)


class EmbedTokens(nn.Module):
    def __init__(self, model):
        super().__init__()
        self.embed = model.language_model.model.embed_tokens

    def forward(self, input_ids):
        return self.embed(input_ids)                           # (B, T, D)


class Decoder(nn.Module):
    def __init__(self, model):
        super().__init__()
        self.model = model
        self.layers = model.config.text_config.num_hidden_layers

    def forward(self, inputs_embeds, attention_mask, position_ids, *past_flat):
        past = [(past_flat[2 * i], past_flat[2 * i + 1]) for i in range(self.layers)]
        logits, _, presents = self.model.decode(inputs_embeds, attention_mask, position_ids, past)
        return (logits,) + tuple(t for kv in presents for t in kv)


def export_onnx(model, cfg, folder):
    os.makedirs(folder, exist_ok=True)
    tc, size = cfg.text_config, cfg.vision_config.image_size
    with torch.no_grad():
        torch.onnx.export(VisionEncoder(model), (torch.zeros(1, 3, size, size),), os.path.join(folder, "vision_encoder.onnx"),
                          input_names=["pixel_values"], output_names=["image_features"],
                          dynamic_axes={"pixel_values": {0: "num_images"}, "image_features": {0: "num_images"}},
                          opset_version=OPSET, do_constant_folding=True)
        torch.onnx.export(EmbedTokens(model), (torch.zeros(1, 3, dtype=torch.long),), os.path.join(folder, "embed_tokens.onnx"),
                          input_names=["input_ids"], output_names=["inputs_embeds"],
                          dynamic_axes={"input_ids": {0: "batch_size", 1: "sequence_length"},
                                        "inputs_embeds": {0: "batch_size", 1: "sequence_length"}},
                          opset_version=OPSET, do_constant_folding=True)
        # Traced with a non-empty past so the concat and the mask keep their dynamic sizes.
        b, t, p = 1, 3, 2
        past = []
        names_in, names_out = ["inputs_embeds", "attention_mask", "position_ids"], ["logits"]
        axes = {"inputs_embeds": {0: "batch_size", 1: "sequence_length"},
                "attention_mask": {0: "batch_size", 1: "total_sequence_length"},
                "position_ids": {0: "batch_size", 1: "sequence_length"},
                "logits": {0: "batch_size", 1: "sequence_length"}}
        for i in range(tc.num_hidden_layers):
            for kind in ("key", "value"):
                past.append(torch.zeros(b, tc.num_key_value_heads, p, tc.head_dim))
                names_in.append(f"past_key_values.{i}.{kind}")
                names_out.append(f"present.{i}.{kind}")
                axes[f"past_key_values.{i}.{kind}"] = {0: "batch_size", 2: "past_sequence_length"}
                axes[f"present.{i}.{kind}"] = {0: "batch_size", 2: "total_sequence_length"}
        args = (torch.zeros(b, t, tc.hidden_size), torch.ones(b, p + t, dtype=torch.long),
                torch.arange(p, p + t)[None], *past)
        torch.onnx.export(Decoder(model), args, os.path.join(folder, "decoder_model_merged.onnx"),
                          input_names=names_in, output_names=names_out, dynamic_axes=axes,
                          opset_version=OPSET, do_constant_folding=True)
    for f in ("vision_encoder.onnx", "embed_tokens.onnx", "decoder_model_merged.onnx"):
        onnx.checker.check_model(onnx.load(os.path.join(folder, f)))
