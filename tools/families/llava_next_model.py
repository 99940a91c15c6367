"""LlavaNextForConditionalGeneration (HF modeling_llava_next.py) in PyTorch, on tools/train/model.py's LLaVA.

LLaVA-NeXT is LLaVA (CLIP tower, MLP projector, Llama decoder; the same parameter
names) plus AnyRes: every image arrives as several views (a squashed global view,
then the tiles of the grid pinpoint it was fitted into), each view goes through the
tower and the projector on its own, and pack_image_features stitches the tiles'
features back into one grid, cuts off the rows or columns that only saw padding,
and ends every grid row with the learned `image_newline` vector [D]. The global
view's tokens come first. The hub's checkpoints (llava-hf/llava-v1.6-*) keep the
pre-4.52 names: image_newline, vision_tower.*, multi_modal_projector.*,
language_model.model.*, language_model.lm_head.

Shapes: V views of one image, S view side in pixels, n = (S / patch)^2 patches per
view, D text width.
"""
import math
import os
import sys
from dataclasses import dataclass, field

import torch
import torch.nn as nn

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "train"))
from model import LlavaConfig, LlavaForConditionalGeneration  # noqa: E402
from decoder_common import greedy_loop, wide_init  # noqa: E402
import llava_next_processor as proc  # noqa: E402


@dataclass
class LlavaNextConfig(LlavaConfig):
    image_grid_pinpoints: list = field(default_factory=lambda: [[32, 64], [64, 32], [64, 64], [32, 96], [96, 32]])
    # HF's llava_next has no pooling: every view gives (S / patch)^2 tokens.
    image_pooling: int = 1
    vision_feature_layer: int = -2

    def to_hf(self):
        d = super().to_hf()
        d["architectures"] = ["LlavaNextForConditionalGeneration"]
        d["model_type"] = "llava_next"
        d["image_grid_pinpoints"] = self.image_grid_pinpoints
        d["torch_dtype"] = "bfloat16"
        # llava_next counts its image tokens per image (the processor does): no fixed length, no pooling.
        for key in ("image_seq_length", "image_pooling"):
            d.pop(key)
        return d


class QuickGelu(nn.Module):
    """CLIP's quick_gelu: x * sigmoid(1.702 x)."""

    def forward(self, x):
        return x * torch.sigmoid(1.702 * x)


class LlavaNextForConditionalGeneration(LlavaForConditionalGeneration):
    def __init__(self, c: LlavaNextConfig):
        super().__init__(c)
        if c.vision_config.hidden_act == "quick_gelu":
            for layer in self.vision_tower.vision_model.encoder.layers:
                layer.mlp.act = QuickGelu()
        d = c.text_config.hidden_size
        # HF draws it as randn(D) / sqrt(D).
        self.image_newline = nn.Parameter(torch.randn(d) / math.sqrt(d))
        # Wide random weights (decoder_common.py) so greedy ids do not flip on rounding between runtimes.
        self.apply(lambda m: wide_init(m, nn.Conv2d, 0.2))
        with torch.no_grad():
            self.vision_tower.vision_model.embeddings.class_embedding.normal_(std=0.2)

    def view_features(self, views):
        """(V, 3, S, S) -> (V, n, D): every view through the tower (class token dropped) and the projector."""
        if self.config.vision_feature_select_strategy != "default":
            raise ValueError("llava_next packs (S / patch)^2 tokens per view: the 'default' strategy only")
        return self.get_image_features(views)

    def pack_image_features(self, feats, image_size):
        """One image's (V, n, D) view features -> (tokens, D), as HF's pack_image_features."""
        c = self.config
        side = c.vision_config.image_size // c.vision_config.patch_size
        base, rest = feats[0], feats[1:]
        rows, cols = proc.grid_shape(image_size, c.image_grid_pinpoints, c.vision_config.image_size)
        grid = rest.view(rows, cols, side, side, -1)                          # (rows, cols, h, w, D)
        grid = grid.permute(4, 0, 2, 1, 3).contiguous()                       # (D, rows, h, cols, w)
        grid = grid.flatten(1, 2).flatten(2, 3)                               # (D, rows*h, cols*w)
        grid = unpad_image(grid, image_size)
        newline = self.image_newline[:, None, None].expand(*grid.shape[:-1], 1)
        grid = torch.cat([grid, newline], dim=-1)                             # a newline ends every row
        grid = grid.flatten(1, 2).transpose(0, 1)                             # (rows' * (cols' + 1), D)
        return torch.cat([base, grid], dim=0)

    def image_features(self, views_per_image, image_sizes):
        """[(V_i, 3, S, S)] and [(h_i, w_i)] -> (sum of tokens, D), image by image."""
        return torch.cat([self.pack_image_features(self.view_features(v), s) for v, s in zip(views_per_image, image_sizes)])

    def decode_logits(self, x, mask, positions, past=None):
        logits, _, presents = self.decode(x, mask, positions, past)
        return logits, presents

    def greedy(self, input_ids, views_per_image, image_sizes, steps, eos_ids=()):
        """Greedy decoding with the KV cache, up to `steps` ids or an end id (kept), as HF's generate.

        Returns (first-step logits (V,), generated ids, smallest top-1/top-2 logit gap on the way).
        """
        x = self.embed(input_ids, self.image_features(views_per_image, image_sizes))
        mask = torch.ones_like(input_ids)
        logits, past = self.decode_logits(x, mask, torch.arange(input_ids.shape[1])[None])
        return greedy_loop(logits, past, mask, steps, eos_ids, lambda nxt, m, pos, kv: self.decode_logits(
            self.embed(torch.tensor([[nxt]])), m, torch.tensor([[pos]]), kv))


def unpad_image(grid, original_size):
    """(D, H, W) -> the rows or columns that hold the image (HF's unpad_image): a symmetric cut,
    round(x, 7) before int() so 8.9999999 does not truncate to 8."""
    oh, ow = original_size
    h, w = grid.shape[1:]
    if ow / oh > w / h:
        pad = (h - int(round(oh * (w / ow), 7))) // 2
        return grid[:, pad:h - pad, :]
    pad = (w - int(round(ow * (h / oh), 7))) // 2
    return grid[:, :, pad:w - pad]
