"""Qwen2VLForConditionalGeneration in PyTorch, the reference every engine matches.

Module tree and parameter names follow the checkpoint of Qwen/Qwen2-VL-2B-Instruct
(Hugging Face's modeling_qwen2_vl.py), so a state dict from here loads there:

    visual.patch_embed.proj         Conv3d over (C, temporal_patch_size, P, P), no bias
    visual.blocks.N.*               pre-norm ViT blocks: norm1, attn.qkv, attn.proj, norm2,
                                    mlp.fc1, mlp.fc2 (quick_gelu), 2D rotary on the heads
    visual.merger.*                 ln_q, then mlp.0 / GELU / mlp.2 over each 2 x 2 block
    model.embed_tokens, model.layers.N.*, model.norm
                                    Qwen2 decoder: q/k/v with bias, o_proj without,
                                    M-RoPE (temporal, height, width sections), RMSNorm
    lm_head                         tied to model.embed_tokens (Qwen2-VL-2B-Instruct)

The vision tower is in qwen2_vl_vision.py.

Shapes: N patches (all images), E vision width, D text width, B batch, T text length.
"""
import os
import sys
from dataclasses import dataclass, field, asdict

import torch
import torch.nn as nn

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "train"))
from model import LlamaMlp, LlamaRmsNorm, attention_mask_4d, rotate_half  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from decoder_common import greedy_loop, run_layers, wide_init  # noqa: E402
from qwen2_vl_vision import Qwen2VisionTransformer, VisionConfig  # noqa: E402


@dataclass
class Qwen2VLConfig:
    """The flat text fields of Qwen2-VL-2B-Instruct's config.json, with vision_config inside."""
    vision_config: VisionConfig = field(default_factory=VisionConfig)
    vocab_size: int = 512
    hidden_size: int = 64
    intermediate_size: int = 128
    num_hidden_layers: int = 2
    num_attention_heads: int = 4
    num_key_value_heads: int = 2
    hidden_act: str = "silu"
    max_position_embeddings: int = 32768
    rms_norm_eps: float = 1e-6
    rope_theta: float = 1000000.0
    mrope_section: tuple = (2, 3, 3)
    tie_word_embeddings: bool = True
    bos_token_id: int = 0
    eos_token_id: int = 0
    vision_start_token_id: int = 0
    vision_end_token_id: int = 0
    vision_token_id: int = 0
    image_token_id: int = 0
    video_token_id: int = 0

    @property
    def head_dim(self):
        return self.hidden_size // self.num_attention_heads

    def to_hf(self):
        return {
            "architectures": ["Qwen2VLForConditionalGeneration"],
            "attention_dropout": 0.0,
            "bos_token_id": self.bos_token_id,
            "eos_token_id": self.eos_token_id,
            "vision_start_token_id": self.vision_start_token_id,
            "vision_end_token_id": self.vision_end_token_id,
            "vision_token_id": self.vision_token_id,
            "image_token_id": self.image_token_id,
            "video_token_id": self.video_token_id,
            "hidden_act": self.hidden_act,
            "hidden_size": self.hidden_size,
            "initializer_range": 0.02,
            "intermediate_size": self.intermediate_size,
            "max_position_embeddings": self.max_position_embeddings,
            "max_window_layers": self.num_hidden_layers,
            "model_type": "qwen2_vl",
            "num_attention_heads": self.num_attention_heads,
            "num_hidden_layers": self.num_hidden_layers,
            "num_key_value_heads": self.num_key_value_heads,
            "rms_norm_eps": self.rms_norm_eps,
            "rope_theta": self.rope_theta,
            "sliding_window": self.max_position_embeddings,
            "tie_word_embeddings": self.tie_word_embeddings,
            "torch_dtype": "bfloat16",
            "transformers_version": "4.41.2",
            "use_cache": True,
            "use_sliding_window": False,
            "vision_config": asdict(self.vision_config),
            "rope_scaling": {"type": "mrope", "mrope_section": list(self.mrope_section)},
            "vocab_size": self.vocab_size,
        }


# ---------------------------------------------------------------- text (Qwen2 with M-RoPE)

