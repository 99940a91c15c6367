/**
 * Idefics3ImageProcessor and Idefics3Processor's prompt expansion (HF
 * image_processing_idefics3.py, processing_idefics3.py; SmolVLM), as the
 * repo's preprocessor_config.json says:
 * 1. do_resize: the longest edge becomes size.longest_edge, the other keeps
 *    the aspect ratio (int(), then +1 if odd: HF's rule).
 * 2. do_image_splitting: both edges rounded up to multiples of
 *    max_image_size.longest_edge (M), the image cut into rows x cols M x M
 *    tiles, then the whole image resized to M x M as the global view (last).
 *    Without splitting the image is squashed to M x M (HF's fast processor
 *    and transformers.js; every tile the tower sees is full, never padded).
 * 3. rescale and normalise, channel-major pixel_values [3, M, M] per tile.
 *
 * Resampling: steps 1-2 resize the uint8 image with the config's filter
 * (resample 1: Lanczos, as PIL), rounding back to bytes as PIL does; the
 * global view is a bilinear resize (half-pixel, no antialias) of the
 * normalised floats, as transformers.js does (HF Python resizes bytes with
 * Lanczos there too: the two differ on every image that needs a resize).
 */
import { resizeRgb, type ImagePixels } from './image-processing';
import { gridTiles } from './tiling';

export interface Idefics3Preprocessor {
  longestEdge: number;
  /** Tile side M (max_image_size.longest_edge), the vision tower's image_size. */
  maxImageSize: number;
  doResize: boolean;
  doImageSplitting: boolean;
  resample: number;
  doRescale: boolean;
  rescaleFactor: number;
  doNormalize: boolean;
  imageMean: [number, number, number];
  imageStd: [number, number, number];
}

/** One image's tiles in the order the prompt names them: rows x cols crops, then the global view. */
export interface Idefics3Image {
  tiles: Float32Array[];
  /** 0 and 0 when the image was not split (one tile). */
  rows: number;
  cols: number;
}

type Json = Record<string, unknown>;

function edge(v: unknown, key: string, fallback: number): number {
  const o = (v ?? {}) as Json;
  const n = o.longest_edge ?? fallback;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1) throw new Error(`preprocessor_config.json ${key}.longest_edge must be a positive integer, got ${JSON.stringify(n)}`);
  return n;
}

function triple(v: unknown): [number, number, number] {
  if (Array.isArray(v) && v.length === 3 && v.every((x) => typeof x === 'number')) return v as [number, number, number];
  return [0.5, 0.5, 0.5];
}

/** preprocessor_config.json of an Idefics3 repo; imageSize is the vision tower's, which max_image_size must equal. */
export function parseIdefics3Preprocessor(raw: unknown, imageSize: number): Idefics3Preprocessor {
  const c = (raw ?? {}) as Json;
  const maxImageSize = edge(c.max_image_size, 'max_image_size', imageSize);
  if (maxImageSize !== imageSize) throw new Error(`preprocessor_config.json max_image_size.longest_edge is ${maxImageSize} but the vision tower takes ${imageSize}x${imageSize} tiles`);
  return Object.freeze({
    longestEdge: edge(c.size, 'size', 4 * imageSize),
    maxImageSize,
    doResize: c.do_resize !== false,
    doImageSplitting: c.do_image_splitting !== false,
    resample: typeof c.resample === 'number' ? c.resample : 1,
    doRescale: c.do_rescale !== false,
    rescaleFactor: typeof c.rescale_factor === 'number' ? c.rescale_factor : 1 / 255,
    doNormalize: c.do_normalize !== false,
    imageMean: triple(c.image_mean),
    imageStd: triple(c.image_std),
  });
}

/** HF's _resize_output_size_rescale_to_max_len: [height, width] with the longest edge at maxLen. */
export function resizeToMaxLen(height: number, width: number, maxLen: number): [number, number] {
  const aspect = width / height;
  let h: number;
  let w: number;
  if (width >= height) {
    w = maxLen;
    h = Math.trunc(w / aspect);
    if (h % 2 !== 0) h += 1;
  } else {
    h = maxLen;
    w = Math.trunc(h * aspect);
    if (w % 2 !== 0) w += 1;
  }
  return [Math.max(h, 1), Math.max(w, 1)];
}

/** HF's resize_for_vision_encoder: edges rounded up to multiples of m, the aspect kept first. */
export function sizeForVisionEncoder(height: number, width: number, m: number): [number, number] {
  const aspect = width / height;
  if (width >= height) {
    const w = Math.ceil(width / m) * m;
    return [Math.max(m, Math.ceil(Math.trunc(w / aspect) / m) * m), w];
  }
  const h = Math.ceil(height / m) * m;
  return [h, Math.max(m, Math.ceil(Math.trunc(h * aspect) / m) * m)];
}

/** RGB bytes [H, W, 3] resized with the config's filter and rounded back to bytes (identity when the size matches). */
function resizeBytes(img: ImagePixels, height: number, width: number, resample: number): ImagePixels {
  if (img.width === width && img.height === height) return img;
  const f = resizeRgb(img, width, height, resample);
  const data = new Uint8Array(f.length);
  for (let i = 0; i < f.length; i++) data[i] = Math.round(f[i] as number);
  return { width, height, data, channels: 3 };
}

