/**
 * LLaVA-NeXT AnyRes for one image, mirroring tools/train/anyres.py (HF's
 * LlavaNext processor and pack_image_features): pick the grid pinpoint that
 * keeps the most of the image, resize into it keeping the aspect ratio, pad,
 * cut into tower-sized tiles behind a downscaled global view; after the tower,
 * stitch the tile features into one grid, cut the padding off and end every
 * grid row with image_newline.
 *
 * The native engine runs llava_next checkpoints with it: llava-next-processing.ts
 * calls anyresTiles on the 0-255 image (padding 0 is HF's black canvas) and
 * normalises the views after; native/llava-next.ts packs the views' features
 * on the GPU from gridShape and unpadShape, and packFeatures is the CPU twin
 * its test compares with. The grid cut itself is tiling.ts's, shared with
 * Idefics3's image splitting.
 *
 * Sizes are [height, width] throughout, as HF's image_grid_pinpoints are.
 */
import { gridTiles } from './tiling';

export type Size = [number, number];

/** Pixels of the image a pinpoint keeps after an aspect-preserving resize into it (Python's int() truncations). */
function effectivePixels(originalSize: Size, pinpoint: Size): number {
  const [oh, ow] = originalSize;
  const [h, w] = pinpoint;
  const scale = Math.min(w / ow, h / oh);
  return Math.min(Math.trunc(ow * scale) * Math.trunc(oh * scale), ow * oh);
}

/**
 * HF's select_best_resolution: the pinpoint with the largest effective
 * resolution, ties broken by the least waste (pinpoint area minus effective
 * pixels); the earlier pinpoint wins a full tie. HF starts from effective 0 and
 * waste infinity, so its first pinpoint always wins the first comparison: that
 * is why the search can start from it, and why an image that keeps no pixel
 * anywhere (1 x 10000) still gets a pinpoint.
 */
export function selectBestResolution(originalSize: Size, pinpoints: readonly Size[]): Size {
  const first = pinpoints[0];
  if (first === undefined) throw new RangeError('AnyRes needs at least one grid pinpoint');
  let best: Size = [first[0], first[1]];
  let bestEffective = effectivePixels(originalSize, first);
  let bestWaste = first[0] * first[1] - bestEffective;
  for (const p of pinpoints.slice(1)) {
    const effective = effectivePixels(originalSize, p);
    const waste = p[0] * p[1] - effective;
    if (effective > bestEffective || (effective === bestEffective && waste < bestWaste)) {
      best = [p[0], p[1]];
      bestEffective = effective;
      bestWaste = waste;
    }
  }
  return best;
}

/** Size after an aspect-preserving resize into target (HF's _get_patch_output_size). */
export function patchOutputSize(originalSize: Size, target: Size): Size {
  const [oh, ow] = originalSize;
  const [th, tw] = target;
  const sw = tw / ow;
  const sh = th / oh;
  if (sw < sh) return [Math.min(Math.ceil(oh * sw), th), tw];
  return [th, Math.min(Math.ceil(ow * sh), tw)];
}

/** Tiles per column and row of the chosen pinpoint; a remainder smaller than a tile is dropped, as in anyres.py. */
export function gridShape(height: number, width: number, pinpoints: readonly Size[], tile: number): { rows: number; cols: number } {
  const [bh, bw] = selectBestResolution([height, width], pinpoints);
  return { rows: Math.floor(bh / tile), cols: Math.floor(bw / tile) };
}

interface Taps {
  start: number;
  weights: Float64Array;
}

/**
 * Per output index, torch's antialiased bilinear taps (upsample_bilinear2d_aa,
 * align_corners=False): a triangle whose support grows with the downscale
 * factor, window bounds truncated as torch does, weights renormalised at the
 * edges. Scale, centre and weights go through Math.fround because torch
 * computes them in f32: in f64 the centres drift from torch's by up to 7e-6
 * of a pixel value on non-integer ratios.
 */
