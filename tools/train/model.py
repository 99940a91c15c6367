"""A LLaVA-family vision-language model in PyTorch, the reference every engine matches.

The module tree and parameter names follow Hugging Face's checkpoints of
LlavaForConditionalGeneration (CLIP vision tower, LLaVA-1.5 MLP projector, Llama
decoder), so a state dict written from here loads as a llava-hf checkpoint and a
TypeScript engine can mirror this file component by component:

    vision_tower.vision_model.*      CLIPVisionTransformer  (modeling_clip.py)
    multi_modal_projector.linear_1/2 LlavaMultiModalProjector (modeling_llava.py)
    language_model.model.*           LlamaModel            (modeling_llama.py)
    language_model.lm_head           the output projection

One extension, off by default: `image_pooling` averages k x k neighbouring patch
features before the projector, so a 64x64 image costs 16 decoder tokens instead of
64 (it kept training cheap on one CPU core without hurting the synthetic tasks).

Shapes: B batch, T text length, P past length, N patches, C vision width,
D text width, H heads, K key/value heads, hd head size.
"""
import math
from dataclasses import dataclass, field, asdict

import torch
import torch.nn as nn
import torch.nn.functional as F


@dataclass
class VisionConfig:
    model_type: str = "clip_vision_model"
    image_size: int = 64
    patch_size: int = 8
    num_channels: int = 3
    hidden_size: int = 128
    intermediate_size: int = 512
    num_hidden_layers: int = 4
    num_attention_heads: int = 4
    hidden_act: str = "gelu"
    layer_norm_eps: float = 1e-5
    projection_dim: int = 128
    attention_dropout: float = 0.0


@dataclass
class TextConfig:
    model_type: str = "llama"
    vocab_size: int = 512
    hidden_size: int = 128
    intermediate_size: int = 384
    num_hidden_layers: int = 4
    num_attention_heads: int = 4
    num_key_value_heads: int = 2
    head_dim: int = 32
    hidden_act: str = "silu"
    max_position_embeddings: int = 512
    rms_norm_eps: float = 1e-5
    rope_theta: float = 10000.0
    attention_bias: bool = False
    mlp_bias: bool = False
    tie_word_embeddings: bool = False
    bos_token_id: int = 1
    eos_token_id: int = 2
    pad_token_id: int = 0


