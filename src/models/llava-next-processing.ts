/**
 * LlavaNextImageProcessor and LlavaNextProcessor's prompt expansion (HF
 * image_processing_llava_next.py, processing_llava_next.py), as the repo's
 * preprocessor_config.json says, on AnyRes (anyres.ts):
 * 1. the grid pinpoint that keeps the most of the image; the image resized
 *    into it keeping its aspect ratio, centred on a black canvas of the
 *    pinpoint's size, cut into crop_size tiles row-major;
 * 2. the whole image squashed to crop_size as the global view, first;
 * 3. every view rescaled and normalised: pixel_values [3, S, S] per view;
 * 4. each <image> of the prompt repeated as many times as pack_image_features
 *    will give tokens for that image (the processor's _get_number_of_features).
 *
 * Resampling: HF Python resizes the uint8 image with PIL and rounds to bytes;
 * here every resize is an antialiased bilinear (PIL's triangle filter widened
 * on a downscale) on 0-255 floats, as torch's interpolate(antialias=True) does,
 * without rounding. Black padding before the normalisation is HF's order.
 */
import { anyresTiles, gridShape, imageTokenCount, selectBestResolution, type Size } from './anyres';
import type { LlavaConfig } from './config';
import type { ImagePixels } from './image-processing';

export interface LlavaNextPreprocessor {
  /** crop_size: the side S of every view, the vision tower's image_size. */
  tile: number;
  /** [height, width] pinpoints, multiples of tile. */
  pinpoints: Size[];
  doRescale: boolean;
  rescaleFactor: number;
  doNormalize: boolean;
  imageMean: [number, number, number];
  imageStd: [number, number, number];
}

/** One image after the processor: its views and what packing needs to know about it. */
export interface LlavaNextImage {
  /** The global view, then rows x cols tiles row-major: [3, S, S] each. */
  views: Float32Array[];
  rows: number;
  cols: number;
  /** [height, width] of the image as it came: unpadding and the token count depend on it. */
  size: Size;
  /** Image tokens it takes in the prompt. */
  tokens: number;
}

type Json = Record<string, unknown>;

function triple(v: unknown, fallback: number): [number, number, number] {
  if (Array.isArray(v) && v.length === 3 && v.every((x) => typeof x === 'number')) return v as [number, number, number];
  return [fallback, fallback, fallback];
}

function pinpointsOf(v: unknown, where: string, tile: number): Size[] {
  if (!Array.isArray(v) || v.length === 0) throw new RangeError(`${where} has no image_grid_pinpoints`);
  return v.map((p) => {
    if (!Array.isArray(p) || p.length !== 2 || !p.every((x) => Number.isInteger(x) && (x as number) >= tile && (x as number) % tile === 0)) {
      throw new RangeError(`${where} image_grid_pinpoints holds ${JSON.stringify(p)}: each must be [height, width] in multiples of ${tile}`);
    }
    return [p[0] as number, p[1] as number];
  });
}

/** preprocessor_config.json of a llava_next repo; pinpoints fall back to config.json's, sizes to the tower's. */
export function parseLlavaNextPreprocessor(raw: unknown, config: LlavaConfig): LlavaNextPreprocessor {
  const c = (raw ?? {}) as Json;
  const crop = (c.crop_size ?? {}) as Json;
  const tile = typeof crop.height === 'number' ? crop.height : config.vision.imageSize;
  if (tile !== config.vision.imageSize) {
    throw new RangeError(`preprocessor_config.json crop_size ${tile} is not the vision tower's image_size ${config.vision.imageSize}`);
  }
  const pinpoints = c.image_grid_pinpoints ?? config.gridPinpoints;
  return Object.freeze({
    tile,
    pinpoints: pinpointsOf(pinpoints, c.image_grid_pinpoints ? 'preprocessor_config.json' : 'config.json', tile),
    doRescale: c.do_rescale !== false,
    rescaleFactor: typeof c.rescale_factor === 'number' ? c.rescale_factor : 1 / 255,
    doNormalize: c.do_normalize !== false,
    imageMean: triple(c.image_mean, 0.5),
    imageStd: triple(c.image_std, 0.5),
  });
}

/** RGB(A) bytes -> channel-major 0-255 floats [3, H, W]. */
function planes(img: ImagePixels): Float32Array {
  const plane = img.width * img.height;
  const out = new Float32Array(3 * plane);
  for (let c = 0; c < 3; c++) {
    for (let i = 0; i < plane; i++) out[c * plane + i] = img.data[i * img.channels + c] as number;
  }
  return out;
}

/** Rescale, then (x - mean) / std per channel, in place; each step rounded to f32 as torch computes it. */
function normalise(view: Float32Array, pre: LlavaNextPreprocessor): Float32Array {
  const f = Math.fround;
  const plane = view.length / 3;
  const scale = f(pre.doRescale ? pre.rescaleFactor : 1);
  for (let c = 0; c < 3; c++) {
    const mean = f(pre.doNormalize ? (pre.imageMean[c] as number) : 0);
    const std = f(pre.doNormalize ? (pre.imageStd[c] as number) : 1);
    for (let i = c * plane; i < (c + 1) * plane; i++) view[i] = f(f(f((view[i] as number) * scale) - mean) / std);
  }
  return view;
}

/** One image -> its views and grid, and the number of image tokens it takes (patchesPerSide: the tower's tokens per view side). */
export function preprocessLlavaNext(img: ImagePixels, pre: LlavaNextPreprocessor, patchesPerSide: number): LlavaNextImage {
  if (img.width < 1 || img.height < 1) throw new RangeError(`the image is ${img.width}x${img.height} pixels; it needs at least one pixel`);
  const size: Size = [img.height, img.width];
  // Padding with 0 before normalising is HF's black canvas.
  const views = anyresTiles(planes(img), img.height, img.width, pre.pinpoints, pre.tile, 0).map((v) => normalise(v, pre));
  const { rows, cols } = gridShape(img.height, img.width, pre.pinpoints, pre.tile);
  return { views, rows, cols, size, tokens: imageTokenCount(size, pre.pinpoints, pre.tile, patchesPerSide) };
}

/** The pinpoint an image of this size is fitted into, [height, width]. */
export function bestResolution(size: Size, pre: LlavaNextPreprocessor): Size {
  return selectBestResolution(size, pre.pinpoints);
}

export const IMAGE_TOKEN = '<image>';

/** Every <image> of the text repeated to its image's token count, in order. */
export function expandLlavaNextPrompt(text: string, images: readonly { tokens: number }[]): string {
  const parts = text.split(IMAGE_TOKEN);
  if (parts.length - 1 !== images.length) throw new RangeError(`the text has ${parts.length - 1} ${IMAGE_TOKEN} tokens but ${images.length} image(s) were given`);
  let out = parts[0] as string;
  images.forEach((img, i) => {
    out += IMAGE_TOKEN.repeat(img.tokens) + (parts[i + 1] as string);
  });
  return out;
}