function aaTaps(inSize: number, outSize: number): Taps[] {
  const f = Math.fround;
  const scale = f(inSize / outSize);
  const support = scale >= 1 ? scale : 1;
  const invScale = scale >= 1 ? f(1 / scale) : 1;
  const taps: Taps[] = [];
  for (let o = 0; o < outSize; o++) {
    const centre = f(scale * (o + 0.5));
    const start = Math.max(Math.trunc(f(f(centre - support) + 0.5)), 0);
    const end = Math.min(Math.trunc(f(f(centre + support) + 0.5)), inSize);
    const weights = new Float64Array(Math.max(end - start, 0));
    let total = 0;
    for (let j = 0; j < weights.length; j++) {
      const w = Math.max(0, f(1 - Math.abs(f(f(f(start + j - centre) + 0.5) * invScale))));
      weights[j] = w;
      total = f(total + w);
    }
    if (total !== 0) for (let j = 0; j < weights.length; j++) weights[j] = f((weights[j] as number) / total);
    taps.push({ start, weights });
  }
  return taps;
}

/** One separable pass over [planes, rows, cols] data along rows (vertical) or cols (horizontal). */
function resizeAxis(src: Float32Array, planes: number, rows: number, cols: number, outLen: number, vertical: boolean): Float32Array {
  const taps = aaTaps(vertical ? rows : cols, outLen);
  const outRows = vertical ? outLen : rows;
  const outCols = vertical ? cols : outLen;
  const out = new Float32Array(planes * outRows * outCols);
  // Stride between neighbouring taps: a row apart when resampling vertically, one element otherwise.
  const step = vertical ? cols : 1;
  for (let p = 0; p < planes; p++) {
    for (let r = 0; r < outRows; r++) {
      for (let c = 0; c < outCols; c++) {
        const { start, weights } = taps[vertical ? r : c] as Taps;
        let base = p * rows * cols + (vertical ? start * cols + c : r * cols + start);
        let sum = 0;
        for (let j = 0; j < weights.length; j++, base += step) sum += (weights[j] as number) * (src[base] as number);
        out[(p * outRows + r) * outCols + c] = sum;
      }
    }
  }
  return out;
}

/**
 * Channel-major float pixels [3, H, W] -> [3, outH, outW], as torch's
 * interpolate(mode='bilinear', align_corners=False, antialias=True): width
 * first, then height (the order only moves f32 rounding), an unchanged axis
 * skipped (its taps would be the identity), the intermediate kept in f32.
 * Upscaling reduces to plain half-pixel bilinear with the edge pixel repeated.
 */
export function resizeChw(pixels: Float32Array, height: number, width: number, outH: number, outW: number): Float32Array {
  if (pixels.length !== 3 * height * width) throw new RangeError(`pixels hold ${pixels.length} values, not 3 x ${height} x ${width}`);
  if (outH < 1 || outW < 1) throw new RangeError(`cannot resize to ${outH}x${outW}`);
  let x = pixels;
  if (outW !== width) x = resizeAxis(x, 3, height, width, outW, false);
  if (outH !== height) x = resizeAxis(x, 3, height, outW, outH, true);
  return x === pixels ? pixels.slice() : x;
}

/**
 * Normalised pixels [3, H, W] -> views of [3, tile, tile]: the whole image
 * resized to one tile first, then the tiles of the padded pinpoint canvas
 * row-major. The image sits centred on the canvas; padValue fills the rest
 * (0 is the normalised mean, as anyres.py pads after normalising).
 */
export function anyresTiles(pixels: Float32Array, height: number, width: number, pinpoints: readonly Size[], tile: number, padValue = 0): Float32Array[] {
  const best = selectBestResolution([height, width], pinpoints);
  const [bh, bw] = best;
  const [nh, nw] = patchOutputSize([height, width], best);
  const resized = resizeChw(pixels, height, width, nh, nw);
  const canvas = new Float32Array(3 * bh * bw).fill(padValue);
  const top = Math.floor((bh - nh) / 2);
  const left = Math.floor((bw - nw) / 2);
  for (let c = 0; c < 3; c++) {
    for (let y = 0; y < nh; y++) {
      const from = (c * nh + y) * nw;
      canvas.set(resized.subarray(from, from + nw), (c * bh + top + y) * bw + left);
    }
  }
  return [resizeChw(pixels, height, width, tile, tile), ...gridTiles(canvas, bh, bw, Math.floor(bh / tile), Math.floor(bw / tile), tile, tile)];
}

/**
 * The rows or columns of a stitched feature grid that hold the image and not
 * its padding (HF's unpad_image). The cut is symmetric, (grid - kept) // 2 on
 * each side, so an odd remainder keeps one extra row or column, as HF does.
 * round(x, 7) before int() stops 8.9999999 from truncating to 8.
 */
