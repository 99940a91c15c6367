/**
 * Encoded image bytes (PNG, JPEG, WebP, GIF, BMP) to RGBA pixels with the
 * browser's own decoder. Only raster files are decoded, typed by their first
 * bytes: an SVG (a document that can run script) is refused with a message.
 * The pixel size is read from the file's header first, so a large photo is
 * decoded straight to a bounded size (createImageBitmap with resizeWidth and
 * resizeHeight) and a full-size bitmap is never held; a file whose header
 * declares more pixels than a browser can decode is refused before decoding.
 */
import { looksLikeSvg, RASTER_NAMES, rasterImageType, rasterSize, type PixelSize, type RasterType } from '../documents/file-kind';
import type { ImagePixels } from './image-processing';

/** Longest side kept when decoding; far above any model input, far below memory trouble. */
export const MAX_DECODED_SIDE = 2048;
/**
 * Sources above this many pixels are refused (16384 x 16384, 1 GiB as RGBA):
 * the browser's decoder still expands the whole frame once before scaling it.
 */
export const MAX_SOURCE_PIXELS = 16384 * 16384;

/** An image that cannot be used, with what to do about it. */
export class ImageDecodeError extends Error {
  override readonly name = 'ImageDecodeError';
}

export function scaledSize(width: number, height: number, maxSide = MAX_DECODED_SIDE): { width: number; height: number } {
  const scale = Math.min(1, maxSide / Math.max(width, height));
  return { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)) };
}

export interface DecodePlan {
  /** The type the bytes are decoded as: their own, whatever the file claimed. */
  type: RasterType;
  /** The size the header declares; null when it could not be read (the decoder then decides). */
  source: PixelSize | null;
  /** The size to decode to; null to decode at the source size. */
  target: PixelSize | null;
}

/** How bytes will be decoded, or why they will not be; reads headers only. */
export function decodePlan(bytes: Uint8Array, name = 'the image', maxSide = MAX_DECODED_SIDE): DecodePlan {
  if (bytes.byteLength === 0) throw new ImageDecodeError(`${name} is empty (0 bytes); choose another file.`);
  const type = rasterImageType(bytes);
  if (!type) {
    if (looksLikeSvg(bytes)) throw new ImageDecodeError(`${name} is an SVG drawing, which can carry script, so it is not opened; export it as PNG and use that.`);
    throw new ImageDecodeError(`${name} could not be decoded as an image; it is not a ${RASTER_NAMES} file. Try PNG, JPEG or WebP.`);
  }
  const source = rasterSize(bytes);
  if (!source) return { type, source, target: null };
  if (source.width < 1 || source.height < 1) throw new ImageDecodeError(`${name} is ${source.width}x${source.height} pixels; an image needs at least one pixel.`);
  if (source.width * source.height > MAX_SOURCE_PIXELS) {
    const mp = Math.round((source.width * source.height) / 1e6);
    throw new ImageDecodeError(`${name} is ${source.width}x${source.height} pixels (${mp} megapixels), more than a browser can decode safely (${Math.round(MAX_SOURCE_PIXELS / 1e6)}); scale it down first.`);
  }
  const size = scaledSize(source.width, source.height, maxSide);
  return { type, source, target: size.width === source.width && size.height === source.height ? null : size };
}

/** A bitmap no larger than `maxSide` on its long side, decoded at that size when the header says how. */
export async function decodeBoundedBitmap(bytes: Uint8Array, name = 'the image', maxSide = MAX_DECODED_SIDE): Promise<ImageBitmap> {
  const plan = decodePlan(bytes, name, maxSide);
  const blob = new Blob([bytes as Uint8Array<ArrayBuffer>], { type: plan.type });
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(blob, plan.target ? { resizeWidth: plan.target.width, resizeHeight: plan.target.height, resizeQuality: 'high' } : {});
  } catch {
    throw new ImageDecodeError(`${name} could not be decoded as an image (${plan.type}); it may be corrupt or not an image. Try PNG, JPEG or WebP.`);
  }
  if (bitmap.width < 1 || bitmap.height < 1) {
    bitmap.close();
    throw new ImageDecodeError(`${name} is ${bitmap.width}x${bitmap.height} pixels; an image needs at least one pixel.`);
  }
  // A header that could not be read (or did not tell the truth): bound what the decoder made.
  const size = scaledSize(bitmap.width, bitmap.height, maxSide);
  if (size.width === bitmap.width && size.height === bitmap.height) return bitmap;
  const scaled = await createImageBitmap(bitmap, { resizeWidth: size.width, resizeHeight: size.height, resizeQuality: 'high' });
  bitmap.close();
  return scaled;
}

/** `_claimed` (the type the file said it was) is not trusted: the bytes are typed by their signature. */
export async function decodeImageBytes(bytes: ArrayBuffer, _claimed: string, name = 'the image', maxSide = MAX_DECODED_SIDE): Promise<ImagePixels> {
  const bitmap = await decodeBoundedBitmap(new Uint8Array(bytes), name, maxSide);
  const { width, height } = bitmap;
  const canvas = new OffscreenCanvas(width, height);
  const ctx = canvas.getContext('2d');
  if (!ctx) throw new ImageDecodeError('this browser cannot read image pixels (no 2D canvas in workers)');
  ctx.drawImage(bitmap, 0, 0);
  bitmap.close();
  const { data } = ctx.getImageData(0, 0, width, height);
  return { width, height, data, channels: 4 };
}
