"""Florence2ForConditionalGeneration in PyTorch, the reference every engine matches.

Module tree and parameter names follow microsoft/Florence-2-base's modeling_florence2.py:

    vision_tower.*                  DaViT (florence2_vision.py)
    image_projection                (dim_embed[-1], projection_dim) matrix, no bias
    image_proj_norm                 LayerNorm(projection_dim)
    image_pos_embed.row_embeddings / column_embeddings
                                    learned 2D positions added to the last stage's (h, w) map:
                                    column (x) embedding in the first half of the channels,
                                    row (y) in the second
    visual_temporal_embed.pos_idx_to_embed
                                    fixed sine/cosine table over frames (one frame here: row 0)
    language_model.model.shared     BART token embedding, tied to both embed_tokens and lm_head
    language_model.model.{encoder,decoder}.embed_positions
                                    learned positions, offset 2 (row p + 2 for position p)
    language_model.model.{encoder,decoder}.layernorm_embedding, .layers.N.*
                                    post-LN BART layers: self_attn (+ encoder_attn in the decoder),
                                    *_layer_norm after each residual, fc1 / GELU (erf) / fc2
    language_model.final_logits_bias
                                    (1, vocab) added to the tied lm_head's logits

Image features: the last DaViT stage's h*w tokens plus positions and the frame's temporal
embedding, then [spatial average (1 token), temporal average (h*w tokens)] projected and
normalised: 1 + h*w tokens. They go before the prompt's token embeddings as the
encoder's input, with an all-ones mask.
"""
import math
from dataclasses import dataclass, field, asdict

import torch
import torch.nn as nn
import torch.nn.functional as F

from florence2_vision import DaViT, DaViTConfig

NEG = torch.finfo(torch.float32).min


@dataclass
class LanguageConfig:
    """Florence-2's text_config (florence2_language), at tiny sizes by default."""
    vocab_size: int = 1024
    d_model: int = 32
    encoder_layers: int = 2
    decoder_layers: int = 2
    encoder_attention_heads: int = 2
    decoder_attention_heads: int = 2
    encoder_ffn_dim: int = 64
    decoder_ffn_dim: int = 64
    max_position_embeddings: int = 64
    bos_token_id: int = 0
    pad_token_id: int = 1
    eos_token_id: int = 2
    decoder_start_token_id: int = 2
    forced_bos_token_id: int = 0
    forced_eos_token_id: int = 2
    no_repeat_ngram_size: int = 3
    num_beams: int = 3

    def to_hf(self):
        return dict(asdict(self), model_type="florence2_language", activation_function="gelu",
                    add_bias_logits=False, add_final_layer_norm=False, normalize_before=False,
                    scale_embedding=False, tie_word_embeddings=True, is_encoder_decoder=True, use_cache=True,
                    num_hidden_layers=self.encoder_layers, early_stopping=True, init_std=0.02,
                    dropout=0.1, attention_dropout=0.1, activation_dropout=0.1)


class LearnedPositions(nn.Embedding):
    """BART's learned positional embedding: row p + 2 for position p."""
    OFFSET = 2

    def __init__(self, num, dim):
        super().__init__(num + self.OFFSET, dim)

    def forward(self, past, length):
        return F.embedding(torch.arange(length) + past + self.OFFSET, self.weight)


