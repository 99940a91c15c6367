"""Idefics3ForConditionalGeneration (SmolVLM) in PyTorch, the reference every engine matches.

Module tree and parameter names follow Hugging Face's modeling_idefics3.py, so a
state dict from here is an Idefics3 checkpoint (SmolVLM-256M/500M-Instruct):

    model.vision_model.*            Idefics3VisionTransformer: SigLIP with NaViT-style
                                    position ids (patch conv with bias, learned positions,
                                    no class token, pre-norm layers, post_layernorm)
    model.connector.modality_projection.proj
                                    pixel shuffle by scale_factor, then a bias-free linear
    model.text_model.*              LlamaModel (SmolLM2), the one in tools/train/model.py
    lm_head                         tied to model.text_model.embed_tokens

Shapes: B batch, N images (tiles) per sample, S tile side, n patches per tile,
C vision width, D text width, T text length, P past length.
"""
import os
import sys
from dataclasses import dataclass, field, asdict

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "train"))
from model import LlamaModel, TextConfig, attention_mask_4d, rope_cos_sin  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from decoder_common import greedy_loop, run_layers, wide_init  # noqa: E402


@dataclass
class VisionConfig:
    """Idefics3VisionConfig; size and max_image_size ride along as SmolVLM's config.json has them."""
    model_type: str = "idefics3_vision"
    hidden_size: int = 32
    intermediate_size: int = 128
    num_hidden_layers: int = 2
    num_attention_heads: int = 2
    num_channels: int = 3
    image_size: int = 64
    patch_size: int = 8
    hidden_act: str = "gelu_pytorch_tanh"
    layer_norm_eps: float = 1e-6
    attention_dropout: float = 0.0
    initializer_range: float = 0.02
    max_image_size: dict = field(default_factory=lambda: {"longest_edge": 64})
    size: dict = field(default_factory=lambda: {"longest_edge": 256})
    tie_word_embeddings: bool = False
    use_base_siglip: bool = False


