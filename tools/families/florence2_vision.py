"""DaViT, Florence-2's vision tower, in PyTorch with the checkpoint's parameter names.

Follows the structure of microsoft/Florence-2-base's modeling_florence2.py (DaViT):
four stages, each a convolutional patch embedding (`convs.S`) then `depths[S]` pairs of
blocks (`blocks.S.J.spatial_block`, `blocks.S.J.channel_block`):

    convs.S.proj                 Conv2d(patch_size[S], patch_stride[S], patch_padding[S])
    convs.S.norm                 LayerNorm, over the input channels before the conv when
                                 patch_prenorm[S] (stages 1-3), else over the output after it
    *.conv1.fn.dw, *.conv2.fn.dw depthwise 3 x 3 convolutions, added to the tokens
    spatial_block.window_attn    pre-norm windowed self-attention (window_size x window_size,
                                 the map padded at the right and bottom to whole windows),
                                 heads num_heads[S], scale head_dim ** -0.5
    channel_block.channel_attn   pre-norm attention across channels in num_groups[S] groups:
                                 (C/g x C/g) attention per group, q scaled by N ** -0.5
    *.ffn                        pre-norm MLP: net.fc1, GELU (erf), net.fc2

Tokens are (B, H*W, C) row-major; every residual adds the block's output to its input.
Drop path is training-only and absent here.
"""
from dataclasses import dataclass, field, asdict

import torch
import torch.nn as nn
import torch.nn.functional as F


@dataclass
class DaViTConfig:
    """Florence-2's vision_config keys (the ones the tower reads), at tiny sizes by default."""
    depths: list = field(default_factory=lambda: [1, 1, 1, 1])
    dim_embed: list = field(default_factory=lambda: [16, 24, 32, 48])
    num_heads: list = field(default_factory=lambda: [1, 2, 2, 4])
    num_groups: list = field(default_factory=lambda: [1, 2, 2, 4])
    patch_size: list = field(default_factory=lambda: [7, 3, 3, 3])
    patch_stride: list = field(default_factory=lambda: [4, 2, 2, 2])
    patch_padding: list = field(default_factory=lambda: [3, 1, 1, 1])
    patch_prenorm: list = field(default_factory=lambda: [False, True, True, True])
    window_size: int = 4
    projection_dim: int = 32
    image_pos_embed_max: int = 8
    max_temporal_embeddings: int = 8
    drop_path_rate: float = 0.1

    def to_hf(self):
        d = asdict(self)
        pos, temporal = d.pop("image_pos_embed_max"), d.pop("max_temporal_embeddings")
        return dict(d, model_type="", enable_checkpoint=False,
                    image_feature_source=["spatial_avg_pool", "temporal_avg_pool"],
                    image_pos_embed={"max_pos_embeddings": pos, "type": "learned_abs_2d"},
                    visual_temporal_embedding={"max_temporal_embeddings": temporal, "type": "COSINE"})


class PreNorm(nn.Module):
    """x + fn(norm(x)); `norm` may be None (the depthwise convolutions)."""

    def __init__(self, norm, fn):
        super().__init__()
        self.norm = norm
        self.fn = fn

    def forward(self, x, size):
        y, size = self.fn(self.norm(x) if self.norm is not None else x, size)
        return x + y, size


