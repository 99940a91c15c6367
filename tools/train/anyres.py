"""The LLaVA-NeXT AnyRes path, as Hugging Face's LlavaNext processor and model do it, for our tower.

A large image (a document page) is resized, keeping its aspect ratio, to the grid
pinpoint that keeps the most of its pixels, padded to it, and cut into tiles of
the vision tower's input size; a downscaled copy of the whole image comes first
(the global view). Each tile goes through the tower (and, with image_pooling, the
pooling); the tile features are stitched back into one grid, the padding is cut
off again, and a learned `image_newline` vector ends every row of the grid.

The bundled webvlm-tiny does not use this path (its config has no
image_grid_pinpoints): it is the reference for llava_next checkpoints and for a
later high-resolution model. `python3 anyres.py` runs a self-check.
"""
import math

import torch
import torch.nn.functional as F


def select_best_resolution(original_size, possible_resolutions):
    """HF's choice: the (height, width) pinpoint with the largest effective resolution, then the least waste."""
    oh, ow = original_size
    best, best_effective, best_waste = None, 0, float("inf")
    for h, w in possible_resolutions:
        scale = min(w / ow, h / oh)
        dw, dh = int(ow * scale), int(oh * scale)
        effective = min(dw * dh, ow * oh)
        waste = w * h - effective
        if effective > best_effective or (effective == best_effective and waste < best_waste):
            best, best_effective, best_waste = (h, w), effective, waste
    return best


def patch_output_size(original_size, target):
    """Size after an aspect-preserving resize into target (HF's _get_patch_output_size)."""
    oh, ow = original_size
    th, tw = target
    sw, sh = tw / ow, th / oh
    if sw < sh:
        return min(math.ceil(oh * sw), th), tw
    return th, min(math.ceil(ow * sh), tw)


def resize(x, size):
    """(3, H, W) float -> (3, h, w): bilinear with antialiasing, the same resize the rest of our pipeline uses."""
    if tuple(x.shape[1:]) == tuple(size):
        return x
    return F.interpolate(x[None], size=size, mode="bilinear", align_corners=False, antialias=True)[0]


def anyres_tiles(image, pinpoints, tile, pad_value=0.0):
    """(3, H, W) pixels (already normalised) -> (1 + rows * cols, 3, tile, tile): global view, then tiles row-major."""
    h, w = image.shape[1:]
    best = select_best_resolution((h, w), pinpoints)
    nh, nw = patch_output_size((h, w), best)
    canvas = torch.full((3, best[0], best[1]), pad_value)
    top, left = (best[0] - nh) // 2, (best[1] - nw) // 2
    canvas[:, top:top + nh, left:left + nw] = resize(image, (nh, nw))
    tiles = [resize(image, (tile, tile))]
    for r in range(best[0] // tile):
        for c in range(best[1] // tile):
            tiles.append(canvas[:, r * tile:(r + 1) * tile, c * tile:(c + 1) * tile])
    return torch.stack(tiles)


def unpad(features, original_size):
    """Cuts the padded border off a (C, H, W) feature grid (HF's unpad_image)."""
    oh, ow = original_size
    ch, cw = features.shape[1:]
    if ow / oh > cw / ch:
        new_h = int(round(oh * (cw / ow), 7))
        pad = (ch - new_h) // 2
        return features[:, pad:ch - pad, :]
    new_w = int(round(ow * (ch / oh), 7))
    pad = (cw - new_w) // 2
    return features[:, :, pad:cw - pad]


def pack_features(features, original_size, pinpoints, tile, image_newline):
    """(1 + tiles, side * side, D) projected features of one image -> (tokens, D), as LlavaNext's pack_image_features.

    The global view's tokens come first, then the stitched, unpadded grid with
    image_newline after every row.
    """
    side = int(math.isqrt(features.shape[1]))
    best = select_best_resolution(original_size, pinpoints)
    rows, cols = best[0] // tile, best[1] // tile
    base, rest = features[0], features[1:]
    d = rest.shape[-1]
    grid = rest.view(rows, cols, side, side, d)                 # (rows, cols, h, w, D)
    grid = grid.permute(4, 0, 2, 1, 3).reshape(d, rows * side, cols * side)  # (D, rows*h, cols*w)
    grid = unpad(grid, original_size)
    grid = torch.cat([grid, image_newline[:, None, None].expand(d, grid.shape[1], 1)], dim=2)  # newline per row
    return torch.cat([base, grid.flatten(1).transpose(0, 1)], dim=0)


def self_check():
    # A 256x192 document page against pinpoints of 64-pixel tiles.
    pinpoints = [(64, 128), (128, 64), (128, 128), (192, 128), (256, 192), (192, 192)]
    assert select_best_resolution((256, 192), pinpoints) == (256, 192)
    # 128x160 fits 192x192 at scale 1.2 keeping all its pixels; larger pinpoints only waste more.
    assert select_best_resolution((128, 160), pinpoints) == (192, 192)
    assert patch_output_size((128, 160), (192, 192)) == (154, 192)
    page = torch.rand(3, 256, 192)
    tiles = anyres_tiles(page, pinpoints, 64)
    assert tiles.shape == (1 + 4 * 3, 3, 64, 64)
    feats = torch.randn(tiles.shape[0], 16, 8)                 # 4x4 pooled tokens per tile, D = 8
    packed = pack_features(feats, (256, 192), pinpoints, 64, torch.zeros(8))
    assert packed.shape == (16 + 16 * (12 + 1), 8), packed.shape
    wide = pack_features(torch.randn(10, 16, 8), (128, 160), pinpoints, 64, torch.zeros(8))
    # 3x3 tiles make a 12x12 grid; 128x160 covers int(9.6) = 9 of its rows, and HF's
    # symmetric cut of (12 - 9) // 2 = 1 row per side keeps 10 (each with a newline).
    assert wide.shape == (16 + 10 * 13, 8), wide.shape
    print("anyres self-check passed")


if __name__ == "__main__":
    self_check()