@dataclass
class LlavaConfig:
    vision_config: VisionConfig = field(default_factory=VisionConfig)
    text_config: TextConfig = field(default_factory=TextConfig)
    image_token_index: int = 3
    projector_hidden_act: str = "gelu"
    multimodal_projector_bias: bool = True
    # -1: the last encoder layer's output (HF's hidden_states[-1], before post_layernorm).
    vision_feature_layer: int = -1
    # "default" drops the class token, as LLaVA-1.5 does.
    vision_feature_select_strategy: str = "default"
    image_pooling: int = 2
    tie_word_embeddings: bool = False

    @property
    def patches_per_side(self):
        return self.vision_config.image_size // self.vision_config.patch_size

    @property
    def image_seq_length(self):
        return (self.patches_per_side // self.image_pooling) ** 2

    def to_hf(self):
        """The config.json Hugging Face's LlavaConfig reads (extra keys are kept as attributes)."""
        d = {
            "architectures": ["LlavaForConditionalGeneration"],
            "model_type": "llava",
            "image_token_index": self.image_token_index,
            "image_seq_length": self.image_seq_length,
            "projector_hidden_act": self.projector_hidden_act,
            "multimodal_projector_bias": self.multimodal_projector_bias,
            "vision_feature_layer": self.vision_feature_layer,
            "vision_feature_select_strategy": self.vision_feature_select_strategy,
            "image_pooling": self.image_pooling,
            "tie_word_embeddings": self.tie_word_embeddings,
            "torch_dtype": "float16",
            "vision_config": asdict(self.vision_config),
            "text_config": asdict(self.text_config),
        }
        return d

    @staticmethod
    def from_hf(d):
        keys = {f for f in LlavaConfig.__dataclass_fields__}
        top = {k: v for k, v in d.items() if k in keys and k not in ("vision_config", "text_config")}
        vc = {k: v for k, v in d["vision_config"].items() if k in VisionConfig.__dataclass_fields__}
        tc = {k: v for k, v in d["text_config"].items() if k in TextConfig.__dataclass_fields__}
        return LlavaConfig(vision_config=VisionConfig(**vc), text_config=TextConfig(**tc), **top)


def activation(name):
    # HF's ACT2FN: "gelu" is the exact erf form, "silu" is x * sigmoid(x).
    return {"gelu": nn.GELU(), "silu": nn.SiLU(), "quick_gelu": None}[name]


# ---------------------------------------------------------------- vision tower (CLIP)

class ClipEmbeddings(nn.Module):
    def __init__(self, c: VisionConfig):
        super().__init__()
        self.class_embedding = nn.Parameter(torch.randn(c.hidden_size) * 0.02)
        # A convolution with stride = kernel is a per-patch linear map; no bias, as in CLIP.
        self.patch_embedding = nn.Conv2d(c.num_channels, c.hidden_size, c.patch_size, c.patch_size, bias=False)
        self.num_positions = (c.image_size // c.patch_size) ** 2 + 1
        self.position_embedding = nn.Embedding(self.num_positions, c.hidden_size)
        self.register_buffer("position_ids", torch.arange(self.num_positions)[None], persistent=False)

    def forward(self, pixel_values):
        patches = self.patch_embedding(pixel_values)          # (B, C, h, w)
        patches = patches.flatten(2).transpose(1, 2)           # (B, N, C), row-major patches
        cls = self.class_embedding.expand(patches.shape[0], 1, -1)
        x = torch.cat([cls, patches], dim=1)                   # (B, 1 + N, C)
        return x + self.position_embedding(self.position_ids)


class ClipAttention(nn.Module):
    def __init__(self, c: VisionConfig):
        super().__init__()
        self.heads = c.num_attention_heads
        self.head_dim = c.hidden_size // c.num_attention_heads
        self.q_proj = nn.Linear(c.hidden_size, c.hidden_size)
        self.k_proj = nn.Linear(c.hidden_size, c.hidden_size)
        self.v_proj = nn.Linear(c.hidden_size, c.hidden_size)
        self.out_proj = nn.Linear(c.hidden_size, c.hidden_size)

    def forward(self, x):
        b, n, c = x.shape
        split = lambda t: t.view(b, n, self.heads, self.head_dim).transpose(1, 2)  # (B, H, N, hd)
        q, k, v = split(self.q_proj(x)), split(self.k_proj(x)), split(self.v_proj(x))
        w = (q @ k.transpose(-1, -2)) * self.head_dim ** -0.5
        o = w.softmax(-1) @ v                                   # (B, H, N, hd)
        return self.out_proj(o.transpose(1, 2).reshape(b, n, c))


class ClipMlp(nn.Module):
    def __init__(self, c: VisionConfig):
        super().__init__()
        self.fc1 = nn.Linear(c.hidden_size, c.intermediate_size)
        self.fc2 = nn.Linear(c.intermediate_size, c.hidden_size)
        self.act = activation(c.hidden_act)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


class ClipEncoderLayer(nn.Module):
    def __init__(self, c: VisionConfig):
        super().__init__()
        self.self_attn = ClipAttention(c)
        self.layer_norm1 = nn.LayerNorm(c.hidden_size, eps=c.layer_norm_eps)
        self.mlp = ClipMlp(c)
        self.layer_norm2 = nn.LayerNorm(c.hidden_size, eps=c.layer_norm_eps)

    def forward(self, x):
        x = x + self.self_attn(self.layer_norm1(x))
        return x + self.mlp(self.layer_norm2(x))


class ClipEncoder(nn.Module):
    def __init__(self, c: VisionConfig):
        super().__init__()
        self.layers = nn.ModuleList([ClipEncoderLayer(c) for _ in range(c.num_hidden_layers)])


class ClipVisionTransformer(nn.Module):
    def __init__(self, c: VisionConfig):
        super().__init__()
        self.embeddings = ClipEmbeddings(c)
        self.pre_layrnorm = nn.LayerNorm(c.hidden_size, eps=c.layer_norm_eps)  # sic: HF's name
        self.encoder = ClipEncoder(c)
        # Unused by LLaVA (it reads an encoder layer's output), kept so the checkpoint is a full CLIP tower.
        self.post_layernorm = nn.LayerNorm(c.hidden_size, eps=c.layer_norm_eps)

    def hidden_states(self, pixel_values):
        """HF's output_hidden_states: the embeddings after pre_layrnorm, then every layer's output."""
        x = self.pre_layrnorm(self.embeddings(pixel_values))
        states = [x]
        for layer in self.encoder.layers:
            x = layer(x)
            states.append(x)
        return states


class ClipVisionModel(nn.Module):
    def __init__(self, c: VisionConfig):
        super().__init__()
        self.vision_model = ClipVisionTransformer(c)


# ---------------------------------------------------------------- projector

class LlavaMultiModalProjector(nn.Module):
    def __init__(self, c: LlavaConfig):
        super().__init__()
        v, t = c.vision_config.hidden_size, c.text_config.hidden_size
        self.linear_1 = nn.Linear(v, t, bias=c.multimodal_projector_bias)
        self.act = activation(c.projector_hidden_act)
        self.linear_2 = nn.Linear(t, t, bias=c.multimodal_projector_bias)

    def forward(self, x):
        return self.linear_2(self.act(self.linear_1(x)))


# ---------------------------------------------------------------- decoder (Llama)

class LlamaRmsNorm(nn.Module):
    def __init__(self, d, eps):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(d))
        self.eps = eps

    def forward(self, x):
        return self.weight * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps))