def mrope_cos_sin(position_ids, head_dim, theta, section):
    """(3, B, T) ids -> cos, sin (B, 1, T, hd): dims [0, s0) rotate by the temporal id, the next s1 by the
    height id, the next s2 by the width id, and the same again for the second half (HF's mrope_section * 2)."""
    inv_freq = 1.0 / (theta ** (torch.arange(0, head_dim, 2, dtype=torch.float32) / head_dim))
    freqs = position_ids.to(torch.float32)[..., None] * inv_freq        # (3, B, T, hd/2)
    emb = torch.cat([freqs, freqs], -1)                                 # (3, B, T, hd)
    cos, sin = emb.cos(), emb.sin()
    parts = list(section) * 2
    pick_c = [chunk[i % 3] for i, chunk in enumerate(cos.split(parts, dim=-1))]
    pick_s = [chunk[i % 3] for i, chunk in enumerate(sin.split(parts, dim=-1))]
    return torch.cat(pick_c, -1)[:, None], torch.cat(pick_s, -1)[:, None]


class Qwen2VLAttention(nn.Module):
    def __init__(self, c: Qwen2VLConfig):
        super().__init__()
        self.heads, self.kv_heads, self.head_dim = c.num_attention_heads, c.num_key_value_heads, c.head_dim
        self.q_proj = nn.Linear(c.hidden_size, self.heads * self.head_dim, bias=True)
        self.k_proj = nn.Linear(c.hidden_size, self.kv_heads * self.head_dim, bias=True)
        self.v_proj = nn.Linear(c.hidden_size, self.kv_heads * self.head_dim, bias=True)
        self.o_proj = nn.Linear(self.heads * self.head_dim, c.hidden_size, bias=False)

    def forward(self, x, cos, sin, mask, past=None):
        b, t, _ = x.shape
        q = self.q_proj(x).view(b, t, self.heads, self.head_dim).transpose(1, 2)     # (B, H, T, hd)
        k = self.k_proj(x).view(b, t, self.kv_heads, self.head_dim).transpose(1, 2)  # (B, K, T, hd)
        v = self.v_proj(x).view(b, t, self.kv_heads, self.head_dim).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        if past is not None:
            k = torch.cat([past[0], k], dim=2)
            v = torch.cat([past[1], v], dim=2)
        rep = self.heads // self.kv_heads
        kr = k[:, :, None].expand(-1, -1, rep, -1, -1).reshape(b, self.heads, -1, self.head_dim)
        vr = v[:, :, None].expand(-1, -1, rep, -1, -1).reshape(b, self.heads, -1, self.head_dim)
        w = (q @ kr.transpose(-1, -2)) * self.head_dim ** -0.5 + mask
        o = w.softmax(-1) @ vr
        return self.o_proj(o.transpose(1, 2).reshape(b, t, -1)), (k, v)


class _MlpConfig:
    def __init__(self, c: Qwen2VLConfig):
        self.hidden_size, self.intermediate_size, self.mlp_bias = c.hidden_size, c.intermediate_size, False


class Qwen2VLDecoderLayer(nn.Module):
    def __init__(self, c: Qwen2VLConfig):
        super().__init__()
        self.self_attn = Qwen2VLAttention(c)
        self.mlp = LlamaMlp(_MlpConfig(c))               # Qwen2MLP: gate/up/down, SiLU, no bias
        self.input_layernorm = LlamaRmsNorm(c.hidden_size, c.rms_norm_eps)
        self.post_attention_layernorm = LlamaRmsNorm(c.hidden_size, c.rms_norm_eps)

    def forward(self, x, cos, sin, mask, past=None):
        a, present = self.self_attn(self.input_layernorm(x), cos, sin, mask, past)
        x = x + a
        return x + self.mlp(self.post_attention_layernorm(x)), present


class Qwen2VLModel(nn.Module):
    def __init__(self, c: Qwen2VLConfig):
        super().__init__()
        self.embed_tokens = nn.Embedding(c.vocab_size, c.hidden_size)
        self.layers = nn.ModuleList([Qwen2VLDecoderLayer(c) for _ in range(c.num_hidden_layers)])
        self.norm = LlamaRmsNorm(c.hidden_size, c.rms_norm_eps)


# ---------------------------------------------------------------- the VLM

