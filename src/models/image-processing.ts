/**
 * Image preprocessing as the model's preprocessor_config.json says
 * (HF CLIPImageProcessor): convert to RGB, resize, optional centre crop,
 * rescale, normalise, channel-major pixel_values [3, H, W]. Resizing uses
 * separable filters scaled by the downscale factor (PIL's approach), so a
 * large photo is averaged, not aliased, on its way to the model's size.
 */

export interface PreprocessorConfig {
  size: { height: number; width: number };
  /** PIL codes: 1 Lanczos, 2 bilinear, 3 bicubic (others fall back to bilinear). */
  resample: number;
  doResize: boolean;
  doCenterCrop: boolean;
  cropSize: { height: number; width: number };
  doRescale: boolean;
  rescaleFactor: number;
  doNormalize: boolean;
  imageMean: [number, number, number];
  imageStd: [number, number, number];
}

/** Decoded pixels: RGB (3) or RGBA (4) bytes per pixel, row-major. */
export interface ImagePixels {
  width: number;
  height: number;
  data: Uint8Array | Uint8ClampedArray;
  channels: 3 | 4;
}

type Json = Record<string, unknown>;

function triple(v: unknown, fallback: number): [number, number, number] {
  if (Array.isArray(v) && v.length === 3 && v.every((x) => typeof x === 'number')) return v as [number, number, number];
  if (typeof v === 'number') return [v, v, v];
  return [fallback, fallback, fallback];
}

function sizeOf(v: unknown, fallback: number): { height: number; width: number } {
  const o = (v ?? {}) as Json;
  if (typeof o.height === 'number' && typeof o.width === 'number') return { height: o.height, width: o.width };
  if (typeof o.shortest_edge === 'number') return { height: o.shortest_edge, width: o.shortest_edge };
  if (typeof v === 'number') return { height: v, width: v };
  return { height: fallback, width: fallback };
}

export function parsePreprocessorConfig(raw: unknown, imageSize: number): PreprocessorConfig {
  const c = (raw ?? {}) as Json;
  return Object.freeze({
    size: sizeOf(c.size, imageSize),
    resample: typeof c.resample === 'number' ? c.resample : 3,
    doResize: c.do_resize !== false,
    doCenterCrop: c.do_center_crop === true,
    cropSize: sizeOf(c.crop_size, imageSize),
    doRescale: c.do_rescale !== false,
    rescaleFactor: typeof c.rescale_factor === 'number' ? c.rescale_factor : 1 / 255,
    doNormalize: c.do_normalize !== false,
    imageMean: triple(c.image_mean, 0.5),
    imageStd: triple(c.image_std, 0.5),
  });
}

function bilinearKernel(x: number): number {
  const a = Math.abs(x);
  return a < 1 ? 1 - a : 0;
}

function bicubicKernel(x: number): number {
  // Keys' cubic with a = -0.5, as PIL uses.
  const a = Math.abs(x);
  if (a < 1) return (1.5 * a - 2.5) * a * a + 1;
  if (a < 2) return ((-0.5 * a + 2.5) * a - 4) * a + 2;
  return 0;
}

function lanczosKernel(x: number): number {
  // PIL's LANCZOS: sinc(x) sinc(x / 3) on |x| < 3.
  const sinc = (v: number): number => (v === 0 ? 1 : Math.sin(Math.PI * v) / (Math.PI * v));
  return Math.abs(x) < 3 ? sinc(x) * sinc(x / 3) : 0;
}

/** Per output index: the first input index and normalised weights (PIL-style, support grows when shrinking). */
function filterTaps(inSize: number, outSize: number, kernel: (x: number) => number, support: number): { start: number; weights: Float64Array }[] {
  const scale = inSize / outSize;
  const fscale = Math.max(1, scale);
  const radius = support * fscale;
  const taps: { start: number; weights: Float64Array }[] = [];
  for (let o = 0; o < outSize; o++) {
    const centre = (o + 0.5) * scale;
    const start = Math.max(0, Math.floor(centre - radius));
    const end = Math.min(inSize, Math.ceil(centre + radius));
    const weights = new Float64Array(end - start);
    let total = 0;
    for (let i = start; i < end; i++) {
      const w = kernel((i + 0.5 - centre) / fscale);
      weights[i - start] = w;
      total += w;
    }
    if (total !== 0) for (let j = 0; j < weights.length; j++) weights[j] = (weights[j] as number) / total;
    taps.push({ start, weights });
  }
  return taps;
}