def rope_cos_sin(position_ids, head_dim, theta):
    """HF's default rotary embedding: frequencies repeated as [f, f], rotate_half pairs i with i + hd/2."""
    inv_freq = 1.0 / (theta ** (torch.arange(0, head_dim, 2, dtype=torch.float32) / head_dim))
    freqs = position_ids.to(torch.float32)[..., None] * inv_freq  # (B, T, hd/2)
    emb = torch.cat([freqs, freqs], dim=-1)                        # (B, T, hd)
    return emb.cos()[:, None], emb.sin()[:, None]                  # (B, 1, T, hd)


def rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat([-x[..., h:], x[..., :h]], dim=-1)


class LlamaAttention(nn.Module):
    def __init__(self, c: TextConfig):
        super().__init__()
        self.heads, self.kv_heads, self.head_dim = c.num_attention_heads, c.num_key_value_heads, c.head_dim
        self.q_proj = nn.Linear(c.hidden_size, self.heads * self.head_dim, bias=c.attention_bias)
        self.k_proj = nn.Linear(c.hidden_size, self.kv_heads * self.head_dim, bias=c.attention_bias)
        self.v_proj = nn.Linear(c.hidden_size, self.kv_heads * self.head_dim, bias=c.attention_bias)
        self.o_proj = nn.Linear(self.heads * self.head_dim, c.hidden_size, bias=c.attention_bias)

    def forward(self, x, cos, sin, mask, past=None):
        b, t, _ = x.shape
        q = self.q_proj(x).view(b, t, self.heads, self.head_dim).transpose(1, 2)     # (B, H, T, hd)
        k = self.k_proj(x).view(b, t, self.kv_heads, self.head_dim).transpose(1, 2)  # (B, K, T, hd)
        v = self.v_proj(x).view(b, t, self.kv_heads, self.head_dim).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        if past is not None:
            k = torch.cat([past[0], k], dim=2)                  # (B, K, P + T, hd)
            v = torch.cat([past[1], v], dim=2)
        present = (k, v)
        # Grouped-query attention: each key/value head serves heads / kv_heads query heads.
        # (HF's repeat_kv: expand + reshape, which also exports to ONNX without a loop.)
        rep = self.heads // self.kv_heads
        kr = k[:, :, None].expand(-1, -1, rep, -1, -1).reshape(b, self.heads, -1, self.head_dim)  # (B, H, P + T, hd)
        vr = v[:, :, None].expand(-1, -1, rep, -1, -1).reshape(b, self.heads, -1, self.head_dim)
        w = (q @ kr.transpose(-1, -2)) * self.head_dim ** -0.5 + mask  # mask: (B, 1, T, P + T), 0 or -inf-ish
        o = w.softmax(-1) @ vr                                   # (B, H, T, hd)
        return self.o_proj(o.transpose(1, 2).reshape(b, t, -1)), present


class LlamaMlp(nn.Module):
    def __init__(self, c: TextConfig):
        super().__init__()
        self.gate_proj = nn.Linear(c.hidden_size, c.intermediate_size, bias=c.mlp_bias)
        self.up_proj = nn.Linear(c.hidden_size, c.intermediate_size, bias=c.mlp_bias)
        self.down_proj = nn.Linear(c.intermediate_size, c.hidden_size, bias=c.mlp_bias)

    def forward(self, x):
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))


class LlamaDecoderLayer(nn.Module):
    def __init__(self, c: TextConfig):
        super().__init__()
        self.self_attn = LlamaAttention(c)
        self.mlp = LlamaMlp(c)
        self.input_layernorm = LlamaRmsNorm(c.hidden_size, c.rms_norm_eps)
        self.post_attention_layernorm = LlamaRmsNorm(c.hidden_size, c.rms_norm_eps)

    def forward(self, x, cos, sin, mask, past=None):
        a, present = self.self_attn(self.input_layernorm(x), cos, sin, mask, past)
        x = x + a
        return x + self.mlp(self.post_attention_layernorm(x)), present


class LlamaModel(nn.Module):
    def __init__(self, c: TextConfig):
        super().__init__()
        self.config = c
        self.embed_tokens = nn.Embedding(c.vocab_size, c.hidden_size)
        self.layers = nn.ModuleList([LlamaDecoderLayer(c) for _ in range(c.num_hidden_layers)])
        self.norm = LlamaRmsNorm(c.hidden_size, c.rms_norm_eps)