class Attention(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.heads, self.head_dim = heads, dim // heads
        self.q_proj, self.k_proj = nn.Linear(dim, dim), nn.Linear(dim, dim)
        self.v_proj, self.out_proj = nn.Linear(dim, dim), nn.Linear(dim, dim)

    def split(self, x):
        b, t, _ = x.shape
        return x.reshape(b, t, self.heads, self.head_dim).transpose(1, 2)

    def kv(self, source):
        return self.split(self.k_proj(source)), self.split(self.v_proj(source))

    def forward(self, x, k, v, mask_add):
        b, t, d = x.shape
        q = self.split(self.q_proj(x) * self.head_dim ** -0.5)
        w = (q @ k.transpose(-1, -2) + mask_add).softmax(-1)
        return self.out_proj((w @ v).transpose(1, 2).reshape(b, t, d))


class EncoderLayer(nn.Module):
    def __init__(self, c: LanguageConfig):
        super().__init__()
        self.self_attn = Attention(c.d_model, c.encoder_attention_heads)
        self.self_attn_layer_norm = nn.LayerNorm(c.d_model)
        self.fc1, self.fc2 = nn.Linear(c.d_model, c.encoder_ffn_dim), nn.Linear(c.encoder_ffn_dim, c.d_model)
        self.final_layer_norm = nn.LayerNorm(c.d_model)

    def forward(self, x, mask_add):
        x = self.self_attn_layer_norm(x + self.self_attn(x, *self.self_attn.kv(x), mask_add))
        return self.final_layer_norm(x + self.fc2(F.gelu(self.fc1(x))))


class DecoderLayer(nn.Module):
    def __init__(self, c: LanguageConfig):
        super().__init__()
        self.self_attn = Attention(c.d_model, c.decoder_attention_heads)
        self.self_attn_layer_norm = nn.LayerNorm(c.d_model)
        self.encoder_attn = Attention(c.d_model, c.decoder_attention_heads)
        self.encoder_attn_layer_norm = nn.LayerNorm(c.d_model)
        self.fc1, self.fc2 = nn.Linear(c.d_model, c.decoder_ffn_dim), nn.Linear(c.decoder_ffn_dim, c.d_model)
        self.final_layer_norm = nn.LayerNorm(c.d_model)

    def forward(self, x, causal_add, cross_kv, cross_add, past=None):
        k, v = self.self_attn.kv(x)
        if past is not None:
            k, v = torch.cat([past[0], k], 2), torch.cat([past[1], v], 2)
        x = self.self_attn_layer_norm(x + self.self_attn(x, k, v, causal_add))
        x = self.encoder_attn_layer_norm(x + self.encoder_attn(x, *cross_kv, cross_add))
        return self.final_layer_norm(x + self.fc2(F.gelu(self.fc1(x)))), (k, v)


class Encoder(nn.Module):
    def __init__(self, c, shared):
        super().__init__()
        self.embed_tokens = shared
        self.embed_positions = LearnedPositions(c.max_position_embeddings, c.d_model)
        self.layers = nn.ModuleList(EncoderLayer(c) for _ in range(c.encoder_layers))
        self.layernorm_embedding = nn.LayerNorm(c.d_model)

    def forward(self, inputs_embeds, attention_mask):
        x = self.layernorm_embedding(inputs_embeds + self.embed_positions(0, inputs_embeds.shape[1]))
        mask_add = (1.0 - attention_mask[:, None, None, :].to(x.dtype)) * NEG
        for layer in self.layers:
            x = layer(x, mask_add)
        return x


class Decoder(nn.Module):
    def __init__(self, c, shared):
        super().__init__()
        self.embed_tokens = shared
        self.embed_positions = LearnedPositions(c.max_position_embeddings, c.d_model)
        self.layers = nn.ModuleList(DecoderLayer(c) for _ in range(c.decoder_layers))
        self.layernorm_embedding = nn.LayerNorm(c.d_model)

    def forward(self, inputs_embeds, encoder_hidden_states, encoder_attention_mask, past=None):
        """past: per layer (self k, self v) or None. Returns hidden states, per-layer (self kv, cross kv)."""
        t = inputs_embeds.shape[1]
        p = past[0][0].shape[2] if past is not None else 0
        x = self.layernorm_embedding(inputs_embeds + self.embed_positions(p, t))
        q_pos = torch.arange(t)[:, None] + p
        k_pos = torch.arange(p + t)[None, :]
        causal_add = (k_pos > q_pos).to(x.dtype)[None, None] * NEG
        cross_add = (1.0 - encoder_attention_mask[:, None, None, :].to(x.dtype)) * NEG
        presents = []
        for i, layer in enumerate(self.layers):
            cross_kv = layer.encoder_attn.kv(encoder_hidden_states)
            x, self_kv = layer(x, causal_add, cross_kv, cross_add, past[i] if past is not None else None)
            presents.append((self_kv, cross_kv))
        return x, presents


class BartModel(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.shared = nn.Embedding(c.vocab_size, c.d_model, padding_idx=c.pad_token_id)
        self.encoder = Encoder(c, self.shared)
        self.decoder = Decoder(c, self.shared)


class LanguageModel(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.model = BartModel(c)
        self.lm_head = nn.Linear(c.d_model, c.vocab_size, bias=False)
        self.lm_head.weight = self.model.shared.weight
        self.register_buffer("final_logits_bias", torch.zeros(1, c.vocab_size))

    def logits(self, hidden):
        return self.lm_head(hidden) + self.final_logits_bias


class LearnedAbsolutePositionEmbedding2D(nn.Module):
    def __init__(self, dim, num_pos):
        super().__init__()
        self.row_embeddings = nn.Embedding(num_pos, dim // 2)
        self.column_embeddings = nn.Embedding(num_pos, dim - dim // 2)

    def forward(self, h, w):
        """(h, w, dim): [column embedding of x, row embedding of y] at each (y, x)."""
        x_emb = self.column_embeddings.weight[:w]
        y_emb = self.row_embeddings.weight[:h]
        return torch.cat([x_emb[None].expand(h, w, -1), y_emb[:, None].expand(h, w, -1)], -1)


class PositionalEmbeddingCosine1D(nn.Module):
    def __init__(self, dim, max_len):
        super().__init__()
        denominator = torch.exp(-math.log(10000) * torch.arange(0, dim, 2) / dim)
        freq = torch.arange(0, max_len).reshape(max_len, 1) * denominator
        table = torch.zeros(max_len, dim)
        table[:, 0::2] = torch.sin(freq)
        table[:, 1::2] = torch.cos(freq)
        self.register_buffer("pos_idx_to_embed", table)


@dataclass
class Florence2Config:
    vision_config: DaViTConfig = field(default_factory=DaViTConfig)
    text_config: LanguageConfig = field(default_factory=LanguageConfig)

    def to_hf(self, num_image_tokens):
        t = self.text_config
        return {
            "architectures": ["Florence2ForConditionalGeneration"], "model_type": "florence2",
            "bos_token_id": t.bos_token_id, "eos_token_id": t.eos_token_id, "pad_token_id": t.pad_token_id,
            "ignore_index": -100, "is_encoder_decoder": True, "num_image_tokens": num_image_tokens,
            "projection_dim": self.vision_config.projection_dim, "text_config": t.to_hf(),
            "vision_config": self.vision_config.to_hf(), "vocab_size": t.vocab_size,
            "transformers_version": "4.42.0.dev0", "use_cache": True,
        }


class Florence2ForConditionalGeneration(nn.Module):
    def __init__(self, cfg: Florence2Config):
        super().__init__()
        v, t = cfg.vision_config, cfg.text_config
        self.config = cfg
        self.vision_tower = DaViT(v)
        self.image_projection = nn.Parameter(torch.empty(v.dim_embed[-1], v.projection_dim))
        nn.init.normal_(self.image_projection, std=v.dim_embed[-1] ** -0.5)
        self.image_proj_norm = nn.LayerNorm(v.projection_dim)
        self.image_pos_embed = LearnedAbsolutePositionEmbedding2D(v.dim_embed[-1], v.image_pos_embed_max)
        self.visual_temporal_embed = PositionalEmbeddingCosine1D(v.dim_embed[-1], v.max_temporal_embeddings)
        self.language_model = LanguageModel(t)

    def encode_image(self, pixel_values):
        """(B, 3, H, W) -> image features (B, 1 + h*w, projection_dim)."""
        x = self.vision_tower.forward_features_unpool(pixel_values)
        b, n, c = x.shape
        h = w = int(math.isqrt(n))
        x = (x.reshape(b, h, w, c) + self.image_pos_embed(h, w)[None]).reshape(b, 1, n, c)
        x = x + self.visual_temporal_embed.pos_idx_to_embed[:1].reshape(1, 1, 1, c)   # one frame: T = 1
        spatial_avg = x.mean(dim=2)          # (B, T, C): one token per frame
        temporal_avg = x.mean(dim=1)         # (B, n, C)
        x = torch.cat([spatial_avg, temporal_avg], dim=1)
        return self.image_proj_norm(x @ self.image_projection)

    def embed(self, input_ids):
        return self.language_model.model.shared(input_ids)     # scale_embedding false: x 1.0

    def encoder_inputs(self, input_ids, pixel_values):
        feats = self.encode_image(pixel_values)
        x = torch.cat([feats, self.embed(input_ids)], 1)
        return x, torch.ones(x.shape[:2], dtype=torch.long), feats

    def encode(self, inputs_embeds, attention_mask):
        return self.language_model.model.encoder(inputs_embeds, attention_mask)

    def decode(self, decoder_inputs_embeds, encoder_hidden_states, encoder_attention_mask, past=None):
        h, presents = self.language_model.model.decoder(decoder_inputs_embeds, encoder_hidden_states,
                                                        encoder_attention_mask, past)
        return self.language_model.logits(h), presents