/** Resize to RGB float [H, W, 3] in 0..255 (no rounding between the two passes). */
export function resizeRgb(img: ImagePixels, width: number, height: number, resample: number): Float32Array {
  const [kernel, support] = resample === 3 ? [bicubicKernel, 2] : resample === 1 ? [lanczosKernel, 3] : [bilinearKernel, 1];
  const xTaps = filterTaps(img.width, width, kernel, support);
  const yTaps = filterTaps(img.height, height, kernel, support);
  const horiz = new Float32Array(img.height * width * 3);
  for (let y = 0; y < img.height; y++) {
    for (let x = 0; x < width; x++) {
      const { start, weights } = xTaps[x] as { start: number; weights: Float64Array };
      for (let c = 0; c < 3; c++) {
        let sum = 0;
        for (let j = 0; j < weights.length; j++) sum += (weights[j] as number) * (img.data[(y * img.width + start + j) * img.channels + c] as number);
        horiz[(y * width + x) * 3 + c] = sum;
      }
    }
  }
  const out = new Float32Array(height * width * 3);
  for (let y = 0; y < height; y++) {
    const { start, weights } = yTaps[y] as { start: number; weights: Float64Array };
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < 3; c++) {
        let sum = 0;
        for (let j = 0; j < weights.length; j++) sum += (weights[j] as number) * (horiz[((start + j) * width + x) * 3 + c] as number);
        out[(y * width + x) * 3 + c] = Math.min(255, Math.max(0, sum));
      }
    }
  }
  return out;
}

/** pixel_values [3, H, W] for one image. */
export function preprocessImage(img: ImagePixels, cfg: PreprocessorConfig): { pixels: Float32Array; width: number; height: number } {
  if (img.width < 1 || img.height < 1) throw new RangeError(`the image is ${img.width}x${img.height} pixels; it needs at least one pixel`);
  const same = img.width === cfg.size.width && img.height === cfg.size.height;
  let w = img.width;
  let h = img.height;
  let rgb: ArrayLike<number>;
  if (cfg.doResize && !same) {
    rgb = resizeRgb(img, cfg.size.width, cfg.size.height, cfg.resample);
    w = cfg.size.width;
    h = cfg.size.height;
  } else {
    rgb = Float32Array.from({ length: w * h * 3 }, (_, i) => img.data[Math.floor(i / 3) * img.channels + (i % 3)] as number);
  }
  let x0 = 0;
  let y0 = 0;
  if (cfg.doCenterCrop) {
    x0 = Math.max(0, Math.floor((w - cfg.cropSize.width) / 2));
    y0 = Math.max(0, Math.floor((h - cfg.cropSize.height) / 2));
  }
  const outW = cfg.doCenterCrop ? Math.min(w, cfg.cropSize.width) : w;
  const outH = cfg.doCenterCrop ? Math.min(h, cfg.cropSize.height) : h;
  const plane = outW * outH;
  const pixels = new Float32Array(3 * plane);
  for (let c = 0; c < 3; c++) {
    const scale = cfg.doRescale ? cfg.rescaleFactor : 1;
    const mean = cfg.doNormalize ? (cfg.imageMean[c] as number) : 0;
    const std = cfg.doNormalize ? (cfg.imageStd[c] as number) : 1;
    for (let y = 0; y < outH; y++) {
      for (let x = 0; x < outW; x++) {
        const v = rgb[((y + y0) * w + x + x0) * 3 + c] as number;
        pixels[c * plane + y * outW + x] = (v * scale - mean) / std;
      }
    }
  }
  return { pixels, width: outW, height: outH };
}
