"""Qwen2-VL's vision tower (`visual.*` in the checkpoint), after HF's modeling_qwen2_vl.py.

    visual.patch_embed.proj         Conv3d over (C, temporal_patch_size, P, P), no bias
    visual.blocks.N.*               pre-norm ViT blocks: norm1, attn.qkv, attn.proj, norm2,
                                    mlp.fc1, mlp.fc2 (quick_gelu), 2D rotary on the heads
    visual.merger.*                 ln_q, then mlp.0 / GELU / mlp.2 over each 2 x 2 block

Two forms. `Qwen2VisionTransformer.forward` is HF's: position ids per image in a
loop, attention split at cu_seqlens. `forward_export` computes the same from tensors
alone (no loop over images, a block mask instead of the split), so it traces into one
ONNX graph for any number of images; qwen2_vl_golden.py checks both agree.

Shapes: N patches (all images), E vision width.
"""
import os
import sys
from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "train"))
from model import rotate_half  # noqa: E402


@dataclass
class VisionConfig:
    """vision_config as Qwen2-VL-2B-Instruct's config.json spells it (in_chans, not in_channels)."""
    depth: int = 2
    embed_dim: int = 32
    mlp_ratio: int = 4
    num_heads: int = 2
    in_chans: int = 3
    hidden_size: int = 64
    patch_size: int = 14
    spatial_merge_size: int = 2
    temporal_patch_size: int = 2


# ---------------------------------------------------------------- vision

def quick_gelu(x):
    return x * torch.sigmoid(1.702 * x)


class PatchEmbed(nn.Module):
    def __init__(self, c: VisionConfig):
        super().__init__()
        self.c = c
        k = [c.temporal_patch_size, c.patch_size, c.patch_size]
        self.proj = nn.Conv3d(c.in_chans, c.embed_dim, kernel_size=k, stride=k, bias=False)

    def forward(self, x):
        c = self.c
        x = x.view(-1, c.in_chans, c.temporal_patch_size, c.patch_size, c.patch_size)
        return self.proj(x).view(-1, c.embed_dim)                    # (N, E)


class VisionAttention(nn.Module):
    def __init__(self, c: VisionConfig):
        super().__init__()
        self.heads, self.head_dim = c.num_heads, c.embed_dim // c.num_heads
        self.qkv = nn.Linear(c.embed_dim, 3 * c.embed_dim)
        self.proj = nn.Linear(c.embed_dim, c.embed_dim)

    def qkv_rotated(self, x, cos, sin):
        n = x.shape[0]
        q, k, v = self.qkv(x).reshape(n, 3, self.heads, self.head_dim).permute(1, 0, 2, 3).unbind(0)  # (N, H, hd)
        cos, sin = cos[:, None], sin[:, None]                                                          # (N, 1, hd)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        return q.transpose(0, 1), k.transpose(0, 1), v.transpose(0, 1)                                  # (H, N, hd)

    def forward(self, x, cos, sin, cu_seqlens):
        """HF's eager path: attention within each [cu_seqlens[i], cu_seqlens[i+1]) chunk only."""
        q, k, v = self.qkv_rotated(x, cos, sin)
        outs = []
        for a, b in zip(cu_seqlens[:-1].tolist(), cu_seqlens[1:].tolist()):
            w = (q[:, a:b] @ k[:, a:b].transpose(-1, -2)) * self.head_dim ** -0.5
            outs.append(w.softmax(-1) @ v[:, a:b])
        o = torch.cat(outs, dim=1)                                                   # (H, N, hd)
        return self.proj(o.transpose(0, 1).reshape(x.shape[0], -1))

    def forward_masked(self, x, cos, sin, bias):
        """The same with one (N, N) additive mask that keeps each chunk to itself."""
        q, k, v = self.qkv_rotated(x, cos, sin)
        w = (q @ k.transpose(-1, -2)) * self.head_dim ** -0.5 + bias
        o = w.softmax(-1) @ v
        return self.proj(o.transpose(0, 1).reshape(x.shape[0], -1))


class VisionMlp(nn.Module):
    def __init__(self, c: VisionConfig):
        super().__init__()
        self.fc1 = nn.Linear(c.embed_dim, c.embed_dim * c.mlp_ratio)
        self.fc2 = nn.Linear(c.embed_dim * c.mlp_ratio, c.embed_dim)

    def forward(self, x):
        return self.fc2(quick_gelu(self.fc1(x)))      # Qwen2VLVisionConfig's hidden_act: quick_gelu