@dataclass
class Idefics3Config:
    vision_config: VisionConfig = field(default_factory=VisionConfig)
    text_config: TextConfig = field(default_factory=TextConfig)
    image_token_id: int = 0
    scale_factor: int = 4
    tie_word_embeddings: bool = True

    @property
    def image_seq_len(self):
        v = self.vision_config
        return (v.image_size // v.patch_size) ** 2 // self.scale_factor ** 2

    def to_hf(self, text_extra):
        tc = asdict(self.text_config)
        tc.update(text_extra)
        return {
            "architectures": ["Idefics3ForConditionalGeneration"],
            "model_type": "idefics3",
            "image_token_id": self.image_token_id,
            "scale_factor": self.scale_factor,
            "tie_word_embeddings": self.tie_word_embeddings,
            "torch_dtype": "bfloat16",
            "use_cache": True,
            "vocab_size": self.text_config.vocab_size,
            "vision_config": asdict(self.vision_config),
            "text_config": tc,
        }

    @staticmethod
    def from_hf(d):
        vc = {k: v for k, v in d["vision_config"].items() if k in VisionConfig.__dataclass_fields__}
        tc = {k: v for k, v in d["text_config"].items() if k in TextConfig.__dataclass_fields__}
        return Idefics3Config(vision_config=VisionConfig(**vc), text_config=TextConfig(**tc),
                              image_token_id=d["image_token_id"], scale_factor=d["scale_factor"],
                              tie_word_embeddings=d.get("tie_word_embeddings", True))


# ---------------------------------------------------------------- vision (SigLIP)

class Idefics3VisionEmbeddings(nn.Module):
    def __init__(self, c: VisionConfig):
        super().__init__()
        self.patch_size = c.patch_size
        self.patch_embedding = nn.Conv2d(c.num_channels, c.hidden_size, c.patch_size, c.patch_size)
        self.num_patches_per_side = c.image_size // c.patch_size
        self.position_embedding = nn.Embedding(self.num_patches_per_side ** 2, c.hidden_size)

    def position_ids(self, patch_mask):
        """HF's bucketize of fractional patch coordinates, without a loop or bucketize (ONNX has neither).

        A tile with h x w valid patches spreads them over the whole position grid:
        row i takes bucket #{k : k/side <= i/h}. Full tiles get 0..side^2-1;
        padded patches get position 0, as HF leaves them.
        """
        side = self.num_patches_per_side
        nh, nw = patch_mask.shape[1], patch_mask.shape[2]
        rows = patch_mask[:, :, 0].sum(1).to(torch.float32)[:, None]            # (N, 1) valid rows
        cols = patch_mask[:, 0, :].sum(1).to(torch.float32)[:, None]            # (N, 1) valid cols
        bounds = torch.arange(1, side, dtype=torch.float32) / side              # (side - 1,)
        frac_h = torch.arange(nh, dtype=torch.float32)[None] / rows             # (N, nh)
        frac_w = torch.arange(nw, dtype=torch.float32)[None] / cols             # (N, nw)
        bucket_h = (bounds[None, None] <= frac_h[..., None]).sum(-1)            # (N, nh)
        bucket_w = (bounds[None, None] <= frac_w[..., None]).sum(-1)            # (N, nw)
        ids = bucket_h[:, :, None] * side + bucket_w[:, None, :]                # (N, nh, nw)
        return torch.where(patch_mask, ids, torch.zeros_like(ids)).flatten(1)   # (N, n)

    def forward(self, pixel_values, patch_mask):
        x = self.patch_embedding(pixel_values)                 # (N, C, S/p, S/p)
        x = x.flatten(2).transpose(1, 2)                       # (N, n, C), row-major patches
        return x + self.position_embedding(self.position_ids(patch_mask))


class Idefics3VisionAttention(nn.Module):
    def __init__(self, c: VisionConfig):
        super().__init__()
        self.heads = c.num_attention_heads
        self.head_dim = c.hidden_size // c.num_attention_heads
        self.k_proj = nn.Linear(c.hidden_size, c.hidden_size)
        self.v_proj = nn.Linear(c.hidden_size, c.hidden_size)
        self.q_proj = nn.Linear(c.hidden_size, c.hidden_size)
        self.out_proj = nn.Linear(c.hidden_size, c.hidden_size)

    def forward(self, x, bias):
        b, t, c = x.shape
        q = self.q_proj(x).view(b, t, self.heads, self.head_dim).transpose(1, 2)   # (N, H, n, hd)
        k = self.k_proj(x).view(b, t, self.heads, self.head_dim).transpose(1, 2)
        v = self.v_proj(x).view(b, t, self.heads, self.head_dim).transpose(1, 2)
        w = (q @ k.transpose(-1, -2)) * self.head_dim ** -0.5 + bias               # bias: (N, 1, 1, n)
        o = w.softmax(-1) @ v                                                       # (N, H, n, hd)
        return self.out_proj(o.transpose(1, 2).reshape(b, t, c))


class Idefics3VisionMLP(nn.Module):
    def __init__(self, c: VisionConfig):
        super().__init__()
        self.fc1 = nn.Linear(c.hidden_size, c.intermediate_size)
        self.fc2 = nn.Linear(c.intermediate_size, c.hidden_size)

    def forward(self, x):
        # gelu_pytorch_tanh: the tanh approximation of GELU.
        return self.fc2(F.gelu(self.fc1(x), approximate="tanh"))


class Idefics3EncoderLayer(nn.Module):
    def __init__(self, c: VisionConfig):
        super().__init__()
        self.self_attn = Idefics3VisionAttention(c)
        self.layer_norm1 = nn.LayerNorm(c.hidden_size, eps=c.layer_norm_eps)
        self.mlp = Idefics3VisionMLP(c)
        self.layer_norm2 = nn.LayerNorm(c.hidden_size, eps=c.layer_norm_eps)

    def forward(self, x, bias):
        x = x + self.self_attn(self.layer_norm1(x), bias)
        return x + self.mlp(self.layer_norm2(x))


class Idefics3Encoder(nn.Module):
    def __init__(self, c: VisionConfig):
        super().__init__()
        self.layers = nn.ModuleList([Idefics3EncoderLayer(c) for _ in range(c.num_hidden_layers)])


class Idefics3VisionTransformer(nn.Module):
    def __init__(self, c: VisionConfig):
        super().__init__()
        self.config = c
        self.embeddings = Idefics3VisionEmbeddings(c)
        self.encoder = Idefics3Encoder(c)
        self.post_layernorm = nn.LayerNorm(c.hidden_size, eps=c.layer_norm_eps)

    def forward(self, pixel_values, patch_mask):
        """(N, 3, S, S), (N, S/p, S/p) bool -> (N, n, C)."""
        x = self.embeddings(pixel_values, patch_mask)
        # Padded patches are masked as keys (HF passes no mask when every patch is real: same result).
        bias = (~patch_mask.flatten(1)).to(torch.float32)[:, None, None, :] * -1e9   # (N, 1, 1, n)
        for layer in self.encoder.layers:
            x = layer(x, bias)
        return self.post_layernorm(x)


# ---------------------------------------------------------------- connector

def pixel_shuffle(x, scale_factor, side):
    """HF's Idefics3Connector.pixel_shuffle: (N, n, C) -> (N, n / r^2, C * r^2), r = scale_factor.

    Each output token gathers an r x r block of patches; the reshape order is
    HF's exactly (it is not the same as a space-to-depth with the usual order).
    """
    n_img, seq, c = x.shape[0], side * side, x.shape[2]   # side: patches per tile edge, fixed by the config
    r = scale_factor
    x = x.reshape(n_img, side, side, c)                        # (N, h, w, C)
    x = x.reshape(n_img, side, side // r, c * r)               # (N, h, w/r, C r)
    x = x.permute(0, 2, 1, 3)                                  # (N, w/r, h, C r)
    x = x.reshape(n_img, side // r, side // r, c * r * r)      # (N, w/r, h/r, C r^2)
    x = x.permute(0, 2, 1, 3)                                  # (N, h/r, w/r, C r^2)
    return x.reshape(n_img, seq // (r * r), c * r * r)


class Idefics3SimpleMLP(nn.Module):
    def __init__(self, c: Idefics3Config):
        super().__init__()
        width = c.vision_config.hidden_size * c.scale_factor ** 2
        self.proj = nn.Linear(width, c.text_config.hidden_size, bias=False)

    def forward(self, x):
        return self.proj(x)


class Idefics3Connector(nn.Module):
    def __init__(self, c: Idefics3Config):
        super().__init__()
        self.scale_factor = c.scale_factor
        self.side = c.vision_config.image_size // c.vision_config.patch_size
        self.modality_projection = Idefics3SimpleMLP(c)

    def forward(self, x):
        return self.modality_projection(pixel_shuffle(x, self.scale_factor, self.side))


# ---------------------------------------------------------------- the VLM

class Idefics3Model(nn.Module):
    def __init__(self, c: Idefics3Config):
        super().__init__()
        self.vision_model = Idefics3VisionTransformer(c.vision_config)
        self.connector = Idefics3Connector(c)
        self.text_model = LlamaModel(c.text_config)


class Idefics3ForConditionalGeneration(nn.Module):
    def __init__(self, c: Idefics3Config):
        super().__init__()
        self.config = c
        self.model = Idefics3Model(c)
        self.lm_head = nn.Linear(c.text_config.hidden_size, c.text_config.vocab_size, bias=False)
        self.apply(self._init)
        if c.tie_word_embeddings:
            self.lm_head.weight = self.model.text_model.embed_tokens.weight

    @staticmethod
    def _init(m):
        wide_init(m, nn.Conv2d, 0.3)

    def get_image_features(self, pixel_values, pixel_attention_mask):
        """(B, N, 3, S, S) f32, (B, N, S, S) bool -> (real tiles, image_seq_len, D).

        All-zero tiles are batch padding and are dropped, as HF does.
        """
        b, n = pixel_values.shape[:2]
        pv = pixel_values.reshape(b * n, *pixel_values.shape[2:])                    # (B N, 3, S, S)
        mask = pixel_attention_mask.reshape(b * n, *pixel_attention_mask.shape[2:])  # (B N, S, S)
        real = (pv != 0).to(torch.int64).flatten(1).sum(-1) > 0                        # (B N,)
        pv, mask = pv[real], mask[real]
        p = self.config.vision_config.patch_size
        m, h, w = mask.shape
        valid = mask.to(torch.int64).reshape(m, h // p, p, w // p, p)
        patch_mask = valid.sum(4).sum(2) > 0                                          # (N, S/p, S/p)
        return self.model.connector(self.model.vision_model(pv, patch_mask))

    def embed(self, input_ids, image_features=None):
        """Token embeddings with the image features written over the <image> tokens, in order."""
        x = self.model.text_model.embed_tokens(input_ids)          # (B, T, D)
        if image_features is not None:
            mask = input_ids == self.config.image_token_id
            feats = image_features.reshape(-1, x.shape[-1])
            if int(mask.sum()) != feats.shape[0]:
                raise ValueError(f"{int(mask.sum())} image tokens but {feats.shape[0]} image feature rows")
            x = x.masked_scatter(mask[..., None], feats)
        return x

    def decode(self, inputs_embeds, attention_mask, position_ids, past=None):
        """Llama decoder over embeddings: (logits (B, T, V), presents [(k, v)] of (B, K, P + T, hd))."""
        lm = self.model.text_model
        c = lm.config
        cos, sin = rope_cos_sin(position_ids, c.head_dim, c.rope_theta)
        mask = attention_mask_4d(attention_mask, inputs_embeds.shape[1])
        x, presents = run_layers(lm.layers, inputs_embeds, cos, sin, mask, past)
        return self.lm_head(lm.norm(x)), presents

    @torch.no_grad()
    def greedy(self, input_ids, pixel_values, pixel_attention_mask, steps, eos_ids=()):
        """Greedy decoding with the KV cache, up to `steps` ids or an end id (kept), as HF's generate does.

        Returns (first-step logits (V,), generated ids, smallest top-1/top-2 logit gap on the way).
        """
        feats = self.get_image_features(pixel_values, pixel_attention_mask)
        x = self.embed(input_ids, feats)
        mask = torch.ones_like(input_ids)
        logits, past = self.decode(x, mask, torch.arange(input_ids.shape[1])[None])
        return greedy_loop(logits, past, mask, steps, eos_ids, lambda nxt, m, pos, kv: self.decode(
            self.embed(torch.tensor([[nxt]])), m, torch.tensor([[pos]]), kv))