class DepthWiseConv2d(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.dw = nn.Conv2d(dim, dim, kernel_size=3, padding=1, stride=1, groups=dim, bias=True)

    def forward(self, x, size):
        b, n, c = x.shape
        h, w = size
        y = self.dw(x.transpose(1, 2).reshape(b, c, h, w))
        return y.flatten(2).transpose(1, 2), (y.shape[-2], y.shape[-1])


class Mlp(nn.Module):
    def __init__(self, dim, hidden):
        super().__init__()
        self.net = nn.Sequential()
        self.net.add_module("fc1", nn.Linear(dim, hidden))
        self.net.add_module("act", nn.GELU())
        self.net.add_module("fc2", nn.Linear(hidden, dim))

    def forward(self, x, size):
        return self.net(x), size


class ConvEmbed(nn.Module):
    def __init__(self, patch_size, stride, padding, in_chans, embed_dim, pre_norm):
        super().__init__()
        self.proj = nn.Conv2d(in_chans, embed_dim, kernel_size=patch_size, stride=stride, padding=padding)
        self.norm = nn.LayerNorm(in_chans if pre_norm else embed_dim)
        self.pre_norm = pre_norm

    def forward(self, x, size):
        h, w = size
        if x.dim() == 3:                     # tokens from the previous stage
            if self.pre_norm:
                x = self.norm(x)
            b, _, c = x.shape
            x = x.transpose(1, 2).reshape(b, c, h, w)
        x = self.proj(x)
        size = (x.shape[-2], x.shape[-1])
        x = x.flatten(2).transpose(1, 2)
        if not self.pre_norm:
            x = self.norm(x)
        return x, size


class ChannelAttention(nn.Module):
    def __init__(self, dim, groups):
        super().__init__()
        self.groups = groups
        self.qkv = nn.Linear(dim, dim * 3)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x, size):
        b, n, c = x.shape
        qkv = self.qkv(x).reshape(b, n, 3, self.groups, c // self.groups).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]             # (B, g, N, C/g)
        q = q * (float(n) ** -0.5)
        attn = (q.transpose(-1, -2) @ k).softmax(dim=-1)          # (B, g, C/g, C/g)
        y = (attn @ v.transpose(-1, -2)).transpose(-1, -2)        # (B, g, N, C/g)
        return self.proj(y.transpose(1, 2).reshape(b, n, c)), size


class WindowAttention(nn.Module):
    def __init__(self, dim, num_heads, window_size):
        super().__init__()
        self.num_heads = num_heads
        self.window_size = window_size
        self.scale = float(dim // num_heads) ** -0.5
        self.qkv = nn.Linear(dim, dim * 3)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x, size):
        h, w = size
        b, n, c = x.shape
        ws = self.window_size
        x = x.reshape(b, h, w, c)
        pad_r, pad_b = (ws - w % ws) % ws, (ws - h % ws) % ws
        x = F.pad(x, (0, 0, 0, pad_r, 0, pad_b))
        hp, wp = h + pad_b, w + pad_r
        # (B, Hp/ws, ws, Wp/ws, ws, C) -> windows (B * nW, ws*ws, C), row-major windows
        x = x.reshape(b, hp // ws, ws, wp // ws, ws, c).permute(0, 1, 3, 2, 4, 5).reshape(-1, ws * ws, c)
        bw, t, _ = x.shape
        qkv = self.qkv(x).reshape(bw, t, 3, self.num_heads, c // self.num_heads).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0] * self.scale, qkv[1], qkv[2]
        y = ((q @ k.transpose(-2, -1)).softmax(dim=-1) @ v).transpose(1, 2).reshape(bw, t, c)
        y = self.proj(y)
        y = y.reshape(b, hp // ws, wp // ws, ws, ws, c).permute(0, 1, 3, 2, 4, 5).reshape(b, hp, wp, c)
        y = y[:, :h, :w, :].reshape(b, h * w, c)
        return y, size


class SpatialBlock(nn.Module):
    def __init__(self, dim, num_heads, window_size, mlp_ratio=4.0):
        super().__init__()
        self.conv1 = PreNorm(None, DepthWiseConv2d(dim))
        self.window_attn = PreNorm(nn.LayerNorm(dim), WindowAttention(dim, num_heads, window_size))
        self.conv2 = PreNorm(None, DepthWiseConv2d(dim))
        self.ffn = PreNorm(nn.LayerNorm(dim), Mlp(dim, int(dim * mlp_ratio)))

    def forward(self, x, size):
        x, size = self.conv1(x, size)
        x, size = self.window_attn(x, size)
        x, size = self.conv2(x, size)
        return self.ffn(x, size)


class ChannelBlock(nn.Module):
    def __init__(self, dim, groups, mlp_ratio=4.0):
        super().__init__()
        self.conv1 = PreNorm(None, DepthWiseConv2d(dim))
        self.channel_attn = PreNorm(nn.LayerNorm(dim), ChannelAttention(dim, groups))
        self.conv2 = PreNorm(None, DepthWiseConv2d(dim))
        self.ffn = PreNorm(nn.LayerNorm(dim), Mlp(dim, int(dim * mlp_ratio)))

    def forward(self, x, size):
        x, size = self.conv1(x, size)
        x, size = self.channel_attn(x, size)
        x, size = self.conv2(x, size)
        return self.ffn(x, size)


class DualBlock(nn.Module):
    """One `blocks.S.J`: a spatial block then a channel block."""

    def __init__(self, dim, heads, groups, window_size):
        super().__init__()
        self.spatial_block = SpatialBlock(dim, heads, window_size)
        self.channel_block = ChannelBlock(dim, groups)

    def forward(self, x, size):
        x, size = self.spatial_block(x, size)
        return self.channel_block(x, size)


class DaViT(nn.Module):
    def __init__(self, cfg: DaViTConfig, in_chans=3):
        super().__init__()
        dims = cfg.dim_embed
        self.convs = nn.ModuleList(
            ConvEmbed(cfg.patch_size[s], cfg.patch_stride[s], cfg.patch_padding[s],
                      in_chans if s == 0 else dims[s - 1], dims[s], cfg.patch_prenorm[s])
            for s in range(len(dims)))
        self.blocks = nn.ModuleList(
            nn.ModuleList(DualBlock(dims[s], cfg.num_heads[s], cfg.num_groups[s], cfg.window_size)
                          for _ in range(cfg.depths[s]))
            for s in range(len(dims)))

    def forward_features_unpool(self, pixel_values):
        """(B, 3, H, W) -> (B, h*w, dim_embed[-1]) tokens of the last stage, row-major."""
        x, size = pixel_values, (pixel_values.shape[2], pixel_values.shape[3])
        for conv, stage in zip(self.convs, self.blocks):
            x, size = conv(x, size)
            for block in stage:
                x, size = block(x, size)
        return x