class LlamaForCausalLM(nn.Module):
    def __init__(self, c: TextConfig):
        super().__init__()
        self.model = LlamaModel(c)
        self.lm_head = nn.Linear(c.hidden_size, c.vocab_size, bias=False)


def attention_mask_4d(attention_mask, t):
    """Causal + padding mask as an additive bias (B, 1, T, P + T) from a (B, P + T) 0/1 mask.

    The queries are the last T positions. A large negative instead of -inf keeps
    fully padded rows finite (their outputs are ignored anyway).
    """
    s = attention_mask.shape[1]
    q_pos = torch.arange(t, device=attention_mask.device)[:, None] + (s - t)  # (T, 1)
    k_pos = torch.arange(s, device=attention_mask.device)[None, :]             # (1, S)
    allowed = (k_pos <= q_pos)[None] & (attention_mask[:, None, :] > 0)       # (B, T, S)
    return ((~allowed).to(torch.float32) * -1e9)[:, None]


# ---------------------------------------------------------------- the VLM

class LlavaForConditionalGeneration(nn.Module):
    def __init__(self, c: LlavaConfig):
        super().__init__()
        self.config = c
        self.vision_tower = ClipVisionModel(c.vision_config)
        self.multi_modal_projector = LlavaMultiModalProjector(c)
        self.language_model = LlamaForCausalLM(c.text_config)
        self.apply(self._init)

    @staticmethod
    def _init(m):
        # Llama's initializer_range 0.02 for every linear and embedding; norms start at one.
        if isinstance(m, (nn.Linear, nn.Conv2d)):
            nn.init.normal_(m.weight, std=0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Embedding):
            nn.init.normal_(m.weight, std=0.02)

    def patch_features(self, pixel_values):
        """Vision features per patch before pooling: (B, N, C), class token dropped."""
        states = self.vision_tower.vision_model.hidden_states(pixel_values)
        x = states[self.config.vision_feature_layer]
        if self.config.vision_feature_select_strategy == "default":
            x = x[:, 1:]
        return x

    def pool(self, x):
        """Our extension: k x k average pooling of the patch grid, (B, N, C) -> (B, N / k^2, C)."""
        k = self.config.image_pooling
        if k == 1:
            return x
        b, n, c = x.shape
        side = int(math.isqrt(n))
        grid = x.transpose(1, 2).reshape(b, c, side, side)      # (B, C, h, w)
        grid = F.avg_pool2d(grid, k)                             # (B, C, h/k, w/k)
        return grid.flatten(2).transpose(1, 2)                   # (B, N/k^2, C), row-major

    def get_image_features(self, pixel_values):
        """(num_images, 3, S, S) -> (num_images, image_seq_length, D)."""
        return self.multi_modal_projector(self.pool(self.patch_features(pixel_values)))

    def embed(self, input_ids, image_features=None):
        """Token embeddings with image features written over the image-token positions, in order.

        As HF's masked_scatter: the i-th image token of the flattened batch takes
        the i-th row of the flattened features.
        """
        x = self.language_model.model.embed_tokens(input_ids)   # (B, T, D)
        if image_features is not None:
            mask = (input_ids == self.config.image_token_index)
            feats = image_features.reshape(-1, x.shape[-1]).to(x.dtype)
            if int(mask.sum()) != feats.shape[0]:
                raise ValueError(f"{int(mask.sum())} image tokens but {feats.shape[0]} image feature rows")
            x = x.masked_scatter(mask[..., None], feats)
        return x

    def decode(self, inputs_embeds, attention_mask, position_ids, past=None):
        """Decoder over embeddings; returns (logits (B, T, V), hidden (B, T, D), presents)."""
        lm = self.language_model.model
        c = lm.config
        cos, sin = rope_cos_sin(position_ids, c.head_dim, c.rope_theta)
        mask = attention_mask_4d(attention_mask, inputs_embeds.shape[1])
        x, presents = inputs_embeds, []
        for i, layer in enumerate(lm.layers):
            x, p = layer(x, cos, sin, mask, None if past is None else past[i])
            presents.append(p)
        h = lm.norm(x)
        return self.language_model.lm_head(h), h, presents

    def forward(self, input_ids, pixel_values=None, attention_mask=None):
        feats = None if pixel_values is None else self.get_image_features(pixel_values)
        x = self.embed(input_ids, feats)
        if attention_mask is None:
            attention_mask = torch.ones_like(input_ids)
        # Left or right padding both work: positions count real tokens only, as HF's generate does.
        position_ids = (attention_mask.cumsum(-1) - 1).clamp(min=0)
        logits, _, _ = self.decode(x, attention_mask, position_ids)
        return logits


def count_parameters(model, prefix=""):
    return sum(p.numel() for n, p in model.named_parameters() if n.startswith(prefix))