/** Rescale then normalise, each step rounded to f32 as the reference stores it: [3, H, W]. */
function normalise(img: ImagePixels, cfg: Idefics3Preprocessor): Float32Array {
  const plane = img.width * img.height;
  const out = new Float32Array(3 * plane);
  for (let c = 0; c < 3; c++) {
    const mean = cfg.doNormalize ? (cfg.imageMean[c] as number) : 0;
    const std = cfg.doNormalize ? (cfg.imageStd[c] as number) : 1;
    for (let i = 0; i < plane; i++) {
      const v = img.data[i * img.channels + c] as number;
      const x = Math.fround(cfg.doRescale ? v * cfg.rescaleFactor : v);
      out[c * plane + i] = (x - mean) / std;
    }
  }
  return out;
}

/** Bilinear resize of [3, H, W] floats to [3, m, m]: half-pixel centres, edges clamped, no antialias (torch/ONNX Resize). */
export function bilinearResize(x: Float32Array, height: number, width: number, outH: number, outW: number): Float32Array {
  const taps = (inSize: number, outSize: number): { i0: number; i1: number; t: number }[] =>
    Array.from({ length: outSize }, (_, o) => {
      const src = Math.max(0, (o + 0.5) * (inSize / outSize) - 0.5);
      const i0 = Math.min(Math.floor(src), inSize - 1);
      return { i0, i1: Math.min(i0 + 1, inSize - 1), t: src - i0 };
    });
  const ys = taps(height, outH);
  const xs = taps(width, outW);
  const out = new Float32Array(3 * outH * outW);
  for (let c = 0; c < 3; c++) {
    const base = c * height * width;
    for (let oy = 0; oy < outH; oy++) {
      const { i0: y0, i1: y1, t: ty } = ys[oy] as { i0: number; i1: number; t: number };
      for (let ox = 0; ox < outW; ox++) {
        const { i0: x0, i1: x1, t: tx } = xs[ox] as { i0: number; i1: number; t: number };
        const top = (x[base + y0 * width + x0] as number) * (1 - tx) + (x[base + y0 * width + x1] as number) * tx;
        const bottom = (x[base + y1 * width + x0] as number) * (1 - tx) + (x[base + y1 * width + x1] as number) * tx;
        out[c * outH * outW + oy * outW + ox] = top * (1 - ty) + bottom * ty;
      }
    }
  }
  return out;
}

/** One image -> its tiles ([3, M, M] each) and grid. */
export function preprocessIdefics3(img: ImagePixels, cfg: Idefics3Preprocessor): Idefics3Image {
  if (img.width < 1 || img.height < 1) throw new RangeError(`the image is ${img.width}x${img.height} pixels; it needs at least one pixel`);
  const m = cfg.maxImageSize;
  let image = img;
  if (cfg.doResize) image = resizeBytes(image, ...resizeToMaxLen(image.height, image.width, cfg.longestEdge), cfg.resample);
  if (!cfg.doImageSplitting) return { tiles: [normalise(resizeBytes(image, m, m, cfg.resample), cfg)], rows: 0, cols: 0 };
  image = resizeBytes(image, ...sizeForVisionEncoder(image.height, image.width, m), cfg.resample);
  const x = normalise(image, cfg);
  const { height: h, width: w } = image;
  if (h <= m && w <= m) return { tiles: [x], rows: 0, cols: 0 };
  const rows = Math.ceil(h / m);
  const cols = Math.ceil(w / m);
  const th = Math.ceil(h / rows);
  const tw = Math.ceil(w / cols);
  const tiles = [...gridTiles(x, h, w, rows, cols, th, tw), bilinearResize(x, h, w, m, m)];
  return { tiles, rows, cols };
}

export const FAKE_IMAGE_TOKEN = '<fake_token_around_image>';
export const IMAGE_TOKEN = '<image>';
export const GLOBAL_IMAGE_TOKEN = '<global-img>';

/** The text one <image> becomes (HF's get_image_prompt_string): a block per tile, a newline after each row, then the global view. */
export function imagePromptString(rows: number, cols: number, imageSeqLen: number): string {
  const images = IMAGE_TOKEN.repeat(imageSeqLen);
  if (rows === 0 && cols === 0) return `${FAKE_IMAGE_TOKEN}${GLOBAL_IMAGE_TOKEN}${images}${FAKE_IMAGE_TOKEN}`;
  let text = '';
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) text += `${FAKE_IMAGE_TOKEN}<row_${r + 1}_col_${c + 1}>${images}`;
    text += '\n';
  }
  return `${text}\n${FAKE_IMAGE_TOKEN}${GLOBAL_IMAGE_TOKEN}${images}${FAKE_IMAGE_TOKEN}`;
}

/** Every <image> of a chat text replaced by its image's block, in order. */
export function expandImagePrompt(text: string, grids: readonly { rows: number; cols: number }[], imageSeqLen: number): string {
  const parts = text.split(IMAGE_TOKEN);
  if (parts.length - 1 !== grids.length) throw new RangeError(`the text has ${parts.length - 1} <image> tokens but ${grids.length} image(s) were given`);
  let out = parts[0] as string;
  grids.forEach((g, i) => {
    out += imagePromptString(g.rows, g.cols, imageSeqLen) + (parts[i + 1] as string);
  });
  return out;
}