class Qwen2VLForConditionalGeneration(nn.Module):
    def __init__(self, c: Qwen2VLConfig):
        super().__init__()
        self.config = c
        self.visual = Qwen2VisionTransformer(c.vision_config)
        self.model = Qwen2VLModel(c)
        self.lm_head = nn.Linear(c.hidden_size, c.vocab_size, bias=False)
        self.apply(self._init)
        if c.tie_word_embeddings:
            self.lm_head.weight = self.model.embed_tokens.weight

    @staticmethod
    def _init(m):
        wide_init(m, nn.Conv3d, 0.05)

    def embed(self, input_ids, image_features=None):
        """Token embeddings with the image features written over the <|image_pad|> tokens, in order."""
        x = self.model.embed_tokens(input_ids)
        if image_features is not None:
            mask = input_ids == self.config.image_token_id
            if int(mask.sum()) != image_features.shape[0]:
                raise ValueError(f"{int(mask.sum())} image tokens but {image_features.shape[0]} image features")
            x = x.masked_scatter(mask[..., None], image_features)
        return x

    def decode(self, inputs_embeds, attention_mask, position_ids, past=None):
        """(B, T, D), (B, P + T), (3, B, T) -> (logits (B, T, V), presents [(k, v)] of (B, K, P + T, hd))."""
        c = self.config
        cos, sin = mrope_cos_sin(position_ids, c.head_dim, c.rope_theta, c.mrope_section)
        mask = attention_mask_4d(attention_mask, inputs_embeds.shape[1])
        x, presents = run_layers(self.model.layers, inputs_embeds, cos, sin, mask, past)
        return self.lm_head(self.model.norm(x)), presents

    def get_rope_index(self, input_ids, image_grid_thw):
        """HF's get_rope_index for images (no padding): (3, B, T) position ids and (B, 1) rope deltas.

        Text runs count on from the last position; each image's tokens take
        (offset + t, offset + row, offset + col) over its merged grid.
        """
        c, m = self.config, self.config.vision_config.spatial_merge_size
        b, t = input_ids.shape
        pos = torch.ones(3, b, t, dtype=torch.long)
        deltas, image_index = [], 0
        for i in range(b):
            tokens = input_ids[i].tolist()
            starts = [k for k, x in enumerate(tokens) if x == c.vision_start_token_id]
            images = sum(1 for k in starts if k + 1 < t and tokens[k + 1] == c.image_token_id)
            parts, st = [], 0
            for _ in range(images):
                ed = tokens.index(c.image_token_id, st)
                gt, gh, gw = (int(v) for v in image_grid_thw[image_index])
                image_index += 1
                gh, gw = gh // m, gw // m
                text_len = ed - st
                st_idx = int(parts[-1].max()) + 1 if parts else 0
                parts.append(torch.arange(text_len).view(1, -1).expand(3, -1) + st_idx)
                ti = torch.arange(gt).view(-1, 1).expand(-1, gh * gw).flatten()
                hi = torch.arange(gh).view(1, -1, 1).expand(gt, -1, gw).flatten()
                wi = torch.arange(gw).view(1, 1, -1).expand(gt, gh, -1).flatten()
                parts.append(torch.stack([ti, hi, wi]) + text_len + st_idx)
                st = ed + gt * gh * gw
            if st < t:
                st_idx = int(parts[-1].max()) + 1 if parts else 0
                parts.append(torch.arange(t - st).view(1, -1).expand(3, -1) + st_idx)
            p = torch.cat(parts, 1)
            pos[:, i] = p
            deltas.append(int(p.max()) + 1 - t)
        return pos, torch.tensor(deltas)[:, None]

    @torch.no_grad()
    def greedy(self, input_ids, pixel_values, image_grid_thw, steps, eos_ids=()):
        """Greedy decoding with the KV cache, up to `steps` ids or an end id (kept), as HF's generate does.

        Returns (first-step logits (V,), generated ids, smallest top-1/top-2 logit gap on the way).
        """
        feats = self.visual(pixel_values, image_grid_thw) if pixel_values is not None else None
        pos, deltas = self.get_rope_index(input_ids, image_grid_thw)
        mask = torch.ones_like(input_ids)
        logits, past = self.decode(self.embed(input_ids, feats), mask, pos)

        def decode_next(nxt, m, pos, kv):
            step = pos + deltas[0, 0]                            # cache position + rope delta, on all 3 rows
            return self.decode(self.embed(torch.tensor([[nxt]])), m, step.view(1, 1, 1).expand(3, 1, 1), kv)
        return greedy_loop(logits, past, mask, steps, eos_ids, decode_next)
