"""The onnx-community split of a Florence-2 model, as transformers.js 4.3.2 loads it.

Florence2ForConditionalGeneration is an image-text-to-text model with
is_encoder_decoder, so transformers.js opens four sessions:

onnx/vision_encoder.onnx        pixel_values (batch_size, 3, height, width) f32
                                -> image_features (batch_size, num_image_tokens, d_model)
onnx/embed_tokens.onnx          input_ids (batch_size, sequence_length) i64 -> inputs_embeds
                                (the prompt's tokens and the decoder's, scale 1)
onnx/encoder_model.onnx         inputs_embeds (batch_size, encoder_sequence_length, d_model),
                                attention_mask (batch_size, encoder_sequence_length) i64
                                -> last_hidden_state
onnx/decoder_model_merged.onnx  encoder_attention_mask, encoder_hidden_states, inputs_embeds
                                (batch_size, decoder_sequence_length, d_model),
                                past_key_values.N.decoder.key/value
                                (batch_size, H, past_decoder_sequence_length, head_dim),
                                past_key_values.N.encoder.key/value
                                (batch_size, H, encoder_sequence_length_out, head_dim),
                                use_cache_branch (1,) bool
                                -> logits, present.N.decoder.key/value, present.N.encoder.key/value

transformers.js builds the first step's empty cache from these shapes (symbolic dims it
does not know become 0, so H and head_dim are fixed numbers), and after the first step
feeds the encoder entries of the cache back while ignoring the graph's present.N.encoder
outputs (optimum's merged-decoder convention).

The merged decoder here is one graph, not optimum's If over two branches: the cross-
attention keys and values are always computed from encoder_hidden_states (transformers.js
passes it at every step), and past_key_values.N.encoder.* and use_cache_branch enter the
graph only as terms multiplied by zero. The outputs are the same numbers the two-branch
graph gives. All f32, opset 14.
"""
import torch
import torch.nn as nn

import onnx_split
from onnx_split import export


class VisionEncoder(nn.Module):
    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, pixel_values):
        return self.model.encode_image(pixel_values)


class EmbedTokens(nn.Module):
    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, input_ids):
        return self.model.embed(input_ids)


class EncoderModel(nn.Module):
    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, inputs_embeds, attention_mask):
        return self.model.encode(inputs_embeds, attention_mask)


class DecoderMerged(nn.Module):
    def __init__(self, model):
        super().__init__()
        self.model = model
        self.layers = model.config.text_config.decoder_layers

    def forward(self, encoder_attention_mask, encoder_hidden_states, inputs_embeds, *rest):
        flat, use_cache_branch = rest[:-1], rest[-1]
        past = [(flat[4 * i], flat[4 * i + 1]) for i in range(self.layers)]
        past_cross = [(flat[4 * i + 2], flat[4 * i + 3]) for i in range(self.layers)]
        logits, presents = self.model.decode(inputs_embeds, encoder_hidden_states, encoder_attention_mask, past)
        zero = use_cache_branch.to(logits.dtype).sum() * 0.0
        for k, v in past_cross:
            zero = zero + (k.sum() + v.sum()) * 0.0
        out = [logits + zero]
        for (sk, sv), (ck, cv) in presents:
            out += [sk, sv, ck, cv]
        return tuple(out)


def export_vision(model, path, size):
    export(VisionEncoder(model), (torch.randn(1, 3, size, size),), path, ["pixel_values"], ["image_features"],
           {"pixel_values": {0: "batch_size"}, "image_features": {0: "batch_size"}})


def export_embed(model, path, size):
    onnx_split.export_embed(EmbedTokens(model), path)


def export_encoder(model, path, size):
    d = model.config.text_config.d_model
    args = (torch.randn(1, 7, d), torch.ones(1, 7, dtype=torch.long))
    axes = {0: "batch_size", 1: "encoder_sequence_length"}
    export(EncoderModel(model), args, path, ["inputs_embeds", "attention_mask"], ["last_hidden_state"],
           {"inputs_embeds": dict(axes), "attention_mask": dict(axes), "last_hidden_state": dict(axes)})


def export_decoder(model, path, size):
    c = model.config.text_config
    heads, hd = c.decoder_attention_heads, c.d_model // c.decoder_attention_heads
    b, t, p, e = 1, 2, 3, 7
    names_in = ["encoder_attention_mask", "encoder_hidden_states", "inputs_embeds"]
    names_out = ["logits"]
    axes = {"encoder_attention_mask": {0: "batch_size", 1: "encoder_sequence_length"},
            "encoder_hidden_states": {0: "batch_size", 1: "encoder_sequence_length"},
            "inputs_embeds": {0: "batch_size", 1: "decoder_sequence_length"},
            "logits": {0: "batch_size", 1: "decoder_sequence_length"}}
    args = [torch.ones(b, e, dtype=torch.long), torch.randn(b, e, c.d_model), torch.randn(b, t, c.d_model)]
    for i in range(c.decoder_layers):
        for part, length, dim in (("decoder", p, "past_decoder_sequence_length"),
                                  ("encoder", e, "encoder_sequence_length_out")):
            for kind in ("key", "value"):
                name = f"past_key_values.{i}.{part}.{kind}"
                args.append(torch.randn(b, heads, length, hd))
                names_in.append(name)
                axes[name] = {0: "batch_size", 2: dim}
    for i in range(c.decoder_layers):
        for part, dim in (("decoder", "total_decoder_sequence_length"), ("encoder", "encoder_sequence_length_out")):
            for kind in ("key", "value"):
                name = f"present.{i}.{part}.{kind}"
                names_out.append(name)
                axes[name] = {0: "batch_size", 2: dim}
    names_in.append("use_cache_branch")
    args.append(torch.tensor([True]))
    export(DecoderMerged(model), tuple(args), path, names_in, names_out, axes)


def export_onnx(model, folder, size):
    files = {"vision_encoder.onnx": export_vision, "embed_tokens.onnx": export_embed,
             "encoder_model.onnx": export_encoder, "decoder_model_merged.onnx": export_decoder}
    onnx_split.export_files(model, folder, files, size)