class Qwen2VLVisionBlock(nn.Module):
    def __init__(self, c: VisionConfig):
        super().__init__()
        self.norm1 = nn.LayerNorm(c.embed_dim, eps=1e-6)
        self.norm2 = nn.LayerNorm(c.embed_dim, eps=1e-6)
        self.attn = VisionAttention(c)
        self.mlp = VisionMlp(c)

    def forward(self, x, cos, sin, cu_seqlens=None, bias=None):
        h = self.norm1(x)
        x = x + (self.attn(h, cos, sin, cu_seqlens) if bias is None else self.attn.forward_masked(h, cos, sin, bias))
        return x + self.mlp(self.norm2(x))


class PatchMerger(nn.Module):
    def __init__(self, c: VisionConfig):
        super().__init__()
        self.width = c.embed_dim * c.spatial_merge_size ** 2
        self.ln_q = nn.LayerNorm(c.embed_dim, eps=1e-6)
        self.mlp = nn.Sequential(nn.Linear(self.width, self.width), nn.GELU(), nn.Linear(self.width, c.hidden_size))

    def forward(self, x):
        return self.mlp(self.ln_q(x).view(-1, self.width))   # 4 consecutive patches = one 2 x 2 block


class Qwen2VisionTransformer(nn.Module):
    def __init__(self, c: VisionConfig):
        super().__init__()
        self.c = c
        self.patch_embed = PatchEmbed(c)
        rot = (c.embed_dim // c.num_heads) // 2
        # VisionRotaryEmbedding(head_dim / 2): half the frequencies for rows, half for columns.
        self.register_buffer("inv_freq", 1.0 / (10000.0 ** (torch.arange(0, rot, 2, dtype=torch.float32) / rot)),
                             persistent=False)
        self.blocks = nn.ModuleList([Qwen2VLVisionBlock(c) for _ in range(c.depth)])
        self.merger = PatchMerger(c)

    def cos_sin(self, hpos, wpos):
        """(N,) row and column ids -> cos, sin (N, head_dim): [h freqs, w freqs] twice, as HF concatenates."""
        f = torch.cat([hpos.to(torch.float32)[:, None] * self.inv_freq, wpos.to(torch.float32)[:, None] * self.inv_freq], -1)
        emb = torch.cat([f, f], -1)
        return emb.cos(), emb.sin()

    def rot_pos_ids(self, grid_thw):
        """HF's rot_pos_emb ids: per image, rows and columns in the patch order of the processor (2 x 2 blocks)."""
        m, out = self.c.spatial_merge_size, []
        for t, h, w in grid_thw.tolist():
            hpos = torch.arange(h)[:, None].expand(-1, w).reshape(h // m, m, w // m, m).permute(0, 2, 1, 3).flatten()
            wpos = torch.arange(w)[None, :].expand(h, -1).reshape(h // m, m, w // m, m).permute(0, 2, 1, 3).flatten()
            out.append(torch.stack([hpos, wpos], -1).repeat(t, 1))
        ids = torch.cat(out)
        return ids[:, 0], ids[:, 1]

    def forward(self, pixel_values, grid_thw):
        """HF's forward: (N, C T P P), (images, 3) -> (N / 4, hidden_size)."""
        x = self.patch_embed(pixel_values)
        cos, sin = self.cos_sin(*self.rot_pos_ids(grid_thw))
        frames = torch.repeat_interleave(grid_thw[:, 1] * grid_thw[:, 2], grid_thw[:, 0])
        cu_seqlens = F.pad(frames.cumsum(0), (1, 0))          # each frame of each image attends to itself
        for blk in self.blocks:
            x = blk(x, cos, sin, cu_seqlens=cu_seqlens)
        return self.merger(x)

    def forward_export(self, pixel_values, grid_thw):
        """The same without a loop over images: every id from the patch index and the grids."""
        m = self.c.spatial_merge_size
        x = self.patch_embed(pixel_values)
        n = x.shape[0]
        idx = torch.arange(n)
        per_image = grid_thw[:, 0] * grid_thw[:, 1] * grid_thw[:, 2]               # (I,)
        ends = per_image.cumsum(0)                                                   # (I,)
        img = (idx[:, None] >= ends[None, :]).to(torch.int64).sum(1)                 # (N,) image of each patch
        start = (ends - per_image)[img]
        h, w = grid_thw[:, 1][img], grid_thw[:, 2][img]
        j = idx - start                                                              # index within the image
        frame = j // (h * w)
        r = j - frame * (h * w)                                                      # index within the frame
        row_blocks = m * m * (w // m)
        hb, rem = r // row_blocks, r % row_blocks
        wb, q = rem // (m * m), rem % (m * m)
        hpos, wpos = hb * m + q // m, wb * m + q % m
        cos, sin = self.cos_sin(hpos, wpos)
        seg = img * 1000000 + frame                                                   # one id per frame of an image
        bias = (seg[:, None] != seg[None, :]).to(torch.float32) * torch.finfo(torch.float32).min
        for blk in self.blocks:
            x = blk(x, cos, sin, bias=bias)
        return self.merger(x)