export function unpadShape(gridH: number, gridW: number, originalSize: Size): { top: number; left: number; height: number; width: number } {
  const [oh, ow] = originalSize;
  const round7 = (v: number) => Math.trunc(Math.round(v * 1e7) / 1e7);
  if (ow / oh > gridW / gridH) {
    const pad = Math.floor((gridH - round7(oh * (gridW / ow))) / 2);
    return { top: pad, left: 0, height: gridH - 2 * pad, width: gridW };
  }
  const pad = Math.floor((gridW - round7(ow * (gridH / oh))) / 2);
  return { top: 0, left: pad, height: gridH, width: gridW - 2 * pad };
}

/** Token-major feature grid [H, W, C] -> its unpadded part [h, w, C]. */
export function unpad(grid: Float32Array, gridH: number, gridW: number, channels: number, originalSize: Size): { data: Float32Array; height: number; width: number } {
  if (grid.length !== gridH * gridW * channels) throw new RangeError(`grid holds ${grid.length} values, not ${gridH} x ${gridW} x ${channels}`);
  const { top, left, height, width } = unpadShape(gridH, gridW, originalSize);
  const data = new Float32Array(height * width * channels);
  for (let y = 0; y < height; y++) {
    const from = ((top + y) * gridW + left) * channels;
    data.set(grid.subarray(from, from + width * channels), y * width * channels);
  }
  return { data, height, width };
}

/** Stitches the tile views' features ([side^2, C] each, after the global view) into one token-major grid [rows*side, cols*side, C]. */
function stitch(tiles: readonly Float32Array[], rows: number, cols: number, side: number, channels: number): Float32Array {
  const gridW = cols * side;
  const grid = new Float32Array(rows * side * gridW * channels);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const view = tiles[r * cols + c] as Float32Array;
      for (let i = 0; i < side; i++) {
        // Row i of tile (r, c) is row r*side + i of the grid, columns c*side ..
        const to = ((r * side + i) * gridW + c * side) * channels;
        grid.set(view.subarray(i * side * channels, (i + 1) * side * channels), to);
      }
    }
  }
  return grid;
}

/**
 * Features of every view of one image (global view first, [side^2, C] each,
 * side = patchesPerSide) -> [tokens, C], as pack_image_features orders them:
 * the global view's tokens, then the unpadded grid row by row, each row
 * followed by newline.
 */
export function packFeatures(
  views: readonly Float32Array[],
  originalSize: Size,
  pinpoints: readonly Size[],
  tile: number,
  patchesPerSide: number,
  newline: Float32Array,
): { tokens: number; data: Float32Array } {
  const channels = newline.length;
  const side = patchesPerSide;
  const { rows, cols } = gridShape(originalSize[0], originalSize[1], pinpoints, tile);
  if (views.length !== 1 + rows * cols) throw new RangeError(`a ${originalSize[0]}x${originalSize[1]} image has ${1 + rows * cols} views, got ${views.length}`);
  for (const v of views) {
    if (v.length !== side * side * channels) throw new RangeError(`a view holds ${v.length} values, not ${side}^2 tokens x ${channels}`);
  }
  const grid = stitch(views.slice(1), rows, cols, side, channels);
  const kept = unpad(grid, rows * side, cols * side, channels, originalSize);
  const tokens = side * side + kept.height * (kept.width + 1);
  const data = new Float32Array(tokens * channels);
  data.set(views[0] as Float32Array, 0);
  const rowLen = kept.width * channels;
  for (let y = 0; y < kept.height; y++) {
    const to = (side * side + y * (kept.width + 1)) * channels;
    data.set(kept.data.subarray(y * rowLen, (y + 1) * rowLen), to);
    data.set(newline, to + rowLen);
  }
  return { tokens, data };
}

/** Image tokens the prompt needs for one image of this size: the global view plus the unpadded grid with a newline per row. */
export function imageTokenCount(originalSize: Size, pinpoints: readonly Size[], tile: number, patchesPerSide: number): number {
  const { rows, cols } = gridShape(originalSize[0], originalSize[1], pinpoints, tile);
  const { height, width } = unpadShape(rows * patchesPerSide, cols * patchesPerSide, originalSize);
  return patchesPerSide * patchesPerSide + height * (width + 1);
}
